//! Usage counters and budgets (see the layout in [`keys`]): a workspace's
//! in a partition of their own, `USAGE#{ws}`, so the answers that add to
//! them never heat the workspace's own items. An answer adds to three
//! items (its assistant's day, its assistant's month, the workspace's
//! month) with plain `ADD`s; the month items are what the check before an
//! answer reads, with the budgets, in the batch that finds the assistant.
//! An alert claims its threshold on the month item (a conditional `ADD` to
//! a string set) and leaves a record in the workspace's partition, whose
//! stream record makes the `usage.threshold_reached` event.

use super::codec::{self, n, s};
use super::keys;
use super::requests::{Refused, UpdateSpec};
use super::{DynamoStore, Item, key, write_failure};
use crate::adapters::contention::retry_contended;
use crate::domain::access::WithGrant;
use crate::domain::assistant::Assistant;
use crate::domain::ids::{AssistantId, UserId, WorkspaceId};
use crate::domain::usage::{
    Alert, Allowance, Budget, Charge, Counted, Day, DayUsage, Metric, ModelTokens, Month, Period,
    Scope, Spend,
};
use crate::ports::{StoreError, UsageStore};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use std::collections::{BTreeSet, HashMap};

/// A model's counters are named `m:{model}:p` and `m:{model}:c`.
const MODEL_PREFIX: &str = "m:";

/// The counters one charge adds to a day's item, by attribute name.
fn day_amounts(charge: &Charge) -> Vec<(String, u64)> {
    let mut amounts = Vec::new();
    if let Some(model) = &charge.model {
        amounts.push((format!("{MODEL_PREFIX}{model}:p"), charge.prompt_tokens));
        amounts.push((format!("{MODEL_PREFIX}{model}:c"), charge.completion_tokens));
    }
    if charge.estimated {
        amounts.push((
            "estimatedTokens".into(),
            charge.prompt_tokens + charge.completion_tokens,
        ));
    }
    amounts.extend([
        (
            "questionEmbeddingTokens".into(),
            charge.question_embedding_tokens,
        ),
        (
            "documentEmbeddingTokens".into(),
            charge.document_embedding_tokens,
        ),
        ("segmentsIn".into(), charge.segments_in),
        ("segmentsOut".into(), charge.segments_out),
    ]);
    if let Some(channel) = charge.answered_on {
        amounts.push((format!("answers:{}", channel.as_str()), 1));
    }
    amounts.retain(|(_, amount)| *amount > 0);
    amounts
}

fn month_amounts(charge: &Charge) -> Vec<(String, u64)> {
    let mut amounts = vec![
        ("tokens".to_owned(), charge.amount(Metric::Tokens)),
        ("smsSegments".to_owned(), charge.amount(Metric::SmsSegments)),
    ];
    amounts.retain(|(_, amount)| *amount > 0);
    amounts
}

fn counted_from(item: &Item) -> Counted {
    let number = |name: &str| codec::number::<u64>(item, name).unwrap_or(0);
    let mut counted = Counted {
        estimated_tokens: number("estimatedTokens"),
        question_embedding_tokens: number("questionEmbeddingTokens"),
        document_embedding_tokens: number("documentEmbeddingTokens"),
        segments_in: number("segmentsIn"),
        segments_out: number("segmentsOut"),
        answers_api: number("answers:api"),
        answers_widget: number("answers:widget"),
        answers_sms: number("answers:sms"),
        ..Counted::default()
    };
    for name in item.keys() {
        let Some(rest) = name.strip_prefix(MODEL_PREFIX) else {
            continue;
        };
        let Some((model, side)) = rest.rsplit_once(':') else {
            continue;
        };
        let tokens: &mut ModelTokens = counted.models.entry(model.to_owned()).or_default();
        match side {
            "p" => tokens.prompt = number(name),
            "c" => tokens.completion = number(name),
            _ => {}
        }
    }
    counted
}

