//! Workspaces and memberships. The workspace item carries `memberCount`,
//! `assistantCount` and `ownerCount` (active owners), each changed in the same
//! transaction as the items it counts, so they cannot drift.

use super::codec::{self, models_list, n, s, time};
use super::keys::{self, GSI1PK, GSI1SK};
use super::requests::{Refused, UpdateSpec};
use super::{DynamoStore, Item, key};
use crate::domain::ids::{UserId, WorkspaceId};
use crate::domain::member::{Email, MemberChanges, Membership, User, WorkspaceContext};
use crate::domain::role::{MemberStatus, Role};
use crate::domain::time::Timestamp;
use crate::domain::workspace::{
    ModelSettings, NewWorkspace, Workspace, WorkspaceChanges, WorkspaceDeletion,
};
use crate::ports::store::slugs_for;
use crate::ports::{Conflict, StoreError, WorkspaceStore};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use std::collections::HashMap;

impl DynamoStore {
    /// The user's profile, and a copy under the email so that finding a user
    /// by email is one read. Both are written once and never changed.
    pub(super) fn user_items(&self, user: &User) -> Vec<TransactWriteItem> {
        let profile_attributes = [
            ("id".to_owned(), s(user.id.as_str())),
            ("email".to_owned(), s(user.email.as_str())),
            ("name".to_owned(), s(user.name.as_str())),
            ("createdAt".to_owned(), time(user.created_at)),
        ];
        let (pk, sk) = keys::user(&user.id);
        let mut profile = key(pk, sk);
        profile.extend(profile_attributes.clone());
        let (pk, sk) = keys::email(&user.email);
        let mut by_email = key(pk, sk);
        by_email.extend(profile_attributes);
        vec![
            self.put_item(profile, "attribute_not_exists(PK)"),
            self.put_item(by_email, "attribute_not_exists(PK)"),
        ]
    }
}

impl DynamoStore {
    fn workspace_item(&self, workspace: &Workspace) -> Item {
        let (pk, sk) = keys::workspace(&workspace.id);
        let mut item = key(pk, sk);
        item.extend([
            ("id".to_owned(), s(workspace.id.as_str())),
            ("name".to_owned(), s(workspace.name.as_str())),
            ("slug".to_owned(), s(workspace.slug.as_str())),
            (
                "allowedModels".to_owned(),
                models_list(&workspace.models.allowed_models),
            ),
            (
                "defaultModel".to_owned(),
                s(workspace.models.default_model.as_str()),
            ),
            ("memberCount".to_owned(), n(workspace.member_count)),
            ("ownerCount".to_owned(), n(1)),
            ("assistantCount".to_owned(), n(workspace.assistant_count)),
            ("createdAt".to_owned(), time(workspace.created_at)),
            ("updatedAt".to_owned(), time(workspace.updated_at)),
        ]);
        item
    }

    fn slug_item(&self, workspace: &Workspace) -> Item {
        let (pk, sk) = keys::slug(&workspace.slug);
        let mut item = key(pk, sk);
        item.insert("workspaceId".into(), s(workspace.id.as_str()));
        item
    }

    fn member_item(
        &self,
        ws: &WorkspaceId,
        user: &User,
        role: Role,
        status: MemberStatus,
        joined_at: Timestamp,
    ) -> Item {
        let (pk, sk) = keys::member(ws, &user.id);
        let (gsi_pk, gsi_sk) = keys::membership_index(ws, &user.id);
        let mut item = key(pk, sk);
        item.extend([
            (GSI1PK.to_owned(), s(gsi_pk)),
            (GSI1SK.to_owned(), s(gsi_sk)),
            ("workspaceId".to_owned(), s(ws.as_str())),
            ("userId".to_owned(), s(user.id.as_str())),
            ("email".to_owned(), s(user.email.as_str())),
            ("name".to_owned(), s(user.name.as_str())),
            ("role".to_owned(), s(role.as_str())),
            ("status".to_owned(), s(status.as_str())),
            ("joinedAt".to_owned(), time(joined_at)),
        ]);
        item
    }

