//! Stands in for Lambda's DynamoDB stream event source on the local stack:
//! reads the table's stream from its start, shard by shard, and hands each
//! record to the event feed in order. A record whose events could not be
//! dispatched is read again (its shard's iterator is not advanced), as
//! Lambda retries a stream batch: at least once.

use shared::adapters::dynamo::{DynamoStore, StreamRecord};
use shared::app::event_feed::EventFeed;
use shared::domain::time::Timestamp;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::watch;

type Streams = aws_sdk_dynamodbstreams::Client;

const IDLE: Duration = Duration::from_millis(100);

/// One record of the streams API, as the adapter reads records.
fn record_of(record: aws_sdk_dynamodbstreams::types::Record) -> Option<StreamRecord> {
    let change = record.dynamodb?;
    let image = |map: Option<HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| {
        map.map(|map| HashMap::from(serde_dynamo::Item::from(map)))
    };
    let at = change
        .approximate_creation_date_time
        .and_then(|at| at.to_millis().ok())
        .map_or_else(Timestamp::now, Timestamp::from_millis);
    Some(StreamRecord {
        id: record.event_id?,
        at,
        old: image(change.old_image),
        new: image(change.new_image),
    })
}

/// The table's stream: its ARN.
pub async fn stream_of(aws: &aws_config::SdkConfig, table: &str) -> Result<String, String> {
    let dynamo = aws_sdk_dynamodb::Client::new(aws);
    dynamo
        .describe_table()
        .table_name(table)
        .send()
        .await
        .map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())?
        .table
        .and_then(|t| t.latest_stream_arn)
        .ok_or_else(|| format!("the table {table} has no stream"))
}

/// Where each shard is read from next.
pub struct StreamReader {
    streams: Streams,
    arn: String,
    iterators: HashMap<String, Option<String>>,
}

impl StreamReader {
    pub fn new(aws: &aws_config::SdkConfig, arn: String) -> Self {
        Self {
            streams: Streams::new(aws),
            arn,
            iterators: HashMap::new(),
        }
    }

    /// Every shard not yet known starts at its oldest record.
    async fn find_shards(&mut self) -> Result<(), String> {
        let described = self
            .streams
            .describe_stream()
            .stream_arn(&self.arn)
            .send()
            .await
            .map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string())?;
        let shards = described
            .stream_description
            .and_then(|d| d.shards)
            .unwrap_or_default();
        for shard in shards {
            let Some(id) = shard.shard_id else { continue };
            if self.iterators.contains_key(&id) {
                continue;
            }
            let iterator = self
                .streams
                .get_shard_iterator()
                .stream_arn(&self.arn)
                .shard_id(&id)
                .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
                .send()
                .await
                .map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string())?
                .shard_iterator;
            self.iterators.insert(id, iterator);
        }
        Ok(())
    }

    /// The records committed since the last read, in each shard's order,
    /// and a way to move past them once they are handled.
    pub async fn read(
        &mut self,
    ) -> Result<Vec<(String, Vec<StreamRecord>, Option<String>)>, String> {
        self.find_shards().await?;
        let mut read = Vec::new();
        for (shard, iterator) in &self.iterators {
            let Some(iterator) = iterator else { continue };
            let page = self
                .streams
                .get_records()
                .shard_iterator(iterator)
                .send()
                .await
                .map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(e).to_string())?;
            let records = page
                .records
                .unwrap_or_default()
                .into_iter()
                .filter_map(record_of)
                .collect();
            read.push((shard.clone(), records, page.next_shard_iterator));
        }
        Ok(read)
    }

    /// Reads on from `next` in `shard` (its records were handled).
    pub fn advance(&mut self, shard: String, next: Option<String>) {
        self.iterators.insert(shard, next);
    }
}

/// Publishes each record's change; stops at the first that fails, which is
/// read again next time with those after it.
pub async fn publish_in_order(
    store: &DynamoStore,
    feed: &EventFeed,
    records: &[StreamRecord],
) -> Result<(), String> {
    for record in records {
        let change = store
            .change_of(record)
            .await
            .map_err(|e| format!("reading record {}: {e}", record.id))?;
        if let Some(change) = change {
            feed.publish(&change)
                .await
                .map_err(|e| format!("publishing record {}: {e}", record.id))?;
        }
    }
    Ok(())
}

/// Runs until `shutdown` turns true.
pub async fn drive_stream(
    mut reader: StreamReader,
    store: std::sync::Arc<DynamoStore>,
    feed: std::sync::Arc<EventFeed>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        let mut busy = false;
        match reader.read().await {
            Ok(shards) => {
                for (shard, records, next) in shards {
                    busy |= !records.is_empty();
                    match publish_in_order(&store, &feed, &records).await {
                        Ok(()) => reader.advance(shard, next),
                        Err(error) => {
                            tracing::warn!(error, "a stream record will be read again");
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(error, "reading the table's stream failed"),
        }
        if !busy {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tokio::time::sleep(IDLE) => {}
            }
        }
    }
}
