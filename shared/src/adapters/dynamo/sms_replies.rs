//! The SMS store port on the table: what `sms` records of configurations,
//! texts and texters, and here the rest of a reply's life. Whether a text
//! is answered is decided once, on the text's own item, with its texter's
//! limit windows in one transaction (the assistant's day, which every
//! texter shares, is a conditional addition apart). A reply and its
//! message are one transaction; each part moves from exactly the state it
//! was read in, and a part sent records its outbound message in the same
//! write, its counters after it.

use super::codec::{self, n, s, time};
use super::conversation_items::message_item;
use super::keys;
use super::requests::{Refused, UpdateSpec};
use super::sms::decision_value;
use super::{DynamoStore, Item, key};
use crate::domain::conversation::{Author, Message};
use crate::domain::ids::{AssistantId, ConversationId, MessageId, WorkspaceId};
use crate::domain::sms::{
    MessageSid, PhoneNumber, SmsConfig, SmsLimit, SmsTraffic, SmsWindow, delivery_rank,
};
use crate::domain::time::Timestamp;
use crate::ports::{
    Admission, Conflict, Contact, Decided, InboundOutcome, InboundRecord, InboundSms, PartState,
    Reply, ReplyDecision, ReplyDraft, ReplyPart, SmsStore, StoreError,
};
use async_trait::async_trait;
use std::time::Duration;

fn part_state(item: &Item, index: usize) -> Result<PartState, StoreError> {
    let state = codec::text(item, &format!("part{index}State"))?;
    // Claims stored before they carried their time count as long lapsed.
    let since = || {
        codec::optional_timestamp(item, &format!("part{index}Since"))
            .unwrap_or(Timestamp::from_millis(0))
    };
    Ok(match state {
        "pending" => PartState::Pending,
        "sending" => PartState::Sending { since: since() },
        "unknown" => PartState::Unknown { since: since() },
        "sent" => PartState::Sent {
            sid: codec::text(item, &format!("part{index}Sid"))?.to_owned(),
            segments: codec::number(item, &format!("part{index}Segments"))?,
        },
        "failed" => PartState::Failed {
            code: codec::number(item, &format!("part{index}Code")).ok(),
        },
        _ => return Err(codec::corrupt(item, "partState")),
    })
}

