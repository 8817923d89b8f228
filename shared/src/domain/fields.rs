//! Reading a JSON object field by field, collecting one message per bad field,
//! so a client sees every problem of a request at once in `details`.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Field name -> what is wrong with it, in words a person can act on.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }
}

/// A request body being taken apart. Every field must be taken exactly once;
/// whatever is left at `finish` was not expected and is reported.
pub struct FieldReader {
    remaining: Map<String, Value>,
    read_only: &'static [&'static str],
    pub errors: FieldErrors,
}

/// A field as the client sent it: absent, explicitly null, or a value.
pub enum Field {
    Absent,
    Null,
    Present(Value),
}

impl FieldReader {
    pub fn new(body: Value, read_only: &'static [&'static str]) -> Result<Self, FieldErrors> {
        match body {
            Value::Object(remaining) => Ok(Self {
                remaining,
                read_only,
                errors: FieldErrors::default(),
            }),
            _ => Err(FieldErrors::single("body", "must be a JSON object")),
        }
    }

    pub fn take(&mut self, name: &str) -> Field {
        match self.remaining.remove(name) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(value) => Field::Present(value),
        }
    }

    /// A field that may be absent but, when sent, must not be null.
    pub fn optional<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(Value) -> Result<T, String>,
    ) -> Option<T> {
        match self.take(name) {
            Field::Absent => None,
            Field::Null => {
                self.errors.add(name, "must not be null");
                None
            }
            Field::Present(value) => match parse(value) {
                Ok(parsed) => Some(parsed),
                Err(message) => {
                    self.errors.add(name, message);
                    None
                }
            },
        }
    }

    /// A field that must be sent and not be null.
    pub fn required<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(Value) -> Result<T, String>,
    ) -> Option<T> {
        if !self.remaining.contains_key(name) {
            self.errors.add(name, "is required");
            return None;
        }
        self.optional(name, parse)
    }

    /// A field where null is a meaningful value ("clear it"):
    /// `None` = absent, `Some(None)` = null, `Some(Some(v))` = a value.
    pub fn nullable<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(Value) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match self.take(name) {
            Field::Absent => None,
            Field::Null => Some(None),
            Field::Present(value) => match parse(value) {
                Ok(parsed) => Some(Some(parsed)),
                Err(message) => {
                    self.errors.add(name, message);
                    None
                }
            },
        }
    }

    /// Reports every field nobody took, then hands back all errors.
    pub fn finish(mut self) -> Result<(), FieldErrors> {
        let leftovers: Vec<String> = self.remaining.keys().cloned().collect();
        for name in leftovers {
            if self.read_only.contains(&name.as_str()) {
                self.errors.add(&name, "is read-only and cannot be set");
            } else {
                self.errors.add(&name, "is not a known field");
            }
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

pub fn string(value: Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s),
        _ => Err("must be a string".into()),
    }
}

/// A whole number 0 or more, written as JSON writes it: `3`, and also
/// `3.0` or `3e0`, which JSON (and JSON Schema's `integer`) calls the same
/// number. Fractions, negatives and anything past `u64` are not one.
pub fn whole_number(value: &Value) -> Option<u64> {
    if let Some(n) = value.as_u64() {
        return Some(n);
    }
    let n = value.as_f64()?;
    // 2^64 itself is the first f64 `as u64` would saturate on.
    (n >= 0.0 && n.fract() == 0.0 && n < 18_446_744_073_709_551_616.0).then_some(n as u64)
}

pub fn boolean(value: Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| "must be true or false".into())
}

/// A string trimmed of surrounding white space, at least `min` characters
/// once trimmed and at most `max` as sent (characters, not bytes: names are
/// often not ASCII). The limit is on what was sent so that it is the
/// `maxLength` the API document states.
pub fn trimmed_text(value: Value, min: usize, max: usize) -> Result<String, String> {
    let text = string(value)?;
    let trimmed = text.trim();
    if trimmed.chars().count() < min {
        Err(if min == 1 {
            "must not be empty".into()
        } else {
            format!("must be at least {min} characters")
        })
    } else if text.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else {
        Ok(trimmed.to_owned())
    }
}

