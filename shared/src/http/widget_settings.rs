//! `/api/workspaces/{ws}/assistants/{id}/widget`: which websites may embed
//! an assistant, how its widget looks, and its limits, for owners and
//! admins. Before the first `PUT` the settings are the defaults, with no
//! origin allowed.

use super::body::JsonBody;
use super::error::ApiError;
use super::member::Member;
use super::path::ApiPath;
use super::state::WidgetState;
use crate::app::error::AppError;
use crate::app::guard;
use crate::domain::ids::AssistantId;
use crate::domain::time::Timestamp;
use crate::domain::widget::WidgetSettings;
use crate::ports::WidgetSite;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

pub const SETTINGS: &str = workspace_path!("/assistants/{assistant_id}/widget");

pub fn routes() -> Router<WidgetState> {
    Router::new().route(SETTINGS, get(get_settings).put(put_settings))
}

const MANAGE_ONLY: &str = "only owners and admins can manage an assistant's widget";

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct WidgetLimitsView {
    inits_per_minute_per_ip: u32,
    sessions_per_hour_per_ip: u32,
    messages_per_session_per_hour: u32,
    messages_per_hour_per_ip: u32,
    messages_per_day_per_ip: u32,
    messages_per_month: u32,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WidgetSettingsView<'a> {
    assistant_id: &'a AssistantId,
    allowed_origins: Vec<&'a str>,
    title: Option<&'a str>,
    primary_color: &'a str,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::http::openapi::kinds::position))]
    position: &'static str,
    limits: WidgetLimitsView,
    /// `null` while the settings are the defaults.
    updated_at: Option<Timestamp>,
}

impl<'a> From<&'a WidgetSite> for WidgetSettingsView<'a> {
    fn from(site: &'a WidgetSite) -> Self {
        let settings = &site.settings;
        Self {
            assistant_id: &site.assistant_id,
            allowed_origins: settings
                .allowed_origins
                .iter()
                .map(|o| o.as_str())
                .collect(),
            title: settings.title.as_deref(),
            primary_color: &settings.primary_color,
            position: settings.position.as_str(),
            limits: WidgetLimitsView {
                inits_per_minute_per_ip: settings.limits.inits_per_minute_per_ip,
                sessions_per_hour_per_ip: settings.limits.sessions_per_hour_per_ip,
                messages_per_session_per_hour: settings.limits.messages_per_session_per_hour,
                messages_per_hour_per_ip: settings.limits.messages_per_hour_per_ip,
                messages_per_day_per_ip: settings.limits.messages_per_day_per_ip,
                messages_per_month: settings.limits.messages_per_month,
            },
            updated_at: site.updated_at,
        }
    }
}

/// The assistant, once the caller may manage its widget.
async fn managed(
    state: &WidgetState,
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

async fn get_settings(
    State(state): State<WidgetState>,
    member: Member,
    ApiPath((_, assistant_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let id = managed(&state, &member, &assistant_id).await?;
    let ws = &member.workspace.id;
    let (site, assistant) = tokio::try_join!(
        state.widgets.widget_site(&id),
        state.assistants.get_assistant(ws, &id),
    )?;
    assistant.ok_or(AppError::NotFound("assistant"))?;
    // An assistant from before widgets had settings reads as the defaults.
    let site = site
        .filter(|s| &s.workspace_id == ws)
        .unwrap_or_else(|| WidgetSite {
            workspace_id: ws.clone(),
            assistant_id: id.clone(),
            settings: WidgetSettings::default(),
            updated_at: None,
        });
    Ok(Json(WidgetSettingsView::from(&site)).into_response())
}

async fn put_settings(
    State(state): State<WidgetState>,
    member: Member,
    ApiPath((_, assistant_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let id = managed(&state, &member, &assistant_id).await?;
    let settings = WidgetSettings::from_json(body).map_err(ApiError::invalid)?;
    let site = state
        .widgets
        .save_widget_settings(&member.workspace.id, &id, settings, Timestamp::now())
        .await?;
    tracing::info!(assistant_id = %id, origins = site.settings.allowed_origins.len(), "widget settings saved");
    Ok(Json(WidgetSettingsView::from(&site)).into_response())
}

/// The operations of these routes, as the OpenAPI document describes them.
#[cfg(feature = "openapi")]
pub(crate) fn operations() -> Vec<super::openapi::Op> {
    use super::openapi::Op;
    use super::openapi::bodies;
    use utoipa::openapi::HttpMethod::{Get, Put};

    vec![
        Op::new(
            Get,
            SETTINGS,
            "getWidgetSettings",
            "Where an assistant's widget may be embedded, and how it looks",
        )
        .member()
        .managed()
        .ok::<WidgetSettingsView>(),
        Op::new(
            Put,
            SETTINGS,
            "putWidgetSettings",
            "Set an assistant's widget origins, look and limits",
        )
        .member()
        .managed()
        .json(bodies::widget_settings())
        .ok::<WidgetSettingsView>(),
    ]
}
