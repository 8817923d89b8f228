//! A route table in Markdown, read off a document so that a route is described once, in the module that serves
//! it.

use serde_json::Value;

const METHODS: [&str; 6] = ["get", "post", "put", "patch", "delete", "options"];

/// Every operation as a Markdown table row: method, path, summary and what
/// authenticates the caller, in the document's path order.
pub fn route_table(document: &utoipa::openapi::OpenApi) -> String {
    let document = serde_json::to_value(document).expect("the document serialises");
    let mut table = String::from(
        "# Routes\n\n\
         Generated from the OpenAPI document ([`openapi.json`](openapi.json)), \
         which has each operation's parameters, bodies and answers; \
         `UPDATE_OPENAPI=1 ./infra/test -p testkit --test api openapi` rewrites both. \
         Roles are as the summaries say; a member who may not see a private \
         assistant or project is answered 404, as if it were not there.\n\n\
         | Method | Path | What | Caller |\n|---|---|---|---|\n",
    );
    let paths = document["paths"].as_object().into_iter().flatten();
    for (path, item) in paths {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let summary = operation["summary"].as_str().unwrap_or_default();
            table.push_str(&format!(
                "| {} | `{path}` | {} | {} |\n",
                method.to_uppercase(),
                summary.replace('|', "\\|"),
                caller(path, operation)
            ));
        }
    }
    table
}

fn caller(path: &str, operation: &Value) -> &'static str {
    let schemes: Vec<&str> = operation["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|requirement| requirement.as_object())
        .flat_map(|requirement| requirement.keys().map(String::as_str))
        .collect();
    if schemes.contains(&"apiKey") {
        "API key"
    } else if schemes.contains(&"widgetToken") {
        "widget visitor (token from `init`)"
    } else if path.starts_with("/api/sms/") {
        "Twilio (signed)"
    } else {
        "a page on an allowed origin"
    }
}
