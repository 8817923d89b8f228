//! Business metrics as CloudWatch Embedded Metric Format lines: one JSON
//! object per line on stdout, which CloudWatch Logs turns into metrics with
//! no SDK call on the hot path. Written by hand: the format is one small
//! JSON shape, and the crates that write it bring their own runtime and
//! flushing, which a Lambda's stdout does not need.
//!
//! Every dimension takes its values from a closed set (the function, a
//! channel, an outcome, a budget's scope, a Twilio error code among those
//! documented), never a workspace, an assistant or a texter, so the number
//! of metrics does not grow with customers. Off Lambda nothing is written.

use crate::domain::conversation::Channel;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

pub const NAMESPACE: &str = "IllumiChat";

/// A dimension and its value, each from a closed set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    Channel(Channel),
    /// What became of a webhook delivery attempt.
    Outcome(Outcome),
    /// Whose budget refused an answer: `assistant` or `workspace`.
    Budget(&'static str),
    /// A Twilio error code among the documented ones, else `other`.
    ErrorCode(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Retrying,
    Failed,
}

impl Outcome {
    pub const ALL: [Self; 3] = [Self::Succeeded, Self::Retrying, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
        }
    }
}

/// Twilio's codes a send can fail with that the runbook explains; any
/// other is counted as `other`.
pub const TWILIO_CODES: [&str; 10] = [
    "21211", "21408", "21610", "21612", "21614", "30003", "30004", "30005", "30006", "30007",
];

/// The dimension value of a Twilio error code: itself when documented.
pub fn twilio_code(code: Option<u32>) -> &'static str {
    let code = code.map(|c| c.to_string());
    TWILIO_CODES
        .iter()
        .find(|known| code.as_deref() == Some(**known))
        .copied()
        .unwrap_or("other")
}

impl Dimension {
    pub fn name(self) -> &'static str {
        match self {
            Self::Channel(_) => "Channel",
            Self::Outcome(_) => "Outcome",
            Self::Budget(_) => "Budget",
            Self::ErrorCode(_) => "ErrorCode",
        }
    }

    pub fn value(self) -> &'static str {
        match self {
            Self::Channel(channel) => channel.as_str(),
            Self::Outcome(outcome) => outcome.as_str(),
            Self::Budget(scope) => match scope {
                "assistant" => "assistant",
                _ => "workspace",
            },
            Self::ErrorCode(code) => code,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Milliseconds => "Milliseconds",
        }
    }
}

/// The metrics the backend writes: their names are the dashboard's and
/// the alarms'.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Metric {
    /// An answer completed.
    Answers(Channel),
    /// From the question to the model's first word.
    TimeToFirstToken(Channel, f64),
    /// The model's tokens for one answer.
    ModelTokens(Channel, u64),
    SmsSegmentsSent(u64),
    SmsSendFailures(Option<u32>),
    OptOuts,
    IngestDuration(f64),
    IngestChunks(u64),
    WebhookDeliveries(Outcome),
    BudgetRefusals(Channel, &'static str),
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Self::Answers(_) => "Answers",
            Self::TimeToFirstToken(..) => "TimeToFirstToken",
            Self::ModelTokens(..) => "ModelTokens",
            Self::SmsSegmentsSent(_) => "SmsSegmentsSent",
            Self::SmsSendFailures(_) => "SmsSendFailures",
            Self::OptOuts => "OptOuts",
            Self::IngestDuration(_) => "IngestDuration",
            Self::IngestChunks(_) => "IngestChunks",
            Self::WebhookDeliveries(_) => "WebhookDeliveries",
            Self::BudgetRefusals(..) => "BudgetRefusals",
        }
    }

    fn unit(self) -> Unit {
        match self {
            Self::TimeToFirstToken(..) | Self::IngestDuration(_) => Unit::Milliseconds,
            _ => Unit::Count,
        }
    }

    fn value(self) -> f64 {
        match self {
            Self::TimeToFirstToken(_, ms) | Self::IngestDuration(ms) => ms,
            Self::ModelTokens(_, n) | Self::SmsSegmentsSent(n) | Self::IngestChunks(n) => n as f64,
            _ => 1.0,
        }
    }

    pub fn dimensions(self) -> Vec<Dimension> {
        match self {
            Self::Answers(channel)
            | Self::TimeToFirstToken(channel, _)
            | Self::ModelTokens(channel, _) => vec![Dimension::Channel(channel)],
            Self::SmsSendFailures(code) => vec![Dimension::ErrorCode(twilio_code(code))],
            Self::WebhookDeliveries(outcome) => vec![Dimension::Outcome(outcome)],
            Self::BudgetRefusals(channel, scope) => {
                vec![Dimension::Channel(channel), Dimension::Budget(scope)]
            }
            Self::SmsSegmentsSent(_)
            | Self::OptOuts
            | Self::IngestDuration(_)
            | Self::IngestChunks(_) => Vec::new(),
        }
    }

    /// The EMF line for this metric, written by `function` at `at_ms`.
    pub fn line(self, function: &str, at_ms: i64) -> Value {
        let dimensions = self.dimensions();
        let mut keys = vec!["Function".to_owned()];
        keys.extend(dimensions.iter().map(|d| d.name().to_owned()));
        let mut line = Map::new();
        line.insert(
            "_aws".into(),
            json!({
                "Timestamp": at_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [keys],
                    "Metrics": [{"Name": self.name(), "Unit": self.unit().as_str()}],
                }],
            }),
        );
        line.insert("Function".into(), json!(function));
        for dimension in dimensions {
            line.insert(dimension.name().into(), json!(dimension.value()));
        }
        line.insert(self.name().into(), json!(self.value()));
        Value::Object(line)
    }
}

