//! The small schemas the views and bodies share: the string sets an
//! answer's `&'static str` fields take, and text constraints written as the
//! domain's validators check them (so the fuzzer's valid and invalid data are
//! exactly what the code accepts and refuses).

use utoipa::openapi::schema::{ObjectBuilder, Type};

fn one_of(values: &[&str]) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
}

pub fn assistant_visibility() -> ObjectBuilder {
    one_of(&["public", "workspace", "private"])
}

pub fn project_visibility() -> ObjectBuilder {
    one_of(&["workspace", "private"])
}

pub fn content_type() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .enum_values(Some([
            Some("application/pdf"),
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            Some("text/plain"),
            Some("text/markdown"),
            None,
        ]))
}

pub fn document_status() -> ObjectBuilder {
    one_of(&["uploading", "pending", "processing", "completed", "failed"])
}

pub fn channel() -> ObjectBuilder {
    one_of(&["api", "sms", "widget"])
}

pub fn message_role() -> ObjectBuilder {
    one_of(&["user", "assistant"])
}

pub fn message_status() -> ObjectBuilder {
    one_of(&["completed", "failed"])
}

pub fn rating() -> ObjectBuilder {
    one_of(&["up", "down"])
}

pub fn position() -> ObjectBuilder {
    one_of(&["left", "right"])
}

pub fn upload_method() -> ObjectBuilder {
    one_of(&["PUT"])
}

/// `char::is_whitespace` (Unicode White_Space), as a regex class body: what
/// the domain trims. Spelled out because `\s` differs between the regex
/// dialects that read the document.
pub(super) const WHITE_SPACE: &str =
    r"\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// What `fields::is_forbidden_in_a_name` refuses: controls and bidi
/// overrides and isolates.
pub(super) const FORBIDDEN_IN_A_NAME: &str = r"\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069";

/// What `fields::is_invisible` adds to white space.
pub(super) const INVISIBLE: &str =
    r"\xad\u034f\u115f\u1160\u180e\u200b-\u200d\u2060-\u2064\u2800\u3164\ufeff\uffa0";

/// Text with something in it once trimmed (a question, a search).
pub fn not_blank(max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(max))
        .pattern(Some(format!("[^{WHITE_SPACE}]")))
}

/// `fields::display_name`: at most `max` characters, a visible one among
/// them, and no control or text-direction character.
pub fn display_name(max: usize) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
        .max_length(Some(max))
        .pattern(Some(format!(
            "^[^{FORBIDDEN_IN_A_NAME}]*[^{FORBIDDEN_IN_A_NAME}{WHITE_SPACE}{INVISIBLE}][^{FORBIDDEN_IN_A_NAME}]*$"
        )))
}

/// `fields::text_up_to`: any string of at most `max` characters.
pub fn text(max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(max))
}
