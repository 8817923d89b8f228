//! Counts the HTTP attempts an SDK client makes, so tests can hold the API to
//! its round-trip budget per request.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The attempts, and each one's operation (its `X-Amz-Target`, such as
/// `DynamoDB_20120810.GetItem`).
#[derive(Clone, Debug, Default)]
pub struct RoundTripCounter(Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>);

impl RoundTripCounter {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// The operations since the last reset, in order.
    pub fn operations(&self) -> Vec<String> {
        self.1.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn reset(&self) {
        self.0.store(0, Ordering::SeqCst);
        self.1.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

impl Intercept for RoundTripCounter {
    fn name(&self) -> &'static str {
        "RoundTripCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        let operation = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or("?")
            .to_owned();
        self.1
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(operation);
        Ok(())
    }
}
