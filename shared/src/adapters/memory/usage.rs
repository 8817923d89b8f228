//! Usage and budgets in memory (see `tables::usage`).

use super::faults::Call;
use super::store::MemoryStore;
use crate::domain::access::{AccessTarget, WithGrant};
use crate::domain::assistant::Assistant;
use crate::domain::ids::{AssistantId, UserId, WorkspaceId};
use crate::domain::usage::{
    Alert, Allowance, Budget, Charge, DayUsage, Month, Period, Scope, Spend, alert_key,
};
use crate::domain::webhook::change::Entity;
use crate::ports::{StoreError, UsageStore};
use async_trait::async_trait;

#[async_trait]
impl UsageStore for MemoryStore {
    async fn assistant_with_allowance(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        user: Option<&UserId>,
        month: Month,
    ) -> Result<(Option<WithGrant<Assistant>>, Allowance), StoreError> {
        self.run(Call::Read, |t| {
            let found = match user {
                Some(user) => {
                    t.one_with_grant(&t.assistants, ws, id, AccessTarget::Assistant, user)
                }
                None => t
                    .assistants
                    .get(&(ws.clone(), id.clone()))
                    .map(|assistant| WithGrant {
                        item: assistant.clone(),
                        granted: false,
                    }),
            };
            Ok((found, t.usage.allowance(ws, id, month)))
        })
        .await
    }

    async fn budget(
        &self,
        ws: &WorkspaceId,
        scope: &Scope,
        month: Month,
    ) -> Result<(Budget, Spend), StoreError> {
        self.run(Call::Read, |t| {
            Ok((t.usage.budget(ws, scope), t.usage.spend(ws, scope, month)))
        })
        .await
    }

    async fn month_spends(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
        month: Month,
    ) -> Result<(Spend, Spend), StoreError> {
        self.run(Call::Read, |t| {
            Ok((
                t.usage
                    .spend(ws, &Scope::Assistant(assistant.clone()), month),
                t.usage.spend(ws, &Scope::Workspace, month),
            ))
        })
        .await
    }

    async fn put_budget(
        &self,
        ws: &WorkspaceId,
        scope: &Scope,
        budget: &Budget,
    ) -> Result<(), StoreError> {
        self.run(Call::Write, |t| {
            t.usage
                .budgets
                .insert((ws.clone(), scope.clone()), budget.clone());
            Ok(())
        })
        .await
    }

    async fn usage_between(
        &self,
        ws: &WorkspaceId,
        period: Period,
    ) -> Result<Vec<DayUsage>, StoreError> {
        self.run(Call::Read, |t| {
            Ok(t.usage
                .days
                .iter()
                .filter(|((w, day, _), _)| w == ws && *day >= period.from && *day <= period.to)
                .map(|((_, day, assistant), counted)| DayUsage {
                    day: *day,
                    assistant_id: assistant.clone(),
                    counted: counted.clone(),
                })
                .collect())
        })
        .await
    }

    async fn count_usage(&self, charge: &Charge) -> Result<(), StoreError> {
        self.run(Call::Write, |t| {
            t.usage.count(charge);
            Ok(())
        })
        .await
    }

    async fn claim_alert(&self, alert: &Alert) -> Result<bool, StoreError> {
        self.run(Call::Transaction, |t| {
            let spend = t
                .usage
                .months
                .entry((alert.workspace_id.clone(), alert.month, alert.scope.clone()))
                .or_default();
            if !spend
                .alerted
                .insert(alert_key(alert.metric, alert.threshold))
            {
                return Ok(false);
            }
            t.changed(None, Some(Entity::UsageAlert(alert.clone())));
            Ok(true)
        })
        .await
    }
}
