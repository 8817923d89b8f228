//! Explicit access grants on private assistants and projects.

use super::codec::{self, s, time};
use super::keys::{self, SortKey};
use super::requests::Refused;
use super::{DynamoStore, Item, key};
use crate::domain::access::{AccessGrant, AccessTarget, WithGrant};
use crate::domain::ids::{UserId, WorkspaceId};
use crate::domain::member::WorkspaceContext;
use crate::domain::time::Timestamp;
use crate::ports::{GrantStore, StoreError};
use async_trait::async_trait;
use std::collections::HashSet;

fn not_found(target: &AccessTarget) -> StoreError {
    match target {
        AccessTarget::Assistant(_) => StoreError::NotFound("assistant"),
        AccessTarget::Project(_) => StoreError::NotFound("project"),
    }
}

/// A target's item, decoded, with whether the reader holds a grant on it.
pub(super) fn decoded_with_grant<T>(
    item: Option<Item>,
    granted: bool,
    decode: impl Fn(&Item) -> Result<T, StoreError>,
) -> Result<Option<WithGrant<T>>, StoreError> {
    item.map(|item| {
        Ok(WithGrant {
            item: decode(&item)?,
            granted,
        })
    })
    .transpose()
}

/// What a `BatchGetItem` of a workspace's keys brought back, sorted by
/// kind: one reading of sort keys for every read that combines them.
#[derive(Default)]
pub(super) struct Sorted {
    workspace: Option<crate::domain::workspace::Workspace>,
    membership: Option<crate::domain::member::Membership>,
    target: Option<Item>,
    granted: bool,
}

impl Sorted {
    pub(super) fn from(items: Vec<Item>) -> Result<Self, StoreError> {
        let mut sorted = Self::default();
        for item in items {
            let sk = codec::text(&item, keys::SK)?;
            if sk == keys::WORKSPACE_SORT_KEY {
                sorted.workspace = Some(codec::workspace(&item)?);
            } else if sk.starts_with(keys::MEMBER_PREFIX) {
                sorted.membership = Some(codec::membership(&item)?);
            } else {
                match keys::parse_sort_key(sk) {
                    SortKey::Grant(..) => sorted.granted = true,
                    SortKey::Assistant | SortKey::Project => sorted.target = Some(item),
                    _ => {}
                }
            }
        }
        Ok(sorted)
    }

    /// The workspace with the caller's membership (when both were found),
    /// the target's item, and whether the caller holds a grant on it.
    pub(super) fn into_parts(self) -> (Option<WorkspaceContext>, Option<Item>, bool) {
        let context = self
            .workspace
            .zip(self.membership)
            .map(|(workspace, membership)| WorkspaceContext {
                workspace,
                membership,
            });
        (context, self.target, self.granted)
    }
}

impl DynamoStore {
    /// An assistant's or project's item and whether `user` holds a grant on
    /// it, in one round trip.
    pub(super) async fn get_with_grant(
        &self,
        ws: &WorkspaceId,
        target: &AccessTarget,
        user: &UserId,
    ) -> Result<(Option<Item>, bool), StoreError> {
        let (tpk, tsk) = keys::target(ws, target);
        let (gpk, gsk) = keys::grant(ws, target, user);
        let read = Sorted::from(self.batch_get(vec![key(tpk, tsk), key(gpk, gsk)]).await?)?;
        let (_, target, granted) = read.into_parts();
        Ok((target, granted))
    }

    /// The caller's workspace and membership, the target's item and whether
    /// `user` holds a grant on it: four keys of one partition in one
    /// `BatchGetItem`, so a warm read behind a membership check costs one
    /// round trip.
    pub(super) async fn get_in_context(
        &self,
        ws: &WorkspaceId,
        target: &AccessTarget,
        user: &UserId,
    ) -> Result<(Option<WorkspaceContext>, Option<Item>, bool), StoreError> {
        let (wpk, wsk) = keys::workspace(ws);
        let (mpk, msk) = keys::member(ws, user);
        let (tpk, tsk) = keys::target(ws, target);
        let (gpk, gsk) = keys::grant(ws, target, user);
        let wanted = vec![key(wpk, wsk), key(mpk, msk), key(tpk, tsk), key(gpk, gsk)];
        Ok(Sorted::from(self.batch_get(wanted).await?)?.into_parts())
    }

