//! Text out of uploaded files. Every failure is a reason a person can act on,
//! since it ends up as the document's `error`.

use crate::domain::document::DocumentKind;
use quick_xml::Reader;
use quick_xml::events::Event;
use std::io::{Cursor, Read};

/// The most text one document may yield: what one message can embed and
/// index within its budget (about 4 million tokens), and a bound on a zip
/// bomb. A larger text is refused with a reason, never half indexed.
pub const MAX_TEXT_BYTES: u64 = 16 * 1024 * 1024;

pub fn extract_text(kind: DocumentKind, bytes: &[u8]) -> Result<String, String> {
    let text = match kind {
        DocumentKind::Text | DocumentKind::Markdown => {
            if bytes.len() as u64 > MAX_TEXT_BYTES {
                return Err(too_much_text());
            }
            String::from_utf8(bytes.to_vec())
                .map_err(|_| "the file is not valid UTF-8 text".to_owned())?
        }
        DocumentKind::Docx => docx_text(bytes)?,
        DocumentKind::Pdf => pdf_text(bytes)?,
    };
    if text.len() as u64 > MAX_TEXT_BYTES {
        return Err(too_much_text());
    }
    Ok(text)
}

fn too_much_text() -> String {
    format!(
        "the document holds more than {} MB of text; split it into smaller files",
        MAX_TEXT_BYTES / (1024 * 1024)
    )
}

/// Pages are read in layout order and joined as paragraphs, so a sentence
/// never runs into the next page's first word. A PDF without a text layer
/// (a scan) yields no text, which the worker reports as such.
///
/// The reader panics on some malformed files; the worker runs this on a
/// blocking thread and turns a panic into a `failed` document.
fn pdf_text(bytes: &[u8]) -> Result<String, String> {
    match pdf_extract::extract_text_from_mem_by_pages(bytes) {
        Ok(pages) => Ok(pages
            .iter()
            .map(|page| page.trim())
            .filter(|page| !page.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n")),
        Err(pdf_extract::OutputError::PdfError(pdf_extract::Error::Decryption(_))) => {
            Err("the PDF is password-protected; upload a copy without a password".into())
        }
        Err(_) => Err("the file is not a readable PDF document".into()),
    }
}

/// A DOCX is a zip holding `word/document.xml`; its text is in `<w:t>`
/// runs, paragraphs are `<w:p>`. Read directly with zip and quick-xml: the
/// full DOCX crates model the whole format, of which extraction needs this.
fn docx_text(bytes: &[u8]) -> Result<String, String> {
    let unreadable = || "the file is not a readable DOCX document".to_owned();
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| unreadable())?;
    let mut xml = String::new();
    archive
        .by_name("word/document.xml")
        .map_err(|_| unreadable())?
        // Markup outweighs its text several times over; past this, the
        // text is over its cap too.
        .take(4 * MAX_TEXT_BYTES + 1)
        .read_to_string(&mut xml)
        .map_err(|_| unreadable())?;
    if xml.len() as u64 > 4 * MAX_TEXT_BYTES {
        return Err(too_much_text());
    }
    let mut reader = Reader::from_str(&xml);
    let mut text = String::new();
    let mut in_run_text = false;
    loop {
        match reader.read_event().map_err(|_| unreadable())? {
            Event::Start(e) if e.name().as_ref() == "w:t" => in_run_text = true,
            Event::End(e) if e.name().as_ref() == "w:t" => in_run_text = false,
            Event::End(e) if e.name().as_ref() == "w:p" => text.push_str("\n\n"),
            Event::Empty(e) if e.name().as_ref() == "w:tab" => text.push('\t'),
            Event::Empty(e) if e.name().as_ref() == "w:br" => text.push('\n'),
            Event::Text(t) if in_run_text => {
                text.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) if in_run_text => {
                let name = r.into_inner();
                text.push_str(match name.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "",
                });
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(text)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// A minimal real DOCX: a zip with `word/document.xml`.
    pub fn docx(paragraphs: &[&str]) -> Vec<u8> {
        let body: String = paragraphs
            .iter()
            .map(|p| format!("<w:p><w:r><w:t xml:space=\"preserve\">{p}</w:t></w:r></w:p>"))
            .collect();
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
        );
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file(
            "word/document.xml",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(xml.as_bytes()).unwrap();
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn a_text_over_the_cap_is_refused_with_a_reason_rather_than_half_indexed() {
        let big = vec![b'a'; MAX_TEXT_BYTES as usize + 1];
        let refusal = extract_text(DocumentKind::Text, &big).unwrap_err();
        assert!(refusal.contains("more than 16 MB of text"), "{refusal}");
        let words = "word ".repeat(MAX_TEXT_BYTES as usize / 5 + 1);
        let refusal = extract_text(DocumentKind::Docx, &docx(&[&words])).unwrap_err();
        assert!(refusal.contains("split it"), "{refusal}");
        let just = vec![b'a'; MAX_TEXT_BYTES as usize];
        assert!(extract_text(DocumentKind::Markdown, &just).is_ok());
    }

    #[test]
    fn docx_paragraphs_become_text_with_entities_decoded() {
        let text = extract_text(
            DocumentKind::Docx,
            &docx(&["Refunds &amp; returns", "Take 5 days."]),
        )
        .unwrap();
        assert_eq!(text, "Refunds & returns\n\nTake 5 days.\n\n");
    }

    #[test]
    fn a_broken_docx_is_reported_in_words() {
        let error =
            extract_text(DocumentKind::Docx, b"PK\x03\x04 word/document.xml garbage").unwrap_err();
        assert_eq!(error, "the file is not a readable DOCX document");
    }

    #[test]
    fn a_broken_pdf_is_reported_in_words() {
        let error = extract_text(DocumentKind::Pdf, b"%PDF-1.7\nnot really a pdf").unwrap_err();
        assert_eq!(error, "the file is not a readable PDF document");
    }

    #[test]
    fn text_must_be_utf8() {
        assert!(extract_text(DocumentKind::Text, &[0xff, 0xfe]).is_err());
        assert_eq!(
            extract_text(DocumentKind::Markdown, b"# Hi").unwrap(),
            "# Hi"
        );
    }
}
