//! An assistant's SMS configuration: checked against Twilio, then stored
//! with its Auth Token sealed (bound to workspace, assistant and purpose);
//! credentials checked without saving; and its traffic.

use super::error::AppError;
use crate::domain::fields::FieldErrors;
use crate::domain::ids::{AssistantId, WorkspaceId};
use crate::domain::sms::{AnalyticsPeriod, Credentials, SmsConfig, SmsSettings, SmsTraffic};
use crate::domain::time::Timestamp;
use crate::ports::{Capabilities, NumberCheck, SecretCipher, SecretContext, SmsGateway, SmsStore};

/// Checks with Twilio that the credentials open the account and that the
/// number is an SMS-capable number on it, then seals the token and stores
/// the configuration; answers it as stored. Nothing is stored or claimed
/// before Twilio says so: a made-up configuration can never hold a
/// business's number against it.
pub async fn save(
    store: &dyn SmsStore,
    cipher: &dyn SecretCipher,
    gateway: &dyn SmsGateway,
    workspace: &WorkspaceId,
    assistant: &AssistantId,
    settings: SmsSettings,
) -> Result<SmsConfig, AppError> {
    verify_ownership(gateway, &settings.credentials).await?;
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
        max_segments_per_reply: settings.max_segments_per_reply,
        limits: settings.limits,
        sealed_auth_token: sealed,
        created_at: now,
        updated_at: now,
    };
    Ok(store.save_sms_config(config).await?)
}

/// What `/sms/test` checks, as a refusal naming the field at fault: the
/// credentials Twilio refused, or a number not on the account or unable to
/// text. Twilio unreachable is a 503.
async fn verify_ownership(
    gateway: &dyn SmsGateway,
    credentials: &Credentials,
) -> Result<(), AppError> {
    let mut problems = FieldErrors::default();
    match check(gateway, credentials).await? {
        CredentialReport::Valid(capabilities) if capabilities.sms => return Ok(()),
        CredentialReport::Valid(_) => problems.add("phoneNumber", NOT_SMS_CAPABLE),
        CredentialReport::Invalid(Refusal::Credentials) => {
            problems.add("twilioAccountSid", BAD_ACCOUNT);
            problems.add("twilioAuthToken", BAD_TOKEN);
        }
        CredentialReport::Invalid(Refusal::NotOwned) => problems.add("phoneNumber", NOT_OWNED),
    }
    Err(AppError::invalid(problems))
}

const NOT_SMS_CAPABLE: &str = "is on this Twilio account but cannot send or receive SMS";
const NOT_OWNED: &str = "is not one of this Twilio account's numbers";
const BAD_ACCOUNT: &str = "and twilioAuthToken were refused by Twilio (error 20003)";
const BAD_TOKEN: &str = "does not open this Twilio account (error 20003)";

/// The assistant's configuration, if it has one in this workspace.
pub async fn find(
    store: &dyn SmsStore,
    workspace: &WorkspaceId,
    assistant: &AssistantId,
) -> Result<SmsConfig, AppError> {
    store
        .sms_config(assistant)
        .await?
        .filter(|config| &config.workspace_id == workspace)
        .ok_or(AppError::NotFound("SMS configuration"))
}

/// What a credential check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialReport {
    Valid(Capabilities),
    Invalid(Refusal),
}

/// Why Twilio did not vouch for a configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Credentials,
    NotOwned,
}

impl Refusal {
    /// What `/sms/test` says of it.
    pub fn reason(self) -> &'static str {
        match self {
            Self::NotOwned => "the phone number is not one of this Twilio account's numbers",
            Self::Credentials => "Twilio refused the Account SID and Auth Token (error 20003)",
        }
    }
}

pub async fn check(
    gateway: &dyn SmsGateway,
    credentials: &Credentials,
) -> Result<CredentialReport, AppError> {
    Ok(
        match gateway
            .check_number(credentials, &credentials.phone_number)
            .await?
        {
            NumberCheck::Owned(capabilities) => CredentialReport::Valid(capabilities),
            NumberCheck::NotOwned => CredentialReport::Invalid(Refusal::NotOwned),
            NumberCheck::BadCredentials => CredentialReport::Invalid(Refusal::Credentials),
        },
    )
}

pub async fn traffic(
    store: &dyn SmsStore,
    config: &SmsConfig,
    period: AnalyticsPeriod,
    now: Timestamp,
) -> Result<SmsTraffic, AppError> {
    Ok(store
        .traffic(
            &config.assistant_id,
            period.days(),
            now,
            config.session_timeout(),
        )
        .await?)
}
