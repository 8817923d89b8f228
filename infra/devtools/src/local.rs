//! Resources on the local AWS-compatible server, named as the functions read
//! them from their environment.

use aws_sdk_sqs::types::QueueAttributeName;
use shared::adapters::dynamo::{DynamoStore, schema};
use shared::adapters::kms::KmsCipher;
use shared::adapters::s3::S3Blobs;
use shared::adapters::secrets;
use shared::adapters::sqs::SqsQueue;
use shared::app::authentication::Authenticator;
use shared::domain::webhook::target::TargetPolicy;
use shared::domain::widget_token::WidgetTokens;
use shared::http::{Backends, SmsBackends, WebhookBackends};
use shared::ports::{ChatModel, PassageSearch, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// Names of the local resources; `template.yaml` declares the same ones.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ResourceNames {
    pub table: String,
    pub cleanup_queue: String,
    pub ingest_queue: String,
    pub reply_queue: String,
    /// Webhook deliveries: the healthy lane; the failing lane is
    /// `{webhook_queue}-failing`.
    #[serde(default = "default_webhook_queue")]
    pub webhook_queue: String,
    pub bucket: String,
    /// The alias of the key that seals Twilio Auth Tokens.
    pub sms_key_alias: String,
    /// The secret the widget's tokens are signed with.
    #[serde(default = "default_widget_secret")]
    pub widget_secret: String,
    /// The secret texters are named by in the table.
    #[serde(default = "default_contact_secret")]
    pub contact_secret: String,
}

fn default_webhook_queue() -> String {
    "illumichat-webhooks".into()
}

fn default_widget_secret() -> String {
    "illumichat-widget-signing".into()
}

fn default_contact_secret() -> String {
    "illumichat-contact-key".into()
}

impl ResourceNames {
    /// The dev server's names, overridable like any function's settings.
    pub fn from_env_or_defaults() -> Self {
        Self {
            table: std::env::var("TABLE_NAME").unwrap_or_else(|_| "illumichat".into()),
            cleanup_queue: std::env::var("CLEANUP_QUEUE_NAME")
                .unwrap_or_else(|_| "illumichat-cleanup".into()),
            ingest_queue: std::env::var("INGEST_QUEUE_NAME")
                .unwrap_or_else(|_| "illumichat-ingest".into()),
            reply_queue: std::env::var("REPLY_QUEUE_NAME")
                .unwrap_or_else(|_| "illumichat-replies".into()),
            webhook_queue: std::env::var("WEBHOOK_QUEUE_NAME")
                .unwrap_or_else(|_| default_webhook_queue()),
            bucket: std::env::var("DOCUMENTS_BUCKET")
                .unwrap_or_else(|_| "illumichat-documents".into()),
            sms_key_alias: std::env::var("SMS_KEY_ALIAS")
                .unwrap_or_else(|_| "alias/illumichat-sms".into()),
            widget_secret: std::env::var("WIDGET_SIGNING_SECRET")
                .unwrap_or_else(|_| default_widget_secret()),
            contact_secret: std::env::var("CONTACT_KEY_SECRET")
                .unwrap_or_else(|_| default_contact_secret()),
        }
    }

    /// Fresh names, so tests sharing one local server never see each
    /// other's data.
    pub fn unique(tag: &str) -> Self {
        let suffix = shared::domain::ids::WorkspaceId::generate()
            .as_str()
            .trim_start_matches("ws_")
            .to_owned();
        Self {
            table: format!("{tag}-{suffix}"),
            cleanup_queue: format!("{tag}-cleanup-{suffix}"),
            ingest_queue: format!("{tag}-ingest-{suffix}"),
            reply_queue: format!("{tag}-replies-{suffix}"),
            webhook_queue: format!("{tag}-webhooks-{suffix}"),
            bucket: format!("{tag}-documents-{suffix}"),
            sms_key_alias: format!("alias/{tag}-sms-{suffix}"),
            widget_secret: format!("{tag}-widget-{suffix}"),
            contact_secret: format!("{tag}-contact-{suffix}"),
        }
    }
}

