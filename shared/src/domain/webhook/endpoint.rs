//! A webhook: an endpoint of a workspace, the events it subscribed to, and
//! whether deliveries go to it; and the requests that create and change
//! one, every bad field named.

use super::Subscription;
use super::signature::WebhookSecret;
use super::target::{TargetPolicy, WebhookUrl};
use crate::domain::fields::{FieldErrors, FieldReader, boolean, string, text_up_to};
use crate::domain::ids::{WebhookId, WorkspaceId};
use crate::domain::time::Timestamp;
use serde_json::Value;

pub const DESCRIPTION_MAX: usize = 500;

const READ_ONLY: &[&str] = &["id", "disabledReason", "createdAt", "updatedAt"];

/// Why a webhook stopped receiving deliveries without anyone turning it off.
pub const GONE: &str = "the endpoint answered 410 Gone";
pub const FAILING: &str = "every delivery failed for 5 days";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    pub id: WebhookId,
    pub workspace_id: WorkspaceId,
    pub url: WebhookUrl,
    pub subscription: Subscription,
    pub active: bool,
    pub description: String,
    /// Set when deliveries turned the webhook off (`GONE`, `FAILING`);
    /// cleared when someone turns it on again.
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A webhook to create, and the secret it signs with (the one the request
/// brought, or one made for it).
#[derive(Debug)]
pub struct NewWebhook {
    pub webhook: Webhook,
    pub secret: WebhookSecret,
}

fn url_field(policy: TargetPolicy) -> impl Fn(Value) -> Result<WebhookUrl, String> {
    move |value| WebhookUrl::parse(&string(value)?, policy)
}

fn events_field(value: Value) -> Result<Subscription, String> {
    let Value::Array(items) = value else {
        return Err("must be an array of event types".into());
    };
    let names = items
        .into_iter()
        .map(|item| string(item).map_err(|_| "must be an array of event types".to_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    Subscription::parse(&names)
}

impl NewWebhook {
    /// `{url, events, secret?, active?, description?}`.
    pub fn from_json(
        body: Value,
        workspace_id: WorkspaceId,
        policy: TargetPolicy,
        now: Timestamp,
    ) -> Result<Self, FieldErrors> {
        let mut reader = FieldReader::new(body, READ_ONLY)?;
        let url = reader.required("url", url_field(policy));
        let subscription = reader.required("events", events_field);
        let secret = reader.optional("secret", |v| WebhookSecret::parse(&string(v)?));
        let active = reader.optional("active", boolean);
        let description = reader.optional("description", |v| text_up_to(v, DESCRIPTION_MAX));
        reader.finish()?;
        let (Some(url), Some(subscription)) = (url, subscription) else {
            unreachable!("finish reports a required field that is missing or bad");
        };
        Ok(Self {
            webhook: Webhook {
                id: WebhookId::generate(),
                workspace_id,
                url,
                subscription,
                active: active.unwrap_or(true),
                description: description.unwrap_or_default(),
                disabled_reason: None,
                created_at: now,
                updated_at: now,
            },
            secret: secret.unwrap_or_else(WebhookSecret::generate),
        })
    }
}

/// The fields a `PATCH` sent; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookChanges {
    pub url: Option<WebhookUrl>,
    pub subscription: Option<Subscription>,
    pub active: Option<bool>,
    pub description: Option<String>,
}

impl WebhookChanges {
    /// `{url?, events?, active?, description?}`; the secret changes only by
    /// rotation.
    pub fn from_json(body: Value, policy: TargetPolicy) -> Result<Self, FieldErrors> {
        const NOT_HERE: &[&str] = &["id", "disabledReason", "createdAt", "updatedAt", "secret"];
        let mut reader = FieldReader::new(body, NOT_HERE)?;
        let changes = Self {
            url: reader.optional("url", url_field(policy)),
            subscription: reader.optional("events", events_field),
            active: reader.optional("active", boolean),
            description: reader.optional("description", |v| text_up_to(v, DESCRIPTION_MAX)),
        };
        reader.finish()?;
        Ok(changes)
    }

    /// The named fields replaced on `webhook`. Turning it on clears why it
    /// was turned off.
    pub fn apply_to(&self, webhook: &mut Webhook, now: Timestamp) {
        if let Some(url) = &self.url {
            webhook.url = url.clone();
        }
        if let Some(subscription) = &self.subscription {
            webhook.subscription = subscription.clone();
        }
        if let Some(active) = self.active {
            webhook.active = active;
            if active {
                webhook.disabled_reason = None;
            }
        }
        if let Some(description) = &self.description {
            webhook.description.clone_from(description);
        }
        webhook.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::webhook::EventType;
    use serde_json::json;

    const STRICT: TargetPolicy = TargetPolicy {
        allow_loopback: false,
    };

    fn new(body: Value) -> Result<NewWebhook, FieldErrors> {
        NewWebhook::from_json(body, WorkspaceId::generate(), STRICT, Timestamp::now())
    }

    #[test]
    fn a_webhook_is_active_with_a_made_secret_unless_the_request_says_otherwise() {
        let made = new(json!({"url": "https://hooks.example.com/in", "events": ["*"]})).unwrap();
        assert!(made.webhook.active);
        assert_eq!(made.webhook.subscription, Subscription::Every);
        assert!(made.secret.expose().starts_with("whsec_"));
        let brought = new(json!({
            "url": "https://hooks.example.com/in",
            "events": ["message.created"],
            "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "active": false,
            "description": "CRM",
        }))
        .unwrap();
        assert_eq!(
            brought.secret.expose(),
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        );
        assert!(!brought.webhook.active);
        assert_eq!(brought.webhook.description, "CRM");
        assert!(
            brought
                .webhook
                .subscription
                .wants(EventType::MessageCreated)
        );
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let errors = new(json!({
            "url": "http://10.0.0.1/in",
            "events": [],
            "secret": "hunter2",
            "active": "yes",
            "description": "x".repeat(DESCRIPTION_MAX + 1),
            "id": "wh_x",
            "colour": "red",
        }))
        .unwrap_err()
        .into_map();
        assert_eq!(errors["url"], "must not name a private address");
        assert_eq!(
            errors["events"],
            "must list at least one event type, or \"*\""
        );
        assert_eq!(
            errors["secret"],
            "must be 'whsec_' followed by the base64 of 24 to 64 bytes"
        );
        assert!(errors.contains_key("active"));
        assert!(errors.contains_key("description"));
        assert_eq!(errors["id"], "is read-only and cannot be set");
        assert_eq!(errors["colour"], "is not a known field");
        let missing = new(json!({})).unwrap_err().into_map();
        assert_eq!(missing["url"], "is required");
        assert_eq!(missing["events"], "is required");
        let not_a_list = new(json!({"url": "https://a.example/", "events": "*"}))
            .unwrap_err()
            .into_map();
        assert_eq!(not_a_list["events"], "must be an array of event types");
    }

    #[test]
    fn a_change_touches_only_what_it_names_and_turning_on_clears_the_reason() {
        let mut webhook = new(json!({"url": "https://a.example/", "events": ["*"]}))
            .unwrap()
            .webhook;
        webhook.active = false;
        webhook.disabled_reason = Some(GONE.into());
        let later = webhook.created_at.plus(std::time::Duration::from_secs(60));
        WebhookChanges::from_json(json!({"description": "help desk"}), STRICT)
            .unwrap()
            .apply_to(&mut webhook, later);
        assert_eq!(webhook.description, "help desk");
        assert!(!webhook.active);
        assert_eq!(webhook.disabled_reason.as_deref(), Some(GONE));
        assert_eq!(webhook.updated_at, later);
        WebhookChanges::from_json(json!({"active": true}), STRICT)
            .unwrap()
            .apply_to(&mut webhook, later);
        assert!(webhook.active);
        assert_eq!(webhook.disabled_reason, None);
        let refused = WebhookChanges::from_json(json!({"secret": "whsec_x"}), STRICT)
            .unwrap_err()
            .into_map();
        assert_eq!(refused["secret"], "is read-only and cannot be set");
    }
}
