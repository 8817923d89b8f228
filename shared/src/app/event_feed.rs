//! Publishing committed changes as events: each change read from the
//! store's feed (DynamoDB's stream) becomes its events, each dispatched to
//! the webhooks that want it. Reading a change again dispatches nothing new
//! (its events' ids, and so their deliveries' ids, come from the change's),
//! so the feed may replay a batch after a failure: at least once, never
//! twice.

use super::error::AppError;
use super::webhook_dispatch::EventDispatcher;
use crate::domain::webhook::change::Change;
use crate::domain::webhook::delivery::Event;

pub struct EventFeed {
    pub dispatcher: EventDispatcher,
    /// The events a change makes, each with the thing as the API serves
    /// it (`http::events::events_of`).
    pub events_of: fn(&Change) -> Vec<Event>,
}

impl EventFeed {
    /// Dispatches the change's events; the number of deliveries made.
    pub async fn publish(&self, change: &Change) -> Result<usize, AppError> {
        let mut made = 0;
        for event in (self.events_of)(change) {
            made += self.dispatcher.dispatch(&event, None).await?;
        }
        Ok(made)
    }
}
