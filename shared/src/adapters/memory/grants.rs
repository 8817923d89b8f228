//! Access grants on assistants and projects in memory.

use super::faults::Call;
use super::store::MemoryStore;
use crate::domain::access::{AccessGrant, AccessTarget};
use crate::domain::ids::{UserId, WorkspaceId};
use crate::domain::time::Timestamp;
use crate::ports::{GrantStore, StoreError};
use async_trait::async_trait;

#[async_trait]
impl GrantStore for MemoryStore {
    async fn grant_access(
        &self,
        ws: &WorkspaceId,
        on: &AccessTarget,
        user: &UserId,
    ) -> Result<AccessGrant, StoreError> {
        self.run(Call::Transaction, |t| {
            if !t.target_exists(ws, on) {
                return Err(StoreError::NotFound(on.noun()));
            }
            if !t.members.contains_key(&(ws.clone(), user.clone())) {
                return Err(StoreError::NotFound("member"));
            }
            // The first grant's time stays, and is what every grant answers.
            let granted_at = *t
                .grants
                .entry((ws.clone(), on.clone(), user.clone()))
                .or_insert_with(Timestamp::now);
            Ok(AccessGrant {
                user_id: user.clone(),
                granted_at,
            })
        })
        .await
    }

    async fn revoke_access(
        &self,
        ws: &WorkspaceId,
        on: &AccessTarget,
        user: &UserId,
    ) -> Result<(), StoreError> {
        self.run(Call::Transaction, |t| {
            t.grants
                .remove(&(ws.clone(), on.clone(), user.clone()))
                .map(|_| ())
                .ok_or(StoreError::NotFound("access grant"))
        })
        .await
    }

    async fn list_grants(
        &self,
        ws: &WorkspaceId,
        on: &AccessTarget,
    ) -> Result<Vec<AccessGrant>, StoreError> {
        self.run(Call::Read, |t| {
            let mut grants: Vec<AccessGrant> = t
                .grants
                .iter()
                .filter(|((w, target, _), _)| w == ws && target == on)
                .map(|((_, _, user), at)| AccessGrant {
                    user_id: user.clone(),
                    granted_at: *at,
                })
                .collect();
            grants.sort_by(|a, b| {
                a.granted_at
                    .cmp(&b.granted_at)
                    .then_with(|| a.user_id.cmp(&b.user_id))
            });
            Ok(grants)
        })
        .await
    }

    async fn target_exists(
        &self,
        ws: &WorkspaceId,
        target: &AccessTarget,
    ) -> Result<bool, StoreError> {
        self.run(Call::Read, |t| Ok(t.target_exists(ws, target)))
            .await
    }
}
