//! `/api/workspaces/{ws}/webhooks[...]`: a workspace's webhooks, their
//! secrets, tests and delivery history, for owners and admins. A secret is
//! in two answers only: the webhook's creation and a rotation.

use super::body::JsonBody;
use super::error::ApiError;
use super::member::Member;
use super::paging::{Page, Paging};
use super::path::ApiPath;
use super::state::WebhooksState;
use crate::app::webhooks::DELIVERY_PAGE_MAX;
use crate::domain::fields::FieldErrors;
use crate::domain::ids::{DeliveryId, EventId, WebhookId};
use crate::domain::time::Timestamp;
use crate::domain::webhook::delivery::{AttemptRecord, Delivery};
use crate::domain::webhook::endpoint::Webhook;
use crate::ports::DeliveryPage;
use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use std::collections::HashMap;

pub const WEBHOOKS: &str = workspace_path!("/webhooks");
pub const WEBHOOK: &str = workspace_path!("/webhooks/{webhook_id}");
pub const WEBHOOK_SECRET: &str = workspace_path!("/webhooks/{webhook_id}/secret");
pub const WEBHOOK_TEST: &str = workspace_path!("/webhooks/{webhook_id}/test");
pub const DELIVERIES: &str = workspace_path!("/webhooks/{webhook_id}/deliveries");
pub const DELIVERY: &str = workspace_path!("/webhooks/{webhook_id}/deliveries/{delivery_id}");
pub const DELIVERY_RETRY: &str =
    workspace_path!("/webhooks/{webhook_id}/deliveries/{delivery_id}/retry");