/// Characters a name can hold that no one can see: zero-width spaces and
/// joiners, the word joiner, the byte-order mark, the soft hyphen, the
/// Mongolian vowel separator, the Hangul fillers and the braille blank.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
        )
}

/// Characters that have no place in a name: controls (NUL, BEL, line
/// breaks, tabs, DEL, C1) and the bidirectional overrides and isolates
/// that make text read differently from how it is stored.
fn is_forbidden_in_a_name(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A name or title a person reads: [`trimmed_text`], holding at least one
/// visible character and no control character or bidi override.
pub fn display_name(value: Value, min: usize, max: usize) -> Result<String, String> {
    let text = trimmed_text(value, min, max)?;
    readable(&text)?;
    Ok(text)
}

/// Why `text` cannot be a name a person reads, if it cannot.
pub fn readable(text: &str) -> Result<(), String> {
    if let Some(bad) = text.chars().find(|c| is_forbidden_in_a_name(*c)) {
        return Err(format!(
            "must not contain control or text-direction characters (found U+{:04X})",
            bad as u32
        ));
    }
    if text.chars().all(is_invisible) {
        return Err("must contain a visible character".into());
    }
    Ok(())
}

/// A string kept as sent, at most `max` characters.
pub fn text_up_to(value: Value, max: usize) -> Result<String, String> {
    let text = string(value)?;
    if text.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else {
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        let errors = FieldReader::new(json!([1, 2]), &[]).err().unwrap();
        assert!(errors.iter().any(|(field, _)| field == "body"));
    }

    #[test]
    fn unknown_and_read_only_fields_are_reported_by_name() {
        let reader = FieldReader::new(json!({"id": "x", "colour": "red"}), &["id"]).unwrap();
        let errors = reader.finish().unwrap_err().into_map();
        assert_eq!(errors["id"], "is read-only and cannot be set");
        assert_eq!(errors["colour"], "is not a known field");
    }

    #[test]
    fn a_missing_required_field_is_reported() {
        let mut reader = FieldReader::new(json!({}), &[]).unwrap();
        assert!(reader.required("name", string).is_none());
        assert_eq!(
            reader.finish().unwrap_err().into_map()["name"],
            "is required"
        );
    }

    #[test]
    fn a_whole_number_may_be_written_with_a_fraction_of_zero() {
        assert_eq!(whole_number(&json!(3)), Some(3));
        assert_eq!(whole_number(&json!(3.0)), Some(3));
        assert_eq!(whole_number(&json!(3.5)), None);
        assert_eq!(whole_number(&json!(-1)), None);
        assert_eq!(whole_number(&json!("3")), None);
        assert_eq!(whole_number(&json!(1e300)), None);
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(trimmed_text(json!("é".repeat(100)), 1, 100).is_ok());
        assert!(trimmed_text(json!("é".repeat(101)), 1, 100).is_err());
    }

    #[test]
    fn a_name_needs_a_visible_character_and_no_control_or_bidi_override() {
        for bad in [
            "\u{200B}\u{200B}",
            "\u{FEFF}",
            " \u{3164} ",
            "a\u{0000}b",
            "bell\u{0007}",
            "two\nlines",
            "tab\tbed",
            "evil\u{202E}txt.exe",
            "\u{2066}isolated\u{2069}",
        ] {
            assert!(display_name(json!(bad), 1, 100).is_err(), "{bad:?}");
        }
        for good in [
            "Support Bot",
            "Ünïcödé",
            "日本語",
            "محادثة",
            "a\u{200D}b",
            "👩\u{200D}💻 team",
        ] {
            assert_eq!(display_name(json!(good), 1, 100).unwrap(), good);
        }
        assert!(
            display_name(json!("\u{200B}"), 1, 100)
                .unwrap_err()
                .contains("visible")
        );
    }

    #[test]
    fn the_length_limit_counts_what_was_sent_white_space_included() {
        assert!(trimmed_text(json!(format!(" {} ", "a".repeat(98))), 1, 100).is_ok());
        assert!(trimmed_text(json!(format!(" {} ", "a".repeat(99))), 1, 100).is_err());
    }

    #[test]
    fn white_space_only_text_counts_as_empty() {
        assert_eq!(
            trimmed_text(json!("   "), 1, 100).unwrap_err(),
            "must not be empty"
        );
    }
}
