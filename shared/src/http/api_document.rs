//! The API's OpenAPI document: every module's operations gathered and built
//! (`openapi` builds, each module describes its own routes). The dev server
//! serves it at `/api/openapi.json`; `infra/openapi.json` is the committed
//! copy, `infra/routes.md` its route table. The drift tests hold the
//! document to the routers: each operation is served, each served route is
//! listed, and every status a test sees is one its operation lists.

use super::access::GrantTargets;
use super::openapi::{self, Op, method_name};
use super::state::{AssistantsState, ProjectsState};
use super::{
    access, api_keys, assistants, connections, conversations, documents, projects, search, sms,
    sms_webhook, uploads, usage, webhooks, widget, widget_settings, workspaces,
};
use std::collections::BTreeSet;
use utoipa::openapi::OpenApi;

fn all() -> Vec<Op> {
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
        webhooks::operations(),
        usage::operations(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The whole document.
pub fn document() -> OpenApi {
    openapi::build(all())
}

/// The document as served and committed: pretty JSON, one trailing newline.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the document serialises");
    json.push('\n');
    json
}

/// The route table the README links to.
pub fn route_table() -> String {
    openapi::route_table::route_table(&document())
}

/// Every operation, as (method, path) pairs: what the drift tests hold the
/// routers to.
pub fn operations() -> BTreeSet<(String, String)> {
    all()
        .into_iter()
        .map(|op| (method_name(&op.method).to_owned(), op.path))
        .collect()
}

/// The statuses the document lists for the operation that serves
/// `method` on the concrete `path` (the template matching most literal
/// segments), or `None` when no operation serves it.
pub fn documented_statuses(method: &str, path: &str) -> Option<BTreeSet<u16>> {
    use std::sync::OnceLock;
    type Listed = Vec<(String, Vec<String>, BTreeSet<u16>)>;
    static LISTED: OnceLock<Listed> = OnceLock::new();
    let listed = LISTED.get_or_init(|| {
        all()
            .into_iter()
            .map(|op| {
                let statuses = op
                    .responses
                    .iter()
                    .filter_map(|(s, _)| s.parse().ok())
                    .collect();
                let segments = op.path.split('/').map(str::to_owned).collect();
                (method_name(&op.method).to_owned(), segments, statuses)
            })
            .collect()
    });
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    listed
        .iter()
        .filter(|(m, template, _)| {
            m == method
                && template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t.starts_with('{') || t == s)
        })
        .max_by_key(|(_, template, _)| template.iter().filter(|t| !t.starts_with('{')).count())
        .map(|(_, _, statuses)| statuses.clone())
}

/// Names given to two different schemas: the document keeps only one of
/// them, so every answer of the other is checked against the wrong shape.
pub fn clashing_schema_names() -> Vec<String> {
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let mut clashes = BTreeSet::new();
    for op in all() {
        for (name, schema) in op.schemas {
            let shape = serde_json::to_string(&schema).unwrap_or_default();
            match seen.get(&name) {
                Some(known) if *known != shape => {
                    clashes.insert(name);
                }
                Some(_) => {}
                None => {
                    seen.insert(name, shape);
                }
            }
        }
    }
    clashes.into_iter().collect()
}
