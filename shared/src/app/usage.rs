//! Usage as owners read it, budgets as they set them, and the alerts an
//! answer's charge raises.

use super::error::AppError;
use super::guard;
use crate::domain::ids::{AssistantId, WorkspaceId};
use crate::domain::policy::Actor;
use crate::domain::time::Timestamp;
use crate::domain::usage::{
    Allowance, Budget, Charge, Counted, Day, DayUsage, Month, Period, Scope, Spend,
};
use crate::ports::{AssistantStore, UsageStore};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Tells the owner of each threshold reached once `charge` was counted,
/// once per month whatever the concurrency (the store's claim decides),
/// and logs it. The month's counts are read again for it (so answers
/// counted at once see each other's amounts), and only while a threshold
/// of a capped metric is still untold. Never fails the answer: an alert
/// that could not be recorded is logged, and the next answer tries again.
pub async fn alert(usage: &dyn UsageStore, allowance: &Allowance, charge: &Charge) {
    if !allowance.may_alert(charge) {
        return;
    }
    let counted = usage
        .month_spends(
            &allowance.workspace_id,
            &allowance.assistant_id,
            allowance.month,
        )
        .await;
    let (assistant_spend, workspace_spend) = match counted {
        Ok(spends) => spends,
        Err(error) => {
            tracing::warn!(workspace_id = %allowance.workspace_id, %error, "usage thresholds not checked; the next answer checks them");
            return;
        }
    };
    let now = Allowance {
        assistant_spend,
        workspace_spend,
        ..allowance.clone()
    };
    for alert in now.alerts() {
        let assistant_id = alert.scope.assistant_id().map(ToString::to_string);
        match usage.claim_alert(&alert).await {
            Ok(true) => tracing::warn!(
                workspace_id = %alert.workspace_id,
                scope = alert.scope.as_str(),
                assistant_id,
                metric = alert.metric.as_str(),
                threshold = alert.threshold,
                used = alert.used,
                limit = alert.limit,
                month = %alert.month,
                "usage threshold reached"
            ),
            Ok(false) => {}
            Err(error) => tracing::warn!(
                workspace_id = %alert.workspace_id,
                metric = alert.metric.as_str(),
                threshold = alert.threshold,
                %error,
                "usage threshold not recorded; the next answer over it tries again"
            ),
        }
    }
}

/// A period's usage, summed three ways.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageReport {
    pub period: Period,
    /// Every assistant's counts (the documents' embedding apart).
    pub totals: Counted,
    /// Each assistant with anything counted, in id order.
    pub by_assistant: Vec<(AssistantId, Counted)>,
    /// Every day of the period, in order, nothing counted included.
    pub by_day: Vec<(Day, Counted)>,
    /// The workspace's documents' embedding (none when one assistant's
    /// usage is asked for).
    pub documents: Counted,
}

impl UsageReport {
    /// Sums `days` over `period`, only `only`'s when named.
    pub fn of(period: Period, days: Vec<DayUsage>, only: Option<&AssistantId>) -> Self {
        let mut by_day: BTreeMap<Day, Counted> = BTreeMap::new();
        let mut day = Some(period.from);
        while let Some(d) = day.filter(|d| *d <= period.to) {
            by_day.insert(d, Counted::default());
            day = d.next();
        }
        let mut by_assistant: BTreeMap<AssistantId, Counted> = BTreeMap::new();
        let mut totals = Counted::default();
        let mut documents = Counted::default();
        for usage in days {
            match &usage.assistant_id {
                None if only.is_none() => documents.absorb(&usage.counted),
                None => {}
                Some(id) if only.is_none_or(|wanted| wanted == id) => {
                    totals.absorb(&usage.counted);
                    by_assistant
                        .entry(id.clone())
                        .or_default()
                        .absorb(&usage.counted);
                    if let Some(day) = by_day.get_mut(&usage.day) {
                        day.absorb(&usage.counted);
                    }
                }
                Some(_) => {}
            }
        }
        Self {
            period,
            totals,
            by_assistant: by_assistant.into_iter().collect(),
            by_day: by_day.into_iter().collect(),
            documents,
        }
    }
}

/// The usage report of `period`, of one assistant if named.
pub async fn report(
    usage: &dyn UsageStore,
    ws: &WorkspaceId,
    period: Period,
    only: Option<&AssistantId>,
) -> Result<UsageReport, AppError> {
    let days = usage.usage_between(ws, period).await?;
    Ok(UsageReport::of(period, days, only))
}

/// Why a member or guest is refused the usage and budget routes.
pub const MANAGERS_ONLY: &str = "only owners and admins may read usage and set budgets";

/// The ports the usage and budget routes read.
pub struct UsagePorts<'a> {
    pub usage: &'a dyn UsageStore,
    pub assistants: &'a dyn AssistantStore,
}

/// The scope `raw_assistant` names (the workspace when `None`), once the
/// actor is found to manage it: the assistant must be one they can see
/// (404 otherwise, as to anyone), and they must be an owner or admin (403).
async fn managed_scope(
    ports: &UsagePorts<'_>,
    ws: &WorkspaceId,
    actor: &Actor,
    raw_assistant: Option<&str>,
) -> Result<Scope, AppError> {
    match raw_assistant {
        None => {
            guard::allowed(actor.can_manage_workspace(), MANAGERS_ONLY)?;
            Ok(Scope::Workspace)
        }
        Some(raw) => {
            let assistant = guard::visible_assistant(ports.assistants, ws, raw, actor).await?;
            guard::allowed(actor.can_manage_workspace(), MANAGERS_ONLY)?;
            Ok(Scope::Assistant(assistant.id))
        }
    }
}

