//! Usage and budgets: what each answer, text and document costs (model
//! tokens, embedding tokens, SMS segments), counted per assistant and UTC
//! day, and the monthly caps an owner sets on an assistant or a whole
//! workspace. A calendar month is UTC, and a cap is checked before the
//! model is asked, against what the month had counted when the answer's
//! reads were made: amounts are known only after an answer, so a month can
//! pass its cap by the answers already running when it was reached.

use super::conversation::Channel;
use super::fields::{FieldErrors, FieldReader, whole_number};
use super::ids::{AssistantId, WorkspaceId};
use super::time::Timestamp;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The longest period one usage report covers, in days.
pub const MAX_REPORT_DAYS: i64 = 92;
/// The longest message a capped assistant answers with.
pub const EXHAUSTED_MESSAGE_MAX: usize = 320;
/// Alert thresholds a budget may hold.
pub const MAX_THRESHOLDS: usize = 10;
/// The largest monthly limit (a quadrillion: past any plan, and exact as
/// a JSON number everywhere).
pub const MAX_LIMIT: u64 = 1_000_000_000_000_000;
/// What a widget visitor is told when no message of the owner's is set.
pub const DEFAULT_EXHAUSTED_MESSAGE: &str =
    "This assistant cannot answer right now. Please try again later.";

fn date_of(at: Timestamp) -> time::Date {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.millis()) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date()
}

fn start_of(date: time::Date) -> Timestamp {
    Timestamp::from_millis((date.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as i64)
}

/// A UTC day, shown `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(time::Date);

impl Day {
    pub fn of(at: Timestamp) -> Self {
        Self(date_of(at))
    }

    /// A `YYYY-MM-DD` date, and nothing looser.
    pub fn parse(value: &str) -> Option<Self> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        (value.len() == 10)
            .then(|| time::Date::parse(value, &format).ok())
            .flatten()
            .map(Self)
    }

    pub fn month(self) -> Month {
        Month::of(start_of(self.0))
    }

    pub fn next(self) -> Option<Self> {
        self.0.next_day().map(Self)
    }

    /// Days from `self` to `later`, both counted.
    pub fn days_through(self, later: Self) -> i64 {
        (later.0 - self.0).whole_days() + 1
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

/// A calendar month in UTC, shown `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    first: time::Date,
}

impl Month {
    pub fn of(at: Timestamp) -> Self {
        let date = date_of(at);
        Self {
            first: date.replace_day(1).unwrap_or(date),
        }
    }

    pub fn first_day(self) -> Day {
        Day(self.first)
    }

    pub fn last_day(self) -> Day {
        Day(self.next_first().previous_day().unwrap_or(self.first))
    }

    fn next_first(self) -> time::Date {
        let (year, month) = match self.first.month() {
            time::Month::December => (self.first.year() + 1, time::Month::January),
            month => (self.first.year(), month.next()),
        };
        time::Date::from_calendar_date(year, month, 1).unwrap_or(self.first)
    }

    /// When the next month begins: when a cap reached in this one lifts.
    pub fn ends_at(self) -> Timestamp {
        start_of(self.next_first())
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}",
            self.first.year(),
            u8::from(self.first.month())
        )
    }
}

/// What a budget caps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    Tokens,
    SmsSegments,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tokens => "tokens",
            Self::SmsSegments => "smsSegments",
        }
    }
}

/// Whose budget: one assistant's, or the whole workspace's.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Assistant(AssistantId),
    Workspace,
}

impl Scope {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Assistant(_) => "assistant",
            Self::Workspace => "workspace",
        }
    }

    pub fn assistant_id(&self) -> Option<&AssistantId> {
        match self {
            Self::Assistant(id) => Some(id),
            Self::Workspace => None,
        }
    }
}