/// The function's name in Lambda; `None` elsewhere (nothing is written).
fn function() -> Option<&'static str> {
    static NAME: OnceLock<Option<String>> = OnceLock::new();
    NAME.get_or_init(|| std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok())
        .as_deref()
}

/// Writes `metric` as an EMF line, in Lambda.
pub fn record(metric: Metric) {
    let Some(function) = function() else {
        return;
    };
    let at = crate::domain::time::Timestamp::wall().millis();
    println!("{}", metric.line(function, at));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_metric() -> Vec<Metric> {
        let mut all = Vec::new();
        for channel in [Channel::Api, Channel::Widget, Channel::Sms] {
            all.push(Metric::Answers(channel));
            all.push(Metric::TimeToFirstToken(channel, 1.0));
            all.push(Metric::ModelTokens(channel, 1));
            for scope in ["assistant", "workspace"] {
                all.push(Metric::BudgetRefusals(channel, scope));
            }
        }
        for outcome in Outcome::ALL {
            all.push(Metric::WebhookDeliveries(outcome));
        }
        all.extend([
            Metric::SmsSegmentsSent(2),
            Metric::SmsSendFailures(Some(30007)),
            Metric::SmsSendFailures(Some(99_999)),
            Metric::SmsSendFailures(None),
            Metric::OptOuts,
            Metric::IngestDuration(12.5),
            Metric::IngestChunks(3),
        ]);
        all
    }

    #[test]
    fn a_line_is_cloudwatch_embedded_metric_format() {
        let line = Metric::BudgetRefusals(Channel::Widget, "workspace").line("widget-api", 1_000);
        assert_eq!(
            line,
            json!({
                "_aws": {
                    "Timestamp": 1_000,
                    "CloudWatchMetrics": [{
                        "Namespace": "IllumiChat",
                        "Dimensions": [["Function", "Channel", "Budget"]],
                        "Metrics": [{"Name": "BudgetRefusals", "Unit": "Count"}],
                    }],
                },
                "Function": "widget-api",
                "Channel": "widget",
                "Budget": "workspace",
                "BudgetRefusals": 1.0,
            })
        );
    }

    #[test]
    fn no_dimension_takes_an_unbounded_value() {
        let mut values: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
            Default::default();
        for metric in every_metric() {
            for dimension in metric.dimensions() {
                values
                    .entry(dimension.name())
                    .or_default()
                    .insert(dimension.value());
            }
        }
        assert_eq!(values["Channel"].len(), 3);
        assert_eq!(values["Outcome"].len(), 3);
        assert_eq!(values["Budget"].len(), 2);
        assert!(
            values["ErrorCode"].is_subset(&TWILIO_CODES.iter().copied().chain(["other"]).collect())
        );
        assert_eq!(
            twilio_code(Some(123_456)),
            "other",
            "an unknown code is other"
        );
        // A dimension's value cannot come from a request: it is `&'static`
        // by type, chosen from these sets.
    }
}
