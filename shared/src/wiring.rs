//! Building the production adapters from the configuration: the AWS
//! settings every client shares, the providers' retry budgets, and the
//! retriever and chat model over the provider keys, read from Secrets
//! Manager when a request first needs them.

#[cfg(feature = "secrets")]
use crate::adapters::on_first_use::OnFirstUse;
use crate::adapters::outbound_http::OutboundHttp;
#[cfg(feature = "secrets")]
use crate::config::Env;
#[cfg(feature = "rag")]
use crate::config::{ChatSettings, ProviderSettings};
use aws_config::BehaviorVersion;
#[cfg(feature = "rag")]
use secrecy::SecretString;

/// The AWS settings from the standard chain (region, credentials, and
/// `AWS_ENDPOINT_URL` for the local stack), sending through `http`, the
/// process's one client: hand the providers the same handle, for one TLS
/// setup and one pool. Loaded once per process.
pub async fn load_aws(http: &OutboundHttp) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http.clone())
        .timeout_config(aws_timeouts())
        .load()
        .await
}

/// Every AWS call is bounded, its retries included (the SDK's standard
/// retry mode tells throttling and 5xx from refusals): a route's DynamoDB,
/// S3, SQS, KMS and Secrets Manager calls end well inside its deadline, and
/// an unreachable endpoint fails fast instead of hanging a container. A
/// streamed body (an S3 download) is read outside these bounds.
pub fn aws_timeouts() -> aws_config::timeout::TimeoutConfig {
    use std::time::Duration;
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(crate::adapters::outbound_http::CONNECT_TIMEOUT)
        .operation_attempt_timeout(Duration::from_secs(4))
        .operation_timeout(Duration::from_secs(10))
        .build()
}

/// The retry budget of a function's provider calls, by whose calls they
/// are. A route's calls share API Gateway's
/// 29 s with everything else the route does (retrieval's embedding and
/// query, then the model's first byte, within the route deadline's 26 s),
/// so each has its own budget, every try included; a worker's calls have
/// the function's timeout and the default tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryBudget {
    Route,
    Worker,
}

#[cfg(feature = "rag")]
const EMBEDDINGS_ROUTE_BUDGET: std::time::Duration = std::time::Duration::from_secs(6);
#[cfg(feature = "rag")]
const INDEX_ROUTE_BUDGET: std::time::Duration = std::time::Duration::from_secs(5);
#[cfg(feature = "rag")]
const CHAT_OPEN_ROUTE_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

#[cfg(feature = "rag")]
impl RetryBudget {
    fn policy(self, route_budget: std::time::Duration) -> crate::adapters::providers::RetryPolicy {
        use crate::adapters::providers::RetryPolicy;
        match self {
            Self::Route => RetryPolicy::within(route_budget),
            Self::Worker => RetryPolicy::default(),
        }
    }
}

#[cfg(feature = "rag")]
impl ProviderSettings {
    /// The production retriever over these providers.
    pub fn retriever(
        &self,
        http: OutboundHttp,
        budget: RetryBudget,
    ) -> crate::adapters::retriever::Retriever {
        use crate::adapters::providers::embeddings::{EmbeddingsConfig, OpenAiEmbedder};
        use crate::adapters::providers::pinecone::{PineconeConfig, PineconeIndex};
        use std::time::Duration;

        let embedder = OpenAiEmbedder::new(
            http.clone(),
            EmbeddingsConfig {
                base_url: self.embeddings_base_url.clone(),
                api_key: self.embeddings_api_key.clone(),
                model: self.embeddings_model.clone(),
                dimensions: self.embeddings_dimensions,
                timeout: Duration::from_secs(20),
            },
            budget.policy(EMBEDDINGS_ROUTE_BUDGET),
        );
        let index = PineconeIndex::new(
            http,
            PineconeConfig {
                index_host: self.pinecone_index_host.clone(),
                api_key: self.pinecone_api_key.clone(),
                timeout: Duration::from_secs(10),
            },
            budget.policy(INDEX_ROUTE_BUDGET),
        );
        crate::adapters::retriever::RetrieverOf {
            embedder,
            index,
            min_score: crate::adapters::retriever::DEFAULT_MIN_SCORE,
        }
    }
}

