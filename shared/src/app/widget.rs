//! The public widget's rules, for every route of it:
//!
//! - an assistant is reachable only while it is `public` and
//!   `widgetEnabled` (404 otherwise, read fresh on every request);
//! - only from an origin its settings list exactly (403 otherwise, and for
//!   a request that names no origin);
//! - a visitor acts through a token from `init`, bound to the assistant,
//!   the session and the origin (401 for anything else);
//! - `init` calls and new sessions per client address, messages per
//!   session per hour, per client address per hour and per day, and per
//!   assistant per month are counted in the store, all or none, and
//!   refused with a 429 naming the window and saying when to try again; a
//!   question is counted only once its answer holds the conversation,
//!   just before the model is asked, so a refused one costs nothing.

use super::conversations::Postable;
use super::error::AppError;
use super::widget_refusals::{RecentRefusals, Scope, refused};
use crate::domain::assistant::{Assistant, Visibility};
use crate::domain::conversation::Conversation;
use crate::domain::ids::{AssistantId, WidgetSessionId};
use crate::domain::time::Timestamp;
use crate::domain::usage::{Allowance, Month};
use crate::domain::widget::{AllowedOrigin, InitRequest, UseWindow};
use crate::domain::widget_token::{TokenError, WidgetClaims};
use crate::ports::{
    Admission, Clock, ConversationStore, NewWidgetSession, UsageStore, WidgetSession, WidgetSigner,
    WidgetSite, WidgetStore,
};
use std::sync::Arc;

pub const ORIGIN_REQUIRED: &str =
    "the widget runs only on a web page: this request names no origin";
pub const ORIGIN_NOT_ALLOWED: &str = "this website is not allowed to embed the assistant; add its origin to the widget's allowedOrigins";

#[derive(Clone)]
pub struct WidgetService {
    pub widgets: Arc<dyn WidgetStore>,
    /// Assistants, read with their allowance (what a visitor's answer is
    /// checked against).
    pub assistants: Arc<dyn UsageStore>,
    pub conversations: Arc<dyn ConversationStore>,
    pub tokens: Arc<dyn WidgetSigner>,
    /// Windows found full, answered from memory for a few seconds.
    pub refusals: Arc<RecentRefusals>,
    /// What the windows, sessions and tokens are timed by.
    pub clock: Arc<dyn Clock>,
}

/// An assistant's widget, open to a request from an allowed origin.
#[derive(Clone, Debug)]
pub struct OpenWidget {
    pub site: WidgetSite,
    pub assistant: Assistant,
    pub origin: AllowedOrigin,
    pub allowance: Allowance,
}

/// A visitor whose token held: their session and its conversation.
#[derive(Clone, Debug)]
pub struct Visitor {
    pub session: WidgetSession,
    pub conversation: Conversation,
}

impl Visitor {
    /// The visitor's conversation, to post in: their token named its
    /// session, and the session its conversation.
    pub fn postable(&self, open: &OpenWidget) -> Postable {
        Postable {
            conversation: self.conversation.clone(),
            assistant: open.assistant.clone(),
            allowance: open.allowance.clone(),
        }
    }
}

/// A session handed to a browser.
#[derive(Clone, Debug)]
pub struct Admitted {
    pub session: WidgetSession,
    pub token: String,
    pub expires_at: Timestamp,
}

/// Whether the assistant takes visitors at all.
pub fn serves_the_widget(assistant: &Assistant) -> bool {
    assistant.visibility == Visibility::Public && assistant.widget_enabled
}

/// A session untouched this long is not resumed: its visitor gets a new
/// one (the old conversation stays, for the assistant's owners to read).
pub const SESSION_IDLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

impl WidgetService {
    /// The widget of `raw_assistant`, for a request from `origin`.
    pub async fn open(
        &self,
        raw_assistant: &str,
        origin: Option<AllowedOrigin>,
    ) -> Result<OpenWidget, AppError> {
        const NOT_FOUND: AppError = AppError::NotFound("widget");
        let id = AssistantId::parse(raw_assistant).ok_or(NOT_FOUND)?;
        let site = self.widgets.widget_site(&id).await?.ok_or(NOT_FOUND)?;
        let month = Month::of(self.clock.wall());
        let (assistant, allowance) = self
            .assistants
            .assistant_with_allowance(&site.workspace_id, &id, None, month)
            .await?;
        let assistant = assistant
            .map(|found| found.item)
            .filter(serves_the_widget)
            .ok_or(NOT_FOUND)?;
        let origin = origin.ok_or(AppError::Forbidden(ORIGIN_REQUIRED))?;
        if !site.settings.allows(Some(&origin)) {
            return Err(AppError::Forbidden(ORIGIN_NOT_ALLOWED));
        }
        Ok(OpenWidget {
            site,
            assistant,
            origin,
            allowance,
        })
    }