/// Monthly caps, as an owner sets them (none by default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    pub monthly_token_limit: Option<u64>,
    pub monthly_sms_segment_limit: Option<u64>,
    /// Percentages of a limit at which the owner is told, once a month.
    pub alert_thresholds: Vec<u32>,
    pub exhausted_message: Option<String>,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            monthly_token_limit: None,
            monthly_sms_segment_limit: None,
            alert_thresholds: vec![80, 100],
            exhausted_message: None,
        }
    }
}

fn limit(value: Value) -> Result<u64, String> {
    whole_number(&value)
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| format!("must be a whole number from 1 to {MAX_LIMIT}, or null"))
}

fn thresholds(value: Value) -> Result<Vec<u32>, String> {
    const BAD: &str = "must be a list of distinct whole percentages from 1 to 100";
    let Value::Array(items) = value else {
        return Err(BAD.into());
    };
    if items.len() > MAX_THRESHOLDS {
        return Err(format!("must hold at most {MAX_THRESHOLDS} thresholds"));
    }
    let mut seen = BTreeSet::new();
    for item in &items {
        let percent = whole_number(item)
            .filter(|n| (1..=100).contains(n))
            .ok_or(BAD)?;
        if !seen.insert(percent as u32) {
            return Err(BAD.into());
        }
    }
    Ok(seen.into_iter().collect())
}

/// Sent to texters and shown to visitors as it is: trimmed, something
/// visible, no control or text-direction character.
fn message(value: Value) -> Result<String, String> {
    super::fields::display_name(value, 1, EXHAUSTED_MESSAGE_MAX)
}

impl Budget {
    /// A `PUT` body: the whole budget, every field absent taking its
    /// default; every bad field named.
    pub fn from_json(body: Value) -> Result<Self, FieldErrors> {
        let mut reader = FieldReader::new(body, &["usage"])?;
        let defaults = Self::default();
        let budget = Self {
            monthly_token_limit: reader.nullable("monthlyTokenLimit", limit).flatten(),
            monthly_sms_segment_limit: reader.nullable("monthlySmsSegmentLimit", limit).flatten(),
            alert_thresholds: reader
                .optional("alertThresholds", thresholds)
                .unwrap_or(defaults.alert_thresholds),
            exhausted_message: reader.nullable("exhaustedMessage", message).flatten(),
        };
        reader.finish()?;
        Ok(budget)
    }

    pub fn limit(&self, metric: Metric) -> Option<u64> {
        match metric {
            Metric::Tokens => self.monthly_token_limit,
            Metric::SmsSegments => self.monthly_sms_segment_limit,
        }
    }
}

/// What a month has counted for one scope, and the alerts already sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spend {
    pub tokens: u64,
    pub sms_segments: u64,
    /// `metric:threshold` of each alert this month has had.
    pub alerted: BTreeSet<String>,
}

impl Spend {
    pub fn used(&self, metric: Metric) -> u64 {
        match metric {
            Metric::Tokens => self.tokens,
            Metric::SmsSegments => self.sms_segments,
        }
    }
}

/// The key an alert is remembered by within its month.
pub fn alert_key(metric: Metric, threshold: u32) -> String {
    format!("{}:{threshold}", metric.as_str())
}

/// A cap reached: which, and what the asker is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exhausted {
    pub scope: &'static str,
    pub metric: Metric,
    /// The owner's message, if they set one.
    pub message: Option<String>,
    /// When the cap lifts: the start of the next month.
    pub lifts_at: Timestamp,
}

/// A threshold crossed: told to the owner once per month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub workspace_id: WorkspaceId,
    pub scope: Scope,
    pub metric: Metric,
    pub threshold: u32,
    pub limit: u64,
    pub used: u64,
    pub month: Month,
}

impl Alert {
    pub fn key(&self) -> String {
        alert_key(self.metric, self.threshold)
    }
}

/// An assistant's and its workspace's budgets with what their month has
/// counted, read with the assistant before an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowance {
    pub workspace_id: WorkspaceId,
    pub assistant_id: AssistantId,
    pub month: Month,
    pub assistant: Budget,
    pub assistant_spend: Spend,
    pub workspace: Budget,
    pub workspace_spend: Spend,
}

