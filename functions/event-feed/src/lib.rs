//! The event feed's batch handling, apart from `main` so tests feed it
//! real-shaped stream events: each record's change is published in order,
//! and the first that fails is reported, so Lambda retries the batch from
//! it (the records before it are done; publishing one again makes nothing
//! new).

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use shared::adapters::dynamo::{DynamoStore, StreamRecord};
use shared::app::event_feed::EventFeed;
use shared::domain::time::Timestamp;
use std::collections::HashMap;

fn image(
    item: serde_dynamo::Item,
) -> Option<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    (!item.is_empty()).then(|| HashMap::from(item))
}

/// One record as the adapter reads records.
fn record_of(record: EventRecord) -> StreamRecord {
    StreamRecord {
        id: record.event_id,
        at: Timestamp::from_millis(
            record
                .change
                .approximate_creation_date_time
                .timestamp_millis(),
        ),
        old: image(record.change.old_image),
        new: image(record.change.new_image),
    }
}

pub async fn handle_records(
    store: &DynamoStore,
    feed: &EventFeed,
    event: Event,
) -> DynamoDbEventResponse {
    for record in event.records {
        let sequence = record.change.sequence_number.clone();
        let read = record_of(record);
        let published = match store.change_of(&read).await {
            Ok(Some(change)) => feed
                .publish(&change)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Ok(None) => Ok(()),
            Err(error) => Err(error.to_string()),
        };
        if let Err(error) = published {
            tracing::warn!(record = %read.id, error, "a stream record will be read again");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = sequence;
            let mut response = DynamoDbEventResponse::default();
            response.batch_item_failures.push(failure);
            return response;
        }
    }
    DynamoDbEventResponse::default()
}
