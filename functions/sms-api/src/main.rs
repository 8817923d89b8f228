//! The SMS API function: an assistant's Twilio configuration, credential
//! test and analytics, and a texter's erasure. Composition root only.

use shared::adapters::dynamo::DynamoStore;
use shared::adapters::kms::KmsCipher;
use shared::adapters::secrets;
use shared::adapters::sqs::SqsQueue;
use shared::adapters::twilio::TwilioGateway;
use shared::config::{ConfigError, Env};
use shared::http::{Edge, SmsState, sms_router};
use shared::wiring::load_aws;
use std::sync::Arc;
use std::time::Duration;

struct Config {
    table_name: String,
    /// The Secrets Manager secret whose value names texters in the table
    /// (read when a request first needs it, never from this configuration).
    contact_key_secret_id: String,
    cleanup_queue_url: String,
    sms_key_id: String,
    /// `https://api.twilio.com` in production.
    twilio_api_base_url: String,
    /// The webhook function's public URL, answered as `webhookUrl`.
    webhook_base_url: String,
}

impl Config {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            contact_key_secret_id: env.required("CONTACT_KEY_SECRET_ARN")?,
            cleanup_queue_url: env.url("CLEANUP_QUEUE_URL")?,
            sms_key_id: env.required("SMS_KEY_ID")?,
            twilio_api_base_url: env.url("TWILIO_API_BASE_URL")?,
            webhook_base_url: env.url("SMS_WEBHOOK_BASE_URL")?,
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
    let state = SmsState {
        edge: Edge::over(store.clone()),
        assistants: store.clone(),
        sms: store,
        cipher: Arc::new(KmsCipher::new(
            aws_sdk_kms::Client::new(&aws),
            config.sms_key_id,
        )),
        gateway: Arc::new(TwilioGateway::new(
            http.clone(),
            config.twilio_api_base_url,
            Duration::from_secs(10),
        )),
        public_base_url: config.webhook_base_url,
        clock: Arc::new(shared::ports::SystemClock),
        cleanup: Arc::new(SqsQueue::new(
            aws_sdk_sqs::Client::new(&aws),
            config.cleanup_queue_url,
        )),
    };
    shared::http::lambda::run(sms_router(state)).await
}
