//! `/api/workspaces/{ws}/assistants/{id}/sms[...]`: the seed's SMS
//! configuration, credential test and analytics, and a texter's erasure,
//! for owners and admins.
//! Every answer is in the seed's `{"data": ...}` envelope.

use super::body::JsonBody;
use super::error::ApiError;
use super::member::Member;
use super::path::ApiPath;
use super::state::SmsState;
use crate::app::error::AppError;
use crate::app::guard;
use crate::app::sms_config::{self, CredentialReport};
use crate::domain::fields::FieldErrors;
use crate::domain::ids::AssistantId;
use crate::domain::sms::{AnalyticsPeriod, Credentials, PhoneNumber, SmsConfig, SmsSettings};
use crate::domain::time::Timestamp;
use crate::jobs::CleanupJob;
use axum::Json;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde::Serialize;
use std::time::Duration;

pub const SMS_CONFIG: &str = workspace_path!("/assistants/{assistant_id}/sms");
pub const SMS_TEST: &str = workspace_path!("/assistants/{assistant_id}/sms/test");
pub const SMS_ANALYTICS: &str = workspace_path!("/assistants/{assistant_id}/sms/analytics");
pub const SMS_CONTACT: &str =
    workspace_path!("/assistants/{assistant_id}/sms/contacts/{phone_number}");

pub fn routes() -> Router<SmsState> {
    Router::new()
        .route(
            SMS_CONFIG,
            get(get_config).put(put_config).delete(delete_config),
        )
        .route(SMS_TEST, post(test_credentials))
        .route(SMS_ANALYTICS, get(analytics))
        .route(SMS_CONTACT, delete(erase_contact))
}

/// How long a deleted channel's cleanup waits: past the route's deadline,
/// so a delete cut short is finished by it, and one that never happened
/// leaves a job that finds the channel and does nothing.
const DELETE_SETTLE: Duration = Duration::from_secs(60);

const MANAGE_ONLY: &str = "only owners and admins can manage an assistant's SMS channel";