    /// Counts one `init` from `client_ip` (and, for a new session, one
    /// session from it), then resumes the session the browser holds (if it
    /// is still this assistant's, from this origin, with its conversation,
    /// and not idle past [`SESSION_IDLE_LIMIT`]) or starts one; a new token
    /// either way.
    pub async fn init(
        &self,
        open: &OpenWidget,
        client_ip: &str,
        request: InitRequest,
        now: Timestamp,
    ) -> Result<Admitted, AppError> {
        if request.session_id.is_none() {
            let scope = [Scope::new_sessions(client_ip)];
            if let Some(refused) =
                self.refusals
                    .refusal(&open.assistant.id, &open.origin, &scope, now)
            {
                return Err(refused);
            }
        }
        // Before anything is counted or stored: a session is no use to a
        // browser without its token.
        let signer = self.tokens.tokens().await?;
        let resumed = self
            .resumable(open, request.session_id.as_deref(), now)
            .await?;
        let limits = &open.site.settings.limits;
        let mut windows = vec![limits.init_window(client_ip, now)];
        if resumed.is_none() {
            windows.push(limits.session_window(client_ip, now));
        }
        if let Admission::Refused(full) =
            self.widgets.count_use(&open.assistant.id, &windows).await?
        {
            return Err(self.refuse(open, &windows[full], client_ip, now));
        }
        let session = match resumed {
            Some(session) => session,
            None => {
                let (session, _, _) = self
                    .widgets
                    .start_widget_session(NewWidgetSession {
                        workspace_id: open.site.workspace_id.clone(),
                        assistant_id: open.assistant.id.clone(),
                        origin: open.origin.clone(),
                        metadata: request.metadata,
                        welcome: open
                            .assistant
                            .welcome_message
                            .clone()
                            .filter(|w| !w.trim().is_empty()),
                        at: now,
                    })
                    .await?;
                tracing::info!(session_id = %session.id, conversation_id = %session.conversation_id, "widget session started");
                session
            }
        };
        let (token, expires_at) = signer.issue(&open.assistant.id, &session.id, &open.origin, now);
        Ok(Admitted {
            session,
            token,
            expires_at,
        })
    }

    async fn resumable(
        &self,
        open: &OpenWidget,
        raw: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<WidgetSession>, AppError> {
        let Some(id) = raw.and_then(WidgetSessionId::parse) else {
            return Ok(None);
        };
        let Some(session) = self
            .widgets
            .widget_session(&open.assistant.id, &id)
            .await?
            .filter(|s| s.origin == open.origin)
        else {
            return Ok(None);
        };
        let idle_since = now.millis() - SESSION_IDLE_LIMIT.as_millis() as i64;
        let live = self
            .conversations
            .get_conversation(&session.workspace_id, &session.conversation_id)
            .await?
            .is_some_and(|c| c.updated_at.millis() >= idle_since);
        Ok(live.then_some(session))
    }

    /// The visitor an `Authorization: Widget <token>` header names, on this
    /// widget and origin.
    pub async fn visitor(
        &self,
        open: &OpenWidget,
        authorization: Option<&str>,
        now: Timestamp,
    ) -> Result<Visitor, AppError> {
        let unauthorized = |e: TokenError| AppError::WidgetUnauthorized(e.message());
        let token = authorization
            .and_then(|h| {
                let (scheme, token) = h.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("widget").then(|| token.trim())
            })
            .ok_or(unauthorized(TokenError::Missing))?;
        let WidgetClaims {
            assistant_id,
            session_id,
            origin,
            ..
        } = self
            .tokens
            .tokens()
            .await?
            .verify(token, now)
            .map_err(unauthorized)?;
        if assistant_id != open.assistant.id || origin != open.origin {
            return Err(unauthorized(TokenError::Misdirected));
        }
        // A session whose conversation was deleted has ended: the widget
        // starts another with a new init.
        let session = self
            .widgets
            .widget_session(&assistant_id, &session_id)
            .await?
            .ok_or(unauthorized(TokenError::Invalid))?;
        let conversation = self
            .conversations
            .get_conversation(&session.workspace_id, &session.conversation_id)
            .await?
            .ok_or(unauthorized(TokenError::Invalid))?;
        Ok(Visitor {
            session,
            conversation,
        })
    }

    /// Counts one message of the visitor from `client_ip` toward their
    /// session's hour, their client's hour and day, and the assistant's
    /// month, all or none.
    pub async fn count_message(
        &self,
        open: &OpenWidget,
        visitor: &Visitor,
        client_ip: &str,
        now: Timestamp,
    ) -> Result<(), AppError> {
        let windows =
            open.site
                .settings
                .limits
                .message_windows(&visitor.session.id, client_ip, now);
        match self.widgets.count_use(&open.assistant.id, &windows).await? {
            Admission::Admitted => Ok(()),
            Admission::Refused(i) => Err(self.refuse(open, &windows[i], client_ip, now)),
        }
    }

    /// The 429 for a full window, remembered for the client's next
    /// requests of the kind.
    fn refuse(
        &self,
        open: &OpenWidget,
        window: &UseWindow,
        client_ip: &str,
        now: Timestamp,
    ) -> AppError {
        self.refusals
            .remember(&open.assistant.id, &open.origin, window, client_ip, now);
        refused(window, now)
    }
}
