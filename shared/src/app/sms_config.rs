//! An assistant's SMS configuration: stored with its Auth Token sealed
//! (bound to workspace, assistant and purpose), checked against Twilio
//! without saving, and its traffic.

use super::error::ApiError;
use crate::domain::ids::{AssistantId, WorkspaceId};
use crate::domain::sms::{AnalyticsPeriod, Credentials, SmsConfig, SmsSettings, SmsTraffic};
use crate::domain::time::Timestamp;
use crate::ports::{Capabilities, NumberCheck, SecretCipher, SecretContext, SmsGateway, SmsStore};

/// Seals the token and stores the configuration; answers it as stored.
pub async fn save(
    store: &dyn SmsStore,
    cipher: &dyn SecretCipher,
    workspace: &WorkspaceId,
    assistant: &AssistantId,
    settings: SmsSettings,
) -> Result<SmsConfig, ApiError> {
    let context = SecretContext::twilio_auth_token(workspace, assistant);
    let sealed = cipher
        .seal(&settings.credentials.auth_token, &context)
        .await?;
    let now = Timestamp::now();
    let config = SmsConfig {
        workspace_id: workspace.clone(),
        assistant_id: assistant.clone(),
        enabled: settings.enabled,
        account_sid: settings.credentials.account_sid,
        phone_number: settings.credentials.phone_number,
        session_timeout_minutes: settings.session_timeout_minutes,
        sealed_auth_token: sealed,
        created_at: now,
        updated_at: now,
    };
    Ok(store.save_sms_config(config).await?)
}

/// The assistant's configuration, if it has one in this workspace.
pub async fn find(
    store: &dyn SmsStore,
    workspace: &WorkspaceId,
    assistant: &AssistantId,
) -> Result<SmsConfig, ApiError> {
    store
        .sms_config(assistant)
        .await?
        .filter(|config| &config.workspace_id == workspace)
        .ok_or(ApiError::NotFound("SMS configuration"))
}

/// What a credential check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialReport {
    Valid(Capabilities),
    Invalid(&'static str),
}

pub async fn check(
    gateway: &dyn SmsGateway,
    credentials: &Credentials,
) -> Result<CredentialReport, ApiError> {
    Ok(
        match gateway
            .check_number(credentials, &credentials.phone_number)
            .await?
        {
            NumberCheck::Owned(capabilities) => CredentialReport::Valid(capabilities),
            NumberCheck::NotOwned => CredentialReport::Invalid(
                "the phone number is not one of this Twilio account's numbers",
            ),
            NumberCheck::BadCredentials => CredentialReport::Invalid(
                "Twilio refused the Account SID and Auth Token (error 20003)",
            ),
        },
    )
}

pub async fn traffic(
    store: &dyn SmsStore,
    config: &SmsConfig,
    period: AnalyticsPeriod,
) -> Result<SmsTraffic, ApiError> {
    Ok(store
        .traffic(
            &config.assistant_id,
            period.days(),
            Timestamp::now(),
            config.session_timeout(),
        )
        .await?)
}
