//! Documents: files uploaded to a project, and their way through ingest.

use super::fields::{FieldErrors, FieldReader, readable, string};
use super::ids::{DocumentId, ProjectId, WorkspaceId};
use super::time::Timestamp;
use serde_json::Value;

/// The largest file accepted through the API (API Gateway passes binary
/// bodies base64-encoded and Lambda takes 6 MB: 4 MB of file fits).
pub const MAX_UPLOAD_BYTES: usize = 4 * 1024 * 1024;
/// The largest file accepted through a presigned S3 upload, which does not
/// pass through Lambda.
/// Staged direct uploads (the bucket expires them after a day).
pub const STAGING_PREFIX: &str = "uploads/";

pub const MAX_DIRECT_UPLOAD_BYTES: u64 = 50 * 1024 * 1024;
/// How much of each end of a directly uploaded file is read to recognise
/// it: the start holds a PDF's or zip's signature and the first text, the
/// end a zip's central directory, which names `word/document.xml`.
pub const SNIFF_BYTES: u64 = 64 * 1024;
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
        Self::sniff_ends(name, bytes, &[], true)
    }

    /// The same judgement from the two ends of a file too large to read
    /// whole (`head` may then stop in the middle of a character).
    pub fn sniff_ends(name: &str, head: &[u8], tail: &[u8], whole: bool) -> Option<Self> {
        if head.starts_with(b"%PDF-") {
            return Some(Self::Pdf);
        }
        if head.starts_with(b"PK\x03\x04") {
            // A DOCX is a zip whose entries include word/document.xml; the
            // entry name appears in clear in the zip's headers.
            let marker = b"word/document.xml";
            let names_it = |bytes: &[u8]| bytes.windows(marker.len()).any(|w| w == marker);
            return (names_it(head) || names_it(tail)).then_some(Self::Docx);
        }
        let text = match std::str::from_utf8(head) {
            Ok(text) => text,
            // Cut short mid-character, not invalid.
            Err(cut) if !whole && cut.error_len().is_none() => {
                std::str::from_utf8(&head[..cut.valid_up_to()]).ok()?
            }
            Err(_) => return None,
        };
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
    /// Created for a presigned upload; the bytes are not there yet.
    Uploading,
    Pending,
    Processing,
    Completed,
    Failed,
}

impl DocumentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uploading => "uploading",
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "uploading" => Some(Self::Uploading),
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
    /// Unknown until the bytes are there (an upload not yet completed).
    pub kind: Option<DocumentKind>,
    pub size: u64,
    pub status: DocumentStatus,
    pub chunk_count: u32,
    pub chunks_done: u32,
    pub error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Document {
    /// A new document: `pending` once its bytes are stored (`kind` known),
    /// `uploading` while a direct upload is awaited.
    pub fn new(
        workspace_id: WorkspaceId,
        project_id: ProjectId,
        name: String,
        kind: Option<DocumentKind>,
        size: u64,
    ) -> Self {
        let now = Timestamp::now();
        Self {
            id: DocumentId::generate(),
            workspace_id,
            project_id,
            name,
            kind,
            size,
            status: if kind.is_some() {
                DocumentStatus::Pending
            } else {
                DocumentStatus::Uploading
            },
            chunk_count: 0,
            chunks_done: 0,
            error: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Where the raw bytes live in the bucket.
    pub fn blob_key(&self) -> String {
        format!("{}/{}/{}", self.workspace_id, self.project_id, self.id)
    }

    /// Where a direct upload's presigned URL puts the file: never read by
    /// the worker. Completing copies the checked version to
    /// [`Self::blob_key`], so a later PUT to the URL changes nothing.
    pub fn staging_key(&self) -> String {
        format!("{STAGING_PREFIX}{}", self.blob_key())
    }
}

/// A file name as a document name: the last path segment, trimmed, capped;
/// none if nothing readable is left (see [`readable`]).
pub fn document_name(file_name: &str) -> Option<String> {
    let base = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file_name)
        .trim();
    (!base.is_empty() && readable(base).is_ok()).then(|| base.chars().take(NAME_MAX).collect())
}

/// `POST .../documents/uploads`: the file's name and exact size in bytes,
/// known before its bytes go straight to S3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadRequest {
    pub name: String,
    pub size: u64,
}

impl UploadRequest {
    pub fn from_json(body: Value) -> Result<Self, FieldErrors> {
        let mut reader = FieldReader::new(body, &["id", "status", "contentType"])?;
        let name = reader.required("name", |v| {
            document_name(&string(v)?).ok_or_else(|| "must be a file name".into())
        });
        let size = reader.required("size", |v| {
            let too_big = format!(
                "must be a whole number of bytes from 1 to {MAX_DIRECT_UPLOAD_BYTES} (50 MB)"
            );
            match super::fields::whole_number(&v) {
                Some(size) if (1..=MAX_DIRECT_UPLOAD_BYTES).contains(&size) => Ok(size),
                _ => Err(too_big),
            }
        });
        reader.finish()?;
        Ok(Self {
            name: name.expect("finish() reports a missing name"),
            size: size.expect("finish() reports a missing size"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_upload_needs_a_file_name_and_a_size_up_to_50_mb() {
        assert_eq!(
            UploadRequest::from_json(json!({"name": "docs/handbook.pdf", "size": 12_000_000})),
            Ok(UploadRequest {
                name: "handbook.pdf".into(),
                size: 12_000_000
            })
        );
        let errors = UploadRequest::from_json(json!({"name": " ", "size": 0}))
            .unwrap_err()
            .into_map();
        assert!(errors["name"].contains("file name"));
        assert!(errors["size"].contains("50 MB"));
        for size in [json!(MAX_DIRECT_UPLOAD_BYTES + 1), json!(1.5), json!("10")] {
            assert!(UploadRequest::from_json(json!({"name": "a.pdf", "size": size})).is_err());
        }
        assert!(UploadRequest::from_json(json!({"name": "a.pdf"})).is_err());
    }

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
    fn a_large_file_is_recognised_from_its_two_ends() {
        let docx_tail = b"....PK\x01\x02....word/document.xml....PK\x05\x06";
        assert_eq!(
            DocumentKind::sniff_ends(
                "big.docx",
                b"PK\x03\x04[Content_Types].xml",
                docx_tail,
                false
            ),
            Some(DocumentKind::Docx)
        );
        let cut_in_a_character = "caf\u{e9}".as_bytes();
        let head = &cut_in_a_character[..cut_in_a_character.len() - 1];
        assert_eq!(
            DocumentKind::sniff_ends("notes.txt", head, b"", false),
            Some(DocumentKind::Text)
        );
        assert_eq!(DocumentKind::sniff_ends("notes.txt", head, b"", true), None);
    }

    #[test]
    fn a_document_is_named_after_the_file_without_its_path() {
        assert_eq!(
            document_name("C:\\Users\\ann\\Refunds.pdf").as_deref(),
            Some("Refunds.pdf")
        );
        assert_eq!(document_name("docs/faq.md").as_deref(), Some("faq.md"));
        assert_eq!(document_name("  "), None);
        assert_eq!(
            document_name("\u{200B}.pdf").as_deref(),
            Some("\u{200B}.pdf")
        );
        assert_eq!(document_name("\u{200B}\u{FEFF}"), None, "nothing visible");
        assert_eq!(
            document_name("invoice\u{202E}fdp.exe"),
            None,
            "a bidi override"
        );
        assert_eq!(document_name("a\u{0000}.md"), None, "a control character");
    }
}
