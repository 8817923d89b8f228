//! Who may do what. Every route asks here; nothing else decides.
//!
//! Non-members and suspended members never get this far: to them the
//! workspace does not exist (404), so it cannot be probed.

use super::assistant::{Assistant, Visibility};
use super::ids::UserId;
use super::member::Membership;
use super::project::{Project, ProjectVisibility};
use super::role::Role;

/// An active member of one workspace, acting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
}

impl Actor {
    pub fn can_manage_workspace(&self) -> bool {
        self.role.manages_workspace()
    }

    /// Only owners delete a workspace: it takes every member's access.
    pub fn can_delete_workspace(&self) -> bool {
        self.role == Role::Owner
    }

    pub fn can_manage_assistants(&self) -> bool {
        self.role.manages_workspace()
    }

    /// `granted`: the actor holds an explicit access grant on this assistant.
    pub fn can_view_assistant(&self, assistant: &Assistant, granted: bool) -> bool {
        match assistant.visibility {
            Visibility::Public | Visibility::Workspace => true,
            Visibility::Private => {
                self.sees_every_assistant() || assistant.created_by == self.user_id || granted
            }
        }
    }

    /// Owners and admins see private assistants they neither made nor were
    /// granted; everyone else sees the private ones they did.
    pub fn sees_every_assistant(&self) -> bool {
        self.role.manages_workspace()
    }

    /// Owners and admins manage every project; a `workspace` project is
    /// readable by every active member, a `private` one only by grantees.
    pub fn can_view_project(&self, project: &Project, granted: bool) -> bool {
        self.role.manages_workspace()
            || project.visibility == ProjectVisibility::Workspace
            || granted
    }

    /// Owners may change anyone; admins everyone but owners, and they cannot
    /// make anyone an owner (ownership is the owners' to give).
    pub fn can_change_member(&self, target: &Membership, new_role: Option<Role>) -> bool {
        match self.role {
            Role::Owner => true,
            Role::Admin => target.role != Role::Owner && new_role != Some(Role::Owner),
            Role::Member | Role::Guest => false,
        }
    }

    pub fn can_add_member_as(&self, role: Role) -> bool {
        match self.role {
            Role::Owner => true,
            Role::Admin => role != Role::Owner,
            Role::Member | Role::Guest => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::assistant::AssistantChanges;
    use crate::domain::ids::{AssistantId, WorkspaceId};
    use crate::domain::member::Email;
    use crate::domain::role::MemberStatus;
    use crate::domain::time::Timestamp;
    use crate::domain::workspace::ModelSettings;

    fn assistant(visibility: Visibility, creator: &UserId) -> Assistant {
        let models = ModelSettings::new(vec!["m".into()], "m".into()).unwrap();
        let config = AssistantChanges::default().into_new_config(&models);
        Assistant {
            id: AssistantId::generate(),
            workspace_id: WorkspaceId::generate(),
            name: "a".into(),
            instructions: config.instructions,
            model: config.model,
            visibility,
            temperature: config.temperature,
            max_tokens: config.max_tokens,
            welcome_message: None,
            widget_enabled: false,
            project_count: 0,
            created_by: creator.clone(),
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
        }
    }

    fn actor(role: Role) -> Actor {
        Actor {
            user_id: UserId::generate(),
            role,
        }
    }

    #[test]
    fn a_member_sees_public_and_workspace_assistants_but_not_others_private_ones() {
        let member = actor(Role::Member);
        let someone = UserId::generate();
        assert!(member.can_view_assistant(&assistant(Visibility::Public, &someone), false));
        assert!(member.can_view_assistant(&assistant(Visibility::Workspace, &someone), false));
        assert!(!member.can_view_assistant(&assistant(Visibility::Private, &someone), false));
    }

    #[test]
    fn a_private_assistant_is_seen_by_its_creator_admins_and_grantees() {
        let someone = UserId::generate();
        let private = assistant(Visibility::Private, &someone);
        let creator = Actor {
            user_id: someone.clone(),
            role: Role::Guest,
        };
        assert!(creator.can_view_assistant(&private, false));
        assert!(actor(Role::Admin).can_view_assistant(&private, false));
        assert!(actor(Role::Owner).can_view_assistant(&private, false));
        assert!(actor(Role::Guest).can_view_assistant(&private, true));
    }

    #[test]
    fn only_owners_and_admins_manage_assistants() {
        assert!(actor(Role::Owner).can_manage_assistants());
        assert!(actor(Role::Admin).can_manage_assistants());
        assert!(!actor(Role::Member).can_manage_assistants());
        assert!(!actor(Role::Guest).can_manage_assistants());
    }

    #[test]
    fn an_admin_can_neither_touch_an_owner_nor_make_one() {
        let owner = Membership {
            workspace_id: WorkspaceId::generate(),
            user_id: UserId::generate(),
            email: Email::parse("o@x.io").unwrap(),
            name: "o".into(),
            role: Role::Owner,
            status: MemberStatus::Active,
            joined_at: Timestamp::now(),
        };
        let member = Membership {
            role: Role::Member,
            ..owner.clone()
        };
        let admin = actor(Role::Admin);
        assert!(!admin.can_change_member(&owner, Some(Role::Member)));
        assert!(!admin.can_change_member(&member, Some(Role::Owner)));
        assert!(admin.can_change_member(&member, Some(Role::Admin)));
        assert!(!admin.can_add_member_as(Role::Owner));
        assert!(actor(Role::Owner).can_change_member(&owner, Some(Role::Admin)));
    }
}