fn budget_from(item: &Item) -> Result<Budget, StoreError> {
    let thresholds = match item.get("alertThresholds") {
        Some(AttributeValue::L(values)) => values
            .iter()
            .map(|v| {
                v.as_n()
                    .ok()
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| codec::corrupt(item, "alertThresholds"))
            })
            .collect::<Result<Vec<u32>, _>>()?,
        _ => Budget::default().alert_thresholds,
    };
    Ok(Budget {
        monthly_token_limit: codec::number(item, "monthlyTokenLimit").ok(),
        monthly_sms_segment_limit: codec::number(item, "monthlySmsSegmentLimit").ok(),
        alert_thresholds: thresholds,
        exhausted_message: codec::optional_text(item, "exhaustedMessage"),
    })
}

fn spend_from(item: &Item) -> Spend {
    Spend {
        tokens: codec::number(item, "tokens").unwrap_or(0),
        sms_segments: codec::number(item, "smsSegments").unwrap_or(0),
        alerted: match item.get("alerted") {
            Some(AttributeValue::Ss(told)) => told.iter().cloned().collect(),
            _ => BTreeSet::new(),
        },
    }
}

/// An update's placeholders and what they stand for, borrowed from an
/// [`Addition`].
type Names<'a> = Vec<(&'a str, &'a str)>;
type Values<'a> = Vec<(&'a str, AttributeValue)>;

/// An `ADD` of every amount to one item, as an update a transaction can
/// carry or one sent alone; owns what the update's text borrows.
struct Addition {
    key: Item,
    expression: String,
    names: Vec<(String, String)>,
    values: Vec<(String, AttributeValue)>,
}

impl Addition {
    fn new((pk, sk): (String, String), amounts: &[(String, u64)]) -> Self {
        let mut parts = Vec::new();
        let mut names = Vec::new();
        let mut values = Vec::new();
        for (i, (counter, amount)) in amounts.iter().enumerate() {
            parts.push(format!("#c{i} :a{i}"));
            names.push((format!("#c{i}"), counter.clone()));
            values.push((format!(":a{i}"), n(*amount)));
        }
        Self {
            key: key(pk, sk),
            expression: format!("ADD {}", parts.join(", ")),
            names,
            values,
        }
    }

    fn spec(&self) -> (Names<'_>, Values<'_>) {
        (
            self.names
                .iter()
                .map(|(p, n)| (p.as_str(), n.as_str()))
                .collect(),
            self.values
                .iter()
                .map(|(p, v)| (p.as_str(), v.clone()))
                .collect(),
        )
    }
}

/// The additions `charge` makes: its day's item and the months' of its
/// assistant (if any) and of its workspace.
fn additions(charge: &Charge) -> Vec<Addition> {
    let ws = &charge.workspace_id;
    let month = Month::of(charge.at);
    let mut additions = vec![Addition::new(
        keys::usage_day(ws, Day::of(charge.at), charge.assistant_id.as_ref()),
        &day_amounts(charge),
    )];
    let months = month_amounts(charge);
    if !months.is_empty() {
        if let Some(assistant) = &charge.assistant_id {
            additions.push(Addition::new(
                keys::usage_month(ws, month, &Scope::Assistant(assistant.clone())),
                &months,
            ));
        }
        additions.push(Addition::new(
            keys::usage_month(ws, month, &Scope::Workspace),
            &months,
        ));
    }
    additions.retain(|a| !a.names.is_empty());
    additions
}

impl DynamoStore {
    /// `charge`'s additions as items of a transaction (the answer's own).
    pub(super) fn charge_items(&self, charge: &Charge) -> Vec<TransactWriteItem> {
        additions(charge)
            .iter()
            .map(|addition| {
                let (names, values) = addition.spec();
                self.update_item(UpdateSpec {
                    key: addition.key.clone(),
                    expression: &addition.expression,
                    condition: None,
                    names: &names,
                    values,
                })
            })
            .collect()
    }
}

