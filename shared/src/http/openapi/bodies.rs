//! Request bodies as the domain's field readers take them. Each schema is
//! built from the same limits the readers check, field by field; unknown
//! and read-only fields are refused, so no schema allows more properties.

use super::kinds::{
    FORBIDDEN_IN_A_NAME, INVISIBLE, WHITE_SPACE, assistant_visibility, display_name, not_blank,
    position, project_visibility, rating, text,
};
use crate::app::retrieval as search;
use crate::domain::role::{MemberStatus, Role};
use crate::domain::{
    api_key, assistant, conversation, document, member, project, sms, visitor, webhook, widget,
    workspace,
};
use utoipa::PartialSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type,
};

/// A closed object: these properties and no others.
fn object(properties: &[(&str, RefOr<Schema>)], required: &[&str]) -> RefOr<Schema> {
    let mut schema = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for (name, property) in properties {
        schema = schema.property(*name, property.clone());
    }
    for name in required {
        schema = schema.required(*name);
    }
    schema.into()
}

fn nullable(schema: ObjectBuilder) -> RefOr<Schema> {
    schema
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .into()
}

fn integer(min: u64, max: u64) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min as f64))
        .maximum(Some(max as f64))
        .into()
}

fn boolean() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::Boolean).into()
}

fn pattern(regex: String) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(regex))
}

/// `member::Email::parse`: trimmed, one `@`, a dotted domain, no spaces
/// and no control or text-direction characters.
fn email() -> ObjectBuilder {
    let w = WHITE_SPACE;
    let c = format!("{w}@{FORBIDDEN_IN_A_NAME}");
    pattern(format!(
        "^[{w}]*[^{c}]+@[^{c}.][^{c}]*\\.[^{c}]*[^{c}.][{w}]*$"
    ))
    .max_length(Some(member::EMAIL_MAX))
}

/// `sms::PhoneNumber::parse` after a trim: E.164.
fn phone_number() -> ObjectBuilder {
    let w = WHITE_SPACE;
    pattern(format!("^[{w}]*\\+[1-9][0-9]{{7,14}}[{w}]*$"))
}

fn roles() -> RefOr<Schema> {
    Role::schema()
}

fn model_list() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(not_blank(workspace::MODEL_ID_MAX))
        .min_items(Some(1))
        .max_items(Some(workspace::MODELS_MAX))
        .unique_items(true)
        .into()
}

fn slug() -> RefOr<Schema> {
    let (min, max) = (workspace::SLUG_MIN - 2, workspace::SLUG_MAX - 2);
    pattern(format!("^[a-z0-9][a-z0-9-]{{{min},{max}}}[a-z0-9]$")).into()
}

/// A model id, which must be one of the workspace's `allowedModels` (a
/// rule between fields or with stored data, checked by the domain).
fn allowed_model(what: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(what))
        .into()
}

fn workspace_fields() -> Vec<(&'static str, RefOr<Schema>)> {
    vec![
        ("name", display_name(workspace::NAME_MAX).into()),
        ("slug", slug()),
        ("allowedModels", model_list()),
        (
            "defaultModel",
            allowed_model("One of `allowedModels` (those sent, or the workspace's)"),
        ),
    ]
}

pub fn new_workspace() -> RefOr<Schema> {
    object(&workspace_fields(), &["name"])
}

pub fn workspace_changes() -> RefOr<Schema> {
    object(&workspace_fields(), &[])
}

pub fn new_member() -> RefOr<Schema> {
    object(
        &[("email", email().into()), ("role", roles())],
        &["email", "role"],
    )
}

pub fn member_changes() -> RefOr<Schema> {
    object(
        &[("role", roles()), ("status", MemberStatus::schema())],
        &[],
    )
}

pub fn new_api_key() -> RefOr<Schema> {
    object(
        &[("name", display_name(api_key::NAME_MAX).into())],
        &["name"],
    )
}

