//! Workspaces: the tenant, its settings and its counters.

use super::fields::{FieldErrors, FieldReader, display_name, string};
use super::ids::WorkspaceId;
use super::time::Timestamp;
use serde_json::Value;

pub const NAME_MAX: usize = 100;
pub const MODELS_MAX: usize = 50;
pub const MODEL_ID_MAX: usize = 100;
pub const SLUG_MIN: usize = 3;
pub const SLUG_MAX: usize = 48;

/// Models a new workspace allows when its creator names none. A product
/// choice, the same in every deployment; owners change it per workspace.
pub const DEFAULT_ALLOWED_MODELS: &[&str] = &["gpt-4o", "gpt-4o-mini", "grok-2"];

const READ_ONLY: &[&str] = &[
    "id",
    "role",
    "memberCount",
    "assistantCount",
    "createdAt",
    "updatedAt",
];

/// Which models assistants of a workspace may use; the default is always one
/// of the allowed (the constructor refuses anything else).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSettings {
    pub allowed_models: Vec<String>,
    pub default_model: String,
}

impl ModelSettings {
    pub fn new(allowed_models: Vec<String>, default_model: String) -> Option<Self> {
        (allowed_models.contains(&default_model)).then_some(Self {
            allowed_models,
            default_model,
        })
    }

    pub fn allows(&self, model: &str) -> bool {
        self.allowed_models.iter().any(|m| m == model)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    pub slug: String,
    pub models: ModelSettings,
    pub member_count: u32,
    pub assistant_count: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Workspace {
    /// A new workspace under `slug`, with its creator as its one member.
    pub fn create(new: NewWorkspace, slug: String) -> Self {
        let now = Timestamp::now();
        Self {
            id: WorkspaceId::generate(),
            name: new.name,
            slug,
            models: new.models,
            member_count: 1,
            assistant_count: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// What the workspace becomes once a validated change is applied.
    pub fn changed(&self, changes: WorkspaceChanges, models: ModelSettings) -> Self {
        Self {
            name: changes.name.unwrap_or_else(|| self.name.clone()),
            slug: changes.slug.unwrap_or_else(|| self.slug.clone()),
            models,
            updated_at: Timestamp::now(),
            ..self.clone()
        }
    }
}

/// What asking to delete a workspace came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkspaceDeletion {
    /// Gone: the workspace, its slug, its members, its usage history,
    /// budgets and alerts; `records` of them.
    Deleted { records: usize },
    /// Refused, since these still hang off it: deleting each one runs its
    /// cascade (conversations, files, vectors, a number's claim,
    /// deliveries), which its own deletion does.
    Refused {
        assistants: usize,
        projects: usize,
        webhooks: usize,
    },
}

impl WorkspaceDeletion {
    /// Why a refused deletion was refused and what to do about it, for the
    /// person who asked; `None` once it is deleted.
    pub fn refusal(&self) -> Option<String> {
        self.what_is_left().map(|left| {
            format!(
                "the workspace still has {left}: delete them first, each through its own \
                 route (their conversations, documents, vectors, numbers and deliveries go \
                 with them); nothing was deleted"
            )
        })
    }

    /// What still hangs off a refused workspace, for the person who asked
    /// ("2 assistants and 1 webhook"); `None` once it is deleted.
    pub fn what_is_left(&self) -> Option<String> {
        let Self::Refused {
            assistants,
            projects,
            webhooks,
        } = *self
        else {
            return None;
        };
        let counted = |n: usize, noun: &str| match n {
            0 => None,
            1 => Some(format!("1 {noun}")),
            _ => Some(format!("{n} {noun}s")),
        };
        let parts: Vec<String> = [
            counted(assistants, "assistant"),
            counted(projects, "project"),
            counted(webhooks, "webhook"),
        ]
        .into_iter()
        .flatten()
        .collect();
        Some(match parts.as_slice() {
            [one] => one.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
            [] => "nothing".to_owned(),
        })
    }
}

/// A validated create request.
#[derive(Clone, Debug, PartialEq)]
pub struct NewWorkspace {
    pub name: String,
    /// `None`: derive one from the name.
    pub slug: Option<String>,
    pub models: ModelSettings,
}

/// A validated update request; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkspaceChanges {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub allowed_models: Option<Vec<String>>,
    pub default_model: Option<String>,
}

impl NewWorkspace {
    pub fn from_json(body: Value) -> Result<Self, FieldErrors> {
        let mut reader = FieldReader::new(body, READ_ONLY)?;
        let name = reader.required("name", |v| display_name(v, 1, NAME_MAX));
        let slug = reader.optional("slug", parse_slug);
        let allowed = reader.optional("allowedModels", parse_models);
        let default = reader.optional("defaultModel", string);
        reader.finish()?;
        let allowed = allowed.unwrap_or_else(|| {
            DEFAULT_ALLOWED_MODELS
                .iter()
                .map(|m| (*m).to_owned())
                .collect()
        });
        let default = default.unwrap_or_else(|| allowed[0].clone());
        let models = ModelSettings::new(allowed, default)
            .ok_or_else(|| FieldErrors::single("defaultModel", "must be one of allowedModels"))?;
        Ok(Self {
            name: name.unwrap_or_default(),
            slug,
            models,
        })
    }
}

impl WorkspaceChanges {
    pub fn from_json(body: Value) -> Result<Self, FieldErrors> {
        let mut reader = FieldReader::new(body, READ_ONLY)?;
        let changes = Self {
            name: reader.optional("name", |v| display_name(v, 1, NAME_MAX)),
            slug: reader.optional("slug", parse_slug),
            allowed_models: reader.optional("allowedModels", parse_models),
            default_model: reader.optional("defaultModel", string),
        };
        reader.finish()?;
        Ok(changes)
    }

    /// The model settings after this change, refused when the default would
    /// not be among the allowed models.
    pub fn models_after(&self, current: &ModelSettings) -> Result<ModelSettings, FieldErrors> {
        let allowed = self
            .allowed_models
            .clone()
            .unwrap_or_else(|| current.allowed_models.clone());
        let default = match &self.default_model {
            Some(model) => model.clone(),
            // Narrowing the list past the old default moves the default to
            // the first allowed model rather than refusing the change.
            None if allowed.contains(&current.default_model) => current.default_model.clone(),
            None => allowed[0].clone(),
        };
        ModelSettings::new(allowed, default)
            .ok_or_else(|| FieldErrors::single("defaultModel", "must be one of allowedModels"))
    }
}

fn parse_models(value: Value) -> Result<Vec<String>, String> {
    let message = || {
        format!(
            "must be a non-empty list of at most {MODELS_MAX} distinct model ids (each 1-{MODEL_ID_MAX} characters)"
        )
    };
    let Value::Array(items) = value else {
        return Err(message());
    };
    if items.is_empty() || items.len() > MODELS_MAX {
        return Err(message());
    }
    let mut models: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::String(model)
                if !model.trim().is_empty()
                    && model.chars().count() <= MODEL_ID_MAX
                    && !models.contains(&model) =>
            {
                models.push(model)
            }
            _ => return Err(message()),
        }
    }
    Ok(models)
}