/// Where a running dev server's stack is, written to `.dev/stack.json` so
/// a command in another terminal (`text`) can reach the same resources.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackFile {
    pub aws_endpoint_url: String,
    pub names: ResourceNames,
    pub api_base_url: String,
    pub webhook_base_url: String,
    pub twilio_api_base_url: String,
    /// The widget demo: the page on the allowed origin, the same page on
    /// the API's own (disallowed) origin, and the assistant they embed.
    #[serde(default)]
    pub widget_demo_url: String,
    #[serde(default)]
    pub widget_disallowed_url: String,
    #[serde(default)]
    pub widget_assistant_id: String,
}

impl StackFile {
    pub fn path() -> std::path::PathBuf {
        std::path::PathBuf::from(
            std::env::var("STACK_FILE").unwrap_or_else(|_| ".dev/stack.json".into()),
        )
    }

    pub fn write(&self) -> std::io::Result<()> {
        let path = Self::path();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(self)?)
    }

    pub fn read() -> Result<Self, String> {
        let path = Self::path();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "{}: {e}; start the dev server first (./infra/dev)",
                path.display()
            )
        })?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The AWS settings of this stack: its endpoint, the local credentials.
    pub async fn aws(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(shared::adapters::outbound_http::client())
            .endpoint_url(&self.aws_endpoint_url)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "local",
                "local",
                None,
                None,
                "local-stack",
            ))
            .load()
            .await
    }
}

/// What the template's visibility timeouts and redrive say, locally too.
const CLEANUP_VISIBILITY_TIMEOUT_SECONDS: &str = "1800";
const INGEST_VISIBILITY_TIMEOUT_SECONDS: &str = "900";
const REPLY_VISIBILITY_TIMEOUT_SECONDS: &str = "360";
const WEBHOOK_VISIBILITY_TIMEOUT_SECONDS: &str = "180";
const MAX_RECEIVE_COUNT: u32 = 5;
/// Dead letters are kept for the SQS maximum, 14 days, longer than the source.
const DLQ_RETENTION_SECONDS: &str = "1209600";

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("creating the table failed")]
    Store(#[source] StoreError),
    #[error("provisioning failed: {0}")]
    Queue(String),
}

/// The provisioned stack: clients built once, and the adapters on top.
#[derive(Clone, Debug)]
pub struct LocalStack {
    pub aws: aws_config::SdkConfig,
    pub table: String,
    pub store: Arc<DynamoStore>,
    pub sqs: aws_sdk_sqs::Client,
    pub cleanup_queue_url: String,
    pub dead_letter_queue_url: String,
    pub ingest_queue_url: String,
    /// Ingest jobs out of deliveries, which the ingest worker also reads.
    pub ingest_dead_letter_queue_url: String,
    pub reply_queue_url: String,
    /// Webhook deliveries' two lanes: healthy endpoints, failing ones.
    pub webhook_queue_url: String,
    pub webhook_failing_queue_url: String,
    /// Where webhooks may point: loopback only where the dev server is told
    /// so (`WEBHOOK_ALLOW_LOOPBACK=1`).
    pub webhook_policy: TargetPolicy,
    pub blobs: Arc<S3Blobs>,
    pub cipher: Arc<KmsCipher>,
    /// Signs the widget's tokens with the key in the local secret store,
    /// read as the widget function reads it.
    pub widget_tokens: Arc<WidgetTokens>,
    /// The secret texters are named by (the store was given its key).
    pub contact_secret: String,
    /// The longest a queued job waits before a worker sees it: a few
    /// seconds on the dev server, none for tests that read the queue.
    pub longest_queue_delay: Duration,
}