fn assistant_fields() -> Vec<(&'static str, RefOr<Schema>)> {
    vec![
        ("name", display_name(assistant::NAME_MAX).into()),
        ("instructions", text(assistant::INSTRUCTIONS_MAX).into()),
        (
            "model",
            allowed_model("One of the workspace's `allowedModels`"),
        ),
        ("visibility", assistant_visibility().into()),
        (
            "temperature",
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .minimum(Some(0.0))
                .maximum(Some(assistant::TEMPERATURE_MAX))
                .into(),
        ),
        (
            "maxTokens",
            integer(1, u64::from(assistant::MAX_TOKENS_MAX)),
        ),
        (
            "welcomeMessage",
            nullable(text(assistant::WELCOME_MESSAGE_MAX)),
        ),
        ("widgetEnabled", boolean()),
    ]
}

pub fn new_assistant() -> RefOr<Schema> {
    object(&assistant_fields(), &["name"])
}

pub fn assistant_changes() -> RefOr<Schema> {
    object(&assistant_fields(), &[])
}

fn project_fields() -> Vec<(&'static str, RefOr<Schema>)> {
    vec![
        ("name", display_name(project::NAME_MAX).into()),
        ("description", text(project::DESCRIPTION_MAX).into()),
        ("visibility", project_visibility().into()),
    ]
}

pub fn new_project() -> RefOr<Schema> {
    object(&project_fields(), &["name"])
}

pub fn project_changes() -> RefOr<Schema> {
    object(&project_fields(), &[])
}

pub fn connection() -> RefOr<Schema> {
    object(
        &[(
            "projectId",
            <crate::domain::ids::ProjectId as utoipa::PartialSchema>::schema(),
        )],
        &["projectId"],
    )
}

pub fn search() -> RefOr<Schema> {
    object(
        &[
            ("query", not_blank(search::QUERY_MAX).into()),
            ("topK", integer(1, search::MAX_TOP_K as u64)),
        ],
        &["query"],
    )
}

pub fn new_conversation() -> RefOr<Schema> {
    object(
        &[
            (
                "assistantId",
                ObjectBuilder::new().schema_type(Type::String).into(),
            ),
            (
                "title",
                nullable(display_name(conversation::TITLE_MAX_CHARS)),
            ),
        ],
        &["assistantId"],
    )
}

pub fn question() -> RefOr<Schema> {
    object(
        &[("content", not_blank(conversation::CONTENT_MAX_CHARS).into())],
        &["content"],
    )
}

/// A document name as `document::document_name` reads one: the last path
/// segment must hold a visible character and no control character.
fn file_name() -> ObjectBuilder {
    let (w, forbidden, invisible) = (WHITE_SPACE, FORBIDDEN_IN_A_NAME, INVISIBLE);
    pattern(format!(
        "^(?:[\\s\\S]*[/\\\\])?[{w}]*[^/\\\\{forbidden}]*[^/\\\\{forbidden}{w}{invisible}][^/\\\\{forbidden}]*[{w}]*$"
    ))
}

pub fn upload_request() -> RefOr<Schema> {
    object(
        &[
            ("name", file_name().into()),
            ("size", integer(1, document::MAX_DIRECT_UPLOAD_BYTES)),
        ],
        &["name", "size"],
    )
}

pub fn multipart_file() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "file",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .content_media_type("application/octet-stream"),
        )
        .required("file")
        .into()
}

fn credential_fields() -> Vec<(&'static str, RefOr<Schema>)> {
    vec![
        (
            "twilioAccountSid",
            pattern("^AC[0-9a-fA-F]{32}$".into()).into(),
        ),
        ("twilioAuthToken", not_blank(sms::AUTH_TOKEN_MAX).into()),
        ("phoneNumber", phone_number().into()),
    ]
}

