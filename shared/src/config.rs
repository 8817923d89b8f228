//! Typed configuration from the environment, read once at cold start. A
//! missing setting stops the function there, with its name, rather than
//! failing a request later.

use aws_config::BehaviorVersion;

#[derive(Debug, thiserror::Error)]
#[error("the environment variable {0} must be set")]
pub struct MissingSetting(pub &'static str);

pub fn required(name: &'static str) -> Result<String, MissingSetting> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or(MissingSetting(name))
}

/// What every API function needs.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    pub table_name: String,
    pub cleanup_queue_url: String,
}

impl ApiConfig {
    pub fn from_env() -> Result<Self, MissingSetting> {
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            cleanup_queue_url: required("CLEANUP_QUEUE_URL")?,
        })
    }
}

/// The AWS settings from the standard chain (region, credentials, and
/// `AWS_ENDPOINT_URL` for the local stack). Loaded once per process.
pub async fn load_aws() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}