impl LocalStack {
    /// Creates (or finds) the table and the cleanup queue with its
    /// dead-letter queue. Safe to run again.
    pub async fn provision(
        aws: aws_config::SdkConfig,
        dynamo: aws_sdk_dynamodb::Client,
        names: &ResourceNames,
    ) -> Result<Self, ProvisionError> {
        schema::ensure_table(&dynamo, &names.table)
            .await
            .map_err(ProvisionError::Store)?;
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let (queue_url, dlq_url) = queue_with_dead_letters(
            &sqs,
            &names.cleanup_queue,
            CLEANUP_VISIBILITY_TIMEOUT_SECONDS,
        )
        .await?;
        let (ingest_queue_url, ingest_dead_letter_queue_url) =
            queue_with_dead_letters(&sqs, &names.ingest_queue, INGEST_VISIBILITY_TIMEOUT_SECONDS)
                .await?;
        let (reply_queue_url, _) =
            queue_with_dead_letters(&sqs, &names.reply_queue, REPLY_VISIBILITY_TIMEOUT_SECONDS)
                .await?;
        let (webhook_queue_url, _) = queue_with_dead_letters(
            &sqs,
            &names.webhook_queue,
            WEBHOOK_VISIBILITY_TIMEOUT_SECONDS,
        )
        .await?;
        let (webhook_failing_queue_url, _) = queue_with_dead_letters(
            &sqs,
            &format!("{}-failing", names.webhook_queue),
            WEBHOOK_VISIBILITY_TIMEOUT_SECONDS,
        )
        .await?;
        let kms = aws_sdk_kms::Client::new(&aws);
        let key_id = sms_key(&kms, &names.sms_key_alias).await?;
        let secrets = aws_sdk_secretsmanager::Client::new(&aws);
        ensure_secret(
            &secrets,
            &names.widget_secret,
            "Signs the widget's session tokens (local)",
        )
        .await?;
        let widget_tokens = secrets::widget_tokens(&secrets, &names.widget_secret)
            .await
            .map_err(|e| ProvisionError::Queue(e.to_string()))?;
        ensure_secret(
            &secrets,
            &names.contact_secret,
            "Names SMS texters in the table (local)",
        )
        .await?;
        let contact_keys = secrets::contact_keys(&secrets, &names.contact_secret)
            .await
            .map_err(|e| ProvisionError::Queue(e.to_string()))?;
        // The local server answers S3 on its own host, not on bucket
        // subdomains: path-style addressing.
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&aws)
                .force_path_style(true)
                .build(),
        );
        let created = s3.create_bucket().bucket(&names.bucket).send().await;
        if let Err(error) = created {
            let exists = error.as_service_error().is_some_and(|e| {
                e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists()
            });
            if !exists {
                return Err(ProvisionError::Queue(format!(
                    "creating the bucket failed: {}",
                    aws_sdk_s3::error::DisplayErrorContext(error)
                )));
            }
        }
        Ok(Self {
            table: names.table.clone(),
            store: Arc::new(DynamoStore::new(dynamo, &names.table).with_contact_keys(contact_keys)),
            aws,
            sqs,
            cleanup_queue_url: queue_url,
            dead_letter_queue_url: dlq_url,
            ingest_queue_url,
            ingest_dead_letter_queue_url,
            reply_queue_url,
            webhook_queue_url,
            webhook_failing_queue_url,
            webhook_policy: TargetPolicy::default(),
            blobs: Arc::new(S3Blobs::new(s3, &names.bucket)),
            cipher: Arc::new(KmsCipher::new(kms, key_id)),
            widget_tokens: Arc::new(widget_tokens),
            contact_secret: names.contact_secret.clone(),
            longest_queue_delay: Duration::from_secs(5),
        })
    }

    /// The healthy lane of webhook deliveries.
    pub fn webhook_queue(&self) -> Arc<SqsQueue<shared::jobs::WebhookJob>> {
        Arc::new(
            SqsQueue::new(self.sqs.clone(), &self.webhook_queue_url)
                .with_longest_delay(self.longest_queue_delay),
        )
    }

    /// The failing lane of webhook deliveries.
    pub fn webhook_failing_queue(&self) -> Arc<SqsQueue<shared::jobs::WebhookJob>> {
        Arc::new(
            SqsQueue::new(self.sqs.clone(), &self.webhook_failing_queue_url)
                .with_longest_delay(self.longest_queue_delay),
        )
    }

    /// Every API route's dependencies on this stack, searching with
    /// `search`, reaching Twilio through `sms`.
    pub fn backends(
        &self,
        search: Arc<dyn PassageSearch>,
        chat: Arc<dyn ChatModel>,
        sms: SmsBackends,
    ) -> Backends {
        Backends {
            store: self.store.clone(),
            blobs: self.blobs.clone(),
            cleanup: Arc::new(
                SqsQueue::new(self.sqs.clone(), &self.cleanup_queue_url)
                    .with_longest_delay(self.longest_queue_delay),
            ),
            ingest: Arc::new(
                SqsQueue::new(self.sqs.clone(), &self.ingest_queue_url)
                    .with_longest_delay(self.longest_queue_delay),
            ),
            search,
            chat,
            auth: Arc::new(Authenticator::new(self.store.clone())),
            sms,
            widget_tokens: self.widget_tokens.clone(),
            webhooks: WebhookBackends {
                queue: self.webhook_queue(),
                policy: self.webhook_policy,
                hosts: Arc::new(shared::adapters::webhook_sender::DnsHostResolver),
            },
        }
    }
}