pub fn sms_settings() -> RefOr<Schema> {
    let mut fields = credential_fields();
    fields.push(("enabled", boolean()));
    fields.push((
        "sessionTimeoutMinutes",
        integer(1, u64::from(sms::SESSION_TIMEOUT_MAX)),
    ));
    fields.push((
        "maxSegmentsPerReply",
        integer(1, u64::from(sms::MAX_SEGMENTS_PER_REPLY_MAX)),
    ));
    fields.push((
        "limits",
        object(
            &[
                (
                    "perTexterPerHour",
                    integer(1, u64::from(sms::PER_TEXTER_PER_HOUR_MAX)),
                ),
                (
                    "perTexterPerDay",
                    integer(1, u64::from(sms::PER_TEXTER_PER_DAY_MAX)),
                ),
                (
                    "perAssistantPerDay",
                    integer(1, u64::from(sms::PER_ASSISTANT_PER_DAY_MAX)),
                ),
            ],
            &[],
        ),
    ));
    object(
        &fields,
        &[
            "enabled",
            "twilioAccountSid",
            "twilioAuthToken",
            "phoneNumber",
        ],
    )
}

pub fn sms_credentials() -> RefOr<Schema> {
    object(
        &credential_fields(),
        &["twilioAccountSid", "twilioAuthToken", "phoneNumber"],
    )
}

/// `widget::AllowedOrigin::parse`, narrowed to the origins it reads the
/// same way in every case: lower-case host names (no `xn--` labels, whose
/// punycode the parser checks), an optional port.
fn origin() -> ObjectBuilder {
    // No label has a hyphen third (which rules out `xn--`), and the last
    // starts with a letter: one of digits would make the host an IPv4
    // address to the URL parser.
    let rest = "(?:[a-z0-9-]?[a-z0-9]|[a-z0-9-][a-z0-9][a-z0-9-]{0,59}[a-z0-9])?";
    let (label, last) = (format!("[a-z0-9]{rest}"), format!("[a-z]{rest}"));
    pattern(format!(
        "^https?://(?:{label}\\.)*{last}(?::[1-9][0-9]{{0,3}})?$"
    ))
}

pub fn widget_settings() -> RefOr<Schema> {
    use crate::domain::widget as w;
    let limit = |max: u32| integer(1, u64::from(max));
    let limits = object(
        &[
            ("initsPerMinutePerIp", limit(w::INITS_PER_MINUTE_PER_IP_MAX)),
            (
                "sessionsPerHourPerIp",
                limit(w::SESSIONS_PER_HOUR_PER_IP_MAX),
            ),
            (
                "messagesPerSessionPerHour",
                limit(w::MESSAGES_PER_SESSION_PER_HOUR_MAX),
            ),
            (
                "messagesPerHourPerIp",
                limit(w::MESSAGES_PER_HOUR_PER_IP_MAX),
            ),
            ("messagesPerDayPerIp", limit(w::MESSAGES_PER_DAY_PER_IP_MAX)),
            ("messagesPerMonth", limit(w::MESSAGES_PER_MONTH_MAX)),
        ],
        &[],
    );
    object(
        &[
            (
                "allowedOrigins",
                ArrayBuilder::new()
                    .items(origin())
                    .max_items(Some(widget::MAX_ORIGINS))
                    .into(),
            ),
            ("title", nullable(display_name(widget::TITLE_MAX_CHARS))),
            ("primaryColor", pattern("^#[0-9a-fA-F]{6}$".into()).into()),
            ("position", position().into()),
            ("limits", limits),
        ],
        &["allowedOrigins"],
    )
}

pub fn widget_init() -> RefOr<Schema> {
    let metadata = ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .max_properties(Some(widget::METADATA_MAX_ENTRIES))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(100)),
        ))
        .additional_properties(Some(AdditionalProperties::RefOr(
            text(widget::METADATA_MAX_VALUE_CHARS).into(),
        )));
    object(
        &[
            (
                "sessionId",
                nullable(ObjectBuilder::new().schema_type(Type::String)),
            ),
            ("metadata", metadata.into()),
        ],
        &[],
    )
}