/// The seed's envelope for every SMS answer.
#[derive(Serialize)]
struct Data<T> {
    data: T,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct SmsConfigView {
    enabled: bool,
    phone_number: String,
    twilio_account_sid: String,
    webhook_url: String,
    session_timeout_minutes: u32,
    max_segments_per_reply: u32,
    limits: SmsLimitsView,
    created_at: Timestamp,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct SmsLimitsView {
    per_texter_per_hour: u32,
    per_texter_per_day: u32,
    per_assistant_per_day: u32,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct CredentialView {
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number_capabilities: Option<CapabilitiesView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct CapabilitiesView {
    sms: bool,
    mms: bool,
    voice: bool,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct AnalyticsView {
    total_messages: u64,
    inbound: u64,
    outbound: u64,
    unique_contacts: u64,
    active_sessions: u64,
    /// Segments Twilio billed for what was sent.
    segments_out: u64,
    /// Texts recorded but not answered because a limit was reached.
    over_limit: u64,
    period: &'static str,
}

fn view(state: &SmsState, config: &SmsConfig) -> Json<Data<SmsConfigView>> {
    Json(Data {
        data: SmsConfigView {
            enabled: config.enabled,
            phone_number: config.phone_number.as_str().to_owned(),
            twilio_account_sid: config.account_sid.to_string(),
            webhook_url: format!(
                "{}/api/sms/webhook/{}",
                state.public_base_url.trim_end_matches('/'),
                config.assistant_id
            ),
            session_timeout_minutes: config.session_timeout_minutes,
            max_segments_per_reply: config.max_segments_per_reply,
            limits: SmsLimitsView {
                per_texter_per_hour: config.limits.per_texter_per_hour,
                per_texter_per_day: config.limits.per_texter_per_day,
                per_assistant_per_day: config.limits.per_assistant_per_day,
            },
            created_at: config.created_at,
        },
    })
}

/// The assistant, once the caller may manage its SMS channel.
async fn managed(
    state: &SmsState,
    member: &Member,
    assistant_id: &str,
) -> Result<AssistantId, ApiError> {
    guard::managed_assistant(
        state.assistants.as_ref(),
        &member.workspace.id,
        assistant_id,
        &member.actor,
        MANAGE_ONLY,
    )
    .await
    .map_err(ApiError::from)
}

async fn get_config(
    State(state): State<SmsState>,
    member: Member,
    ApiPath((_, assistant_id)): ApiPath<(String, String)>,
) -> Result<Json<Data<SmsConfigView>>, ApiError> {
    let id = managed(&state, &member, &assistant_id).await?;
    let config = sms_config::find(state.sms.as_ref(), &member.workspace.id, &id).await?;
    Ok(view(&state, &config))
}

async fn put_config(
    State(state): State<SmsState>,
    member: Member,
    ApiPath((_, assistant_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Json<Data<SmsConfigView>>, ApiError> {
    let id = managed(&state, &member, &assistant_id).await?;
    let settings = SmsSettings::from_json(body).map_err(ApiError::invalid)?;
    let config = sms_config::save(
        state.sms.as_ref(),
        state.cipher.as_ref(),
        state.gateway.as_ref(),
        &member.workspace.id,
        &id,
        settings,
    )
    .await?;
    tracing::info!(assistant_id = %id, enabled = config.enabled, "SMS configuration saved");
    Ok(view(&state, &config))
}

async fn delete_config(
    State(state): State<SmsState>,
    member: Member,
    ApiPath((_, assistant_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = managed(&state, &member, &assistant_id).await?;
    // Its texters go with it, in the background: the job is queued first
    // (see DELETE_SETTLE), and finds them all, however many. A channel
    // that was never there (a 404) leaves a job with nobody to forget.
    let forget = CleanupJob::SmsChannelDeleted {
        workspace_id: member.workspace.id.clone(),
        assistant_id: id.clone(),
        deleted_at_ms: state.clock.timestamp().millis(),
    };
    state
        .cleanup
        .enqueue_delayed(&forget, DELETE_SETTLE)
        .await?;
    state
        .sms
        .delete_sms_config(&member.workspace.id, &id)
        .await?;
    tracing::info!(assistant_id = %id, "SMS configuration deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Erases one texter of the assistant (`DELETE .../sms/contacts/{phone}`):
/// every conversation their texts started, every text, reply and record
/// of their number, at once. Only an opt-out survives, as a keyed name, so
/// STOP is still honoured. Works with or without a channel configured
/// (a deleted channel's texters are there until its cleanup has run), and
/// answers 204 for a number never seen: erasing twice is erasing once.
async fn erase_contact(
    State(state): State<SmsState>,
    member: Member,
    ApiPath((_, assistant_id, phone_number)): ApiPath<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = managed(&state, &member, &assistant_id).await?;
    let phone = PhoneNumber::parse(&phone_number).ok_or_else(|| {
        ApiError::invalid(FieldErrors::single(
            "phoneNumber",
            "must be an E.164 number, like +15551234567 (URL-encoded: %2B15551234567)",
        ))
    })?;
    // Managers were let through unread: a texter of an assistant that is
    // not there is a 404, not an erasure that found nothing.
    state
        .assistants
        .get_assistant(&member.workspace.id, &id)
        .await?
        .ok_or(AppError::NotFound("assistant"))?;
    let removed = state.sms.erase_texter(&id, &phone).await?;
    tracing::info!(assistant_id = %id, removed, "an SMS texter was erased");
    Ok(StatusCode::NO_CONTENT)
}

async fn test_credentials(
    State(state): State<SmsState>,
    member: Member,
    ApiPath((_, assistant_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Json<Data<CredentialView>>, ApiError> {
    let id = managed(&state, &member, &assistant_id).await?;
    // Managers pass the guard without a read; the test still answers 404
    // for an assistant that is not there.
    state
        .assistants
        .get_assistant(&member.workspace.id, &id)
        .await?
        .ok_or(AppError::NotFound("assistant"))?;
    let credentials = Credentials::from_json(body).map_err(ApiError::invalid)?;
    let report = sms_config::check(state.gateway.as_ref(), &credentials).await?;
    tracing::info!(assistant_id = %id, valid = matches!(report, CredentialReport::Valid(_)), "SMS credentials tested");
    let data = match report {
        CredentialReport::Valid(c) => CredentialView {
            valid: true,
            phone_number_capabilities: Some(CapabilitiesView {
                sms: c.sms,
                mms: c.mms,
                voice: c.voice,
            }),
            reason: None,
        },
        CredentialReport::Invalid(refusal) => CredentialView {
            valid: false,
            phone_number_capabilities: None,
            reason: Some(refusal.reason()),
        },
    };
    Ok(Json(Data { data }))
}

fn period_of(query: Option<&str>) -> Result<AnalyticsPeriod, ApiError> {
    let requested = query
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(name, _)| name == "period")
                .map(|(_, value)| value.into_owned())
        })
        .unwrap_or_default();
    match requested {
        None => Ok(AnalyticsPeriod::Month),
        Some(value) => AnalyticsPeriod::parse(&value).ok_or_else(|| {
            ApiError::invalid(FieldErrors::single("period", "must be one of 7d, 30d, 90d"))
        }),
    }
}

async fn analytics(
    State(state): State<SmsState>,
    member: Member,
    ApiPath((_, assistant_id)): ApiPath<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<Data<AnalyticsView>>, ApiError> {
    let id = managed(&state, &member, &assistant_id).await?;
    let period = period_of(query.as_deref())?;
    let config = sms_config::find(state.sms.as_ref(), &member.workspace.id, &id).await?;
    let traffic =
        sms_config::traffic(state.sms.as_ref(), &config, period, state.clock.timestamp()).await?;
    Ok(Json(Data {
        data: AnalyticsView {
            total_messages: traffic.inbound + traffic.outbound,
            inbound: traffic.inbound,
            outbound: traffic.outbound,
            unique_contacts: traffic.unique_contacts,
            active_sessions: traffic.active_sessions,
            segments_out: traffic.segments_out,
            over_limit: traffic.over_limit,
            period: period.as_str(),
        },
    }))
}

/// The operations of these routes, as the OpenAPI document describes them.
#[cfg(feature = "openapi")]
pub(crate) fn operations() -> Vec<super::openapi::Op> {
    use super::openapi::Op;
    use super::openapi::bodies;
    use utoipa::openapi::HttpMethod::{Delete, Get, Post, Put};

    vec![
        Op::new(
            Get,
            SMS_CONFIG,
            "getSmsConfig",
            "An assistant's SMS configuration (never the Auth Token)",
        )
        .member()
        .managed()
        .ok_data::<SmsConfigView>(),
        Op::new(
            Put,
            SMS_CONFIG,
            "putSmsConfig",
            "Set an assistant's Twilio account and number (checked with Twilio first)",
        )
        .member()
        .managed()
        .json(bodies::sms_settings())
        .ok_data::<SmsConfigView>()
        .errors(&[409, 502]),
        Op::new(
            Delete,
            SMS_CONFIG,
            "deleteSmsConfig",
            "Remove an assistant's SMS configuration",
        )
        .member()
        .managed()
        .no_content(),
        Op::new(
            Post,
            SMS_TEST,
            "testSmsCredentials",
            "Check Twilio credentials and number without saving them",
        )
        .member()
        .managed()
        .json(bodies::sms_credentials())
        .ok_data::<CredentialView>()
        .errors(&[502]),
        Op::new(
            Get,
            SMS_ANALYTICS,
            "smsAnalytics",
            "An assistant's SMS counts over 7, 30 or 90 days",
        )
        .member()
        .managed()
        .query_enum("period", &["7d", "30d", "90d"])
        .ok_data::<AnalyticsView>()
        .errors(&[400]),
        Op::new(
            Delete,
            SMS_CONTACT,
            "eraseSmsContact",
            "Erase one texter: their conversations, texts, replies and number (an opt-out survives as a keyed hash)",
        )
        .member()
        .managed()
        .no_content()
        .errors(&[400]),
    ]
}
