//! Documents: files uploaded to a project, and their way through ingest.

use super::ids::{DocumentId, ProjectId, WorkspaceId};
use super::time::Timestamp;

/// The largest file accepted through the API (API Gateway passes binary
/// bodies base64-encoded and Lambda takes 6 MB: 4 MB of file fits).
pub const MAX_UPLOAD_BYTES: usize = 4 * 1024 * 1024;
pub const NAME_MAX: usize = 255;
pub const ACCEPTED_TYPES: &str = "PDF, DOCX, TXT or Markdown";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    Pdf,
    Docx,
    Text,
    Markdown,
}

impl DocumentKind {
    /// The type as people name it, for messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pdf => "PDF",
            Self::Docx => "DOCX",
            Self::Text => "plain text",
            Self::Markdown => "Markdown",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Text => "text/plain",
            Self::Markdown => "text/markdown",
        }
    }

    pub fn from_content_type(value: &str) -> Option<Self> {
        [Self::Pdf, Self::Docx, Self::Text, Self::Markdown]
            .into_iter()
            .find(|k| k.content_type() == value)
    }

    /// What the bytes are, judged by their content first (a renamed file is
    /// still what it is); the name only tells Markdown from plain text.
    pub fn sniff(name: &str, bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"%PDF-") {
            return Some(Self::Pdf);
        }
        if bytes.starts_with(b"PK\x03\x04") {
            // A DOCX is a zip whose entries include word/document.xml; the
            // entry name appears in clear in the zip's headers.
            let marker = b"word/document.xml";
            return bytes
                .windows(marker.len())
                .any(|w| w == marker)
                .then_some(Self::Docx);
        }
        let text = std::str::from_utf8(bytes).ok()?;
        if text.contains('\0') {
            return None;
        }
        let lower = name.to_lowercase();
        if lower.ends_with(".md") || lower.ends_with(".markdown") {
            Some(Self::Markdown)
        } else {
            Some(Self::Text)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentStatus {
    Pending,
    Processing,
    Completed,
    Failed,
}

impl DocumentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(Self::Pending),
            "processing" => Some(Self::Processing),
            "completed" => Some(Self::Completed),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub id: DocumentId,
    pub workspace_id: WorkspaceId,
    pub project_id: ProjectId,
    pub name: String,
    pub kind: DocumentKind,
    pub size: u64,
    pub status: DocumentStatus,
    pub chunk_count: u32,
    pub chunks_done: u32,
    pub error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Document {
    /// Where the raw bytes live in the bucket.
    pub fn blob_key(&self) -> String {
        format!("{}/{}/{}", self.workspace_id, self.project_id, self.id)
    }
}

/// A file name as a document name: the last path segment, trimmed, capped.
pub fn document_name(file_name: &str) -> Option<String> {
    let base = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file_name)
        .trim();
    (!base.is_empty()).then(|| base.chars().take(NAME_MAX).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_sniffed_by_content_not_name() {
        assert_eq!(
            DocumentKind::sniff("a.txt", b"%PDF-1.7 ..."),
            Some(DocumentKind::Pdf)
        );
        assert_eq!(
            DocumentKind::sniff("notes.md", b"# Title\ntext"),
            Some(DocumentKind::Markdown)
        );
        assert_eq!(
            DocumentKind::sniff("notes.pdf", b"plain words"),
            Some(DocumentKind::Text)
        );
        assert_eq!(
            DocumentKind::sniff("x.docx", b"PK\x03\x04....word/document.xml...."),
            Some(DocumentKind::Docx)
        );
        assert_eq!(
            DocumentKind::sniff("x.zip", b"PK\x03\x04....other.xml"),
            None
        );
        assert_eq!(
            DocumentKind::sniff("x.png", &[0x89, b'P', b'N', b'G', 0xff, 0x00]),
            None
        );
        assert_eq!(DocumentKind::sniff("x.txt", b"nul\0inside"), None);
    }

    #[test]
    fn a_document_is_named_after_the_file_without_its_path() {
        assert_eq!(
            document_name("C:\\Users\\ann\\Refunds.pdf").as_deref(),
            Some("Refunds.pdf")
        );
        assert_eq!(document_name("docs/faq.md").as_deref(), Some("faq.md"));
        assert_eq!(document_name("  "), None);
    }
}
