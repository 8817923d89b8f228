//! The chat engine: one question in an API conversation answered, streamed
//! as the model produces it, and stored once. Everything that can fail
//! before the first word (the lease, history, retrieval, opening the
//! model's stream, storing the question) fails before anything is sent,
//! as an ordinary error; after that, the answer runs to its end whether or
//! not anyone is still listening, and is stored `completed` or, if the
//! model fails part way, `failed` with what it had said.

use super::answer::{self, HISTORY_MESSAGES, HISTORY_TOKEN_BUDGET, PASSAGES_PER_ANSWER};
use super::conversations::Postable;
use super::error::AppError;
use crate::app::retrieval::{Retrieved, retrieve};
use crate::domain::conversation::{
    Author, Conversation, Message, MessageStatus, Source, history_within, sources_of, title_from,
};
use crate::domain::time::Timestamp;
use crate::domain::usage::{Allowance, Charge};
use crate::metrics::{self, Metric};
use crate::ports::{
    AnswerLease, ChatEvent, ChatModel, ChatStream, Clock, ConnectionStore, ConversationStore,
    DocumentStore, PassageSearch, StoreError, SystemClock, UsageStore,
};
use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long one answer may hold its conversation: longer than the model
/// client's limit for a streamed answer (two minutes) plus storing it, so
/// a live answer never loses its lease, and short enough that one that
/// died frees the conversation soon.
pub const ANSWER_LEASE: Duration = Duration::from_secs(150);

/// Why an answer stopped at its request's deadline.
pub const OUT_OF_TIME: &str = "the answer took longer than this request may wait and was stopped; ask again, or ask for a stream";

/// What happens to an answer as it is written.
#[derive(Clone, Debug, PartialEq)]
pub enum AnswerEvent {
    /// Text, as the model produced it.
    Delta(String),
    /// The answer, stored `completed`.
    Done(Message),
    /// The answer ended without one: the model failed part way (what it
    /// had said is stored `failed`), or the answer could not be stored.
    Failed { error: String, code: &'static str },
}

#[derive(Clone)]
pub struct ChatEngine {
    pub connections: Arc<dyn ConnectionStore>,
    pub documents: Arc<dyn DocumentStore>,
    pub conversations: Arc<dyn ConversationStore>,
    pub search: Arc<dyn PassageSearch>,
    pub chat: Arc<dyn ChatModel>,
    pub usage: Arc<dyn UsageStore>,
    pub clock: Arc<dyn Clock>,
    pub lease: Duration,
}

/// An answer whose stream is open and whose question is stored.
pub struct Answering {
    pub question: Message,
    pub sources: Vec<Source>,
    stream: ChatStream,
    lease: AnswerLease,
    conversations: Arc<dyn ConversationStore>,
    /// What the answer costs so far (the question's embedding), counted
    /// with the answer when it is stored.
    charge: Charge,
    /// When the question came, for the time to the first word.
    asked: std::time::Instant,
    channel: crate::domain::conversation::Channel,
    allowance: Allowance,
    usage: Arc<dyn UsageStore>,
}

impl ChatEngine {
    /// Every store port from one store, with the answer lease of production.
    pub fn over(
        store: Arc<dyn crate::ports::Store>,
        search: Arc<dyn PassageSearch>,
        chat: Arc<dyn ChatModel>,
    ) -> Self {
        Self {
            connections: store.clone(),
            documents: store.clone(),
            conversations: store.clone(),
            search,
            chat,
            usage: store,
            clock: Arc::new(SystemClock),
            lease: ANSWER_LEASE,
        }
    }

    /// The month the engine's clock is in: the one whose budgets an answer
    /// begun now is checked against.
    pub fn month(&self) -> crate::domain::usage::Month {
        crate::domain::usage::Month::of(self.clock.timestamp())
    }

    /// Takes the conversation's lease and opens the answer to `question`.
    /// On any failure the lease is given back and nothing is stored; an
    /// assistant or workspace over its monthly budget is refused (429)
    /// before anything is read or stored.
    pub async fn begin(
        &self,
        postable: &Postable,
        question: String,
    ) -> Result<Answering, AppError> {
        self.begin_admitted(postable, question, async { Ok(()) })
            .await
    }