impl Allowance {
    /// No caps and nothing counted: what an assistant without budgets has.
    pub fn unlimited(workspace_id: WorkspaceId, assistant_id: AssistantId, month: Month) -> Self {
        Self {
            workspace_id,
            assistant_id,
            month,
            assistant: Budget::default(),
            assistant_spend: Spend::default(),
            workspace: Budget::default(),
            workspace_spend: Spend::default(),
        }
    }

    fn scopes(&self) -> [(Scope, &Budget, &Spend); 2] {
        [
            (
                Scope::Assistant(self.assistant_id.clone()),
                &self.assistant,
                &self.assistant_spend,
            ),
            (Scope::Workspace, &self.workspace, &self.workspace_spend),
        ]
    }

    /// Whether an answer on `channel` may ask the model: not once the
    /// month's tokens reached a cap, nor, for a text, its segments. The
    /// assistant's cap is named before the workspace's; the message is the
    /// assistant's, else the workspace's.
    pub fn check(&self, channel: Channel) -> Result<(), Exhausted> {
        let mut metrics = vec![Metric::Tokens];
        if channel == Channel::Sms {
            metrics.push(Metric::SmsSegments);
        }
        for (scope, budget, spend) in self.scopes() {
            for metric in &metrics {
                if budget
                    .limit(*metric)
                    .is_some_and(|cap| spend.used(*metric) >= cap)
                {
                    return Err(Exhausted {
                        scope: scope.as_str(),
                        metric: *metric,
                        message: self
                            .assistant
                            .exhausted_message
                            .clone()
                            .or_else(|| self.workspace.exhausted_message.clone()),
                        lifts_at: self.month.ends_at(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Whether `charge` (counted in this allowance's month) may have
    /// reached a threshold not told yet: only then are the month's counts
    /// read again to see (see [`Self::alerts`]).
    pub fn may_alert(&self, charge: &Charge) -> bool {
        Month::of(charge.at) == self.month
            && self.scopes().iter().any(|(_, budget, spend)| {
                [Metric::Tokens, Metric::SmsSegments]
                    .into_iter()
                    .any(|metric| {
                        budget.limit(metric).is_some()
                            && charge.amount(metric) > 0
                            && budget
                                .alert_thresholds
                                .iter()
                                .any(|t| !spend.alerted.contains(&alert_key(metric, *t)))
                    })
            })
    }

    /// The thresholds this allowance's counts have reached and not told:
    /// read after a charge was counted, so answers counted at once each
    /// see the others' amounts, and a threshold passed by several at once
    /// is still told.
    pub fn alerts(&self) -> Vec<Alert> {
        let mut alerts = Vec::new();
        for (scope, budget, spend) in self.scopes() {
            for metric in [Metric::Tokens, Metric::SmsSegments] {
                let Some(cap) = budget.limit(metric) else {
                    continue;
                };
                let used = spend.used(metric);
                for threshold in &budget.alert_thresholds {
                    let level = (u128::from(cap) * u128::from(*threshold)).div_ceil(100);
                    if u128::from(used) >= level
                        && !spend.alerted.contains(&alert_key(metric, *threshold))
                    {
                        alerts.push(Alert {
                            workspace_id: self.workspace_id.clone(),
                            scope: scope.clone(),
                            metric,
                            threshold: *threshold,
                            limit: cap,
                            used,
                            month: self.month,
                        });
                    }
                }
            }
        }
        alerts
    }
}

/// What one answer, text or document costs, and where it is counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    pub workspace_id: WorkspaceId,
    /// `None` for a document's embedding, charged to the workspace.
    pub assistant_id: Option<AssistantId>,
    pub at: Timestamp,
    /// The channel of an answer (counted as one answer on it).
    pub answered_on: Option<Channel>,
    /// The chat model and the tokens it reported.
    pub model: Option<String>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// The provider reported none: the tokens were counted with the
    /// tokenizer.
    pub estimated: bool,
    pub question_embedding_tokens: u64,
    pub document_embedding_tokens: u64,
    pub segments_in: u64,
    pub segments_out: u64,
}

impl Charge {
    /// Nothing yet, counted to the workspace in the day and month of `at`.
    pub fn new(workspace_id: WorkspaceId, at: Timestamp) -> Self {
        Self {
            workspace_id,
            assistant_id: None,
            at,
            answered_on: None,
            model: None,
            prompt_tokens: 0,
            completion_tokens: 0,
            estimated: false,
            question_embedding_tokens: 0,
            document_embedding_tokens: 0,
            segments_in: 0,
            segments_out: 0,
        }
    }

    /// Every token it counts against a token cap.
    pub fn tokens(&self) -> u64 {
        self.prompt_tokens
            + self.completion_tokens
            + self.question_embedding_tokens
            + self.document_embedding_tokens
    }

    pub fn amount(&self, metric: Metric) -> u64 {
        match metric {
            Metric::Tokens => self.tokens(),
            Metric::SmsSegments => self.segments_in + self.segments_out,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tokens() == 0
            && self.segments_in + self.segments_out == 0
            && self.answered_on.is_none()
    }
}

/// A chat model's tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModelTokens {
    pub prompt: u64,
    pub completion: u64,
}

/// Counts summed over some days of one assistant (or of the workspace's
/// documents).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counted {
    pub models: BTreeMap<String, ModelTokens>,
    /// Of the models' tokens, those counted with the tokenizer.
    pub estimated_tokens: u64,
    pub question_embedding_tokens: u64,
    pub document_embedding_tokens: u64,
    pub segments_in: u64,
    pub segments_out: u64,
    pub answers_api: u64,
    pub answers_widget: u64,
    pub answers_sms: u64,
}

impl Counted {
    pub fn add(&mut self, charge: &Charge) {
        if let Some(model) = &charge.model {
            let tokens = self.models.entry(model.clone()).or_default();
            tokens.prompt += charge.prompt_tokens;
            tokens.completion += charge.completion_tokens;
        }
        if charge.estimated {
            self.estimated_tokens += charge.prompt_tokens + charge.completion_tokens;
        }
        self.question_embedding_tokens += charge.question_embedding_tokens;
        self.document_embedding_tokens += charge.document_embedding_tokens;
        self.segments_in += charge.segments_in;
        self.segments_out += charge.segments_out;
        match charge.answered_on {
            Some(Channel::Api) => self.answers_api += 1,
            Some(Channel::Widget) => self.answers_widget += 1,
            Some(Channel::Sms) => self.answers_sms += 1,
            None => {}
        }
    }

    /// Nothing is counted: no token, segment or answer.
    pub fn is_nothing(&self) -> bool {
        // Taken apart, so that a counter added later is not forgotten here.
        let Self {
            models,
            estimated_tokens,
            question_embedding_tokens,
            document_embedding_tokens,
            segments_in,
            segments_out,
            answers_api,
            answers_widget,
            answers_sms,
        } = self;
        models.values().all(|m| m.prompt == 0 && m.completion == 0)
            && [
                estimated_tokens,
                question_embedding_tokens,
                document_embedding_tokens,
                segments_in,
                segments_out,
                answers_api,
                answers_widget,
                answers_sms,
            ]
            .iter()
            .all(|n| **n == 0)
    }

    pub fn absorb(&mut self, other: &Counted) {
        for (model, tokens) in &other.models {
            let mine = self.models.entry(model.clone()).or_default();
            mine.prompt += tokens.prompt;
            mine.completion += tokens.completion;
        }
        self.estimated_tokens += other.estimated_tokens;
        self.question_embedding_tokens += other.question_embedding_tokens;
        self.document_embedding_tokens += other.document_embedding_tokens;
        self.segments_in += other.segments_in;
        self.segments_out += other.segments_out;
        self.answers_api += other.answers_api;
        self.answers_widget += other.answers_widget;
        self.answers_sms += other.answers_sms;
    }

    pub fn prompt_tokens(&self) -> u64 {
        self.models.values().map(|t| t.prompt).sum()
    }

    pub fn completion_tokens(&self) -> u64 {
        self.models.values().map(|t| t.completion).sum()
    }
}

/// One day's counts of one assistant, or (`assistant_id` `None`) of the
/// workspace's documents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayUsage {
    pub day: Day,
    pub assistant_id: Option<AssistantId>,
    pub counted: Counted,
}

/// The days a usage report covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: Day,
    pub to: Day,
}

impl Period {
    /// `from` and `to` as a client sent them (`YYYY-MM-DD`, both counted),
    /// by default the month of `now`; at most [`MAX_REPORT_DAYS`].
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        now: Timestamp,
    ) -> Result<Self, FieldErrors> {
        let month = Month::of(now);
        let mut errors = FieldErrors::default();
        let mut day = |name: &str, value: Option<&str>, default: Day| match value {
            None => Some(default),
            Some(value) => Day::parse(value).or_else(|| {
                errors.add(name, "must be a date as YYYY-MM-DD");
                None
            }),
        };
        let from = day("from", from, month.first_day());
        let to = day("to", to, month.last_day());
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                errors.add("to", "must not be before from");
            } else if from.days_through(to) > MAX_REPORT_DAYS {
                errors.add(
                    "to",
                    format!("must be at most {MAX_REPORT_DAYS} days after from, both counted"),
                );
            } else {
                return Ok(Self { from, to });
            }
        }
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// 2026-12-31T23:59:30Z
    fn new_years_eve() -> Timestamp {
        Timestamp::from_millis(1_798_761_570_000)
    }

    fn capped(tokens: u64, used: u64) -> Allowance {
        let mut allowance = Allowance::unlimited(
            WorkspaceId::generate(),
            AssistantId::generate(),
            Month::of(new_years_eve()),
        );
        allowance.assistant.monthly_token_limit = Some(tokens);
        allowance.assistant_spend.tokens = used;
        allowance
    }

    fn charge(tokens: u64) -> Charge {
        Charge {
            model: Some("m".into()),
            prompt_tokens: tokens,
            ..Charge::new(WorkspaceId::generate(), new_years_eve())
        }
    }

    #[test]
    fn a_month_ends_at_the_next_ones_first_midnight_utc() {
        let month = Month::of(new_years_eve());
        assert_eq!(month.to_string(), "2026-12");
        assert_eq!(month.ends_at().to_iso8601(), "2027-01-01T00:00:00Z");
        assert_eq!(month.last_day().to_string(), "2026-12-31");
        let next_minute = new_years_eve().plus(std::time::Duration::from_secs(60));
        assert_eq!(Month::of(next_minute).to_string(), "2027-01");
        assert_eq!(Day::of(next_minute).to_string(), "2027-01-01");
        let february = Month::of(Timestamp::from_millis(1_803_000_000_000));
        assert_eq!(february.to_string(), "2027-02");
        assert_eq!(february.last_day().to_string(), "2027-02-28");
    }

    #[test]
    fn a_cap_reached_refuses_and_lifts_at_the_next_month() {
        assert_eq!(capped(100, 99).check(Channel::Api), Ok(()));
        let refused = capped(100, 100).check(Channel::Widget).unwrap_err();
        assert_eq!(refused.scope, "assistant");
        assert_eq!(refused.lifts_at.to_iso8601(), "2027-01-01T00:00:00Z");
    }

    #[test]
    fn a_segment_cap_stops_texts_only_and_the_workspace_cap_stops_every_assistant() {
        let mut allowance = capped(100, 0);
        allowance.workspace.monthly_sms_segment_limit = Some(10);
        allowance.workspace_spend.sms_segments = 10;
        assert_eq!(allowance.check(Channel::Api), Ok(()));
        let refused = allowance.check(Channel::Sms).unwrap_err();
        assert_eq!(
            (refused.scope, refused.metric),
            ("workspace", Metric::SmsSegments)
        );
        allowance.workspace.monthly_token_limit = Some(5);
        allowance.workspace_spend.tokens = 5;
        assert_eq!(
            allowance.check(Channel::Api).unwrap_err().scope,
            "workspace"
        );
    }

    #[test]
    fn each_threshold_the_count_reached_is_alerted_unless_told_already() {
        let counted = |used: u64| capped(1_000, used);
        assert!(
            counted(799).alerts().is_empty(),
            "799 of 1,000 reaches none"
        );
        let reached = |a: &Allowance| a.alerts().iter().map(|a| a.threshold).collect::<Vec<_>>();
        assert_eq!(reached(&counted(800)), [80], "800 reaches 80 %");
        let past = counted(1_050);
        assert_eq!(reached(&past), [80, 100]);
        assert_eq!(past.alerts()[0].used, 1_050);
        let mut told = past.clone();
        told.assistant_spend
            .alerted
            .insert(alert_key(Metric::Tokens, 80));
        assert_eq!(reached(&told), [100]);
    }

    #[test]
    fn only_a_charge_of_the_month_toward_an_untold_threshold_reads_the_counts_again() {
        let allowance = capped(1_000, 700);
        assert!(allowance.may_alert(&charge(1)));
        let mut january = charge(1);
        january.at = new_years_eve().plus(std::time::Duration::from_secs(60));
        assert!(!allowance.may_alert(&january), "another month's");
        let mut texts = charge(0);
        texts.segments_out = 2;
        assert!(!allowance.may_alert(&texts), "no segment cap");
        let mut told = allowance.clone();
        told.assistant_spend.alerted.extend([
            alert_key(Metric::Tokens, 80),
            alert_key(Metric::Tokens, 100),
        ]);
        assert!(!told.may_alert(&charge(1)), "every threshold told");
        let unlimited = Allowance::unlimited(
            WorkspaceId::generate(),
            AssistantId::generate(),
            Month::of(new_years_eve()),
        );
        assert!(!unlimited.may_alert(&charge(1)));
    }

    #[test]
    fn a_budget_body_names_every_bad_field() {
        let errors = Budget::from_json(json!({
            "monthlyTokenLimit": 0,
            "monthlySmsSegmentLimit": "10",
            "alertThresholds": [80, 80],
            "exhaustedMessage": "x".repeat(321),
            "colour": "red",
        }))
        .unwrap_err()
        .into_map();
        let named: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(
            named,
            [
                "alertThresholds",
                "colour",
                "exhaustedMessage",
                "monthlySmsSegmentLimit",
                "monthlyTokenLimit"
            ]
        );
        let budget = Budget::from_json(json!({"monthlyTokenLimit": 5000})).unwrap();
        assert_eq!(budget.alert_thresholds, [80, 100]);
        assert_eq!(budget.monthly_sms_segment_limit, None);
    }

    #[test]
    fn a_period_is_the_current_month_by_default_and_at_most_92_days() {
        let period = Period::parse(None, None, new_years_eve()).unwrap();
        assert_eq!(
            (period.from.to_string(), period.to.to_string()),
            ("2026-12-01".into(), "2026-12-31".into())
        );
        assert!(Period::parse(Some("2026-01-01"), Some("2026-04-02"), new_years_eve()).is_ok());
        let errors =
            Period::parse(Some("2026-01-01"), Some("2026-04-03"), new_years_eve()).unwrap_err();
        assert!(errors.into_map().contains_key("to"));
        let errors =
            Period::parse(Some("2026-1-1"), Some("yesterday"), new_years_eve()).unwrap_err();
        assert_eq!(errors.into_map().len(), 2);
    }
}