    /// `ownerCount` moved by `delta`; a decrease must leave one owner.
    fn owner_count_change(&self, ws: &WorkspaceId, delta: i8) -> TransactWriteItem {
        let (pk, sk) = keys::workspace(ws);
        let mut values = vec![(":delta", n(delta))];
        let condition = if delta < 0 {
            values.push((":one", n(1)));
            "ownerCount > :one"
        } else {
            "attribute_exists(PK)"
        };
        self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: "SET ownerCount = ownerCount + :delta",
            condition: Some(condition),
            names: &[],
            values,
        })
    }
}

#[async_trait]
impl WorkspaceStore for DynamoStore {
    /// Creates a user; a taken email is a conflict.
    async fn create_user(&self, email: Email, name: String) -> Result<User, StoreError> {
        let user = User {
            id: UserId::generate(),
            email,
            name,
            created_at: Timestamp::now(),
        };
        self.transact(self.user_items(&user), |_| Conflict::EmailTaken.into())
            .await?;
        Ok(user)
    }

    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let (pk, sk) = keys::email(email);
        self.get(pk, sk)
            .await?
            .as_ref()
            .map(codec::user)
            .transpose()
    }

    async fn get_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let (pk, sk) = keys::user(id);
        self.get(pk, sk)
            .await?
            .as_ref()
            .map(codec::user)
            .transpose()
    }

    /// Creates a workspace with its creator as the one owner. A slug the
    /// caller chose that is taken is a conflict; a derived one gets a suffix.
    async fn create_workspace(
        &self,
        new: NewWorkspace,
        owner: &User,
    ) -> Result<Workspace, StoreError> {
        let (slugs, all_taken) = slugs_for(&new);
        let mut workspace = Workspace::create(new, String::new());
        let now = workspace.created_at;
        for slug in slugs {
            workspace.slug = slug;
            let items = vec![
                self.put_fresh(self.workspace_item(&workspace)),
                self.put_item(self.slug_item(&workspace), "attribute_not_exists(PK)"),
                self.put_item(
                    self.member_item(&workspace.id, owner, Role::Owner, MemberStatus::Active, now),
                    "attribute_not_exists(PK)",
                ),
            ];
            // Whether the slug was taken (else the id collided).
            match self.transact_or(items, |i| i == 1).await {
                Ok(()) => return Ok(workspace),
                Err(Refused::Condition(true)) => continue,
                Err(Refused::Condition(false)) => {
                    return Err(Conflict::IdCollision("workspace").into());
                }
                Err(Refused::Store(e)) => return Err(e),
            }
        }
        Err(all_taken.into())
    }

    /// The workspace and the caller's membership in one consistent read.
    /// `None` when either is missing: to a non-member the workspace does not
    /// exist.
    async fn workspace_context(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Option<WorkspaceContext>, StoreError> {
        let (wpk, wsk) = keys::workspace(ws);
        let (mpk, msk) = keys::member(ws, user);
        let items = self.batch_get(vec![key(wpk, wsk), key(mpk, msk)]).await?;
        Ok(super::grants::Sorted::from(items)?.into_parts().0)
    }

    /// Every workspace the user is a member of (any status), with the
    /// membership, oldest first.
    async fn list_workspaces_of(&self, user: &UserId) -> Result<Vec<WorkspaceContext>, StoreError> {
        let memberships: Vec<Membership> = self
            .query_index(&keys::user_index(user), keys::WORKSPACE_INDEX_PREFIX)
            .await?
            .iter()
            .map(codec::membership)
            .collect::<Result<_, _>>()?;
        let workspace_keys = memberships
            .iter()
            .map(|m| {
                let (pk, sk) = keys::workspace(&m.workspace_id);
                key(pk, sk)
            })
            .collect();
        let mut workspaces: HashMap<WorkspaceId, Workspace> = self
            .batch_get(workspace_keys)
            .await?
            .iter()
            .map(|item| codec::workspace(item).map(|w| (w.id.clone(), w)))
            .collect::<Result<_, _>>()?;
        let mut contexts: Vec<WorkspaceContext> = memberships
            .into_iter()
            .filter_map(|membership| {
                workspaces
                    .remove(&membership.workspace_id)
                    .map(|workspace| WorkspaceContext {
                        workspace,
                        membership,
                    })
            })
            .collect();
        contexts.sort_by(|a, b| {
            a.workspace
                .created_at
                .cmp(&b.workspace.created_at)
                .then_with(|| a.workspace.id.cmp(&b.workspace.id))
        });
        Ok(contexts)
    }

    /// Applies a validated change. `current` is the workspace as the caller
    /// read it; a concurrent slug change makes this a conflict.
    async fn update_workspace(
        &self,
        current: &Workspace,
        changes: WorkspaceChanges,
        models: ModelSettings,
    ) -> Result<Workspace, StoreError> {
        let updated = current.changed(changes, models);
        let (pk, sk) = keys::workspace(&current.id);
        let mut items = vec![self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: "SET #name = :name, slug = :slug, allowedModels = :models, \
                         defaultModel = :default, updatedAt = :now",
            condition: Some("attribute_exists(PK) AND slug = :old_slug"),
            names: &[("#name", "name")],
            values: vec![
                (":name", s(updated.name.as_str())),
                (":slug", s(updated.slug.as_str())),
                (":models", models_list(&updated.models.allowed_models)),
                (":default", s(updated.models.default_model.as_str())),
                (":now", time(updated.updated_at)),
                (":old_slug", s(current.slug.as_str())),
            ],
        })];
        if updated.slug != current.slug {
            items.push(self.put_item(self.slug_item(&updated), "attribute_not_exists(PK)"));
            let (pk, sk) = keys::slug(&current.slug);
            items.push(self.delete_item(key(pk, sk), "attribute_exists(PK)"));
        }
        let slug = updated.slug.clone();
        self.transact(items, |i| match i {
            1 => Conflict::SlugTaken(slug.clone()).into(),
            _ => Conflict::ChangedMeanwhile("workspace").into(),
        })
        .await?;
        Ok(updated)
    }

    async fn list_members(&self, ws: &WorkspaceId) -> Result<Vec<Membership>, StoreError> {
        let mut members: Vec<Membership> = self
            .query_partition(&keys::workspace_partition(ws), keys::MEMBER_PREFIX)
            .await?
            .iter()
            .map(codec::membership)
            .collect::<Result<_, _>>()?;
        members.sort_by(|a, b| {
            a.joined_at
                .cmp(&b.joined_at)
                .then_with(|| a.user_id.cmp(&b.user_id))
        });
        Ok(members)
    }

    async fn get_member(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Option<Membership>, StoreError> {
        let (pk, sk) = keys::member(ws, user);
        self.get(pk, sk)
            .await?
            .as_ref()
            .map(codec::membership)
            .transpose()
    }

    /// Adds a user to a workspace. `new_user`: the user does not exist yet and
    /// is created in the same transaction.
    async fn add_member(
        &self,
        ws: &WorkspaceId,
        user: &User,
        new_user: bool,
        role: Role,
    ) -> Result<Membership, StoreError> {
        let now = Timestamp::now();
        let mut items = if new_user {
            self.user_items(user)
        } else {
            Vec::new()
        };
        let user_items = items.len();
        items.push(self.put_item(
            self.member_item(ws, user, role, MemberStatus::Active, now),
            "attribute_not_exists(PK)",
        ));
        let (pk, sk) = keys::workspace(ws);
        items.push(self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: "SET memberCount = memberCount + :one, ownerCount = ownerCount + :owners",
            condition: Some("attribute_exists(PK)"),
            names: &[],
            values: vec![
                (":one", n(1)),
                (":owners", n(u8::from(role == Role::Owner))),
            ],
        }));
        self.transact(items, |i| {
            if i < user_items {
                Conflict::EmailTakenMeanwhile.into()
            } else if i == user_items {
                Conflict::AlreadyMember.into()
            } else {
                StoreError::NotFound("workspace")
            }
        })
        .await?;
        Ok(Membership {
            workspace_id: ws.clone(),
            user_id: user.id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            role,
            status: MemberStatus::Active,
            joined_at: now,
        })
    }

    /// Changes a member's role or status. Refused when it would leave the
    /// workspace without an active owner, and when the member changed since
    /// `current` was read.
    async fn change_member(
        &self,
        current: &Membership,
        changes: MemberChanges,
    ) -> Result<Membership, StoreError> {
        let updated = Membership {
            role: changes.role.unwrap_or(current.role),
            status: changes.status.unwrap_or(current.status),
            ..current.clone()
        };
        let owner_delta = i8::from(updated.is_active_owner()) - i8::from(current.is_active_owner());
        let (pk, sk) = keys::member(&current.workspace_id, &current.user_id);
        let mut items = vec![self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: "SET #role = :role, #status = :status",
            condition: Some("#role = :old_role AND #status = :old_status"),
            names: &[("#role", "role"), ("#status", "status")],
            values: vec![
                (":role", s(updated.role.as_str())),
                (":status", s(updated.status.as_str())),
                (":old_role", s(current.role.as_str())),
                (":old_status", s(current.status.as_str())),
            ],
        })];
        if owner_delta != 0 {
            items.push(self.owner_count_change(&current.workspace_id, owner_delta));
        }
        self.transact(items, |i| match i {
            0 => Conflict::ChangedMeanwhile("member").into(),
            _ => StoreError::LastOwner,
        })
        .await?;
        Ok(updated)
    }

    /// Removes a membership; the last active owner cannot be removed.
    /// The member's grants go first: if that fails, the member is still
    /// there to remove again; once the membership is gone, no grant of
    /// theirs is left for the same person to find when added back.
    async fn remove_member(&self, current: &Membership) -> Result<(), StoreError> {
        let suffix = keys::grant_suffix(&current.user_id);
        let partition = keys::workspace_partition(&current.workspace_id);
        // Their notes of the grants, which their list of assistants reads.
        let notes = keys::viewer_partition(&current.workspace_id, &current.user_id);
        let (everything, notes) = tokio::try_join!(
            self.query_partition(&partition, ""),
            self.query_partition(&notes, keys::GRANTED_PREFIX),
        )?;
        let grants: Vec<Item> = everything
            .iter()
            .filter(|item| codec::text(item, keys::SK).is_ok_and(|sk| sk.ends_with(&suffix)))
            .chain(&notes)
            .map(|item| {
                Ok(key(
                    codec::text(item, keys::PK)?.to_owned(),
                    codec::text(item, keys::SK)?.to_owned(),
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        for chunk in grants.chunks(super::BATCH_WRITE_MAX) {
            self.batch_delete(chunk.to_vec()).await?;
        }
        let (pk, sk) = keys::member(&current.workspace_id, &current.user_id);
        let member_key = key(pk, sk);
        let mut condition_values = vec![
            (":old_role", s(current.role.as_str())),
            (":old_status", s(current.status.as_str())),
        ];
        let names = [("#role", "role"), ("#status", "status")];
        let delete = TransactWriteItem::builder()
            .delete(
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(member_key))
                    .condition_expression("#role = :old_role AND #status = :old_status")
                    .set_expression_attribute_names(Some(
                        names
                            .iter()
                            .map(|(p, n)| ((*p).to_owned(), (*n).to_owned()))
                            .collect(),
                    ))
                    .set_expression_attribute_values(Some(
                        condition_values
                            .drain(..)
                            .map(|(p, v)| (p.to_owned(), v))
                            .collect(),
                    ))
                    .build()
                    .expect("table, key and condition are set"),
            )
            .build();
        let (pk, sk) = keys::workspace(&current.workspace_id);
        let owners = i8::from(current.is_active_owner());
        let count = self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: "SET memberCount = memberCount - :one, ownerCount = ownerCount - :owners",
            condition: Some(if owners > 0 {
                "ownerCount > :one"
            } else {
                "attribute_exists(PK)"
            }),
            names: &[],
            values: vec![(":one", n(1)), (":owners", n(owners))],
        });
        self.transact(vec![delete, count], |i| match i {
            0 => Conflict::ChangedMeanwhile("member").into(),
            _ => StoreError::LastOwner,
        })
        .await
    }

    async fn delete_workspace(&self, ws: &WorkspaceId) -> Result<WorkspaceDeletion, StoreError> {
        self.delete_whole_workspace(ws).await
    }
}
