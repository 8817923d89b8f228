//! Small real files of every accepted type, built in code: the tests upload
//! them, and `admin samples` writes them out for the README's walkthrough.

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use std::io::{Cursor, Write};

/// A DOCX: a zip holding `word/document.xml` with one `<w:p>` per paragraph.
pub fn docx(paragraphs: &[&str]) -> Vec<u8> {
    docx_with_media(paragraphs, &[])
}

/// A DOCX carrying `media` as an embedded image stored ahead of the text, as
/// a large document full of pictures is: its size is mostly the image, and
/// `word/document.xml` is named only near the end (in the zip's directory).
pub fn docx_with_media(paragraphs: &[&str], media: &[u8]) -> Vec<u8> {
    let body: String = paragraphs
        .iter()
        .map(|p| {
            format!(
                "<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
                xml_escape(p)
            )
        })
        .collect();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:body>{body}</w:body></w:document>"
    );
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    if !media.is_empty() {
        zip.start_file(
            "word/media/image1.png",
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored),
        )
        .expect("an in-memory zip accepts entries");
        zip.write_all(media)
            .expect("an in-memory zip accepts bytes");
    }
    zip.start_file(
        "word/document.xml",
        zip::write::SimpleFileOptions::default(),
    )
    .expect("an in-memory zip accepts entries");
    zip.write_all(xml.as_bytes())
        .expect("an in-memory zip accepts bytes");
    zip.finish()
        .expect("an in-memory zip finishes")
        .into_inner()
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A PDF with one page per entry, each line of it set in Helvetica (one of
/// the fonts every reader knows, so nothing is embedded). An empty entry is
/// a page without text, as a scan would be.
pub fn pdf(pages: &[&str]) -> Vec<u8> {
    pdf_with_font(
        pages,
        dictionary! {
            "Type" => "Font",
            "Subtype" => "Type1",
            "BaseFont" => "Helvetica",
        },
    )
}

/// A well-formed PDF whose font is not: a composite font without its
/// descendant, on which the PDF reader panics rather than returning an error.
pub fn pdf_with_a_broken_font() -> Vec<u8> {
    pdf_with_font(
        &["Unreadable"],
        dictionary! {
            "Type" => "Font",
            "Subtype" => "Type0",
            "BaseFont" => "Missing",
        },
    )
}

fn pdf_with_font(pages: &[&str], font: lopdf::Dictionary) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(font);
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let kids: Vec<Object> = pages
        .iter()
        .map(|page| {
            let mut operations = vec![
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec!["F1".into(), 11.into()]),
                Operation::new("TL", vec![14.into()]),
                Operation::new("Td", vec![72.into(), 760.into()]),
            ];
            for line in page.lines() {
                operations.push(Operation::new("Tj", vec![Object::string_literal(line)]));
                operations.push(Operation::new("T*", vec![]));
            }
            operations.push(Operation::new("ET", vec![]));
            let content = Content { operations }
                .encode()
                .expect("text operations encode");
            let content_id = doc.add_object(Stream::new(dictionary! {}, content));
            doc.add_object(dictionary! {
                "Type" => "Page",
                "Parent" => pages_id,
                "Contents" => content_id,
            })
            .into()
        })
        .collect();
    let count = i64::try_from(kids.len()).expect("a sample has few pages");
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    doc.trailer.set("Root", catalog_id);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).expect("an in-memory PDF saves");
    bytes
}
