//! Deleting a workspace that nothing hangs off any more, as the port's
//! `delete_workspace` describes. What is left of a workspace once its
//! assistants, projects and webhooks are gone sits in partitions named by
//! the workspace (its own, its listing, its usage, its webhooks' count) and
//! by each member (their notes of it, their conversations' listing), so the
//! members are read first and the partitions found from them. Project
//! tombstones (`DELETED#{ws}#{proj}`) are left to expire with the table's
//! TTL a week after their project went: their keys name projects no
//! longer listed anywhere.

use super::codec::{self, n, s};
use super::keys;
use super::requests::Refused;
use super::{BATCH_WRITE_MAX, DynamoStore, Item, key};
use crate::domain::ids::{UserId, WorkspaceId};
use crate::domain::workspace::WorkspaceDeletion;
use crate::ports::{Conflict, StoreError};
use futures_util::{StreamExt, TryStreamExt, stream};

/// Queries or batch writes in flight at once.
const REQUESTS_AT_ONCE: usize = 4;

impl DynamoStore {
    pub(super) async fn delete_whole_workspace(
        &self,
        ws: &WorkspaceId,
    ) -> Result<WorkspaceDeletion, StoreError> {
        let (pk, sk) = keys::workspace(ws);
        let workspace = self
            .get(pk.clone(), sk.clone())
            .await?
            .ok_or(StoreError::NotFound("workspace"))?;
        let slug = codec::text(&workspace, "slug")?.to_owned();
        let partition = keys::workspace_partition(ws);

        let own = self.query_partition(&partition, "").await?;
        if let Some(refusal) = self.what_hangs_off(ws, &own).await? {
            return Ok(refusal);
        }
        let mut memberships = Vec::new();
        for item in &own {
            if codec::text(item, keys::SK)?.starts_with(keys::MEMBER_PREFIX) {
                memberships.push(item.clone());
            }
        }
        let members = memberships
            .iter()
            .map(|item| {
                UserId::parse(codec::text(item, "userId")?).ok_or_else(|| {
                    StoreError::Corrupt(format!("a member of {ws} has a malformed user id"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        // No one acts in the workspace once their membership is gone.
        let mut records = memberships.len();
        self.delete_keys(keys_of(&memberships)?).await?;
        let own = self.query_partition(&partition, "").await?;
        if let Some(refusal) = self.what_hangs_off(ws, &own).await? {
            // Made by a request already past its membership check: the
            // members come back as they were, or no one could delete it.
            self.put_items(memberships).await?;
            return Ok(refusal);
        }

        let mut doomed = Vec::new();
        for item in &own {
            if codec::text(item, keys::SK)? != keys::WORKSPACE_SORT_KEY {
                doomed.push(item.clone());
            }
        }
        let mut partitions = vec![
            (keys::assistant_places_partition(ws), String::new()),
            (keys::usage_partition(ws), String::new()),
            (keys::webhooks_partition(ws), String::new()),
        ];
        for user in &members {
            partitions.push((keys::viewer_partition(ws, user), String::new()));
            partitions.push((keys::user_index(user), keys::creator_listing_prefix(ws)));
        }
        let found: Vec<Vec<Item>> = stream::iter(partitions)
            .map(|(pk, prefix)| async move { self.query_partition(&pk, &prefix).await })
            .buffer_unordered(REQUESTS_AT_ONCE)
            .try_collect()
            .await?;
        doomed.extend(found.into_iter().flatten());
        records += doomed.len();
        self.delete_keys(keys_of(&doomed)?).await?;

        // Last, so that a run cut short finds the workspace and finishes;
        // and only while it counts no assistant, since one made by a
        // request past its membership check may have landed since the
        // check above.
        let (slug_pk, slug_sk) = keys::slug(&slug);
        let last = self
            .transact_or(
                vec![
                    self.delete_unless_changed(
                        key(pk.clone(), sk.clone()),
                        vec![("assistantCount", n(0))],
                    ),
                    self.delete_unless_changed(
                        key(slug_pk, slug_sk),
                        vec![("workspaceId", s(ws.as_str()))],
                    ),
                ],
                |_| (),
            )
            .await;
        match last {
            Ok(()) => Ok(WorkspaceDeletion::Deleted {
                records: records + 2,
            }),
            Err(Refused::Store(error)) => Err(error),
            // Another run finished the deletion first.
            Err(Refused::Condition(())) if self.get(pk, sk).await?.is_none() => {
                Err(StoreError::NotFound("workspace"))
            }
            Err(Refused::Condition(())) => {
                self.put_items(memberships).await?;
                let own = self.query_partition(&partition, "").await?;
                match self.what_hangs_off(ws, &own).await? {
                    Some(refusal) => Ok(refusal),
                    None => Err(Conflict::ChangedMeanwhile("workspace").into()),
                }
            }
        }
    }

    /// The refusal, if any assistant, project or webhook is still there:
    /// `own` is the workspace's partition as just read.
    async fn what_hangs_off(
        &self,
        ws: &WorkspaceId,
        own: &[Item],
    ) -> Result<Option<WorkspaceDeletion>, StoreError> {
        let (mut assistants, mut projects) = (0, 0);
        for item in own {
            match keys::parse_sort_key(codec::text(item, keys::SK)?) {
                keys::SortKey::Assistant => assistants += 1,
                keys::SortKey::Project => projects += 1,
                _ => {}
            }
        }
        let webhooks = self
            .query_partition(&keys::webhooks_partition(ws), keys::WEBHOOK_PREFIX)
            .await?
            .len();
        Ok(
            (assistants + projects + webhooks > 0).then_some(WorkspaceDeletion::Refused {
                assistants,
                projects,
                webhooks,
            }),
        )
    }

    async fn delete_keys(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        in_batches(keys, |batch| self.batch_delete(batch)).await
    }

    async fn put_items(&self, items: Vec<Item>) -> Result<(), StoreError> {
        in_batches(items, |batch| self.batch_put(batch)).await
    }
}

/// `items` written by `write` in batches as large as a batch write takes,
/// [`REQUESTS_AT_ONCE`] of them in flight.
async fn in_batches<F, Written>(items: Vec<Item>, write: F) -> Result<(), StoreError>
where
    F: Fn(Vec<Item>) -> Written,
    Written: std::future::Future<Output = Result<(), StoreError>>,
{
    let batches: Vec<Vec<Item>> = items
        .chunks(BATCH_WRITE_MAX)
        .map(<[Item]>::to_vec)
        .collect();
    stream::iter(batches)
        .map(write)
        .buffer_unordered(REQUESTS_AT_ONCE)
        .try_collect::<()>()
        .await
}

/// The keys of `items`, read as the table returned them.
fn keys_of(items: &[Item]) -> Result<Vec<Item>, StoreError> {
    items
        .iter()
        .map(|item| {
            Ok(key(
                codec::text(item, keys::PK)?.to_owned(),
                codec::text(item, keys::SK)?.to_owned(),
            ))
        })
        .collect()
}
