//! Every operation the API serves, gathered from the modules that route
//! them (each states its paths once, as constants its routes and its
//! operations share). The drift tests hold this list to the routers: each
//! operation is served, each served route is listed, and every status a
//! test sees is one its operation lists.

use super::Op;
use crate::http::access::GrantTargets;
use crate::http::state::{AssistantsState, ProjectsState};
use crate::http::{
    access, api_keys, assistants, connections, conversations, documents, projects, search, sms,
    sms_webhook, uploads, widget, widget_settings, workspaces,
};

pub fn all() -> Vec<Op> {
    [
        workspaces::operations(),
        api_keys::operations(),
        assistants::operations(),
        access::operations(AssistantsState::TARGET_PATH, "assistant"),
        projects::operations(),
        documents::operations(),
        uploads::operations(),
        access::operations(ProjectsState::TARGET_PATH, "project"),
        connections::operations(),
        search::operations(),
        sms::operations(),
        sms_webhook::operations(),
        widget_settings::operations(),
        conversations::operations(),
        widget::operations(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