#[async_trait]
impl UsageStore for DynamoStore {
    async fn assistant_with_allowance(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        user: Option<&UserId>,
        month: Month,
    ) -> Result<(Option<WithGrant<Assistant>>, Allowance), StoreError> {
        let mine = Scope::Assistant(id.clone());
        let assistant_key = keys::assistant(ws, id);
        let grant_key = user.map(|user| {
            keys::grant(
                ws,
                &crate::domain::access::AccessTarget::Assistant(id.clone()),
                user,
            )
        });
        let budget_keys = [
            keys::usage_budget(ws, &mine),
            keys::usage_budget(ws, &Scope::Workspace),
        ];
        let month_keys = [
            keys::usage_month(ws, month, &mine),
            keys::usage_month(ws, month, &Scope::Workspace),
        ];
        let mut wanted = vec![key(assistant_key.0.clone(), assistant_key.1.clone())];
        wanted.extend(grant_key.iter().map(|(pk, sk)| key(pk.clone(), sk.clone())));
        wanted.extend(
            budget_keys
                .iter()
                .chain(&month_keys)
                .map(|(pk, sk)| key(pk.clone(), sk.clone())),
        );
        let mut allowance = Allowance::unlimited(ws.clone(), id.clone(), month);
        let (mut assistant, mut granted) = (None, false);
        for item in self.batch_get(wanted).await? {
            let at = (
                codec::text(&item, keys::PK)?.to_owned(),
                codec::text(&item, keys::SK)?.to_owned(),
            );
            if at == assistant_key {
                assistant = Some(codec::assistant(&item)?);
            } else if Some(&at) == grant_key.as_ref() {
                granted = true;
            } else if at == budget_keys[0] {
                allowance.assistant = budget_from(&item)?;
            } else if at == budget_keys[1] {
                allowance.workspace = budget_from(&item)?;
            } else if at == month_keys[0] {
                allowance.assistant_spend = spend_from(&item);
            } else if at == month_keys[1] {
                allowance.workspace_spend = spend_from(&item);
            }
        }
        let found = assistant.map(|item| WithGrant { item, granted });
        Ok((found, allowance))
    }

    async fn budget(
        &self,
        ws: &WorkspaceId,
        scope: &Scope,
        month: Month,
    ) -> Result<(Budget, Spend), StoreError> {
        let budget_key = keys::usage_budget(ws, scope);
        let month_key = keys::usage_month(ws, month, scope);
        let wanted = vec![
            key(budget_key.0.clone(), budget_key.1.clone()),
            key(month_key.0.clone(), month_key.1.clone()),
        ];
        let (mut budget, mut spend) = (Budget::default(), Spend::default());
        for item in self.batch_get(wanted).await? {
            if codec::text(&item, keys::SK)? == budget_key.1 {
                budget = budget_from(&item)?;
            } else {
                spend = spend_from(&item);
            }
        }
        Ok((budget, spend))
    }

    async fn month_spends(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
        month: Month,
    ) -> Result<(Spend, Spend), StoreError> {
        let mine = keys::usage_month(ws, month, &Scope::Assistant(assistant.clone()));
        let all = keys::usage_month(ws, month, &Scope::Workspace);
        let wanted = vec![key(mine.0.clone(), mine.1.clone()), key(all.0, all.1)];
        let (mut assistant_spend, mut workspace_spend) = (Spend::default(), Spend::default());
        for item in self.batch_get(wanted).await? {
            if codec::text(&item, keys::SK)? == mine.1 {
                assistant_spend = spend_from(&item);
            } else {
                workspace_spend = spend_from(&item);
            }
        }
        Ok((assistant_spend, workspace_spend))
    }

    async fn put_budget(
        &self,
        ws: &WorkspaceId,
        scope: &Scope,
        budget: &Budget,
    ) -> Result<(), StoreError> {
        let (pk, sk) = keys::usage_budget(ws, scope);
        let mut item = key(pk, sk);
        item.insert(
            "alertThresholds".into(),
            AttributeValue::L(budget.alert_thresholds.iter().map(|t| n(*t)).collect()),
        );
        if let Some(limit) = budget.monthly_token_limit {
            item.insert("monthlyTokenLimit".into(), n(limit));
        }
        if let Some(limit) = budget.monthly_sms_segment_limit {
            item.insert("monthlySmsSegmentLimit".into(), n(limit));
        }
        if let Some(message) = &budget.exhausted_message {
            item.insert("exhaustedMessage".into(), s(message.clone()));
        }
        // The whole budget, whatever was there: a PUT replaces it.
        retry_contended(|| async {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .send()
                .await
                .map(|_| ())
                .map_err(write_failure)
        })
        .await
    }

