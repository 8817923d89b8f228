//! Conversations and their messages (see the layout in [`keys`]). Every
//! message is written with its conversation's count in one transaction;
//! a deleted conversation is marked (`deletedAt`) before anything of it is
//! removed, so no write can land in it while the purge runs.

use super::codec::{self, n, s, time};
use super::conversation_items::{
    conversation_from, conversation_item, is_deleted, listing_items, listing_keys, message_from,
    message_item, reference_from,
};
use super::keys;
use super::requests::Refused;
use super::requests::UpdateSpec;
use super::{BATCH_WRITE_MAX, DynamoStore, Item, key};
use crate::adapters::contention::WRITE_ATTEMPTS;
use crate::domain::conversation::{Conversation, Message, MessageRef};
use crate::domain::ids::{
    AssistantId, ConversationId, MessageId, UserId, WidgetSessionId, WorkspaceId,
};
use crate::domain::time::Timestamp;
use crate::domain::usage::Charge;
use crate::ports::{
    AnswerLease, Conflict, ConversationRef, ConversationStore, NewConversation, StoreError,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use std::collections::HashMap;
use std::time::Duration;

/// A conversation that can still take messages.
const OPEN: &str = "attribute_exists(PK) AND attribute_not_exists(deletedAt)";

impl DynamoStore {
    /// A new conversation's item and listings, as transaction items.
    pub(super) fn new_conversation_items(
        &self,
        conversation: &Conversation,
    ) -> Vec<TransactWriteItem> {
        self.new_conversation_items_with(conversation, [])
    }

    /// As [`Self::new_conversation_items`], with more on the conversation's
    /// own item (what deleting it must find).
    pub(super) fn new_conversation_items_with(
        &self,
        conversation: &Conversation,
        more: impl IntoIterator<Item = (String, AttributeValue)>,
    ) -> Vec<TransactWriteItem> {
        let mut meta = conversation_item(conversation);
        meta.extend(more);
        std::iter::once(self.put_fresh(meta))
            .chain(
                listing_items(conversation)
                    .into_iter()
                    .map(|item| self.put_item(item, "attribute_not_exists(PK)")),
            )
            .collect()
    }

    /// One more message on an open conversation's count, as a transaction
    /// item.
    pub(super) fn count_message(
        &self,
        conversation: &ConversationId,
        at: Timestamp,
    ) -> TransactWriteItem {
        let (pk, sk) = keys::conversation(conversation);
        self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: "SET messageCount = messageCount + :one, updatedAt = :at",
            condition: Some(OPEN),
            names: &[],
            values: vec![(":one", n(1)), (":at", time(at))],
        })
    }

    async fn listing(&self, pk: &str, prefix: &str) -> Result<Vec<ConversationRef>, StoreError> {
        let mut items = self.query_partition(pk, prefix).await?;
        items.sort_by(|a, b| {
            let sk = |item: &Item| item.get(keys::SK).and_then(|v| v.as_s().ok()).cloned();
            sk(b).cmp(&sk(a))
        });
        items.iter().map(reference_from).collect()
    }

    /// The mark that no message can join the conversation any more, as a
    /// transaction item.
    fn mark_deleted(&self, id: &ConversationId) -> TransactWriteItem {
        let (pk, sk) = keys::conversation(id);
        self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: "SET deletedAt = :now",
            condition: Some(OPEN),
            names: &[],
            values: vec![(":now", time(Timestamp::now()))],
        })
    }

    /// Marks the conversation deleted and removes its listings in the same
    /// write. For an SMS conversation its texter's session is closed too,
    /// so their next text starts a new conversation.
    async fn bury(&self, conversation: &Conversation) -> Result<(), StoreError> {
        for _ in 0..WRITE_ATTEMPTS {
            let mut items = vec![self.mark_deleted(&conversation.id)];
            items.extend(
                listing_keys(conversation)
                    .into_iter()
                    .map(|k| self.delete_item(k, "attribute_exists(PK)")),
            );
            let mut contact_index = None;
            let mut seen_index = None;
            if let Some(phone) = &conversation.contact {
                let name = self.texter_key(phone).await?;
                let (cpk, csk) = keys::contact(&conversation.assistant_id, &name);
                let texter = self.get(cpk.clone(), csk.clone()).await?;
                let current = texter
                    .as_ref()
                    .and_then(|t| codec::optional_text(t, "conversationId"));
                if current.as_deref() == Some(conversation.id.as_str()) {
                    items.push(self.update_item(UpdateSpec {
                        key: key(cpk, csk),
                        expression: "SET version = version + :one REMOVE conversationId, lastMessageAt, burst, burstLast",
                        condition: Some("conversationId = :conv"),
                        names: &[],
                        values: vec![(":one", n(1)), (":conv", s(conversation.id.as_str()))],
                    }));
                    contact_index = Some(items.len() - 1);
                    // Their place among the texters seen no longer holds an
                    // open session either.
                    if let Some(seen) = texter
                        .as_ref()
                        .and_then(|t| codec::optional_timestamp(t, "lastSeenAt"))
                    {
                        let (spk, ssk) = keys::texter_seen(&conversation.assistant_id, seen, &name);
                        items.push(self.update_item(UpdateSpec {
                            key: key(spk, ssk),
                            expression: "REMOVE lastMessageAt",
                            condition: Some("attribute_exists(PK)"),
                            names: &[],
                            values: vec![],
                        }));
                        seen_index = Some(items.len() - 1);
                    }
                }
            }
            // Whether the texter's items moved on under the write (retried),
            // or the conversation was gone.
            let moved = |i| Some(i) == contact_index || Some(i) == seen_index;
            match self.transact_or(items, moved).await {
                Ok(()) => return Ok(()),
                Err(Refused::Condition(true)) => continue,
                Err(Refused::Condition(false)) => return Err(StoreError::NotFound("conversation")),
                Err(Refused::Store(e)) => return Err(e),
            }
        }
        Err(StoreError::Transient(
            "a texter's session kept changing while its conversation was deleted".into(),
        ))
    }

    /// Everything of a deleted assistant's conversations: each is marked,
    /// purged, then unlisted (last, so a cascade that stops half way finds
    /// the rest again).
    pub(super) async fn delete_assistant_conversations(
        &self,
        assistant: &AssistantId,
    ) -> Result<usize, StoreError> {
        let listed = self
            .query_partition(&keys::assistant_listing_partition(assistant), "")
            .await?;
        let ids = listed
            .iter()
            .map(|entry| codec::parsed(entry, "conversationId", ConversationId::parse))
            .collect::<Result<Vec<_>, _>>()?;
        // Every conversation read in as few round trips as keys allow.
        let metas = ids
            .iter()
            .map(|id| {
                let (pk, sk) = keys::conversation(id);
                key(pk, sk)
            })
            .collect();
        let mut found: HashMap<String, Item> = HashMap::new();
        for item in self.batch_get(metas).await? {
            found.insert(codec::text(&item, "id")?.to_owned(), item);
        }
        let mut removed = 0;
        for (entry, id) in listed.iter().zip(&ids) {
            if let Some(item) = found.get(id.as_str()) {
                let conversation = conversation_from(item)?;
                // The texter's session goes with the SMS partition: only the
                // mark is needed, so no late message lands during the purge.
                if !is_deleted(item) {
                    match self
                        .transact(vec![self.mark_deleted(id)], |_| {
                            StoreError::NotFound("conversation")
                        })
                        .await
                    {
                        Err(StoreError::NotFound(_)) | Ok(()) => {}
                        Err(e) => return Err(e),
                    }
                }
                removed += self.purge(id).await?;
                let rest: Vec<Item> = listing_keys(&conversation);
                removed += rest.len();
                self.batch_delete(rest).await?;
            } else {
                removed += 1;
                self.batch_delete(vec![key(
                    codec::text(entry, keys::PK)?.to_owned(),
                    codec::text(entry, keys::SK)?.to_owned(),
                )])
                .await?;
            }
        }
        Ok(removed)
    }

    /// The messages of a conversation marked deleted, then its item.
    pub(super) async fn purge(&self, id: &ConversationId) -> Result<usize, StoreError> {
        let items = self
            .query_partition(&keys::conversation_partition(id), "")
            .await?;
        if items
            .iter()
            .any(|i| codec::text(i, keys::SK).is_ok_and(|sk| sk == "META") && !is_deleted(i))
        {
            return Err(Conflict::NotDeleted.into());
        }
        let mut doomed: Vec<Item> = Vec::new();
        let mut meta = None;
        for item in &items {
            let sk = codec::text(item, keys::SK)?.to_owned();
            let pk = codec::text(item, keys::PK)?.to_owned();
            if sk == "META" {
                meta = Some((key(pk, sk), item));
            } else {
                doomed.push(key(pk, sk));
            }
        }
        // What the channels recorded beside the messages goes first, while
        // the messages that lead to it are still there for a rerun.
        let mut beside = 0;
        if let Some((_, item)) = &meta {
            beside = self.purge_channel_records(item, &items).await?;
        }
        for chunk in doomed.chunks(BATCH_WRITE_MAX) {
            self.batch_delete(chunk.to_vec()).await?;
        }
        if let Some((meta, item)) = meta {
            // The texter's note of the conversation goes last: a purge
            // that stops half way is found again from it.
            let note = match codec::optional_text(item, "texterNote") {
                Some(note) => {
                    let assistant = codec::parsed(item, "assistantId", AssistantId::parse)?;
                    Some(key(keys::sms_partition(&assistant), note))
                }
                None => None,
            };
            self.batch_delete(vec![meta]).await?;
            if let Some(note) = note {
                beside += 1;
                self.batch_delete(vec![note]).await?;
            }
        }
        Ok(items.len() + beside)
    }

    /// A conversation gone whole, deleted already or not: marked and
    /// unlisted in one write, then purged. What erasing a person does to
    /// each conversation they started. Answers how many records went.
    pub(super) async fn erase_conversation(
        &self,
        id: &ConversationId,
    ) -> Result<usize, StoreError> {
        let (pk, sk) = keys::conversation(id);
        let Some(item) = self.get(pk, sk).await? else {
            return Ok(0);
        };
        let conversation = conversation_from(&item)?;
        let listings = listing_keys(&conversation);
        let unlisted = listings.len();
        if is_deleted(&item) {
            self.batch_delete(listings).await?;
        } else {
            let mut items = vec![self.mark_deleted(id)];
            items.extend(listings.into_iter().map(|k| self.delete_key(k)));
            match self
                .transact(items, |_| StoreError::NotFound("conversation"))
                .await
            {
                // Deleted meanwhile: unlisted by whoever did it.
                Ok(()) | Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(unlisted + self.purge(id).await?)
    }

    /// A deleted conversation's records outside its partition: for SMS,
    /// each text's inbound record, its reply and the reply's outbound
    /// messages (numbers and bodies, all of them); for the widget, the
    /// session (the page it came from, what the visitor said of itself).
    /// Answers how many keys it deleted.
    async fn purge_channel_records(
        &self,
        meta: &Item,
        items: &[Item],
    ) -> Result<usize, StoreError> {
        let assistant = codec::parsed(meta, "assistantId", AssistantId::parse)?;
        let mut doomed: Vec<Item> = Vec::new();
        if let Some(session) =
            codec::optional_text(meta, "widgetSession").and_then(|id| WidgetSessionId::parse(&id))
        {
            let (pk, sk) = keys::widget_session(&assistant, &session);
            doomed.push(key(pk, sk));
        }
        let texts: Vec<String> = items
            .iter()
            .filter_map(|item| codec::optional_text(item, "smsSid"))
            .collect();
        let replies: Vec<Item> = texts
            .iter()
            .map(|sid| {
                let (pk, sk) = keys::reply(&assistant, sid);
                key(pk, sk)
            })
            .collect();
        for reply in self.batch_get(replies.clone()).await? {
            let parts: usize = codec::number(&reply, "partCount").unwrap_or(0);
            for i in 0..parts {
                if let Some(sid) = codec::optional_text(&reply, &format!("part{i}Sid")) {
                    let (pk, sk) = keys::outbound_sms(&assistant, &sid);
                    doomed.push(key(pk, sk));
                }
            }
        }
        doomed.extend(replies);
        doomed.extend(texts.iter().map(|sid| {
            let (pk, sk) = keys::inbound_sms(&assistant, sid);
            key(pk, sk)
        }));
        for chunk in doomed.chunks(BATCH_WRITE_MAX) {
            self.batch_delete(chunk.to_vec()).await?;
        }
        Ok(doomed.len())
    }
}

#[async_trait]
impl ConversationStore for DynamoStore {
    async fn create_conversation(
        &self,
        new: NewConversation,
    ) -> Result<(Conversation, Option<Message>), StoreError> {
        let (conversation, welcome) = new.start();
        let (apk, ask) = keys::assistant(&conversation.workspace_id, &conversation.assistant_id);
        let mut items = vec![self.require_exists(key(apk, ask))];
        items.extend(self.new_conversation_items(&conversation));
        if let Some(message) = &welcome {
            items.push(self.put_fresh(message_item(message)));
        }
        self.transact(items, |i| match i {
            0 => StoreError::NotFound("assistant"),
            _ => Conflict::IdCollision("conversation").into(),
        })
        .await?;
        Ok((conversation, welcome))
    }

    async fn get_conversation(
        &self,
        ws: &WorkspaceId,
        id: &ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        let (pk, sk) = keys::conversation(id);
        match self.get(pk, sk).await? {
            Some(item) if !is_deleted(&item) => {
                let conversation = conversation_from(&item)?;
                Ok((&conversation.workspace_id == ws).then_some(conversation))
            }
            _ => Ok(None),
        }
    }

    async fn conversations_of(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<ConversationRef>, StoreError> {
        self.listing(&keys::user_index(user), &keys::creator_listing_prefix(ws))
            .await
    }

    async fn conversations_with(
        &self,
        assistant: &AssistantId,
    ) -> Result<Vec<ConversationRef>, StoreError> {
        self.listing(&keys::assistant_listing_partition(assistant), "")
            .await
    }

    async fn read_conversations(
        &self,
        ws: &WorkspaceId,
        ids: &[ConversationId],
    ) -> Result<Vec<Conversation>, StoreError> {
        let wanted = ids
            .iter()
            .map(|id| {
                let (pk, sk) = keys::conversation(id);
                key(pk, sk)
            })
            .collect();
        let mut found = HashMap::new();
        for item in self.batch_get(wanted).await? {
            if is_deleted(&item) {
                continue;
            }
            let conversation = conversation_from(&item)?;
            if &conversation.workspace_id == ws {
                found.insert(conversation.id.clone(), conversation);
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    async fn messages(
        &self,
        conversation: &ConversationId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let items = self
            .query_first(
                &keys::conversation_partition(conversation),
                keys::MESSAGES_PREFIX,
                true,
                offset + limit,
            )
            .await?;
        items.iter().skip(offset).map(message_from).collect()
    }

    async fn recent_messages(
        &self,
        conversation: &ConversationId,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let items = self
            .query_first(
                &keys::conversation_partition(conversation),
                keys::MESSAGES_PREFIX,
                false,
                limit,
            )
            .await?;
        items.iter().map(message_from).collect()
    }

    async fn find_messages(
        &self,
        conversation: &ConversationId,
        refs: &[MessageRef],
    ) -> Result<Vec<Message>, StoreError> {
        let wanted = refs
            .iter()
            .map(|r| {
                let (pk, sk) = keys::conversation_message(conversation, r.at.millis(), &r.id);
                key(pk, sk)
            })
            .collect();
        let mut found = self
            .batch_get(wanted)
            .await?
            .iter()
            .map(message_from)
            .collect::<Result<Vec<_>, _>>()?;
        // A batch read answers in no particular order.
        found.sort_by_key(|m| refs.iter().position(|r| r.id == m.id));
        Ok(found)
    }

    async fn messages_before(
        &self,
        conversation: &ConversationId,
        before: Timestamp,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        // Every message sorts after the bare prefix, and one created at
        // `before` sorts after its time's bare key.
        let high = keys::messages_at(before.millis());
        let items = self
            .query_between(
                &keys::conversation_partition(conversation),
                (keys::MESSAGES_PREFIX, &high),
                false,
                limit,
            )
            .await?;
        items.iter().map(message_from).collect()
    }

    async fn begin_answer(
        &self,
        conversation: &Conversation,
        now: Timestamp,
        lease: Duration,
    ) -> Result<AnswerLease, StoreError> {
        let granted = AnswerLease {
            conversation_id: conversation.id.clone(),
            token: MessageId::generate().to_string(),
            until: Timestamp::from_millis(now.millis() + lease.as_millis() as i64),
        };
        let (pk, sk) = keys::conversation(&conversation.id);
        let update = self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: "SET answerToken = :token, answerUntil = :until",
            condition: Some(
                "attribute_exists(PK) AND attribute_not_exists(deletedAt) \
                 AND (attribute_not_exists(answerUntil) OR answerUntil < :now)",
            ),
            names: &[],
            values: vec![
                (":token", s(granted.token.clone())),
                (":until", time(granted.until)),
                (":now", time(now)),
            ],
        });
        match self.transact_or(vec![update], |_| ()).await {
            Ok(()) => Ok(granted),
            // Leased by another answer, or the conversation is gone.
            Err(Refused::Condition(())) => {
                match self
                    .get_conversation(&conversation.workspace_id, &conversation.id)
                    .await?
                {
                    Some(_) => Err(Conflict::AnswerInProgress.into()),
                    None => Err(StoreError::NotFound("conversation")),
                }
            }
            Err(Refused::Store(e)) => Err(e),
        }
    }

    async fn abandon_answer(&self, lease: &AnswerLease) -> Result<(), StoreError> {
        let (pk, sk) = keys::conversation(&lease.conversation_id);
        let update = self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: "REMOVE answerToken, answerUntil",
            condition: Some("answerToken = :token"),
            names: &[],
            values: vec![(":token", s(lease.token.clone()))],
        });
        match self.transact_or(vec![update], |_| ()).await {
            // Taken over after expiry, or the conversation went: nothing
            // of ours is left to give back.
            Ok(()) | Err(Refused::Condition(())) => Ok(()),
            Err(Refused::Store(e)) => Err(e),
        }
    }

    async fn add_question(
        &self,
        lease: &AnswerLease,
        question: &Message,
        title: &str,
    ) -> Result<(), StoreError> {
        let (pk, sk) = keys::conversation(&lease.conversation_id);
        let items = vec![
            self.update_item(UpdateSpec {
                key: key(pk, sk),
                expression: "SET messageCount = messageCount + :one, updatedAt = :at, \
                             title = if_not_exists(title, :title)",
                condition: Some(
                    "attribute_exists(PK) AND attribute_not_exists(deletedAt) \
                     AND answerToken = :token",
                ),
                names: &[],
                values: vec![
                    (":one", n(1)),
                    (":at", time(question.created_at)),
                    (":title", s(title)),
                    (":token", s(lease.token.clone())),
                ],
            }),
            self.put_fresh(message_item(question)),
        ];
        self.transact(items, |i| match i {
            0 => Conflict::LeaseLost.into(),
            _ => Conflict::IdCollision("message").into(),
        })
        .await
    }

    async fn finish_answer(
        &self,
        lease: &AnswerLease,
        answer: &Message,
        charge: Option<&Charge>,
    ) -> Result<(), StoreError> {
        let counted = match charge {
            Some(charge) => self.store_answer(lease, answer, Some(charge)).await,
            None => return self.store_answer(lease, answer, None).await,
        };
        match counted {
            // The month's counters stayed contended (every answer of the
            // workspace adds to them): the answer is stored without them
            // rather than lost, and what it cost is logged.
            Err(StoreError::Transient(error)) => {
                let charge = charge.expect("counted above");
                tracing::error!(
                    conversation_id = %lease.conversation_id,
                    workspace_id = %charge.workspace_id,
                    model = charge.model.as_deref(),
                    prompt_tokens = charge.prompt_tokens,
                    completion_tokens = charge.completion_tokens,
                    question_embedding_tokens = charge.question_embedding_tokens,
                    %error,
                    "usage not counted; storing the answer without it"
                );
                self.store_answer(lease, answer, None).await
            }
            other => other,
        }
    }

    async fn delete_conversation(&self, conversation: &Conversation) -> Result<(), StoreError> {
        self.bury(conversation).await
    }
}

impl DynamoStore {
    /// The answer stored and the lease released, with `charge` counted
    /// in the same transaction when there is one.
    async fn store_answer(
        &self,
        lease: &AnswerLease,
        answer: &Message,
        charge: Option<&Charge>,
    ) -> Result<(), StoreError> {
        let counters = charge.map(|c| self.charge_items(c)).unwrap_or_default();
        let (pk, sk) = keys::conversation(&lease.conversation_id);
        let releasing = vec![
            self.update_item(UpdateSpec {
                key: key(pk, sk),
                expression: "SET messageCount = messageCount + :one, updatedAt = :at \
                             REMOVE answerToken, answerUntil",
                condition: Some(
                    "attribute_exists(PK) AND attribute_not_exists(deletedAt) \
                     AND answerToken = :token",
                ),
                names: &[],
                values: vec![
                    (":one", n(1)),
                    (":at", time(answer.created_at)),
                    (":token", s(lease.token.clone())),
                ],
            }),
            self.put_fresh(message_item(answer)),
        ];
        let mut releasing = releasing;
        releasing.extend(counters.iter().cloned());
        // Whether the lease was lost (else the message id collided).
        match self.transact_or(releasing, |i| i == 0).await {
            Ok(()) => Ok(()),
            // The lease expired and was taken: the answer is stored all the
            // same, leaving the new holder's lease alone.
            Err(Refused::Condition(true)) => {
                let mut items = vec![
                    self.count_message(&lease.conversation_id, answer.created_at),
                    self.put_fresh(message_item(answer)),
                ];
                items.extend(counters);
                self.transact(items, |i| match i {
                    0 => StoreError::NotFound("conversation"),
                    _ => Conflict::IdCollision("message").into(),
                })
                .await
            }
            Err(Refused::Condition(false)) => Err(Conflict::IdCollision("message").into()),
            Err(Refused::Store(e)) => Err(e),
        }
    }
}