pub fn routes() -> Router<WebhooksState> {
    Router::new()
        .route(WEBHOOKS, get(list).post(create))
        .route(WEBHOOK, get(read).patch(update).delete(remove))
        .route(WEBHOOK_SECRET, post(rotate))
        .route(WEBHOOK_TEST, post(test))
        .route(DELIVERIES, get(deliveries))
        .route(DELIVERY, get(delivery))
        .route(DELIVERY_RETRY, post(retry))
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebhookView {
    id: WebhookId,
    url: String,
    /// Event types, or `["*"]` for every one.
    events: Vec<String>,
    active: bool,
    description: String,
    /// Why deliveries turned the webhook off; null when they did not.
    disabled_reason: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<Webhook> for WebhookView {
    fn from(webhook: Webhook) -> Self {
        Self {
            events: webhook.subscription.names(),
            id: webhook.id,
            url: webhook.url.as_str().to_owned(),
            active: webhook.active,
            description: webhook.description,
            disabled_reason: webhook.disabled_reason,
            created_at: webhook.created_at,
            updated_at: webhook.updated_at,
        }
    }
}

/// A webhook just made: the one answer, with a rotation's, that shows its
/// secret.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct NewWebhookView {
    #[serde(flatten)]
    webhook: WebhookView,
    /// `whsec_...`: shown here and never again.
    secret: String,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct RotatedSecretView {
    /// The new `whsec_...`: shown here and never again.
    secret: String,
    /// Until when deliveries are signed by the replaced secret too.
    previous_secret_expires_at: Timestamp,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct TestQueuedView {
    /// The `webhook.test` event queued (its `webhook-id` header).
    event_id: EventId,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct AttemptView {
    at: Timestamp,
    /// The endpoint's status; null when it did not answer.
    response_status: Option<u16>,
    duration_ms: u64,
    /// What went wrong; null when the attempt succeeded.
    error: Option<String>,
}

impl From<&AttemptRecord> for AttemptView {
    fn from(attempt: &AttemptRecord) -> Self {
        Self {
            at: attempt.at,
            response_status: attempt.response_status,
            duration_ms: u64::try_from(attempt.duration.as_millis()).unwrap_or(u64::MAX),
            error: attempt.error.clone(),
        }
    }
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeliveryView {
    id: DeliveryId,
    event_id: EventId,
    event: String,
    /// `pending`, `succeeded` or `failed`.
    status: String,
    /// How many attempts were made.
    attempts: usize,
    last_attempt: Option<AttemptView>,
    /// When the next attempt is due; null once settled.
    next_attempt_at: Option<Timestamp>,
    created_at: Timestamp,
}

impl From<&Delivery> for DeliveryView {
    fn from(delivery: &Delivery) -> Self {
        Self {
            id: delivery.id.clone(),
            event_id: delivery.event_id.clone(),
            event: delivery.event.as_str().to_owned(),
            status: delivery.status.as_str().to_owned(),
            attempts: delivery.attempts.len(),
            last_attempt: delivery.attempts.last().map(AttemptView::from),
            next_attempt_at: delivery.next_attempt_at,
            created_at: delivery.created_at,
        }
    }
}

/// One delivery in full: what was sent, and every attempt, oldest first.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeliveryDetailView {
    #[serde(flatten)]
    delivery: DeliveryView,
    /// The body sent: the event's envelope.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    payload: serde_json::Value,
    attempt_history: Vec<AttemptView>,
}

impl From<Delivery> for DeliveryDetailView {
    fn from(delivery: Delivery) -> Self {
        Self {
            delivery: DeliveryView::from(&delivery),
            payload: serde_json::from_str(&delivery.payload).unwrap_or(serde_json::Value::Null),
            attempt_history: delivery.attempts.iter().map(AttemptView::from).collect(),
        }
    }
}

/// A page of deliveries, newest first.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeliveryPageView {
    data: Vec<DeliveryView>,
    /// The `cursor` of the next page; null on the last.
    next_cursor: Option<DeliveryId>,
}

impl From<DeliveryPage> for DeliveryPageView {
    fn from(page: DeliveryPage) -> Self {
        Self {
            data: page.deliveries.iter().map(DeliveryView::from).collect(),
            next_cursor: page.next,
        }
    }
}

async fn list(
    State(state): State<WebhooksState>,
    member: Member,
    paging: Paging,
) -> Result<Json<Page<WebhookView>>, ApiError> {
    let webhooks = state
        .webhooks
        .list(&member.workspace.id, &member.actor)
        .await?;
    Ok(Json(paging.page(webhooks).map(WebhookView::from)))
}

async fn create(
    State(state): State<WebhooksState>,
    member: Member,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (webhook, secret) = state
        .webhooks
        .create(&member.workspace.id, &member.actor, body)
        .await?;
    let view = NewWebhookView {
        webhook: webhook.into(),
        secret: secret.expose(),
    };
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn read(
    State(state): State<WebhooksState>,
    member: Member,
    ApiPath((_, webhook_id)): ApiPath<(String, String)>,
) -> Result<Json<WebhookView>, ApiError> {
    let webhook = state
        .webhooks
        .get(&member.workspace.id, &member.actor, &webhook_id)
        .await?;
    Ok(Json(webhook.into()))
}

async fn update(
    State(state): State<WebhooksState>,
    member: Member,
    ApiPath((_, webhook_id)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Json<WebhookView>, ApiError> {
    let webhook = state
        .webhooks
        .update(&member.workspace.id, &member.actor, &webhook_id, body)
        .await?;
    Ok(Json(webhook.into()))
}

async fn remove(
    State(state): State<WebhooksState>,
    member: Member,
    ApiPath((_, webhook_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .webhooks
        .delete(&member.workspace.id, &member.actor, &webhook_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate(
    State(state): State<WebhooksState>,
    member: Member,
    ApiPath((_, webhook_id)): ApiPath<(String, String)>,
) -> Result<Json<RotatedSecretView>, ApiError> {
    let (secret, until) = state
        .webhooks
        .rotate(&member.workspace.id, &member.actor, &webhook_id)
        .await?;
    Ok(Json(RotatedSecretView {
        secret: secret.expose(),
        previous_secret_expires_at: until,
    }))
}

async fn test(
    State(state): State<WebhooksState>,
    member: Member,
    ApiPath((_, webhook_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let event = state
        .webhooks
        .test(&member.workspace.id, &member.actor, &webhook_id)
        .await?;
    let view = TestQueuedView { event_id: event.id };
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}

/// `limit` (1 to 100, default 25; more is read as 100) and `cursor`, each
/// bad one named.
fn cursor_page(query: &HashMap<String, String>) -> Result<(usize, Option<&str>), FieldErrors> {
    let mut errors = FieldErrors::default();
    let limit = match query.get("limit").map(|raw| raw.trim().parse::<usize>()) {
        None => super::paging::DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=super::paging::MAX_NUMBER).contains(&n) => n.min(DELIVERY_PAGE_MAX),
        Some(_) => {
            errors.add(
                "limit",
                format!(
                    "must be a whole number from 1 to {}",
                    super::paging::MAX_NUMBER
                ),
            );
            0
        }
    };
    let cursor = query.get("cursor").map(String::as_str);
    if cursor.is_some_and(|raw| DeliveryId::parse(raw).is_none()) {
        errors.add("cursor", "must be a nextCursor a previous page gave");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((limit, cursor))
}

async fn deliveries(
    State(state): State<WebhooksState>,
    member: Member,
    ApiPath((_, webhook_id)): ApiPath<(String, String)>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<DeliveryPageView>, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::bad_request("the query string is malformed"))?;
    let (limit, cursor) = cursor_page(&query).map_err(ApiError::invalid)?;
    let page = state
        .webhooks
        .deliveries(
            &member.workspace.id,
            &member.actor,
            &webhook_id,
            limit,
            cursor,
        )
        .await?;
    Ok(Json(page.into()))
}

async fn delivery(
    State(state): State<WebhooksState>,
    member: Member,
    ApiPath((_, webhook_id, delivery_id)): ApiPath<(String, String, String)>,
) -> Result<Json<DeliveryDetailView>, ApiError> {
    let delivery = state
        .webhooks
        .delivery(
            &member.workspace.id,
            &member.actor,
            &webhook_id,
            &delivery_id,
        )
        .await?;
    Ok(Json(delivery.into()))
}

async fn retry(
    State(state): State<WebhooksState>,
    member: Member,
    ApiPath((_, webhook_id, delivery_id)): ApiPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    let delivery = state
        .webhooks
        .retry(
            &member.workspace.id,
            &member.actor,
            &webhook_id,
            &delivery_id,
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(DeliveryView::from(&delivery))).into_response())
}

/// The operations of these routes, as the OpenAPI document describes them.
#[cfg(feature = "openapi")]
pub(crate) fn operations() -> Vec<super::openapi::Op> {
    use super::openapi::Op;
    use super::openapi::bodies;
    use utoipa::openapi::HttpMethod::{Delete, Get, Patch, Post};

    vec![
        Op::new(Get, WEBHOOKS, "listWebhooks", "The workspace's webhooks")
            .member()
            .managed()
            .paged()
            .ok_page::<WebhookView>(),
        Op::new(
            Post,
            WEBHOOKS,
            "createWebhook",
            "Create a webhook; the answer is the only one that shows its secret",
        )
        .member()
        .managed()
        .json(bodies::new_webhook())
        .created::<NewWebhookView>()
        .errors(&[409])
        .link("getWebhook", &[("webhook_id", "$response.body#/id")]),
        Op::new(Get, WEBHOOK, "getWebhook", "One webhook")
            .member()
            .managed()
            .ok::<WebhookView>(),
        Op::new(
            Patch,
            WEBHOOK,
            "updateWebhook",
            "Change a webhook's URL, events, description, or turn it on or off",
        )
        .member()
        .managed()
        .json(bodies::webhook_changes())
        .ok::<WebhookView>(),
        Op::new(
            Delete,
            WEBHOOK,
            "deleteWebhook",
            "Delete a webhook and its delivery history",
        )
        .member()
        .managed()
        .no_content(),
        Op::new(
            Post,
            WEBHOOK_SECRET,
            "rotateWebhookSecret",
            "A new secret, shown once; the old one also signs for 24 hours",
        )
        .member()
        .managed()
        .ok::<RotatedSecretView>(),
        Op::new(
            Post,
            WEBHOOK_TEST,
            "testWebhook",
            "Queue a webhook.test event to this webhook alone",
        )
        .member()
        .managed()
        .accepted::<TestQueuedView>(),
        Op::new(
            Get,
            DELIVERIES,
            "listWebhookDeliveries",
            "The webhook's deliveries, newest first, by cursor",
        )
        .member()
        .managed()
        .query(
            "limit",
            utoipa::openapi::schema::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::Integer)
                .minimum(Some(1.0))
                .maximum(Some(crate::http::paging::MAX_NUMBER as f64)),
        )
        .query("cursor", {
            use utoipa::PartialSchema;
            DeliveryId::schema()
        })
        .errors(&[400])
        .ok::<DeliveryPageView>(),
        Op::new(
            Get,
            DELIVERY,
            "getWebhookDelivery",
            "One delivery, with its payload and every attempt",
        )
        .member()
        .managed()
        .ok::<DeliveryDetailView>(),
        Op::new(
            Post,
            DELIVERY_RETRY,
            "retryWebhookDelivery",
            "One more attempt now, for a failed or pending delivery",
        )
        .member()
        .managed()
        .errors(&[409])
        .accepted::<DeliveryView>(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_delivery_page_defaults_to_25_and_reads_more_than_100_as_100() {
        assert_eq!(cursor_page(&query(&[])).unwrap(), (25, None));
        assert_eq!(cursor_page(&query(&[("limit", "500")])).unwrap().0, 100);
    }

    #[test]
    fn a_bad_limit_and_a_made_up_cursor_are_both_named() {
        let errors = cursor_page(&query(&[("limit", "0"), ("cursor", "page2")]))
            .unwrap_err()
            .into_map();
        assert!(errors.contains_key("limit") && errors.contains_key("cursor"));
    }
}
