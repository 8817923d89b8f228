//! Messages of the ingest queue, shared by the API that sends them and the
//! worker that runs them.

use crate::domain::ids::{DocumentId, ProjectId, WorkspaceId};
use serde::{Deserialize, Serialize};

/// What the ingest queue carries: ids only, the bytes stay in S3.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum IngestJob {
    /// Index an uploaded document.
    Index {
        workspace_id: WorkspaceId,
        project_id: ProjectId,
        document_id: DocumentId,
    },
    /// Remove a deleted document's vectors.
    Forget {
        project_id: ProjectId,
        document_id: DocumentId,
    },
    /// Remove a deleted project's vectors (its namespace) and files.
    ForgetProject {
        workspace_id: WorkspaceId,
        project_id: ProjectId,
    },
}

impl IngestJob {
    pub fn to_message(&self) -> String {
        serde_json::to_string(self).expect("an ingest job always serializes")
    }
}
