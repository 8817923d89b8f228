//! Assistants, their access grants, and their places in the workspace's
//! listing.

use super::codec::{self, n, s, time};
use super::grants::decoded_with_grant;
use super::keys;
use super::requests::Refused;
use super::requests::UpdateSpec;
use super::{DynamoStore, Item, key};
use crate::domain::access::{AccessTarget, InContext, WithGrant};
use crate::domain::assistant::{Assistant, AssistantChanges, AssistantConfig, Visibility};
use crate::domain::ids::{AssistantId, UserId, WorkspaceId};
use crate::domain::policy::Actor;
use crate::domain::sms::SmsConfig;
use crate::domain::time::Timestamp;
use crate::ports::{AssistantStore, Conflict, StoreError};
use async_trait::async_trait;
use std::collections::{HashMap, HashSet};

#[async_trait]
impl AssistantStore for DynamoStore {
    /// Stores a new assistant and counts it on its workspace, atomically.
    async fn create_assistant(
        &self,
        ws: &WorkspaceId,
        config: AssistantConfig,
        creator: &UserId,
    ) -> Result<Assistant, StoreError> {
        let assistant = Assistant::create(ws.clone(), config.clone(), creator);
        let now = assistant.created_at;
        let (pk, sk) = keys::assistant(ws, &assistant.id);
        let mut item = key(pk, sk);
        item.extend(
            codec::assistant_attributes(&AssistantChanges::from(config))
                .into_iter()
                .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v))),
        );
        item.extend([
            ("id".to_owned(), s(assistant.id.as_str())),
            ("workspaceId".to_owned(), s(ws.as_str())),
            ("projectCount".to_owned(), n(0)),
            ("createdBy".to_owned(), s(creator.as_str())),
            ("createdAt".to_owned(), time(now)),
            ("updatedAt".to_owned(), time(now)),
        ]);
        let (wpk, wsk) = keys::workspace(ws);
        let private = is_private(&assistant);
        let (lpk, lsk) = keys::assistant_place(ws, private, now, &assistant.id);
        let (mpk, msk) = keys::made_by(ws, creator, &assistant.id);
        let items = vec![
            self.put_fresh(item),
            // Its widget, found by assistant alone, with the defaults.
            self.put_item(
                super::widget::default_site_item(ws, &assistant.id),
                "attribute_not_exists(PK)",
            ),
            self.update_item(count_change(wpk, wsk, Count::Added { private })),
            self.put_item(key(lpk, lsk), "attribute_not_exists(PK)"),
            self.put_item(key(mpk, msk), "attribute_not_exists(PK)"),
        ];
        self.transact(items, |i| match i {
            2 => StoreError::NotFound("workspace"),
            _ => Conflict::IdCollision("assistant").into(),
        })
        .await?;
        Ok(assistant)
    }

    async fn get_assistant(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
    ) -> Result<Option<Assistant>, StoreError> {
        let (pk, sk) = keys::assistant(ws, id);
        self.get(pk, sk)
            .await?
            .as_ref()
            .map(codec::assistant)
            .transpose()
    }

    /// One assistant and whether `user` holds a grant on it, in one round trip.
    async fn get_assistant_for(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        user: &UserId,
    ) -> Result<Option<WithGrant<Assistant>>, StoreError> {
        let (item, granted) = self
            .get_with_grant(ws, &AccessTarget::Assistant(id.clone()), user)
            .await?;
        decoded_with_grant(item, granted, codec::assistant)
    }

    /// The caller's context and the assistant with their grant, in one
    /// round trip.
    async fn assistant_in_context(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        user: &UserId,
    ) -> Result<InContext<Assistant>, StoreError> {
        let (context, item, granted) = self
            .get_in_context(ws, &AccessTarget::Assistant(id.clone()), user)
            .await?;
        let found = decoded_with_grant(item, granted, codec::assistant)?;
        Ok(InContext { context, found })
    }

    /// A page of what `viewer` may see, from the listing (see `keys`): its
    /// places and the workspace's counts, then the page's assistants, and
    /// for a viewer who does not see every private one, what they made or
    /// were granted and which of those are private.
    async fn list_assistants_page(
        &self,
        ws: &WorkspaceId,
        viewer: &Actor,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Assistant>, usize), StoreError> {
        let end = offset.saturating_add(limit);
        let listing = keys::assistant_places_partition(ws);
        let (wpk, wsk) = keys::workspace(ws);
        let shared = self.query_first(&listing, keys::assistant_places_prefix(false), false, end);
        if viewer.sees_every_assistant() {
            let private =
                self.query_first(&listing, keys::assistant_places_prefix(true), false, end);
            let (workspace, shared, private) =
                tokio::try_join!(self.get(wpk, wsk), shared, private)?;
            let (all, _) = counts(workspace)?;
            let places = shared
                .iter()
                .chain(&private)
                .map(place)
                .collect::<Result<Vec<_>, _>>()?;
            let page = page_of(places, offset, limit);
            let mut found = self.assistants_by_id(ws, &page).await?;
            return Ok((page.iter().filter_map(|id| found.remove(id)).collect(), all));
        }
        let viewer_partition = keys::viewer_partition(ws, &viewer.user_id);
        let seen = self.query_partition(&viewer_partition, "");
        let (workspace, shared, seen) = tokio::try_join!(self.get(wpk, wsk), shared, seen)?;
        let (all, private_count) = counts(workspace)?;
        let mut granted = HashSet::new();
        let mut candidates = Vec::new();
        for item in &seen {
            let sk = codec::text(item, keys::SK)?;
            let id = keys::seen_assistant(sk)
                .ok_or_else(|| StoreError::Corrupt(format!("a viewer's item {sk}")))?;
            if sk.starts_with(keys::GRANTED_PREFIX) {
                granted.insert(id.clone());
            }
            candidates.push(id);
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut loaded = self.assistants_by_id(ws, &candidates).await?;
        loaded.retain(|id, a| is_private(a) && viewer.can_view_assistant(a, granted.contains(id)));
        let total = all.saturating_sub(private_count) + loaded.len();
        let mut places = shared.iter().map(place).collect::<Result<Vec<_>, _>>()?;
        places.extend(
            loaded
                .values()
                .map(|a| (keys::place_suffix(a.created_at, &a.id), a.id.clone())),
        );
        let page = page_of(places, offset, limit);
        let unread: Vec<AssistantId> = page
            .iter()
            .filter(|id| !loaded.contains_key(*id))
            .cloned()
            .collect();
        loaded.extend(self.assistants_by_id(ws, &unread).await?);
        Ok((
            page.iter().filter_map(|id| loaded.remove(id)).collect(),
            total,
        ))
    }

    /// Every assistant of the workspace, with whether `user` holds a grant on
    /// each: one query, since grants live beside their assistant.
    async fn list_assistants_for(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<WithGrant<Assistant>>, StoreError> {
        let (items, granted) = self
            .list_with_grants(ws, keys::ASSISTANT_PREFIX, user)
            .await?;
        items
            .iter()
            .map(|item| {
                let assistant = codec::assistant(item)?;
                Ok(WithGrant {
                    granted: granted.contains(&AccessTarget::Assistant(assistant.id.clone())),
                    item: assistant,
                })
            })
            .collect()
    }

    /// Writes only the fields a change names, in one conditional update, and
    /// returns the assistant as stored afterwards. A change of visibility is
    /// made on the visibility it was read with, and one between private and
    /// the rest moves the assistant's place and count in the same
    /// transaction, so the listing never disagrees with the assistant.
    async fn update_assistant(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
        changes: &AssistantChanges,
    ) -> Result<Assistant, StoreError> {
        let (pk, sk) = keys::assistant(ws, id);
        let Some(visibility) = changes.visibility else {
            let item = self
                .update_fields(
                    key(pk, sk),
                    codec::assistant_attributes(changes),
                    "assistant",
                )
                .await?;
            return codec::assistant(&item);
        };
        for _ in 0..CHANGE_ATTEMPTS {
            let current = self
                .get_assistant(ws, id)
                .await?
                .ok_or(StoreError::NotFound("assistant"))?;
            let expected = vec![("visibility", s(current.visibility.as_str()))];
            let was_private = is_private(&current);
            if was_private == (visibility == Visibility::Private) {
                match self
                    .update_fields_if(
                        key(pk.clone(), sk.clone()),
                        codec::assistant_attributes(changes),
                        expected,
                        "assistant",
                    )
                    .await
                {
                    Ok(item) => return codec::assistant(&item),
                    // Gone, or its visibility changed meanwhile: read again.
                    Err(StoreError::NotFound(_)) => continue,
                    Err(e) => return Err(e),
                }
            }
            let now = Timestamp::now();
            let (opk, osk) = keys::assistant_place(ws, was_private, current.created_at, id);
            let (npk, nsk) = keys::assistant_place(ws, !was_private, current.created_at, id);
            let (wpk, wsk) = keys::workspace(ws);
            let items = vec![
                self.update_fields_item(
                    key(pk.clone(), sk.clone()),
                    codec::assistant_attributes(changes),
                    expected,
                    now,
                ),
                self.delete_key(key(opk, osk)),
                self.put_item(key(npk, nsk), "attribute_not_exists(PK)"),
                self.update_item(count_change(
                    wpk,
                    wsk,
                    Count::Moved {
                        to_private: !was_private,
                    },
                )),
            ];
            // Whether the assistant changed since it was read (else the
            // count would have gone below zero).
            match self.transact_or(items, |i| matches!(i, 0 | 2)).await {
                Ok(()) => {
                    let mut updated = current;
                    changes.apply_to(&mut updated);
                    updated.updated_at = now;
                    return Ok(updated);
                }
                Err(Refused::Condition(true)) => continue,
                Err(Refused::Condition(false)) => {
                    return Err(StoreError::Corrupt(
                        "privateAssistantCount would go below zero".into(),
                    ));
                }
                Err(Refused::Store(e)) => return Err(e),
            }
        }
        Err(Conflict::ChangedMeanwhile("assistant").into())
    }

    /// Deletes the assistant, its place in the listing and its creator's
    /// note of it, and uncounts it, atomically, on the visibility it was
    /// read with. What hangs off it (grants, connections, its SMS
    /// configuration and traffic, its widget and its conversations) is removed by [`Store::delete_children`], from the
    /// cleanup queue.
    async fn delete_assistant(&self, ws: &WorkspaceId, id: &AssistantId) -> Result<(), StoreError> {
        let (apk, ask) = keys::assistant(ws, id);
        let (wpk, wsk) = keys::workspace(ws);
        for _ in 0..CHANGE_ATTEMPTS {
            // Its phone number is free the moment it is gone: the SMS
            // configuration and the number's claim go in the same write.
            let (current, sms) = self.assistant_and_sms(ws, id).await?;
            let current = current.ok_or(StoreError::NotFound("assistant"))?;
            let sms = sms.filter(|c| &c.workspace_id == ws);
            let private = is_private(&current);
            let (lpk, lsk) = keys::assistant_place(ws, private, current.created_at, id);
            let (mpk, msk) = keys::made_by(ws, &current.created_by, id);
            let mut items = vec![
                self.delete_unless_changed(
                    key(apk.clone(), ask.clone()),
                    vec![("visibility", s(current.visibility.as_str()))],
                ),
                self.update_item(count_change(
                    wpk.clone(),
                    wsk.clone(),
                    Count::Removed { private },
                )),
                self.delete_key(key(lpk, lsk)),
                self.delete_key(key(mpk, msk)),
            ];
            if let Some(config) = &sms {
                items.extend(self.release_sms_items(config));
            }
            // Whether the assistant or its SMS configuration changed since
            // they were read (else the count would have gone below zero).
            match self.transact_or(items, |i| i != 1).await {
                Ok(()) => return Ok(()),
                Err(Refused::Condition(true)) => continue,
                Err(Refused::Condition(false)) => {
                    return Err(StoreError::Corrupt(
                        "assistantCount would go below zero".into(),
                    ));
                }
                Err(Refused::Store(e)) => return Err(e),
            }
        }
        Err(Conflict::ChangedMeanwhile("assistant").into())
    }
}

/// Reads and writes of one change before it gives up on a busy assistant.
const CHANGE_ATTEMPTS: usize = 3;

fn is_private(assistant: &Assistant) -> bool {
    assistant.visibility == Visibility::Private
}

/// The workspace's `assistantCount` and `privateAssistantCount` (absent on
/// a workspace that has never had a private assistant).
fn counts(workspace: Option<Item>) -> Result<(usize, usize), StoreError> {
    let workspace = workspace.ok_or(StoreError::NotFound("workspace"))?;
    let private = match workspace.get("privateAssistantCount") {
        Some(_) => codec::number(&workspace, "privateAssistantCount")?,
        None => 0,
    };
    Ok((codec::number(&workspace, "assistantCount")?, private))
}

/// A place in the listing as what orders it and the assistant it stands for.
fn place(item: &Item) -> Result<(String, AssistantId), StoreError> {
    let sk = codec::text(item, keys::SK)?;
    let suffix = sk.split_once('#').map(|(_, rest)| rest);
    suffix
        .and_then(|rest| {
            Some((
                rest.to_owned(),
                AssistantId::parse(rest.rsplit('#').next()?)?,
            ))
        })
        .ok_or_else(|| StoreError::Corrupt(format!("an assistant's place {sk}")))
}

/// The page's assistants of places from every listing read, newest first.
/// A place read as shared and an assistant read as private are one
/// assistant changing between the reads: it is listed once.
fn page_of(
    mut places: Vec<(String, AssistantId)>,
    offset: usize,
    limit: usize,
) -> Vec<AssistantId> {
    places.sort_unstable_by(|a, b| b.cmp(a));
    let mut listed = HashSet::new();
    places.retain(|(_, id)| listed.insert(id.clone()));
    places
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(_, id)| id)
        .collect()
}

