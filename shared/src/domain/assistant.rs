//! Assistants: their configuration, its rules, and how a create or update
//! request becomes a valid change.

use super::fields::{FieldErrors, FieldReader, boolean, display_name, string, text_up_to};
use super::ids::{AssistantId, UserId, WorkspaceId};
use super::time::Timestamp;
use super::workspace::ModelSettings;
use serde_json::Value;

pub const NAME_MAX: usize = 100;
pub const INSTRUCTIONS_MAX: usize = 32_000;
pub const WELCOME_MESSAGE_MAX: usize = 2_000;
pub const TEMPERATURE_MAX: f64 = 2.0;
pub const MAX_TOKENS_MAX: u32 = 128_000;
pub const DEFAULT_TEMPERATURE: f64 = 0.7;
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Fields of the assistant object a client may read but never write.
const READ_ONLY: &[&str] = &[
    "id",
    "workspaceId",
    "projectCount",
    "createdBy",
    "createdAt",
    "updatedAt",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Every workspace member, and the widget when it is enabled.
    Public,
    /// Active members of the workspace.
    Workspace,
    /// The creator, owners and admins, and users granted access.
    Private,
}

impl Visibility {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "public" => Some(Self::Public),
            "workspace" => Some(Self::Workspace),
            "private" => Some(Self::Private),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Workspace => "workspace",
            Self::Private => "private",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Assistant {
    pub id: AssistantId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub instructions: String,
    pub model: String,
    pub visibility: Visibility,
    pub temperature: f64,
    pub max_tokens: u32,
    pub welcome_message: Option<String>,
    pub widget_enabled: bool,
    pub project_count: u32,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Assistant {
    /// A new assistant as `creator` configured it, connected to nothing.
    pub fn create(workspace_id: WorkspaceId, config: AssistantConfig, creator: &UserId) -> Self {
        let now = Timestamp::now();
        Self {
            id: AssistantId::generate(),
            workspace_id,
            name: config.name,
            instructions: config.instructions,
            model: config.model,
            visibility: config.visibility,
            temperature: config.temperature,
            max_tokens: config.max_tokens,
            welcome_message: config.welcome_message,
            widget_enabled: config.widget_enabled,
            project_count: 0,
            created_by: creator.clone(),
            created_at: now,
            updated_at: now,
        }
    }
}

/// Every writable field, validated. Both create and update produce one: an
/// update is the stored assistant with the sent fields replaced.
#[derive(Clone, Debug, PartialEq)]
pub struct AssistantConfig {
    pub name: String,
    pub instructions: String,
    pub model: String,
    pub visibility: Visibility,
    pub temperature: f64,
    pub max_tokens: u32,
    pub welcome_message: Option<String>,
    pub widget_enabled: bool,
}

/// The fields an update request sent; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AssistantChanges {
    pub name: Option<String>,
    pub instructions: Option<String>,
    pub model: Option<String>,
    pub visibility: Option<Visibility>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub welcome_message: Option<Option<String>>,
    pub widget_enabled: Option<bool>,
}

impl AssistantChanges {
    /// Parses a create or update body. Create additionally requires `name`.
    pub fn from_json(
        body: Value,
        models: &ModelSettings,
        name_required: bool,
    ) -> Result<Self, FieldErrors> {
        let mut reader = FieldReader::new(body, READ_ONLY)?;
        let name_parser = |v| display_name(v, 1, NAME_MAX);
        let changes = Self {
            name: if name_required {
                reader.required("name", name_parser)
            } else {
                reader.optional("name", name_parser)
            },
            instructions: reader.optional("instructions", |v| text_up_to(v, INSTRUCTIONS_MAX)),
            model: reader.optional("model", |v| parse_model(v, models)),
            visibility: reader.optional("visibility", parse_visibility),
            temperature: reader.optional("temperature", parse_temperature),
            max_tokens: reader.optional("maxTokens", parse_max_tokens),
            welcome_message: reader
                .nullable("welcomeMessage", |v| text_up_to(v, WELCOME_MESSAGE_MAX)),
            widget_enabled: reader.optional("widgetEnabled", boolean),
        };
        reader.finish()?;
        Ok(changes)
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The named fields replaced on `assistant` (its `updatedAt` is the
    /// store's to set).
    pub fn apply_to(&self, assistant: &mut Assistant) {
        if let Some(name) = &self.name {
            assistant.name.clone_from(name);
        }
        if let Some(instructions) = &self.instructions {
            assistant.instructions.clone_from(instructions);
        }
        if let Some(model) = &self.model {
            assistant.model.clone_from(model);
        }
        if let Some(visibility) = self.visibility {
            assistant.visibility = visibility;
        }
        if let Some(temperature) = self.temperature {
            assistant.temperature = temperature;
        }
        if let Some(max_tokens) = self.max_tokens {
            assistant.max_tokens = max_tokens;
        }
        if let Some(welcome) = &self.welcome_message {
            assistant.welcome_message.clone_from(welcome);
        }
        if let Some(enabled) = self.widget_enabled {
            assistant.widget_enabled = enabled;
        }
    }

    /// The configuration of a new assistant: documented defaults for what
    /// was not sent, the workspace's default model when none was named.
    pub fn into_new_config(self, models: &ModelSettings) -> AssistantConfig {
        AssistantConfig {
            name: self.name.unwrap_or_default(),
            instructions: self.instructions.unwrap_or_default(),
            model: self.model.unwrap_or_else(|| models.default_model.clone()),
            visibility: self.visibility.unwrap_or(Visibility::Workspace),
            temperature: self.temperature.unwrap_or(DEFAULT_TEMPERATURE),
            max_tokens: self.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
            welcome_message: self.welcome_message.unwrap_or(None),
            widget_enabled: self.widget_enabled.unwrap_or(false),
        }
    }
}

/// A full configuration as a change that sets every field.
impl From<AssistantConfig> for AssistantChanges {
    fn from(config: AssistantConfig) -> Self {
        Self {
            name: Some(config.name),
            instructions: Some(config.instructions),
            model: Some(config.model),
            visibility: Some(config.visibility),
            temperature: Some(config.temperature),
            max_tokens: Some(config.max_tokens),
            welcome_message: Some(config.welcome_message),
            widget_enabled: Some(config.widget_enabled),
        }
    }
}

fn parse_model(value: Value, models: &ModelSettings) -> Result<String, String> {
    let model = string(value)?;
    if models.allows(&model) {
        Ok(model)
    } else {
        Err(format!(
            "must be one of the workspace's allowed models: {}",
            models.allowed_models.join(", ")
        ))
    }
}

fn parse_visibility(value: Value) -> Result<Visibility, String> {
    let text = string(value).map_err(|_| "must be public, workspace or private".to_owned())?;
    Visibility::parse(&text).ok_or_else(|| "must be public, workspace or private".into())
}

/// Temperatures are kept to four decimal places: every accepted value can
/// then be stored (DynamoDB refuses a number below 1e-130, such as 1e-200)
/// and reads back exactly as it was answered.
const TEMPERATURE_STEPS_PER_UNIT: f64 = 10_000.0;

fn parse_temperature(value: Value) -> Result<f64, String> {
    match value.as_f64() {
        // `+ 0.0` turns a rounded -0.0 into 0.
        Some(t) if (0.0..=TEMPERATURE_MAX).contains(&t) => {
            Ok((t * TEMPERATURE_STEPS_PER_UNIT).round() / TEMPERATURE_STEPS_PER_UNIT + 0.0)
        }
        _ => Err("must be a number between 0 and 2".into()),
    }
}

fn parse_max_tokens(value: Value) -> Result<u32, String> {
    let message = || format!("must be an integer between 1 and {MAX_TOKENS_MAX}");
    match super::fields::whole_number(&value) {
        Some(n) if (1..=u64::from(MAX_TOKENS_MAX)).contains(&n) => {
            u32::try_from(n).map_err(|_| message())
        }
        _ => Err(message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn models() -> ModelSettings {
        ModelSettings::new(vec!["grok-2".into(), "gpt-4o".into()], "grok-2".into()).unwrap()
    }

    fn create(body: Value) -> Result<AssistantConfig, std::collections::BTreeMap<String, String>> {
        AssistantChanges::from_json(body, &models(), true)
            .map(|c| c.into_new_config(&models()))
            .map_err(FieldErrors::into_map)
    }

    #[test]
    fn a_new_assistant_gets_the_documented_defaults() {
        let config = create(json!({"name": "Support Bot"})).unwrap();
        assert_eq!(config.instructions, "");
        assert_eq!(config.model, "grok-2");
        assert_eq!(config.visibility, Visibility::Workspace);
        assert_eq!(config.temperature, 0.7);
        assert_eq!(config.max_tokens, 4096);
        assert_eq!(config.welcome_message, None);
        assert!(!config.widget_enabled);
    }

    #[test]
    fn the_name_is_required_and_trimmed() {
        assert_eq!(create(json!({})).unwrap_err()["name"], "is required");
        assert_eq!(create(json!({"name": "  Bot  "})).unwrap().name, "Bot");
        assert!(create(json!({"name": "x".repeat(101)})).is_err());
        assert!(create(json!({"name": "x".repeat(100)})).is_ok());
    }

    #[test]
    fn every_accepted_temperature_is_kept_to_four_decimal_places() {
        for (sent, kept) in [
            (0.0, 0.0),
            (2.0, 2.0),
            (1e-200, 0.0),
            (5e-324, 0.0),
            (1.9999999999999998, 2.0),
            (0.123456, 0.1235),
            (0.7, 0.7),
        ] {
            let temperature = create(json!({"name": "a", "temperature": sent}))
                .unwrap()
                .temperature;
            assert_eq!(temperature, kept, "{sent}");
            assert!(
                temperature == 0.0 || temperature >= 1e-4,
                "{sent} is storable"
            );
            assert!(temperature.is_sign_positive());
        }
    }

    #[test]
    fn rejects_a_temperature_above_two_or_below_zero() {
        assert!(create(json!({"name": "a", "temperature": 2.01})).is_err());
        assert!(create(json!({"name": "a", "temperature": -0.1})).is_err());
        assert!(create(json!({"name": "a", "temperature": "0.5"})).is_err());
        assert_eq!(
            create(json!({"name": "a", "temperature": 2}))
                .unwrap()
                .temperature,
            2.0
        );
        assert_eq!(
            create(json!({"name": "a", "temperature": 0}))
                .unwrap()
                .temperature,
            0.0
        );
    }

    #[test]
    fn max_tokens_must_be_a_whole_number_in_range() {
        for bad in [
            json!(0),
            json!(128_001),
            json!(1.5),
            json!(-1),
            json!("100"),
        ] {
            let errors = create(json!({"name": "a", "maxTokens": bad})).unwrap_err();
            assert!(errors["maxTokens"].contains("integer"));
        }
        assert_eq!(
            create(json!({"name": "a", "maxTokens": 128_000}))
                .unwrap()
                .max_tokens,
            128_000
        );
    }

    #[test]
    fn the_model_must_be_one_the_workspace_allows() {
        let errors = create(json!({"name": "a", "model": "claude"})).unwrap_err();
        assert!(errors["model"].contains("grok-2, gpt-4o"));
    }

    #[test]
    fn the_welcome_message_may_be_null_but_not_too_long() {
        assert!(create(json!({"name": "a", "welcomeMessage": null})).is_ok());
        assert!(create(json!({"name": "a", "welcomeMessage": "x".repeat(2001)})).is_err());
    }

    #[test]
    fn instructions_are_capped_at_32000_characters() {
        assert!(create(json!({"name": "a", "instructions": "x".repeat(32_000)})).is_ok());
        assert!(create(json!({"name": "a", "instructions": "x".repeat(32_001)})).is_err());
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let errors = create(json!({
            "visibility": "secret", "widgetEnabled": "yes", "projectCount": 3
        }))
        .unwrap_err();
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            ["name", "projectCount", "visibility", "widgetEnabled"]
        );
    }

    #[test]
    fn an_update_may_clear_the_welcome_message_but_not_null_the_name() {
        let changes =
            AssistantChanges::from_json(json!({"welcomeMessage": null}), &models(), false).unwrap();
        assert_eq!(changes.welcome_message, Some(None));
        let errors =
            AssistantChanges::from_json(json!({"name": null}), &models(), false).unwrap_err();
        assert_eq!(errors.into_map()["name"], "must not be null");
    }
}