    /// [`Self::begin`], with `admit` (a quota's count, say) awaited only
    /// once everything before the model has succeeded, and just before it
    /// is asked: a question refused for a held lease, a bad request or a
    /// dependency down costs no quota, and one `admit` refuses is given
    /// back like any other failure.
    pub async fn begin_admitted(
        &self,
        postable: &Postable,
        question: String,
        admit: impl Future<Output = Result<(), AppError>>,
    ) -> Result<Answering, AppError> {
        let (conversation, assistant) = (&postable.conversation, &postable.assistant);
        let asked = std::time::Instant::now();
        if let Err(exhausted) = postable.allowance.check(conversation.channel) {
            tracing::info!(
                conversation_id = %conversation.id,
                budget = exhausted.scope,
                metric = exhausted.metric.as_str(),
                "answer refused: a monthly budget is used up"
            );
            metrics::record(Metric::BudgetRefusals(
                conversation.channel,
                exhausted.scope,
            ));
            return Err(AppError::budget_exhausted(
                &exhausted,
                self.clock.timestamp(),
                conversation.channel,
            ));
        }
        let now = Timestamp::now();
        // Retrieval needs nothing of the conversation, so it runs while the
        // lease is taken and the history read; the history is read only
        // once the lease is held, so it includes the answer before it.
        let held = async {
            let lease = self
                .conversations
                .begin_answer(conversation, now, self.lease)
                .await?;
            let recent = self
                .conversations
                .recent_messages(&conversation.id, HISTORY_MESSAGES)
                .await;
            Ok::<_, StoreError>((lease, recent))
        };
        let (held, passages) = tokio::join!(held, self.retrieve(conversation, &question));
        let (lease, recent) = held?;
        // The model's stream opened, then the question stored.
        let opened = async {
            let (recent, retrieved) = (recent?, passages?);
            let Retrieved {
                passages,
                embedding_tokens,
            } = retrieved;
            let history = history_within(&recent, HISTORY_TOKEN_BUDGET);
            let request = answer::prompt(
                assistant,
                conversation.channel,
                &passages,
                &history,
                &question,
            );
            admit.await?;
            let stream = self.chat.stream(&request).await?;
            let title = title_from(&question);
            // Timed once the lease is held, so after the answer before it.
            let question = Message::new(&conversation.id, Author::User, question, Timestamp::now());
            self.conversations
                .add_question(&lease, &question, &title)
                .await?;
            tracing::info!(
                conversation_id = %conversation.id,
                passages = passages.len(),
                history = history.len(),
                "answer started"
            );
            let charge = Charge {
                assistant_id: Some(assistant.id.clone()),
                model: Some(assistant.model.clone()),
                question_embedding_tokens: embedding_tokens,
                // Counted in the day and month the answer was checked in.
                ..Charge::new(conversation.workspace_id.clone(), self.clock.timestamp())
            };
            Ok::<_, AppError>((question, sources_of(&passages), stream, charge))
        };
        match opened.await {
            Ok((question, sources, stream, charge)) => Ok(Answering {
                question,
                sources,
                stream,
                lease,
                conversations: Arc::clone(&self.conversations),
                charge,
                asked,
                channel: conversation.channel,
                allowance: postable.allowance.clone(),
                usage: Arc::clone(&self.usage),
            }),
            Err(error) => {
                if let Err(release) = self.conversations.abandon_answer(&lease).await {
                    tracing::warn!(conversation_id = %conversation.id, error = %release, "answer lease not given back; it will expire");
                }
                Err(error)
            }
        }
    }

    /// The passages of the assistant's projects that answer `question`.
    async fn retrieve(
        &self,
        conversation: &Conversation,
        question: &str,
    ) -> Result<Retrieved, AppError> {
        let projects = self
            .connections
            .connected_project_ids(&conversation.workspace_id, &conversation.assistant_id)
            .await?;
        Ok(retrieve(
            self.search.as_ref(),
            self.documents.as_ref(),
            &conversation.workspace_id,
            &projects,
            question,
            PASSAGES_PER_ANSWER,
        )
        .await?)
    }
}

impl Answering {
    /// Reads the answer to its end, telling `events` each step (a listener
    /// that has gone is no reason to stop), and stores it once. Answers
    /// the stored answer, or why there is none to give.
    pub async fn run(self, events: mpsc::Sender<AnswerEvent>) -> Result<Message, AppError> {
        self.run_until(events, None).await
    }

