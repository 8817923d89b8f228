//! What a widget's visitor leaves behind: their contact details (a lead),
//! and what they thought of an answer. Both are personal data: never
//! logged, shown only to the workspace's owners and admins.

use super::fields::{FieldErrors, FieldReader, display_name, string, text_up_to};
use super::member::Email;
use super::sms::PhoneNumber;
use super::time::Timestamp;
use serde_json::Value;

pub const LEAD_NAME_MAX_CHARS: usize = 100;
pub const FEEDBACK_COMMENT_MAX_CHARS: usize = 2_000;

/// A visitor's contact details, as they gave them.
#[derive(Clone, PartialEq)]
pub struct Lead {
    pub email: Email,
    pub name: Option<String>,
    pub phone: Option<PhoneNumber>,
    pub at: Timestamp,
}

/// Never the details themselves: a debug dump must not leak a person
/// (but in an audit, see [`super::redaction`]).
impl std::fmt::Debug for Lead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if super::redaction::shown_whole() {
            return f
                .debug_struct("Lead")
                .field("email", &self.email.as_str())
                .field("name", &self.name)
                .field("phone", &self.phone)
                .finish();
        }
        f.debug_struct("Lead")
            .field("named", &self.name.is_some())
            .field("phone", &self.phone)
            .finish_non_exhaustive()
    }
}

impl Lead {
    /// The body of `POST .../lead`: `email` required, `name` and `phone`
    /// (E.164) optional, nothing else.
    pub fn from_json(body: Value, at: Timestamp) -> Result<Self, FieldErrors> {
        let mut reader = FieldReader::new(body, &[])?;
        let email = reader.required("email", |v| {
            Email::parse(&string(v)?).ok_or_else(|| "must be an email address".to_owned())
        });
        let name = reader
            .nullable("name", |v| display_name(v, 1, LEAD_NAME_MAX_CHARS))
            .flatten();
        let phone = reader
            .nullable("phone", |v| {
                PhoneNumber::parse(string(v)?.trim()).ok_or_else(|| {
                    "must be a phone number in international form, such as +14155550100".to_owned()
                })
            })
            .flatten();
        reader.finish()?;
        Ok(Self {
            email: email.ok_or_else(|| FieldErrors::single("email", "is required"))?,
            name,
            phone,
            at,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rating {
    Up,
    Down,
}

impl Rating {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "up" => Some(Self::Up),
            "down" => Some(Self::Down),
            _ => None,
        }
    }
}

/// What a reader thought of one answer; a second rating replaces the first.
#[derive(Clone, Debug, PartialEq)]
pub struct Feedback {
    pub rating: Rating,
    pub comment: Option<String>,
    pub at: Timestamp,
}

/// The body of `POST .../feedback`.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedbackRequest {
    /// As sent: an id that names no answer of the session is a 404.
    pub message_id: String,
    pub feedback: Feedback,
}

impl FeedbackRequest {
    pub fn from_json(body: Value, at: Timestamp) -> Result<Self, FieldErrors> {
        let mut reader = FieldReader::new(body, &[])?;
        let message_id = reader.required("messageId", string);
        let rating = reader.required("rating", |v| {
            Rating::parse(&string(v)?).ok_or_else(|| "must be up or down".to_owned())
        });
        let comment = reader
            .nullable("comment", |v| text_up_to(v, FEEDBACK_COMMENT_MAX_CHARS))
            .flatten()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        reader.finish()?;
        // `required` has reported either one missing, so both are here.
        let missing = || FieldErrors::single("messageId", "is required");
        Ok(Self {
            message_id: message_id.ok_or_else(missing)?,
            feedback: Feedback {
                rating: rating.ok_or_else(missing)?,
                comment,
                at,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_lead_needs_an_email_and_may_give_a_name_and_a_phone_number() {
        let at = Timestamp::from_millis(1);
        let lead = Lead::from_json(
            json!({"email": " Ada@Example.com ", "name": " Ada ", "phone": "+14155550100"}),
            at,
        )
        .unwrap();
        assert_eq!(lead.email.as_str(), "ada@example.com");
        assert_eq!(lead.name.as_deref(), Some("Ada"));
        assert_eq!(lead.phone.unwrap().as_str(), "+14155550100");
        let bare = Lead::from_json(json!({"email": "ada@example.com"}), at).unwrap();
        assert_eq!((bare.name, bare.phone), (None, None));
    }

    #[test]
    fn every_bad_field_of_a_lead_is_named() {
        let at = Timestamp::from_millis(1);
        let errors = Lead::from_json(
            json!({"email": "not-an-email", "phone": "555-0100", "name": "", "company": "x"}),
            at,
        )
        .unwrap_err()
        .into_map();
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            ["company", "email", "name", "phone"]
        );
        assert!(
            Lead::from_json(json!({}), at).unwrap_err().into_map()["email"].contains("required")
        );
    }

    #[test]
    fn feedback_is_up_or_down_with_an_optional_comment() {
        let at = Timestamp::from_millis(1);
        let request = FeedbackRequest::from_json(
            json!({"messageId": "msg_x", "rating": "down", "comment": "  wrong price "}),
            at,
        )
        .unwrap();
        assert_eq!(request.feedback.rating, Rating::Down);
        assert_eq!(request.feedback.comment.as_deref(), Some("wrong price"));
        let errors = FeedbackRequest::from_json(json!({"rating": "meh"}), at)
            .unwrap_err()
            .into_map();
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["messageId", "rating"]);
    }
}
