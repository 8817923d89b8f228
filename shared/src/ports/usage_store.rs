//! Usage counters and budgets, in the domain's words. An answer's own
//! counts are written with the answer (see
//! [`ConversationStore::finish_answer`](super::ConversationStore::finish_answer)
//! and [`SmsStore::create_reply`](super::SmsStore::create_reply)), so what
//! is counted is what was stored, once.

use super::store::StoreError;
use crate::domain::access::WithGrant;
use crate::domain::assistant::Assistant;
use crate::domain::ids::{AssistantId, UserId, WorkspaceId};
use crate::domain::usage::{
    Alert, Allowance, Budget, Charge, DayUsage, Month, Period, Scope, Spend,
};
use async_trait::async_trait;

#[async_trait]
pub trait UsageStore: Send + Sync {
    /// The assistant (with whether `user`, if named, holds a grant on it)
    /// and its allowance for `month`: its budget, its workspace's, and what
    /// the month counted for each, all in the one read that finds the
    /// assistant, so the check before an answer costs no round trip.
    async fn assistant_with_allowance(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        user: Option<&UserId>,
        month: Month,
    ) -> Result<(Option<WithGrant<Assistant>>, Allowance), StoreError>;

    /// A scope's budget (the default if none was set) and what `month`
    /// counted against it.
    async fn budget(
        &self,
        ws: &WorkspaceId,
        scope: &Scope,
        month: Month,
    ) -> Result<(Budget, Spend), StoreError>;

    /// What `month` has counted for the assistant and for its workspace,
    /// in one read.
    async fn month_spends(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
        month: Month,
    ) -> Result<(Spend, Spend), StoreError>;

    /// Replaces a scope's budget.
    async fn put_budget(
        &self,
        ws: &WorkspaceId,
        scope: &Scope,
        budget: &Budget,
    ) -> Result<(), StoreError>;

    /// Every day's counts in `period`, of each assistant and of the
    /// workspace's documents; days with nothing counted are left out.
    async fn usage_between(
        &self,
        ws: &WorkspaceId,
        period: Period,
    ) -> Result<Vec<DayUsage>, StoreError>;

    /// Counts `charge` on its own, by plain additions: what is charged
    /// apart from any answer (a document's embedding).
    async fn count_usage(&self, charge: &Charge) -> Result<(), StoreError>;

    /// Marks `alert` told for its month: `true` the first time only, however
    /// many answers cross its threshold at once. The record it leaves is
    /// what makes the `usage.threshold_reached` event.
    async fn claim_alert(&self, alert: &Alert) -> Result<bool, StoreError>;
}
