//! `admin dlq`: the dead-letter queues of a stack, read and redriven the
//! same way against AWS and against the local server.
//!
//! A listing shows what an operator needs to find a failure in the logs
//! and never what a customer wrote: per queue its count and oldest
//! message, per message its SQS id, when it was sent, how often it was
//! received, and the ids its job names (keys ending in `Id` or `Sid`
//! holding an id's characters). Bodies, phone numbers and tokens are never
//! printed. SQS keeps no failure reason; the worker logged it under the
//! message's id.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Messages shown per queue (one receive); the count covers them all.
pub const SHOWN_PER_QUEUE: i32 = 10;

#[derive(Debug, thiserror::Error)]
pub enum DlqError {
    #[error("SQS: {0}")]
    Sqs(String),
    #[error("{0}")]
    Invalid(String),
}

fn sqs<E: std::fmt::Debug>(error: E) -> DlqError {
    DlqError::Sqs(format!("{error:?}").chars().take(300).collect())
}

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub message_id: String,
    /// When it was first sent (Unix milliseconds).
    pub sent_at_ms: Option<u64>,
    /// How many times it has been received in all.
    pub receives: Option<u64>,
    /// The ids its job names.
    pub ids: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterQueue {
    pub name: String,
    pub url: String,
    /// The queues that send it their failed jobs (none: a function's
    /// failure destination, such as the event feed's).
    pub sources: Vec<String>,
    pub count: u64,
    pub oldest_sent_at_ms: Option<u64>,
    pub messages: Vec<DeadLetter>,
}

fn queue_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// An id's characters only: what a key ending in `Id` or `Sid` holds when
/// it is an id, never free text.
fn is_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The ids a job's body names, and nothing else of it.
pub fn ids_of(body: &str) -> BTreeMap<String, String> {
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(body) else {
        return BTreeMap::new();
    };
    fields
        .into_iter()
        .filter(|(key, _)| key.ends_with("Id") || key.ends_with("Sid"))
        .filter_map(|(key, value)| match value {
            Value::String(id) if is_id(&id) => Some((key, id)),
            _ => None,
        })
        .collect()
}

async fn attributes(
    client: &Client,
    url: &str,
) -> Result<std::collections::HashMap<QueueAttributeName, String>, DlqError> {
    Ok(client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .map_err(sqs)?
        .attributes
        .unwrap_or_default())
}

/// The dead-letter queues among those whose names start with `prefix`:
/// those another queue's redrive policy names, and those named as
/// dead-letter queues (a function's failure destination).
pub async fn list(client: &Client, prefix: &str) -> Result<Vec<DeadLetterQueue>, DlqError> {
    let urls = client
        .list_queues()
        .queue_name_prefix(prefix)
        .send()
        .await
        .map_err(sqs)?
        .queue_urls
        .unwrap_or_default();
    let mut arns = BTreeMap::new();
    let mut sources: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for url in &urls {
        let attributes = attributes(client, url).await?;
        if let Some(arn) = attributes.get(&QueueAttributeName::QueueArn) {
            arns.insert(arn.clone(), url.clone());
        }
        if let Some(policy) = attributes.get(&QueueAttributeName::RedrivePolicy) {
            let target = serde_json::from_str::<Value>(policy)
                .ok()
                .and_then(|p| p["deadLetterTargetArn"].as_str().map(str::to_owned));
            if let Some(target) = target {
                sources
                    .entry(target)
                    .or_default()
                    .push(queue_name(url).to_owned());
            }
        }
    }
    let mut dead: BTreeSet<String> = sources
        .keys()
        .filter_map(|arn| arns.get(arn).cloned())
        .collect();
    dead.extend(
        urls.iter()
            .filter(|url| {
                let name = queue_name(url).to_ascii_lowercase();
                name.contains("deadletter") || name.ends_with("-dlq")
            })
            .cloned(),
    );
    let mut queues = Vec::new();
    for url in dead {
        let attributes = attributes(client, &url).await?;
        let arn = attributes
            .get(&QueueAttributeName::QueueArn)
            .cloned()
            .unwrap_or_default();
        let count = attributes
            .get(&QueueAttributeName::ApproximateNumberOfMessages)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let messages = peek(client, &url).await?;
        queues.push(DeadLetterQueue {
            name: queue_name(&url).to_owned(),
            sources: sources.get(&arn).cloned().unwrap_or_default(),
            count,
            oldest_sent_at_ms: messages.iter().filter_map(|m| m.sent_at_ms).min(),
            messages,
            url,
        });
    }
    Ok(queues)
}