#[cfg(feature = "rag")]
impl ChatSettings {
    /// The production chat model over these APIs.
    pub fn chat_model(
        &self,
        http: OutboundHttp,
        budget: RetryBudget,
    ) -> crate::adapters::providers::chat::ChatApis {
        use crate::adapters::providers::chat::{ChatApis, ChatConfig, OpenAiChat};
        use std::time::Duration;
        let client = |base_url: &str, api_key: &SecretString| {
            OpenAiChat::new(
                http.clone(),
                ChatConfig {
                    base_url: base_url.to_owned(),
                    api_key: api_key.clone(),
                    timeout: Duration::from_secs(30),
                    // Long answers stream for a minute or more; the chat
                    // engine's lease outlasts this.
                    stream_timeout: Duration::from_secs(120),
                },
                budget.policy(CHAT_OPEN_ROUTE_BUDGET),
            )
        };
        ChatApis::new(
            client(&self.base_url, &self.api_key),
            self.routes
                .iter()
                .map(|r| (r.prefix.clone(), client(&r.base_url, &r.api_key)))
                .collect(),
        )
    }
}

/// Where the provider keys are, when the function is deployed: the
/// secret's ARN or name. Unset (locally), the keys are plain variables.
pub const PROVIDER_KEYS_SECRET: &str = "PROVIDER_KEYS_SECRET_ID";

#[cfg(feature = "secrets")]
/// The environment with the provider keys read from the secret that
/// [`PROVIDER_KEYS_SECRET`] names: the keys are never
/// in the function's configuration, which anyone allowed to read it could
/// read. Without that variable (locally) the environment is as it is.
pub async fn with_provider_keys(
    aws: &aws_config::SdkConfig,
    env: Env,
) -> Result<Env, crate::adapters::secrets::SecretError> {
    let Some(id) = env.optional(PROVIDER_KEYS_SECRET) else {
        return Ok(env);
    };
    let client = aws_sdk_secretsmanager::Client::new(aws);
    let secret = crate::adapters::secrets::read_secret(&client, &id).await?;
    let keys = crate::adapters::secrets::provider_keys(
        &id,
        secrecy::ExposeSecret::expose_secret(&secret),
    )?;
    Ok(env.overlaid(keys))
}

/// The environment with the provider keys, read from their secret when an
/// adapter first needs them (see `adapters::on_first_use`), once for every
/// adapter of the process built over it.
#[cfg(feature = "secrets")]
pub fn provider_keys_on_first_use(
    aws: &aws_config::SdkConfig,
    env: Env,
) -> std::sync::Arc<OnFirstUse<Env>> {
    let aws = aws.clone();
    std::sync::Arc::new(OnFirstUse::new(move || {
        let (aws, env) = (aws.clone(), env.clone());
        async move { Ok(with_provider_keys(&aws, env).await?) }
    }))
}

/// An adapter `build` makes from the environment once `keys` has read
/// the provider keys into it.
#[cfg(all(feature = "secrets", feature = "rag"))]
fn built_with_keys<T: 'static>(
    keys: &std::sync::Arc<OnFirstUse<Env>>,
    build: impl Fn(&Env) -> Result<T, crate::config::ConfigError> + Send + Sync + 'static,
) -> OnFirstUse<T> {
    let (keys, build) = (keys.clone(), std::sync::Arc::new(build));
    OnFirstUse::new(move || {
        let (keys, build) = (keys.clone(), build.clone());
        async move { Ok(build(keys.get().await?)?) }
    })
}

/// The retriever, built with the keys on its first search.
#[cfg(all(feature = "secrets", feature = "rag"))]
pub fn retriever_on_first_use(
    keys: &std::sync::Arc<OnFirstUse<Env>>,
    http: OutboundHttp,
    budget: RetryBudget,
) -> OnFirstUse<crate::adapters::retriever::Retriever> {
    built_with_keys(keys, move |env| {
        Ok(ProviderSettings::from_env(env)?.retriever(http.clone(), budget))
    })
}

/// The chat model, built with the keys (and `CHAT_ROUTES`) on its first
/// question.
#[cfg(all(feature = "secrets", feature = "rag"))]
pub fn chat_model_on_first_use(
    keys: &std::sync::Arc<OnFirstUse<Env>>,
    http: OutboundHttp,
    budget: RetryBudget,
) -> OnFirstUse<crate::adapters::providers::chat::ChatApis> {
    built_with_keys(keys, move |env| {
        Ok(ChatSettings::from_env(env)?.chat_model(http.clone(), budget))
    })
}
