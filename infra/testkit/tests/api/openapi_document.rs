//! The OpenAPI document and the routers agree. Every answer any test sees
//! is also checked against the document's statuses (`Api::new` holds each
//! router to it), so a served route missing from the document, or a status
//! it does not list, fails the test that met it.

use axum::http::Method;
use serde_json::Value;
use std::path::PathBuf;
use testkit::MemoryStack;

#[test]
fn no_two_schemas_share_a_name() {
    assert_eq!(
        shared::http::api_document::clashing_schema_names(),
        Vec::<String>::new()
    );
}

/// `generated` is what `infra/{file}` holds (and, with `UPDATE_OPENAPI`
/// set, is written there first).
fn assert_committed(file: &str, generated: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(file);
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, generated).expect("infra/ is writable");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "infra/{file} is not what the code generates; run \
         `UPDATE_OPENAPI=1 ./infra/test -p testkit --test api openapi` and commit it"
    );
}

#[test]
fn the_committed_openapi_document_is_the_one_the_code_generates() {
    assert_committed("openapi.json", &shared::http::api_document::document_json());
}

#[test]
fn the_committed_route_table_is_the_one_the_document_gives() {
    assert_committed("routes.md", &shared::http::api_document::route_table());
}

#[test]
fn the_document_is_openapi_3_1_with_an_id_and_a_success_answer_on_every_operation() {
    let document: Value =
        serde_json::from_str(&shared::http::api_document::document_json()).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap().to_owned();
            assert!(ids.insert(id.clone()), "{id} names one operation");
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path} has a success answer"
            );
            for name in path.split('/').filter_map(|s| s.strip_prefix('{')) {
                let name = name.trim_end_matches('}');
                assert!(
                    operation["parameters"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|p| p["name"] == name && p["in"] == "path"),
                    "{method} {path} describes its path parameter {name}"
                );
            }
        }
    }
    assert!(ids.len() >= 60, "every operation is listed: {}", ids.len());
}

/// An id of the right shape for each path parameter: a route that exists
/// answers it (401, 403, 404 of its own), the fallback answers `route`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{workspace_id}" => "ws_aaaaaaaaaaaaaaaaaaaa".to_owned(),
            "{assistant_id}" => "ast_aaaaaaaaaaaaaaaaaaaa".to_owned(),
            "{project_id}" => "proj_aaaaaaaaaaaaaaaaaaaa".to_owned(),
            "{document_id}" => "doc_aaaaaaaaaaaaaaaaaaaa".to_owned(),
            "{conversation_id}" => "conv_aaaaaaaaaaaaaaaaaaaa".to_owned(),
            "{user_id}" => "usr_aaaaaaaaaaaaaaaaaaaa".to_owned(),
            "{key_id}" => "key_aaaaaaaaaaaaaaaaaaaa".to_owned(),
            other => other.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_operation_of_the_document_is_served_by_the_api_or_the_webhook() {
    let stack = MemoryStack::start().await;
    let mut unserved = Vec::new();
    for (method, path) in shared::http::api_document::operations() {
        let url = concrete(&path);
        let (status, body) = if path.starts_with("/api/sms/") {
            let (status, body) = stack.sms.post(&url, &[], None).await;
            (status, serde_json::from_str(&body).unwrap_or(Value::Null))
        } else {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let (status, body) = stack.call_raw(method, &url, None, None).await;
            (status.as_u16(), body)
        };
        let fallback = status == 405
            || (status == 404 && body["error"].as_str().is_some_and(|e| e.contains("route")));
        if fallback {
            unserved.push(format!("{method} {path}: {status} {body}"));
        }
    }
    assert!(
        unserved.is_empty(),
        "documented but not served: {unserved:#?}"
    );
}