    async fn usage_between(
        &self,
        ws: &WorkspaceId,
        period: Period,
    ) -> Result<Vec<DayUsage>, StoreError> {
        let (pk, low) = keys::usage_day_start(ws, period.from);
        let (_, high) = keys::usage_day_end(ws, period.to);
        let items = self
            .query_between(&pk, (&low, &high), true, usize::MAX)
            .await?;
        items
            .iter()
            .map(|item| {
                let sk = codec::text(item, keys::SK)?;
                let (day, assistant_id) =
                    keys::parse_usage_day(sk).ok_or_else(|| codec::corrupt(item, keys::SK))?;
                Ok(DayUsage {
                    day,
                    assistant_id,
                    counted: counted_from(item),
                })
            })
            .collect()
    }

    async fn count_usage(&self, charge: &Charge) -> Result<(), StoreError> {
        let additions = additions(charge);
        // The same additions an answer's transaction carries, each sent
        // alone (no condition: nothing refuses an `ADD`).
        let writes = additions.iter().map(|addition| async move {
            let (names, values) = addition.spec();
            self.update_if(UpdateSpec {
                key: addition.key.clone(),
                expression: &addition.expression,
                condition: None,
                names: &names,
                values,
            })
            .await
        });
        futures_util::future::try_join_all(writes).await?;
        Ok(())
    }

    async fn claim_alert(&self, alert: &Alert) -> Result<bool, StoreError> {
        let (mpk, msk) = keys::usage_month(&alert.workspace_id, alert.month, &alert.scope);
        let told = alert.key();
        let claim = self.update_item(UpdateSpec {
            key: key(mpk, msk),
            expression: "ADD #alerted :told",
            condition: Some("NOT contains(#alerted, :key)"),
            names: &[("#alerted", "alerted")],
            values: vec![
                (":told", AttributeValue::Ss(vec![told.clone()])),
                (":key", s(told)),
            ],
        });
        let (rpk, rsk) = keys::usage_alert(alert);
        let mut record = key(rpk, rsk);
        record.extend(HashMap::from([
            ("scope".to_owned(), s(alert.scope.as_str())),
            ("metric".to_owned(), s(alert.metric.as_str())),
            ("threshold".to_owned(), n(alert.threshold)),
            ("limit".to_owned(), n(alert.limit)),
            ("used".to_owned(), n(alert.used)),
            ("month".to_owned(), s(alert.month.to_string())),
        ]));
        if let Some(assistant) = alert.scope.assistant_id() {
            record.insert("assistantId".into(), s(assistant.as_str()));
        }
        let items = vec![claim, self.put_item(record, "attribute_not_exists(PK)")];
        match self.transact_or(items, |_| ()).await {
            Ok(()) => Ok(true),
            Err(Refused::Condition(())) => Ok(false),
            Err(Refused::Store(error)) => Err(error),
        }
    }
}

/// An alert record as the stream reports it.
pub(super) fn alert_from(item: &Item) -> Result<Alert, StoreError> {
    let pk = codec::text(item, keys::PK)?;
    let workspace_id = pk
        .strip_prefix(keys::WORKSPACE_INDEX_PREFIX)
        .and_then(WorkspaceId::parse)
        .ok_or_else(|| codec::corrupt(item, keys::PK))?;
    let scope = match codec::optional_text(item, "assistantId") {
        Some(id) => Scope::Assistant(
            AssistantId::parse(&id).ok_or_else(|| codec::corrupt(item, "assistantId"))?,
        ),
        None => Scope::Workspace,
    };
    let metric = match codec::text(item, "metric")? {
        "tokens" => Metric::Tokens,
        "smsSegments" => Metric::SmsSegments,
        _ => return Err(codec::corrupt(item, "metric")),
    };
    let month = Day::parse(&format!("{}-01", codec::text(item, "month")?))
        .map(Day::month)
        .ok_or_else(|| codec::corrupt(item, "month"))?;
    Ok(Alert {
        workspace_id,
        scope,
        metric,
        threshold: codec::number(item, "threshold")?,
        limit: codec::number(item, "limit")?,
        used: codec::number(item, "used")?,
        month,
    })
}