pub fn feedback() -> RefOr<Schema> {
    object(
        &[
            (
                "messageId",
                ObjectBuilder::new().schema_type(Type::String).into(),
            ),
            ("rating", rating().into()),
            (
                "comment",
                nullable(text(visitor::FEEDBACK_COMMENT_MAX_CHARS)),
            ),
        ],
        &["messageId", "rating"],
    )
}

pub fn lead() -> RefOr<Schema> {
    object(
        &[
            ("email", email().into()),
            ("name", nullable(display_name(visitor::LEAD_NAME_MAX_CHARS))),
            ("phone", nullable(phone_number())),
        ],
        &["email"],
    )
}

/// The form Twilio posts to the webhooks: its fields are Twilio's to add
/// to, so any others are allowed.
pub fn twilio_form() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("MessageSid", ObjectBuilder::new().schema_type(Type::String))
        .property("AccountSid", ObjectBuilder::new().schema_type(Type::String))
        .property("From", ObjectBuilder::new().schema_type(Type::String))
        .property("To", ObjectBuilder::new().schema_type(Type::String))
        .property("Body", ObjectBuilder::new().schema_type(Type::String))
        .property(
            "MessageStatus",
            ObjectBuilder::new().schema_type(Type::String),
        )
        .into()
}

/// `webhook::target::WebhookUrl::parse`: an absolute URL, https (or http
/// to loopback, on a machine that lets loopback through); which hosts it
/// may name (no private, loopback or reserved address, checked again at
/// each delivery) is the domain's rule.
fn webhook_url() -> RefOr<Schema> {
    pattern("^https?://".into())
        .max_length(Some(webhook::target::URL_MAX))
        .description(Some(
            "https (http only to loopback, and only where a development server lets \
             loopback through); no credentials; not a private, loopback, link-local, shared, \
             multicast or reserved address, nor a name that resolves to one",
        ))
        .into()
}

fn webhook_events() -> RefOr<Schema> {
    let names = webhook::EventType::ALL
        .iter()
        .map(|event| event.as_str())
        .chain(["*"]);
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(names)),
        )
        .min_items(Some(1))
        .into()
}

fn webhook_fields() -> Vec<(&'static str, RefOr<Schema>)> {
    vec![
        ("url", webhook_url()),
        ("events", webhook_events()),
        ("active", boolean()),
        (
            "description",
            text(webhook::endpoint::DESCRIPTION_MAX).into(),
        ),
    ]
}

pub fn new_webhook() -> RefOr<Schema> {
    let (min, max) = (
        webhook::signature::KEY_BYTES.start(),
        webhook::signature::KEY_BYTES.end(),
    );
    let mut fields = webhook_fields();
    fields.push((
        "secret",
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^whsec_[A-Za-z0-9+/]+={0,2}$"))
            .description(Some(format!(
                "`whsec_` and the base64 of {min} to {max} bytes; one is made if none is sent"
            )))
            .into(),
    ));
    object(&fields, &["url", "events"])
}

pub fn webhook_changes() -> RefOr<Schema> {
    object(&webhook_fields(), &[])
}

/// `usage::Budget::from_json`: a whole budget, every field optional.
pub fn budget() -> RefOr<Schema> {
    use crate::domain::usage;
    let limit = || -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
            .minimum(Some(1.0))
            .maximum(Some(usage::MAX_LIMIT as f64))
            .into()
    };
    let thresholds = utoipa::openapi::schema::ArrayBuilder::new()
        .items(integer(1, 100))
        .max_items(Some(usage::MAX_THRESHOLDS))
        .unique_items(true)
        .into();
    object(
        &[
            ("monthlyTokenLimit", limit()),
            ("monthlySmsSegmentLimit", limit()),
            ("alertThresholds", thresholds),
            (
                "exhaustedMessage",
                nullable(display_name(usage::EXHAUSTED_MESSAGE_MAX)),
            ),
        ],
        &[],
    )
}