/// A key secret (the widget's signing key, the texters' naming key),
/// created with 64 random letters and digits unless it is there already,
/// as the template's `GenerateSecretString` creates it.
async fn ensure_secret(
    client: &aws_sdk_secretsmanager::Client,
    name: &str,
    description: &str,
) -> Result<(), ProvisionError> {
    if client
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .is_ok()
    {
        return Ok(());
    }
    let key: String = rand::Rng::sample_iter(rand::rng(), rand::distr::Alphanumeric)
        .take(64)
        .map(char::from)
        .collect();
    client
        .create_secret()
        .name(name)
        .description(description)
        .secret_string(key)
        .send()
        .await
        .map_err(|e| {
            ProvisionError::Queue(format!(
                "the secret {name}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            ))
        })?;
    Ok(())
}

/// The key that seals Auth Tokens, found by its alias or created with it.
async fn sms_key(kms: &aws_sdk_kms::Client, alias: &str) -> Result<String, ProvisionError> {
    let failed = |e: &dyn std::fmt::Display| ProvisionError::Queue(format!("the SMS key: {e}"));
    if let Ok(found) = kms.describe_key().key_id(alias).send().await
        && let Some(id) = found.key_metadata.map(|m| m.key_id)
    {
        return Ok(id);
    }
    let created = kms
        .create_key()
        .description("Seals Twilio Auth Tokens (local)")
        .send()
        .await
        .map_err(|e| failed(&aws_sdk_kms::error::DisplayErrorContext(e)))?;
    let id = created
        .key_metadata
        .map(|m| m.key_id)
        .ok_or_else(|| failed(&"no key id"))?;
    kms.create_alias()
        .alias_name(alias)
        .target_key_id(&id)
        .send()
        .await
        .map_err(|e| failed(&aws_sdk_kms::error::DisplayErrorContext(e)))?;
    Ok(id)
}

/// A queue and its dead-letter queue (5 receives, then the DLQ, kept 14
/// days). Returns both URLs.
async fn queue_with_dead_letters(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    visibility_timeout: &str,
) -> Result<(String, String), ProvisionError> {
    let queue_error = |e: &dyn std::fmt::Display| ProvisionError::Queue(e.to_string());
    let dlq_url = sqs
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .attributes(
            QueueAttributeName::MessageRetentionPeriod,
            DLQ_RETENTION_SECONDS,
        )
        .send()
        .await
        .map_err(|e| queue_error(&aws_sdk_sqs::error::DisplayErrorContext(e)))?
        .queue_url
        .unwrap_or_default();
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| queue_error(&aws_sdk_sqs::error::DisplayErrorContext(e)))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .unwrap_or_default();
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": MAX_RECEIVE_COUNT.to_string(),
    });
    let queue_url = sqs
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::VisibilityTimeout, visibility_timeout)
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .map_err(|e| queue_error(&aws_sdk_sqs::error::DisplayErrorContext(e)))?
        .queue_url
        .unwrap_or_default();
    Ok((queue_url, dlq_url))
}

/// The local server must be on this machine: a test or the dev server never
/// sends traffic anywhere else.
pub fn require_loopback_endpoint() -> Result<String, String> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").map_err(|_| {
        "AWS_ENDPOINT_URL is not set: start the local stack with ./infra/dev or run the tests with ./infra/test".to_owned()
    })?;
    let host = endpoint
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    if ["127.", "localhost", "[::1]"]
        .iter()
        .any(|h| host.starts_with(h))
    {
        Ok(endpoint)
    } else {
        Err(format!(
            "AWS_ENDPOINT_URL={endpoint} is not a loopback address; the local tools only talk to this machine"
        ))
    }
}