    /// [`Self::run`], stopping the model at `stop_at` if it has not
    /// finished: what it had said is stored `failed`, the conversation is
    /// free again, and the answer is a 503, so a client told its answer
    /// failed never meets it still running.
    pub async fn run_until(
        mut self,
        events: mpsc::Sender<AnswerEvent>,
        stop_at: Option<tokio::time::Instant>,
    ) -> Result<Message, AppError> {
        let conversation = self.question.conversation_id.clone();
        let mut text = String::new();
        let mut usage = None;
        let mut failure = None;
        loop {
            let next = poll_fn(|cx| self.stream.as_mut().poll_next(cx));
            let next = match stop_at {
                Some(at) => match tokio::time::timeout_at(at, next).await {
                    Ok(next) => next,
                    Err(_) => {
                        tracing::warn!(conversation_id = %conversation, "the answer ran out of the request's time; stopped");
                        failure = Some(OUT_OF_TIME);
                        break;
                    }
                },
                None => next.await,
            };
            match next {
                Some(Ok(ChatEvent::Delta(delta))) => {
                    if text.is_empty() {
                        metrics::record(Metric::TimeToFirstToken(
                            self.channel,
                            self.asked.elapsed().as_secs_f64() * 1000.0,
                        ));
                    }
                    text.push_str(&delta);
                    // A full channel waits for the listener; a closed one
                    // (the client left) is ignored.
                    let _ = events.send(AnswerEvent::Delta(delta)).await;
                }
                Some(Ok(ChatEvent::Done {
                    usage: reported,
                    truncated,
                })) => {
                    usage = Some(reported);
                    if truncated {
                        tracing::info!(conversation_id = %conversation, "answer stopped at maxTokens");
                    }
                    break;
                }
                Some(Err(error)) => {
                    tracing::warn!(conversation_id = %conversation, error = %error, "the model failed mid-answer");
                    failure = Some("the model failed part way through the answer");
                    break;
                }
                None => {
                    failure = Some("the model's answer ended before it was complete");
                    break;
                }
            }
        }
        if failure.is_none() && text.trim().is_empty() {
            failure = Some("the model answered nothing");
        }
        // After the question, always: messages sort by time.
        let at = Timestamp::from_millis(
            Timestamp::now()
                .millis()
                .max(self.question.created_at.millis() + 1),
        );
        let answer = Message {
            status: if failure.is_some() {
                MessageStatus::Failed
            } else {
                MessageStatus::Completed
            },
            usage: usage.filter(|_| failure.is_none()),
            sources: self.sources.clone(),
            ..Message::new(&conversation, Author::Assistant, text, at)
        };
        // What the provider reported is counted even for an answer that
        // failed part way; only a completed one counts as an answer.
        let mut charge = self.charge.clone();
        if let Some(reported) = usage {
            charge.prompt_tokens = u64::from(reported.prompt_tokens);
            charge.completion_tokens = u64::from(reported.completion_tokens);
            charge.estimated = reported.estimated;
        }
        if failure.is_none() {
            charge.answered_on = Some(self.channel);
        }
        let stored = self
            .conversations
            .finish_answer(&self.lease, &answer, Some(&charge))
            .await;
        if stored.is_ok() {
            if failure.is_none() {
                metrics::record(Metric::Answers(self.channel));
            }
            metrics::record(Metric::ModelTokens(
                self.channel,
                charge.prompt_tokens + charge.completion_tokens,
            ));
        }
        let counted = stored.is_ok();
        // The event says why in the words a reader needs; the error is what
        // a JSON client is answered.
        let (event, outcome) = match (stored, failure) {
            (Ok(()), None) => (AnswerEvent::Done(answer.clone()), Ok(answer)),
            (Ok(()), Some(reason)) => {
                let error = AppError::Unavailable(reason.into());
                let event = AnswerEvent::Failed {
                    error: reason.into(),
                    code: error.code(),
                };
                (event, Err(error))
            }
            (Err(error), _) => {
                tracing::error!(conversation_id = %conversation, error = %error, "answer not stored");
                let _ = self.conversations.abandon_answer(&self.lease).await;
                let error = AppError::from(error);
                let event = AnswerEvent::Failed {
                    error: error.to_string(),
                    code: error.code(),
                };
                (event, Err(error))
            }
        };
        let _ = events.send(event).await;
        // After the answer's last event: the listener waits on no alert.
        if counted {
            super::usage::alert(self.usage.as_ref(), &self.allowance, &charge).await;
        }
        outcome
    }
}