/// A scope's budget and what `month` has counted against it.
pub async fn budget(
    ports: UsagePorts<'_>,
    ws: &WorkspaceId,
    actor: &Actor,
    raw_assistant: Option<&str>,
    month: Month,
) -> Result<(Budget, Spend), AppError> {
    let scope = managed_scope(&ports, ws, actor, raw_assistant).await?;
    Ok(ports.usage.budget(ws, &scope, month).await?)
}

/// Replaces a scope's budget with `body` (every bad field named).
pub async fn set_budget(
    ports: UsagePorts<'_>,
    ws: &WorkspaceId,
    actor: &Actor,
    raw_assistant: Option<&str>,
    body: Value,
    month: Month,
) -> Result<(Budget, Spend), AppError> {
    let scope = managed_scope(&ports, ws, actor, raw_assistant).await?;
    let budget = Budget::from_json(body).map_err(AppError::invalid)?;
    ports.usage.put_budget(ws, &scope, &budget).await?;
    tracing::info!(
        workspace_id = %ws,
        scope = scope.as_str(),
        assistant_id = scope.assistant_id().map(ToString::to_string),
        "budget set"
    );
    let (_, spend) = ports.usage.budget(ws, &scope, month).await?;
    Ok((budget, spend))
}

/// The usage report a query asks for: `from` and `to` (default the month
/// of `now`), and one assistant's only when `assistantId` names one.
pub async fn usage_report(
    ports: UsagePorts<'_>,
    ws: &WorkspaceId,
    actor: &Actor,
    query: &HashMap<String, String>,
    now: Timestamp,
) -> Result<UsageReport, AppError> {
    guard::allowed(actor.can_manage_workspace(), MANAGERS_ONLY)?;
    let period = Period::parse(
        query.get("from").map(String::as_str),
        query.get("to").map(String::as_str),
        now,
    );
    let mut errors = period.clone().err().unwrap_or_default();
    for name in query.keys() {
        if !["from", "to", "assistantId"].contains(&name.as_str()) {
            errors.add(name, "is not a known parameter");
        }
    }
    let raw_assistant = query.get("assistantId");
    if raw_assistant.is_some_and(|raw| AssistantId::parse(raw).is_none()) {
        errors.add("assistantId", "must be an assistant id (ast_...)");
    }
    let period = match period {
        Ok(period) if errors.is_empty() => period,
        _ => return Err(AppError::invalid(errors)),
    };
    let only = match raw_assistant {
        Some(raw) => Some(
            guard::visible_assistant(ports.assistants, ws, raw, actor)
                .await?
                .id,
        ),
        None => None,
    };
    report(ports.usage, ws, period, only.as_ref()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::conversation::Channel;

    #[test]
    fn a_report_sums_by_assistant_and_by_day_with_documents_apart() {
        let now = Timestamp::from_millis(1_798_761_570_000);
        let period = Period::parse(Some("2026-12-30"), Some("2026-12-31"), now).unwrap();
        let (a, b) = (AssistantId::generate(), AssistantId::generate());
        let counted = |tokens: u64, channel| {
            let mut counted = Counted::default();
            counted.add(&Charge {
                model: Some("m".into()),
                prompt_tokens: tokens,
                answered_on: channel,
                ..Charge::new(WorkspaceId::generate(), now)
            });
            counted
        };
        let day = |text: &str| Day::parse(text).unwrap();
        let days = vec![
            DayUsage {
                day: day("2026-12-30"),
                assistant_id: Some(a.clone()),
                counted: counted(10, Some(Channel::Api)),
            },
            DayUsage {
                day: day("2026-12-31"),
                assistant_id: Some(a.clone()),
                counted: counted(5, Some(Channel::Sms)),
            },
            DayUsage {
                day: day("2026-12-31"),
                assistant_id: Some(b.clone()),
                counted: counted(7, Some(Channel::Widget)),
            },
            DayUsage {
                day: day("2026-12-31"),
                assistant_id: None,
                counted: Counted {
                    document_embedding_tokens: 1_000,
                    ..Counted::default()
                },
            },
        ];
        let report = UsageReport::of(period, days.clone(), None);
        assert_eq!(report.totals.prompt_tokens(), 22);
        assert_eq!(
            (
                report.totals.answers_api,
                report.totals.answers_sms,
                report.totals.answers_widget
            ),
            (1, 1, 1)
        );
        assert_eq!(report.documents.document_embedding_tokens, 1_000);
        assert_eq!(report.totals.document_embedding_tokens, 0);
        let per_day: Vec<u64> = report
            .by_day
            .iter()
            .map(|(_, c)| c.prompt_tokens())
            .collect();
        assert_eq!(per_day, [10, 12]);
        assert_eq!(report.by_assistant.len(), 2);
        let only_a = UsageReport::of(period, days, Some(&a));
        assert_eq!(only_a.totals.prompt_tokens(), 15);
        assert_eq!(only_a.documents, Counted::default());
    }
}