/// Up to [`SHOWN_PER_QUEUE`] messages, left where they are (visible again
/// at once).
async fn peek(client: &Client, url: &str) -> Result<Vec<DeadLetter>, DlqError> {
    let received = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(SHOWN_PER_QUEUE)
        .visibility_timeout(0)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .map_err(sqs)?;
    Ok(received
        .messages
        .unwrap_or_default()
        .into_iter()
        .map(|message| {
            let attribute = |name: MessageSystemAttributeName| {
                message
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&name))
                    .and_then(|v| v.parse().ok())
            };
            DeadLetter {
                message_id: message.message_id.clone().unwrap_or_default(),
                sent_at_ms: attribute(MessageSystemAttributeName::SentTimestamp),
                receives: attribute(MessageSystemAttributeName::ApproximateReceiveCount),
                ids: ids_of(message.body.as_deref().unwrap_or_default()),
            }
        })
        .collect())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Redriven {
    pub queue: String,
    pub task_handle: String,
    /// Messages in the dead-letter queue when the move began.
    pub moving: u64,
    /// Still there when the command stopped waiting.
    pub remaining: u64,
}

/// Moves every message of the dead-letter queue `queue` (a name or URL)
/// back to the queue that sent it there, with SQS's message move task,
/// and waits up to `patience` for the queue to empty.
pub async fn redrive(
    client: &Client,
    queue: &str,
    patience: Duration,
) -> Result<Redriven, DlqError> {
    let url = if queue.starts_with("http") {
        queue.to_owned()
    } else {
        client
            .get_queue_url()
            .queue_name(queue)
            .send()
            .await
            .map_err(|_| DlqError::Invalid(format!("no queue is named {queue}")))?
            .queue_url
            .unwrap_or_default()
    };
    let count = |attributes: &std::collections::HashMap<QueueAttributeName, String>| {
        attributes
            .get(&QueueAttributeName::ApproximateNumberOfMessages)
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let before = attributes(client, &url).await?;
    let arn = before
        .get(&QueueAttributeName::QueueArn)
        .cloned()
        .ok_or_else(|| DlqError::Invalid(format!("{queue} has no ARN")))?;
    let task = client
        .start_message_move_task()
        .source_arn(&arn)
        .send()
        .await
        .map_err(|error| {
            DlqError::Invalid(format!(
                "{queue} cannot be redriven (is it another queue's dead-letter queue? the event feed's holds stream records to replay, see the runbook): {}",
                sqs(error)
            ))
        })?;
    let deadline = tokio::time::Instant::now() + patience;
    let mut remaining = count(&before);
    while remaining > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        remaining = count(&attributes(client, &url).await?);
    }
    Ok(Redriven {
        queue: queue_name(&url).to_owned(),
        task_handle: task.task_handle.unwrap_or_default(),
        moving: count(&before),
        remaining,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_keeps_a_jobs_ids_and_nothing_else_of_it() {
        let body = r#"{"workspaceId":"ws_a1","assistantId":"ast_b2","messageSid":"SM0123","from":"+15551234567","content":"my card is 4111","tokenId":"has spaces in it","count":3}"#;
        let ids = ids_of(body);
        assert_eq!(
            ids.into_iter().collect::<Vec<_>>(),
            [
                ("assistantId".to_owned(), "ast_b2".to_owned()),
                ("messageSid".to_owned(), "SM0123".to_owned()),
                ("workspaceId".to_owned(), "ws_a1".to_owned()),
            ]
        );
        assert!(ids_of("not json at all +15551234567").is_empty());
    }
}
