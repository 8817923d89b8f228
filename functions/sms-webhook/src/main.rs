//! The SMS webhook function, on a Lambda Function URL (auth NONE: the
//! Twilio signature authenticates each request). Records inbound texts and
//! delivery status, queues replies. Composition root only.

use shared::adapters::dynamo::DynamoStore;
use shared::adapters::kms::KmsCipher;
use shared::adapters::secrets;
use shared::adapters::sqs::SqsQueue;
use shared::app::sms_webhook::SmsWebhook;
use shared::config::{ConfigError, Env};
use shared::http::{WebhookState, sms_webhook_router};
use shared::wiring::load_aws;
use std::sync::Arc;

struct Config {
    table_name: String,
    /// The Secrets Manager secret whose value names texters in the table
    /// (read when a request first needs it, never from this configuration).
    contact_key_secret_id: String,
    sms_key_id: String,
    reply_queue_url: String,
    /// The URL Twilio is given, when it is not this Function URL's own
    /// (a custom domain in front of it).
    public_base_url: Option<String>,
    /// Texts of one texter this close together are answered as one.
    burst_window: std::time::Duration,
}

impl Config {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            contact_key_secret_id: env.required("CONTACT_KEY_SECRET_ARN")?,
            sms_key_id: env.required("SMS_KEY_ID")?,
            reply_queue_url: env.url("REPLY_QUEUE_URL")?,
            public_base_url: env.optional_url("SMS_WEBHOOK_BASE_URL")?,
            burst_window: shared::config::sms_burst_window(env)?,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = Config::from_env(&Env::process())?;
    let http = shared::adapters::outbound_http::client();
    let aws = load_aws(&http).await;
    let store = Arc::new(
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name)
            .with_contact_keys_on_first_use(secrets::contact_keys_loader(
                &aws,
                config.contact_key_secret_id,
            )),
    );
    let webhook = SmsWebhook::new(
        store,
        Arc::new(KmsCipher::new(
            aws_sdk_kms::Client::new(&aws),
            config.sms_key_id,
        )),
        Arc::new(SqsQueue::new(
            aws_sdk_sqs::Client::new(&aws),
            config.reply_queue_url,
        )),
    )
    .with_burst_window(config.burst_window);
    shared::http::lambda::run(sms_webhook_router(WebhookState {
        webhook: Arc::new(webhook),
        public_base_url: config.public_base_url,
    }))
    .await
}
