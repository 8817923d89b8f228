//! People and their memberships in workspaces.

use super::fields::{FieldErrors, FieldReader, string};
use super::ids::{UserId, WorkspaceId};
use super::role::{MemberStatus, Role};
use super::time::Timestamp;
use serde_json::Value;

pub const EMAIL_MAX: usize = 254;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub created_at: Timestamp,
}

/// An email address, lower-cased so that one person is one account.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// A deliberately small check (one `@`, a dotted domain, no spaces, no
    /// control or text-direction characters, since the part before the `@`
    /// is a new member's first name): the address is an invitation handle,
    /// never used to send mail from here.
    pub fn parse(value: &str) -> Option<Self> {
        let email = value.trim().to_lowercase();
        let (local, domain) = email.split_once('@')?;
        let plausible = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && email.len() <= EMAIL_MAX
            && !email.chars().any(char::is_whitespace)
            && super::fields::readable(&email).is_ok();
        plausible.then_some(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`, used as a display name until one is set.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or(&self.0)
    }
}

/// A caller inside one workspace: the workspace and the caller's
/// membership, read together.
#[derive(Clone, Debug)]
pub struct WorkspaceContext {
    pub workspace: super::workspace::Workspace,
    pub membership: Membership,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub status: MemberStatus,
    pub joined_at: Timestamp,
}

impl Membership {
    /// Only active owners count towards "a workspace always has an owner".
    pub fn is_active_owner(&self) -> bool {
        self.role == Role::Owner && self.status == MemberStatus::Active
    }
}

/// `POST .../members`: who to add, with which role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMember {
    pub email: Email,
    pub role: Role,
}

/// `PATCH .../members/{userId}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberChanges {
    pub role: Option<Role>,
    pub status: Option<MemberStatus>,
}

const MEMBER_READ_ONLY: &[&str] = &["userId", "name", "joinedAt", "workspaceId"];

fn parse_role(value: Value) -> Result<Role, String> {
    let message = || format!("must be {}", Role::NAMES);
    Role::parse(&string(value).map_err(|_| message())?).ok_or_else(message)
}

fn parse_status(value: Value) -> Result<MemberStatus, String> {
    let message = || "must be active or suspended".to_owned();
    MemberStatus::parse(&string(value).map_err(|_| message())?).ok_or_else(message)
}

impl NewMember {
    pub fn from_json(body: Value) -> Result<Self, FieldErrors> {
        let mut reader = FieldReader::new(body, MEMBER_READ_ONLY)?;
        let email = reader.required("email", |v| {
            Email::parse(&string(v)?).ok_or_else(|| "must be an email address".into())
        });
        let role = reader.required("role", parse_role);
        reader.finish()?;
        match (email, role) {
            (Some(email), Some(role)) => Ok(Self { email, role }),
            _ => unreachable!("finish() reports a missing required field"),
        }
    }
}

impl MemberChanges {
    pub fn from_json(body: Value) -> Result<Self, FieldErrors> {
        let mut reader = FieldReader::new(body, &["userId", "email", "name", "joinedAt"])?;
        let changes = Self {
            role: reader.optional("role", parse_role),
            status: reader.optional("status", parse_status),
        };
        reader.finish()?;
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "ann",
            "ann@",
            "@x.com",
            "ann@localhost",
            "a b@x.com",
            "a@x.com.",
            "f\u{16}@x.com",
            "ann@x\u{1b}.com",
            "ann\u{202e}@x.com",
        ] {
            assert!(Email::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn adding_a_member_needs_an_email_and_a_known_role() {
        let errors = NewMember::from_json(json!({"email": "x", "role": "boss"})).unwrap_err();
        let errors = errors.into_map();
        assert_eq!(errors["email"], "must be an email address");
        assert_eq!(errors["role"], "must be owner, admin, member or guest");
    }
}
