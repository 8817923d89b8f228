//! A passage of a document, as retrieval found it for a question.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Passage {
    pub project_id: String,
    pub document_id: String,
    pub document_name: String,
    pub chunk_index: u64,
    pub text: String,
    pub score: f32,
}