/// How an assistant's write moves the workspace's counts.
enum Count {
    Added { private: bool },
    Removed { private: bool },
    Moved { to_private: bool },
}

/// The workspace's `assistantCount` and `privateAssistantCount` moved as
/// `change` says, neither below zero (`privateAssistantCount` is absent on
/// a workspace that has never had a private assistant).
fn count_change(pk: String, sk: String, change: Count) -> UpdateSpec<'static> {
    let (expression, condition) = match change {
        Count::Added { private: false } => (
            "SET assistantCount = assistantCount + :one",
            "attribute_exists(PK)",
        ),
        Count::Added { private: true } => (
            "SET assistantCount = assistantCount + :one, \
             privateAssistantCount = if_not_exists(privateAssistantCount, :zero) + :one",
            "attribute_exists(PK)",
        ),
        Count::Removed { private: false } => (
            "SET assistantCount = assistantCount - :one",
            "assistantCount >= :one",
        ),
        Count::Removed { private: true } => (
            "SET assistantCount = assistantCount - :one, \
             privateAssistantCount = privateAssistantCount - :one",
            "assistantCount >= :one AND privateAssistantCount >= :one",
        ),
        Count::Moved { to_private: true } => (
            "SET privateAssistantCount = if_not_exists(privateAssistantCount, :zero) + :one",
            "attribute_exists(PK)",
        ),
        Count::Moved { to_private: false } => (
            "SET privateAssistantCount = privateAssistantCount - :one",
            "privateAssistantCount >= :one",
        ),
    };
    let mut values = vec![(":one", n(1))];
    if expression.contains(":zero") {
        values.push((":zero", n(0)));
    }
    UpdateSpec {
        key: key(pk, sk),
        expression,
        condition: Some(condition),
        names: &[],
        values,
    }
}