fn parse_slug(value: Value) -> Result<String, String> {
    let slug = string(value)?;
    if is_valid_slug(&slug) {
        Ok(slug)
    } else {
        Err(format!(
            "must be {SLUG_MIN}-{SLUG_MAX} lowercase letters, digits or hyphens, not starting or ending with a hyphen"
        ))
    }
}

fn is_valid_slug(slug: &str) -> bool {
    (SLUG_MIN..=SLUG_MAX).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

/// A slug from a display name: ASCII letters and digits kept, every other run
/// of characters becomes one hyphen; padded when too short to be valid.
pub fn slug_from_name(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(SLUG_MAX - 7);
    let mut slug = slug.trim_end_matches('-').to_owned();
    if slug.len() < SLUG_MIN {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str("workspace");
    }
    slug
}

/// The derived slug was taken: add a short random suffix.
pub fn slug_with_suffix(base: &str) -> String {
    use rand::Rng;
    let suffix: u32 = rand::rng().random_range(0..1_000_000);
    format!("{base}-{suffix:06}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_refused_deletion_names_what_is_left_in_words() {
        let refused = |assistants, projects, webhooks| WorkspaceDeletion::Refused {
            assistants,
            projects,
            webhooks,
        };
        let left = |deletion: WorkspaceDeletion| deletion.what_is_left().unwrap();
        assert_eq!(left(refused(1, 0, 0)), "1 assistant");
        assert_eq!(left(refused(2, 0, 1)), "2 assistants and 1 webhook");
        assert_eq!(
            left(refused(1, 3, 2)),
            "1 assistant, 3 projects and 2 webhooks"
        );
        assert_eq!(
            WorkspaceDeletion::Deleted { records: 4 }.what_is_left(),
            None
        );
    }

    #[test]
    fn a_slug_is_derived_from_the_name() {
        assert_eq!(slug_from_name("Acme Corp!  Support"), "acme-corp-support");
        assert_eq!(slug_from_name("Ω"), "workspace");
        assert_eq!(slug_from_name("ab"), "ab-workspace");
        assert!(is_valid_slug(&slug_from_name(&"x".repeat(300))));
        assert!(is_valid_slug(&slug_with_suffix(&slug_from_name(
            &"x".repeat(300)
        ))));
    }

    #[test]
    fn a_new_workspace_gets_default_models_when_none_are_named() {
        let ws = NewWorkspace::from_json(json!({"name": "Acme"})).unwrap();
        assert_eq!(ws.models.default_model, "gpt-4o");
        assert!(ws.models.allows("grok-2"));
    }

    #[test]
    fn the_default_model_must_be_allowed() {
        let errors = NewWorkspace::from_json(
            json!({"name": "Acme", "allowedModels": ["a"], "defaultModel": "b"}),
        )
        .unwrap_err();
        assert!(errors.into_map().contains_key("defaultModel"));
    }

    #[test]
    fn allowed_models_must_be_a_non_empty_list_of_distinct_ids() {
        for bad in [
            json!([]),
            json!(["a", "a"]),
            json!("a"),
            json!([""]),
            json!([1]),
        ] {
            assert!(NewWorkspace::from_json(json!({"name": "A", "allowedModels": bad})).is_err());
        }
    }

    #[test]
    fn narrowing_the_models_past_the_default_moves_the_default() {
        let current = ModelSettings::new(vec!["a".into(), "b".into()], "a".into()).unwrap();
        let changes = WorkspaceChanges::from_json(json!({"allowedModels": ["b"]})).unwrap();
        assert_eq!(changes.models_after(&current).unwrap().default_model, "b");
    }
}
