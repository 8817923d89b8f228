//! The reply worker: SQS-triggered; retrieves, asks the assistant's model,
//! and texts the answer back through the customer's Twilio account.
//! Composition root only.

use lambda_runtime::{LambdaEvent, service_fn};
use reply_worker::handle_batch;
use shared::adapters::dynamo::DynamoStore;
use shared::adapters::kms::KmsCipher;
use shared::adapters::secrets;
use shared::adapters::twilio::TwilioGateway;
use shared::app::reply::{ReplyWorker, SendRetry};
use shared::config::{ChatSettings, ConfigError, Env, ProviderSettings};
use shared::wiring::{RetryBudget, load_aws};
use std::sync::Arc;
use std::time::Duration;

struct Config {
    table_name: String,
    /// The Secrets Manager secret whose value names texters in the table
    /// (read when a request first needs it, never from this configuration).
    contact_key_secret_id: String,
    sms_key_id: String,
    twilio_api_base_url: String,
    /// Where Twilio reports delivery: the webhook function's URL.
    webhook_base_url: String,
    /// Any OpenAI-compatible servers: a default, and one per model prefix.
    chat: ChatSettings,
    providers: ProviderSettings,
    /// Texts of one texter this close together are answered as one.
    burst_window: Duration,
}

impl Config {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            contact_key_secret_id: env.required("CONTACT_KEY_SECRET_ARN")?,
            sms_key_id: env.required("SMS_KEY_ID")?,
            twilio_api_base_url: env.url("TWILIO_API_BASE_URL")?,
            webhook_base_url: env.url("SMS_WEBHOOK_BASE_URL")?,
            chat: ChatSettings::from_env(env)?,
            providers: ProviderSettings::from_env(env)?,
            burst_window: shared::config::sms_burst_window(env)?,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let http = shared::adapters::outbound_http::client();
    let aws = load_aws(&http).await;
    // The provider keys come from Secrets Manager, once per container.
    let env = shared::wiring::with_provider_keys(&aws, Env::process()).await?;
    let config = Config::from_env(&env)?;
    let worker = Arc::new(ReplyWorker {
        store: Arc::new(
            DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name)
                .with_contact_keys_on_first_use(secrets::contact_keys_loader(
                    &aws,
                    config.contact_key_secret_id,
                )),
        ),
        search: Arc::new(
            config
                .providers
                .retriever(http.clone(), RetryBudget::Worker),
        ),
        chat: Arc::new(config.chat.chat_model(http.clone(), RetryBudget::Worker)),
        gateway: Arc::new(TwilioGateway::new(
            http,
            config.twilio_api_base_url,
            Duration::from_secs(10),
        )),
        cipher: Arc::new(KmsCipher::new(
            aws_sdk_kms::Client::new(&aws),
            config.sms_key_id,
        )),
        public_base_url: config.webhook_base_url,
        retry: SendRetry::default(),
        burst_window: config.burst_window,
        clock: Arc::new(shared::ports::SystemClock),
    });
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| {
            let worker = Arc::clone(&worker);
            async move { Ok::<_, lambda_runtime::Error>(handle_batch(&worker, event.payload).await) }
        },
    ))
    .await
}