impl DynamoStore {
    /// The assistant and its SMS configuration, in one batch read.
    async fn assistant_and_sms(
        &self,
        ws: &WorkspaceId,
        id: &AssistantId,
    ) -> Result<(Option<Assistant>, Option<SmsConfig>), StoreError> {
        let (apk, ask) = keys::assistant(ws, id);
        let (cpk, csk) = keys::sms_config(id);
        let (mut assistant, mut sms) = (None, None);
        for item in self
            .batch_get(vec![key(apk, ask), key(cpk.clone(), csk)])
            .await?
        {
            if codec::text(&item, keys::PK)? == cpk {
                sms = Some(super::sms::config_from(&item)?);
            } else {
                assistant = Some(codec::assistant(&item)?);
            }
        }
        Ok((assistant, sms))
    }

    /// Assistants by id, in as few batch reads as the ids allow; those
    /// gone are left out.
    async fn assistants_by_id(
        &self,
        ws: &WorkspaceId,
        ids: &[AssistantId],
    ) -> Result<HashMap<AssistantId, Assistant>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let wanted = ids
            .iter()
            .map(|id| {
                let (pk, sk) = keys::assistant(ws, id);
                key(pk, sk)
            })
            .collect();
        self.batch_get(wanted)
            .await?
            .iter()
            .map(|item| codec::assistant(item).map(|a| (a.id.clone(), a)))
            .collect()
    }
}
