//! The rules of the data a write can meet, named once for every store: each
//! conflict's `Display` is the one text the person who asked is shown (a
//! 409), so no adapter writes it and nothing matches on it. How a store
//! notices its own races (a condition that failed because another writer
//! came first) stays inside that store.

/// A uniqueness or state rule that refused a write.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("a user with this email already exists")]
    EmailTaken,
    /// A user was created with the email between the read and the write.
    #[error("a user with this email was created meanwhile; try again")]
    EmailTakenMeanwhile,
    #[error("this user is already a member of the workspace")]
    AlreadyMember,
    #[error("the slug '{0}' is taken")]
    SlugTaken(String),
    #[error("could not find a free slug; choose one")]
    NoFreeSlug,
    /// What the write was based on changed before it landed (a workspace,
    /// a member, an assistant, an SMS configuration), more often than the
    /// store retries.
    #[error("the {0} changed meanwhile; try again")]
    ChangedMeanwhile(&'static str),
    /// A fresh id that is already taken (96 random bits: in practice, a
    /// resent write whose first attempt landed differently).
    #[error("{0} id collision")]
    IdCollision(&'static str),
    #[error("the project is already connected to this assistant")]
    AlreadyConnected,
    #[error("the upload of this document is already complete")]
    UploadComplete,
    #[error("the document is no longer waiting to be indexed")]
    NoLongerPending,
    #[error("this phone number already serves another assistant")]
    NumberTaken,
    /// Another answer holds the conversation's lease.
    #[error("an answer is already being written in this conversation; wait for it to finish")]
    AnswerInProgress,
    /// The lease this answer held lapsed and was taken by another.
    #[error("the answer lease is no longer held")]
    LeaseLost,
    /// A purge of a conversation that is still open.
    #[error("the conversation is not deleted")]
    NotDeleted,
    #[error("this workspace has the most webhooks it may have ({0}); delete one first")]
    TooManyWebhooks(usize),
    #[error("this delivery succeeded already")]
    DeliverySucceeded,
    /// An outbound message recorded twice under one Twilio sid.
    #[error("this outbound message is recorded already")]
    OutboundRecorded,
}
