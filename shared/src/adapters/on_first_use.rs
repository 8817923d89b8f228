//! An adapter built when it is first needed rather than at cold start: the
//! ones whose settings hold keys read from Secrets Manager. Read at init,
//! a key cost every cold start a Secrets Manager round trip (and the TLS
//! setup before it), whether or not the container ever served a request
//! that needed it, and a read that failed stopped the container, so the
//! request that started it got API Gateway's bare 502. Read here, a route
//! that needs no provider never waits for one, and a failed read is that
//! request's 503 (or 500 for a deployment that names no usable secret);
//! the next request tries again.
//!
//! Written here because the port traits are ours: a wrapper that delegates
//! each of them is a few lines, and `tokio`'s `OnceCell` does the rest
//! (one build at a time, nothing kept from a build that failed).

use crate::domain::ids::ProjectId;
use crate::domain::passage::Passage;
use crate::domain::widget_token::WidgetTokens;
use crate::ports::{
    ChatAnswer, ChatModel, ChatRequest, ChatStream, PassageSearch, ProviderError, WidgetSigner,
};
use async_trait::async_trait;
use std::future::Future;
use std::pin::Pin;
use tokio::sync::OnceCell;

type Build<T> =
    Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<T, ProviderError>> + Send>> + Send + Sync>;

pub struct OnFirstUse<T> {
    built: OnceCell<T>,
    build: Build<T>,
}

impl<T> OnFirstUse<T> {
    pub fn new<F, Fut>(build: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, ProviderError>> + Send + 'static,
    {
        Self {
            built: OnceCell::new(),
            build: Box::new(move || Box::pin(build())),
        }
    }

    /// The adapter, built by the first caller; callers meanwhile wait for
    /// that build rather than start their own.
    pub async fn get(&self) -> Result<&T, ProviderError> {
        self.built.get_or_try_init(|| (self.build)()).await
    }
}

#[async_trait]
impl<T: PassageSearch> PassageSearch for OnFirstUse<T> {
    async fn search(
        &self,
        projects: &[ProjectId],
        question: &str,
        top_k: usize,
    ) -> Result<Vec<Passage>, ProviderError> {
        self.get().await?.search(projects, question, top_k).await
    }
}

#[async_trait]
impl<T: ChatModel> ChatModel for OnFirstUse<T> {
    async fn complete(&self, request: &ChatRequest) -> Result<ChatAnswer, ProviderError> {
        self.get().await?.complete(request).await
    }

    async fn stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        self.get().await?.stream(request).await
    }
}

#[async_trait]
impl WidgetSigner for OnFirstUse<WidgetTokens> {
    async fn tokens(&self) -> Result<&WidgetTokens, ProviderError> {
        self.get().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counted(failures: usize) -> (OnFirstUse<usize>, Arc<AtomicUsize>) {
        let builds = Arc::new(AtomicUsize::new(0));
        let counter = builds.clone();
        let adapter = OnFirstUse::new(move || {
            let attempt = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if attempt < failures {
                    Err(ProviderError::Unavailable {
                        provider: "Secrets Manager",
                        detail: "throttled".into(),
                    })
                } else {
                    Ok(attempt)
                }
            }
        });
        (adapter, builds)
    }

    #[tokio::test]
    async fn nothing_is_built_until_it_is_needed_and_then_only_once() {
        let (adapter, builds) = counted(0);
        assert_eq!(builds.load(Ordering::SeqCst), 0);
        let (a, b) = tokio::join!(adapter.get(), adapter.get());
        assert_eq!((*a.unwrap(), *b.unwrap()), (0, 0));
        assert_eq!(*adapter.get().await.unwrap(), 0);
        assert_eq!(builds.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_build_that_failed_is_tried_again_by_the_next_caller() {
        let (adapter, builds) = counted(1);
        assert!(adapter.get().await.unwrap_err().is_transient());
        assert_eq!(*adapter.get().await.unwrap(), 1);
        assert_eq!(builds.load(Ordering::SeqCst), 2);
    }
}