    /// Every assistant or project (by `prefix`) of the workspace, and the
    /// targets `user` holds a grant on: one query, since grants live beside
    /// their target.
    pub(super) async fn list_with_grants(
        &self,
        ws: &WorkspaceId,
        prefix: &str,
        user: &UserId,
    ) -> Result<(Vec<Item>, HashSet<AccessTarget>), StoreError> {
        let mut targets = Vec::new();
        let mut granted = HashSet::new();
        for item in self
            .query_partition(&keys::workspace_partition(ws), prefix)
            .await?
        {
            match keys::parse_sort_key(codec::text(&item, keys::SK)?) {
                SortKey::Assistant | SortKey::Project => targets.push(item),
                SortKey::Grant(target, grantee) if &grantee == user => {
                    granted.insert(target);
                }
                _ => {}
            }
        }
        Ok((targets, granted))
    }
}

#[async_trait]
impl GrantStore for DynamoStore {
    /// Grants a member access. Both the target and the membership must
    /// exist; granting twice keeps the first grant's time.
    async fn grant_access(
        &self,
        ws: &WorkspaceId,
        on: &AccessTarget,
        user: &UserId,
    ) -> Result<AccessGrant, StoreError> {
        let (tpk, tsk) = keys::target(ws, on);
        let (mpk, msk) = keys::member(ws, user);
        let (gpk, gsk) = keys::grant(ws, on, user);
        let now = Timestamp::now();
        let mut grant = key(gpk.clone(), gsk.clone());
        grant.extend([
            ("grantedAt".to_owned(), time(now)),
            ("userId".to_owned(), s(user.as_str())),
        ]);
        let mut items = vec![
            self.require_exists(key(tpk, tsk)),
            self.require_exists(key(mpk, msk)),
            self.put_item(grant, "attribute_not_exists(PK)"),
        ];
        // The grantee's note of it, which their list of assistants reads.
        if let AccessTarget::Assistant(assistant) = on {
            let (npk, nsk) = keys::granted_to(ws, user, assistant);
            items.push(self.put_item(key(npk, nsk), "attribute_not_exists(PK)"));
        }
        // What was missing (the target, the member), or the grant there
        // already.
        let written = self.transact_or(items, |i| i).await;
        match written {
            Ok(()) => Ok(AccessGrant {
                user_id: user.clone(),
                granted_at: now,
            }),
            // Granted before: the answer is the grant as stored, first time
            // and all.
            Err(Refused::Condition(0)) => Err(not_found(on)),
            Err(Refused::Condition(1)) => Err(StoreError::NotFound("member")),
            Err(Refused::Condition(_)) => {
                let stored = self
                    .get(gpk, gsk)
                    .await?
                    .ok_or_else(|| StoreError::Transient("the grant changed meanwhile".into()))?;
                Ok(AccessGrant {
                    user_id: user.clone(),
                    granted_at: codec::timestamp(&stored, "grantedAt")?,
                })
            }
            Err(Refused::Store(e)) => Err(e),
        }
    }

    async fn revoke_access(
        &self,
        ws: &WorkspaceId,
        on: &AccessTarget,
        user: &UserId,
    ) -> Result<(), StoreError> {
        let (gpk, gsk) = keys::grant(ws, on, user);
        let mut items = vec![self.delete_item(key(gpk, gsk), "attribute_exists(PK)")];
        if let AccessTarget::Assistant(assistant) = on {
            let (npk, nsk) = keys::granted_to(ws, user, assistant);
            items.push(self.delete_key(key(npk, nsk)));
        }
        self.transact(items, |_| StoreError::NotFound("access grant"))
            .await
    }

    async fn list_grants(
        &self,
        ws: &WorkspaceId,
        on: &AccessTarget,
    ) -> Result<Vec<AccessGrant>, StoreError> {
        let items = self
            .query_partition(&keys::workspace_partition(ws), &keys::grants_prefix(on))
            .await?;
        let mut grants = items
            .iter()
            .map(|item| {
                Ok(AccessGrant {
                    user_id: UserId::parse(codec::text(item, "userId")?)
                        .ok_or_else(|| StoreError::Corrupt("grant: userId".into()))?,
                    granted_at: codec::timestamp(item, "grantedAt")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        grants.sort_by(|a, b| {
            a.granted_at
                .cmp(&b.granted_at)
                .then_with(|| a.user_id.cmp(&b.user_id))
        });
        Ok(grants)
    }

    /// Whether the assistant or project exists.
    async fn target_exists(
        &self,
        ws: &WorkspaceId,
        target: &AccessTarget,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = keys::target(ws, target);
        Ok(self.get(pk, sk).await?.is_some())
    }
}
