//! Knowledge projects: named collections of documents that assistants draw
//! on once connected.

use super::fields::{FieldErrors, FieldReader, display_name, string, text_up_to};
use super::ids::{ProjectId, UserId, WorkspaceId};
use super::time::Timestamp;
use serde_json::Value;

pub const NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 2_000;

const READ_ONLY: &[&str] = &[
    "id",
    "workspaceId",
    "documentCount",
    "createdBy",
    "createdAt",
    "updatedAt",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProjectVisibility {
    /// Readable by every active member.
    Workspace,
    /// Readable by owners, admins and users granted access.
    Private,
}

impl ProjectVisibility {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "workspace" => Some(Self::Workspace),
            "private" => Some(Self::Private),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Workspace => "workspace",
            Self::Private => "private",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    pub id: ProjectId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub description: String,
    pub visibility: ProjectVisibility,
    pub document_count: u32,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Project {
    /// A new, empty project; what `changes` leaves out takes its default.
    pub fn create(workspace_id: WorkspaceId, changes: ProjectChanges, creator: &UserId) -> Self {
        let now = Timestamp::now();
        Self {
            id: ProjectId::generate(),
            workspace_id,
            name: changes.name.unwrap_or_default(),
            description: changes.description.unwrap_or_default(),
            visibility: changes.visibility.unwrap_or(ProjectVisibility::Workspace),
            document_count: 0,
            created_by: creator.clone(),
            created_at: now,
            updated_at: now,
        }
    }
}

/// A project as connected to an assistant.
#[derive(Clone, Debug)]
pub struct Connection {
    pub project: Project,
    pub connected_at: Timestamp,
}

/// The fields a create or update sent; `None` leaves a field as it is (or
/// takes its default on create).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProjectChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<ProjectVisibility>,
}

impl ProjectChanges {
    /// The named fields replaced on `project` (its `updatedAt` is the
    /// store's to set).
    pub fn apply_to(&self, project: &mut Project) {
        if let Some(name) = &self.name {
            project.name.clone_from(name);
        }
        if let Some(description) = &self.description {
            project.description.clone_from(description);
        }
        if let Some(visibility) = self.visibility {
            project.visibility = visibility;
        }
    }

    pub fn from_json(body: Value, name_required: bool) -> Result<Self, FieldErrors> {
        let mut reader = FieldReader::new(body, READ_ONLY)?;
        let name = |v| display_name(v, 1, NAME_MAX);
        let changes = Self {
            name: if name_required {
                reader.required("name", name)
            } else {
                reader.optional("name", name)
            },
            description: reader.optional("description", |v| text_up_to(v, DESCRIPTION_MAX)),
            visibility: reader.optional("visibility", |v| {
                let message = || "must be workspace or private".to_owned();
                ProjectVisibility::parse(&string(v).map_err(|_| message())?).ok_or_else(message)
            }),
        };
        reader.finish()?;
        Ok(changes)
    }
}

/// `POST .../assistants/{id}/projects`: `{"projectId": "proj_..."}`.
pub fn connection_request(body: Value) -> Result<ProjectId, FieldErrors> {
    let mut reader = FieldReader::new(body, &["connectedAt", "name", "documentCount"])?;
    let project = reader.required("projectId", |v| {
        ProjectId::parse(&string(v)?).ok_or_else(|| "must be a project id (proj_...)".into())
    });
    reader.finish()?;
    Ok(project.expect("finish() reports a missing projectId"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_project_needs_a_name_and_a_known_visibility() {
        let errors = ProjectChanges::from_json(json!({"visibility": "public"}), true)
            .unwrap_err()
            .into_map();
        assert_eq!(errors["name"], "is required");
        assert_eq!(errors["visibility"], "must be workspace or private");
        assert!(ProjectChanges::from_json(json!({"documentCount": 1}), false).is_err());
    }

    #[test]
    fn connecting_needs_a_project_id() {
        assert!(connection_request(json!({})).is_err());
        assert!(connection_request(json!({"projectId": "ast_x"})).is_err());
        let id = ProjectId::generate();
        assert_eq!(
            connection_request(json!({"projectId": id.as_str()})).unwrap(),
            id
        );
    }
}