fn reply_from(item: &Item) -> Result<Reply, StoreError> {
    let count: usize = codec::number(item, "partCount")?;
    let parts = (0..count)
        .map(|i| {
            Ok(ReplyPart {
                body: codec::text(item, &format!("part{i}Body"))?.to_owned(),
                state: part_state(item, i)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Reply {
        inbound: codec::parsed(item, "inbound", MessageSid::parse)?,
        conversation_id: codec::parsed(item, "conversationId", ConversationId::parse)?,
        message_id: codec::parsed(item, "messageId", MessageId::parse)?,
        to: codec::parsed(item, "to", PhoneNumber::parse)?,
        parts,
    })
}

impl DynamoStore {
    /// Stores an over-limit decision on a text nothing decided or merged
    /// yet, and counts it; what the text holds if something did.
    async fn refuse(
        &self,
        assistant: &AssistantId,
        sid: &MessageSid,
        limit: SmsLimit,
        overwrite: bool,
        at: Timestamp,
    ) -> Result<Decided, StoreError> {
        let (pk, sk) = keys::inbound_sms(assistant, sid.as_str());
        let decision = ReplyDecision::OverLimit(limit);
        let stored = self
            .update_alone(UpdateSpec {
                key: key(pk, sk),
                expression: "SET decision = :decision",
                condition: Some(if overwrite {
                    "attribute_exists(PK)"
                } else {
                    "attribute_exists(PK) AND attribute_not_exists(decision) AND attribute_not_exists(mergedInto)"
                }),
                names: &[],
                values: vec![(":decision", decision_value(decision))],
            })
            .await?;
        if !stored {
            return self.settled(assistant, sid).await;
        }
        self.count_in_day(assistant, at, &[("overLimit", 1)]).await;
        Ok(Decided::Decision(decision))
    }

    /// What a text whose own condition failed holds now.
    async fn settled(
        &self,
        assistant: &AssistantId,
        sid: &MessageSid,
    ) -> Result<Decided, StoreError> {
        let record = self
            .inbound_record(assistant, sid)
            .await?
            .ok_or(StoreError::NotFound("inbound message"))?;
        match (record.merged_into, record.decision) {
            (Some(_), _) => Ok(Decided::Merged),
            (None, Some(decision)) => Ok(Decided::Decision(decision)),
            (None, None) => Err(StoreError::Corrupt(
                "an undecided text refused a decision".into(),
            )),
        }
    }
}

#[async_trait]
impl SmsStore for DynamoStore {
    async fn sms_config(&self, assistant: &AssistantId) -> Result<Option<SmsConfig>, StoreError> {
        self.sms_config_of(assistant).await
    }

    async fn save_sms_config(&self, config: SmsConfig) -> Result<SmsConfig, StoreError> {
        self.save_config(config).await
    }

    async fn delete_sms_config(
        &self,
        ws: &WorkspaceId,
        assistant: &AssistantId,
    ) -> Result<(), StoreError> {
        self.delete_config(ws, assistant).await
    }

    async fn record_inbound(&self, inbound: &InboundSms) -> Result<InboundOutcome, StoreError> {
        self.record_inbound_text(inbound).await
    }

    async fn count_received(&self, assistant: &AssistantId, at: Timestamp) {
        self.count_in_day(assistant, at, &[("inbound", 1)]).await;
    }

    async fn inbound(
        &self,
        assistant: &AssistantId,
        sid: &MessageSid,
    ) -> Result<Option<InboundRecord>, StoreError> {
        self.inbound_record(assistant, sid).await
    }

    async fn contact(
        &self,
        assistant: &AssistantId,
        phone: &PhoneNumber,
    ) -> Result<Option<Contact>, StoreError> {
        self.contact_of(assistant, phone).await
    }

    async fn opt_out(
        &self,
        assistant: &AssistantId,
        phone: &PhoneNumber,
    ) -> Result<(), StoreError> {
        self.record_opt_out(assistant, phone).await
    }

    async fn decide_reply(
        &self,
        assistant: &AssistantId,
        sid: &MessageSid,
        texter: &[SmsWindow],
        assistant_window: &SmsWindow,
        at: Timestamp,
    ) -> Result<Decided, StoreError> {
        let (pk, sk) = keys::inbound_sms(assistant, sid.as_str());
        let mut items = vec![self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: "SET decision = :decision",
            condition: Some(
                "attribute_exists(PK) AND attribute_not_exists(decision) AND attribute_not_exists(mergedInto)",
            ),
            names: &[],
            values: vec![(":decision", decision_value(ReplyDecision::Answer))],
        })];
        items.extend(
            texter
                .iter()
                .map(|w| self.count_in(keys::sms_use(assistant, &w.key), w)),
        );
        // The text's own condition (index 0: merged or decided meanwhile),
        // or the texter window that was full.
        let decided = self.transact_or(items, |i| i.checked_sub(1)).await;
        match decided {
            Ok(()) => {}
            Err(Refused::Condition(None)) => return self.settled(assistant, sid).await,
            Err(Refused::Condition(Some(window))) => {
                let full = texter
                    .get(window)
                    .ok_or_else(|| StoreError::Corrupt(format!("texter window {window}")))?;
                return self.refuse(assistant, sid, full.limit, false, at).await;
            }
            Err(Refused::Store(e)) => return Err(e),
        }
        // The assistant's day is shared by every texter: counted on its
        // own, so texters' decisions never contend in one transaction.
        // Refused, the text is over the limit, and its texter's windows
        // keep the one answer they counted (a texter is never refused
        // for the assistant's limit, only slowed).
        let window = keys::sms_use(assistant, &assistant_window.key);
        if self.count_alone(window, assistant_window).await? {
            Ok(Decided::Decision(ReplyDecision::Answer))
        } else {
            self.refuse(assistant, sid, SmsLimit::PerAssistantPerDay, true, at)
                .await
        }
    }

    async fn count_sms_use(
        &self,
        assistant: &AssistantId,
        windows: &[SmsWindow],
    ) -> Result<Admission, StoreError> {
        self.count_all(
            windows
                .iter()
                .map(|w| (keys::sms_use(assistant, &w.key), w))
                .collect(),
        )
        .await
    }

    async fn create_reply(
        &self,
        draft: ReplyDraft,
        at: Timestamp,
    ) -> Result<(Reply, bool), StoreError> {
        let assistant = &draft.assistant_id;
        let reply = draft.new_reply(at);
        let (pk, sk) = keys::reply(assistant, draft.inbound.as_str());
        let mut item = key(pk, sk);
        item.extend([
            ("inbound".to_owned(), s(draft.inbound.as_str())),
            (
                "conversationId".to_owned(),
                s(draft.conversation_id.as_str()),
            ),
            ("messageId".to_owned(), s(reply.message_id.as_str())),
            ("to".to_owned(), s(draft.to.as_str())),
            ("partCount".to_owned(), n(reply.parts.len())),
            ("createdAt".to_owned(), time(at)),
        ]);
        for (i, part) in reply.parts.iter().enumerate() {
            item.insert(format!("part{i}Body"), s(part.body.clone()));
            item.insert(format!("part{i}State"), s(part.state.name()));
            if let Some(since) = part.state.since() {
                item.insert(format!("part{i}Since"), time(since));
            }
        }
        let message = Message {
            id: reply.message_id.clone(),
            usage: Some(draft.usage),
            ..Message::new(
                &draft.conversation_id,
                Author::Assistant,
                draft.answer.clone(),
                at,
            )
        };
        let items = vec![
            self.put_item(item, "attribute_not_exists(PK)"),
            self.put_item(message_item(&message), "attribute_not_exists(PK)"),
            self.count_message(&draft.conversation_id, at),
        ];
        // The reply there already (a redelivery), the message id, or the
        // conversation gone.
        match self.transact_or(items, |i| i).await {
            Ok(()) => Ok((reply, true)),
            Err(Refused::Condition(0)) => self
                .reply(assistant, &draft.inbound)
                .await?
                .map(|existing| (existing, false))
                .ok_or_else(|| StoreError::Corrupt("a reply vanished".into())),
            Err(Refused::Condition(1)) => Err(Conflict::IdCollision("message").into()),
            Err(Refused::Condition(_)) => Err(StoreError::NotFound("conversation")),
            Err(Refused::Store(e)) => Err(e),
        }
    }

    async fn reply(
        &self,
        assistant: &AssistantId,
        inbound: &MessageSid,
    ) -> Result<Option<Reply>, StoreError> {
        let (pk, sk) = keys::reply(assistant, inbound.as_str());
        self.get(pk, sk).await?.as_ref().map(reply_from).transpose()
    }

    async fn move_part(
        &self,
        assistant: &AssistantId,
        inbound: &MessageSid,
        index: usize,
        from: &PartState,
        to: &PartState,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = keys::reply(assistant, inbound.as_str());
        let state = format!("part{index}State");
        let since_attr = format!("part{index}Since");
        let sid_attr = format!("part{index}Sid");
        let segments_attr = format!("part{index}Segments");
        let code_attr = format!("part{index}Code");
        let mut expression = "SET #state = :to".to_owned();
        let mut condition = "#state = :from".to_owned();
        let mut values = vec![(":to", s(to.name())), (":from", s(from.name()))];
        let mut names = vec![("#state", state.as_str())];
        if from.since().is_some() || to.since().is_some() {
            names.push(("#since", since_attr.as_str()));
        }
        if let Some(since) = from.since() {
            // Claims stored before they carried their time have none.
            condition.push_str(if since.millis() == 0 {
                " AND (attribute_not_exists(#since) OR #since = :fromSince)"
            } else {
                " AND #since = :fromSince"
            });
            values.push((":fromSince", time(since)));
        }
        if let Some(since) = to.since() {
            expression.push_str(", #since = :toSince");
            values.push((":toSince", time(since)));
        }
        match to {
            PartState::Sent { sid, segments } => {
                expression.push_str(", #sid = :sid, #segments = :segments");
                names.push(("#sid", sid_attr.as_str()));
                names.push(("#segments", segments_attr.as_str()));
                values.push((":sid", s(sid.clone())));
                values.push((":segments", n(*segments)));
            }
            PartState::Failed { code: Some(code) } => {
                expression.push_str(", #code = :code");
                names.push(("#code", code_attr.as_str()));
                values.push((":code", n(*code)));
            }
            _ => {}
        }
        let mut items = vec![self.update_item(UpdateSpec {
            key: key(pk, sk),
            expression: &expression,
            condition: Some(&condition),
            names: &names,
            values,
        })];
        if let PartState::Sent { sid, .. } = to {
            let (opk, osk) = keys::outbound_sms(assistant, sid);
            let mut outbound = key(opk, osk);
            outbound.extend([
                ("status".to_owned(), s("queued")),
                ("rank".to_owned(), n(0)),
                ("sentAt".to_owned(), time(at)),
                ("inbound".to_owned(), s(inbound.as_str())),
            ]);
            items.push(self.put_item(outbound, "attribute_not_exists(PK)"));
        }
        // Whether the part moved on from the state it was read in (else its
        // outbound message is recorded already).
        match self.transact_or(items, |i| i == 0).await {
            Ok(()) => {
                if let PartState::Sent { segments, .. } = to {
                    self.count_in_day(
                        assistant,
                        at,
                        &[("outbound", 1), ("segmentsOut", u64::from(*segments))],
                    )
                    .await;
                }
                Ok(true)
            }
            Err(Refused::Condition(true)) => Ok(false),
            Err(Refused::Condition(false)) => Err(Conflict::OutboundRecorded.into()),
            Err(Refused::Store(e)) => Err(e),
        }
    }

    async fn outbound_recorded(
        &self,
        assistant: &AssistantId,
        sid: &str,
    ) -> Result<bool, StoreError> {
        let (pk, sk) = keys::outbound_sms(assistant, sid);
        Ok(self.get(pk, sk).await?.is_some())
    }

    async fn record_delivery(
        &self,
        assistant: &AssistantId,
        sid: &str,
        status: &str,
        error_code: Option<u32>,
    ) -> Result<(), StoreError> {
        let Some(rank) = delivery_rank(status) else {
            return Ok(());
        };
        let (pk, sk) = keys::outbound_sms(assistant, sid);
        let mut expression = "SET #status = :status, #rank = :rank".to_owned();
        let mut values = vec![(":status", s(status)), (":rank", n(rank))];
        if let Some(code) = error_code {
            expression.push_str(", errorCode = :code");
            values.push((":code", n(code)));
        }
        // Unknown, or already further along: nothing to apply.
        self.update_alone(UpdateSpec {
            key: key(pk, sk),
            expression: &expression,
            condition: Some("attribute_exists(PK) AND #rank < :rank"),
            names: &[("#status", "status"), ("#rank", "rank")],
            values,
        })
        .await
        .map(|_| ())
    }

    async fn erase_texter(
        &self,
        assistant: &AssistantId,
        phone: &PhoneNumber,
    ) -> Result<usize, StoreError> {
        let name = self.texter_key(phone).await?;
        self.erase_named(assistant, &name).await
    }

    async fn traffic(
        &self,
        assistant: &AssistantId,
        days: u32,
        now: Timestamp,
        session_timeout: Duration,
    ) -> Result<SmsTraffic, StoreError> {
        self.traffic_of(assistant, days, now, session_timeout).await
    }
}
