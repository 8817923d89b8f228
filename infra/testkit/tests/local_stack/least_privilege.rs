//! The public entry points' table policies, held to what they do: every
//! DynamoDB request the SMS webhook and the widget function make through
//! their flows (recorded on the real adapter as the IAM action and the
//! partition key it needs) is one their statements in `template.yaml`
//! allow, and those statements name partitions, never the whole table.

use axum::http::{Method, StatusCode};
use serde_json::json;
use serde_norway::Value as Yaml;
use shared::adapters::memory::MemoryQueue;
use shared::app::sms_webhook::SmsWebhook;
use shared::jobs::ReplyJob;
use std::collections::BTreeSet;
use std::sync::Arc;
use testkit::TestStack;
use testkit::sms::{AUTH_TOKEN, configure_demo_sms, message_sid, signed_request, signed_text};
use testkit::widget::{SHOP, WidgetRequest};

fn template() -> Yaml {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A function's table statements: (actions, partition key patterns, or
/// `None` for a statement that names no partition).
fn table_statements(function: &str) -> Vec<(BTreeSet<String>, Option<Vec<String>>)> {
    let template = template();
    let policies = template["Resources"][function]["Properties"]["Policies"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{function} has policies"))
        .clone();
    let mut statements = Vec::new();
    for policy in policies {
        for template_policy in [
            "DynamoDBCrudPolicy",
            "DynamoDBReadPolicy",
            "DynamoDBWritePolicy",
        ] {
            if !policy[template_policy].is_null() {
                statements.push((BTreeSet::from(["dynamodb:*".to_owned()]), None));
            }
        }
        for statement in policy["Statement"].as_sequence().into_iter().flatten() {
            let actions: BTreeSet<String> = match &statement["Action"] {
                Yaml::String(one) => BTreeSet::from([one.clone()]),
                Yaml::Sequence(many) => many
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect(),
                _ => BTreeSet::new(),
            };
            if !actions.iter().any(|a| a.starts_with("dynamodb:")) {
                continue;
            }
            let leading = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
                .as_sequence()
                .map(|keys| {
                    keys.iter()
                        .map(|k| k.as_str().unwrap().to_owned())
                        .collect()
                });
            statements.push((actions, leading));
        }
    }
    statements
}

fn matches(pattern: &str, key: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix),
        None => pattern == key,
    }
}

/// Every request `function` made is allowed by a statement that names
/// its partition; answers what was refused.
fn refused(function: &str, accesses: &[(String, String)]) -> Vec<String> {
    let statements = table_statements(function);
    let mut refused = BTreeSet::new();
    for (action, pk) in accesses {
        let allowed = statements.iter().any(|(actions, leading)| {
            actions.contains(action)
                && leading
                    .as_ref()
                    .is_some_and(|keys| keys.iter().any(|k| matches(k, pk)))
        });
        if !allowed {
            let prefix = pk.split('#').next().unwrap_or(pk);
            refused.insert(format!("{action} on {prefix}#..."));
        }
    }
    refused.into_iter().collect()
}

#[test]
fn the_public_functions_have_no_table_wide_grant_and_no_scan() {
    for function in ["SmsWebhookFunction", "WidgetApiFunction"] {
        let statements = table_statements(function);
        assert!(!statements.is_empty(), "{function} reads the table");
        for (actions, leading) in &statements {
            assert!(
                leading.as_ref().is_some_and(|keys| !keys.is_empty()),
                "{function} has a table statement without dynamodb:LeadingKeys: {actions:?}"
            );
            assert!(
                leading.as_ref().unwrap().iter().all(|k| k != "*"),
                "{function} names every partition"
            );
            for action in actions {
                assert!(
                    !action.contains('*') && action != "dynamodb:Scan",
                    "{function} may {action}"
                );
            }
        }
    }
}

#[tokio::test]
async fn every_request_of_the_sms_webhook_is_one_its_policy_allows() {
    let stack = TestStack::start().await;
    let f = stack.fixture().await;
    let assistant = configure_demo_sms(&stack, &f).await;
    let webhook = SmsWebhook::new(
        stack.local.store.clone(),
        stack.local.cipher.clone(),
        Arc::new(MemoryQueue::<ReplyJob>::new()),
    );
    stack.round_trips.reset();
    let texter = "+15550106001";
    for body in ["How long", "do refunds take?", "STOP", "START", "HELP"] {
        webhook
            .inbound(
                &assistant,
                &signed_text(&assistant, texter, body, Some(AUTH_TOKEN)),
            )
            .await
            .unwrap();
    }
    let repeated = signed_text(&assistant, texter, "Again?", Some(AUTH_TOKEN));
    for _ in 0..2 {
        webhook.inbound(&assistant, &repeated).await.unwrap();
    }
    assert!(
        webhook
            .inbound(
                &assistant,
                &signed_text(&assistant, texter, "x", Some("wrong"))
            )
            .await
            .is_err()
    );
    let unknown = shared::domain::ids::AssistantId::generate();
    assert!(
        webhook
            .inbound(
                unknown.as_str(),
                &signed_text(unknown.as_str(), texter, "x", Some(AUTH_TOKEN))
            )
            .await
            .is_err()
    );
    let params: Vec<(String, String)> = [
        ("MessageSid", message_sid()),
        ("MessageStatus", "delivered".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let status = signed_request("status", &assistant, params, Some(AUTH_TOKEN));
    webhook.status(&assistant, &status).await.unwrap();
    let accesses = stack.round_trips.accesses();
    assert!(!accesses.is_empty());
    assert_eq!(
        refused("SmsWebhookFunction", &accesses),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn every_request_of_the_widget_function_is_one_its_policy_allows() {
    let stack = TestStack::start().await;
    let f = stack.fixture().await;
    stack.run_ingest().await;
    let ast = f.private_assistant.clone();
    // Made public by the assistants function, then only the widget's.
    stack.open_widget(&f, &ast, &[SHOP], json!({})).await;
    stack.round_trips.reset();
    let path = format!("/api/workspaces/{}/assistants/{ast}/widget", f.ws());
    for (method, key, body) in [
        (Method::GET, "admin", None),
        (
            Method::PUT,
            "owner",
            Some(json!({"allowedOrigins": [SHOP]})),
        ),
    ] {
        let (status, answer) = stack.call(method, &path, Some(f.key(key)), body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    // A visitor's whole visit.
    let config = stack
        .widget(WidgetRequest::new(Method::GET, &ast, "config"))
        .await;
    assert_eq!(config.status, StatusCode::OK);
    let (_, token) = stack.widget_session(&ast).await;
    for form in [false, true] {
        let request = WidgetRequest::new(Method::POST, &ast, "chat")
            .token(&token)
            .body(json!({"content": "How long do refunds take?"}));
        if form {
            assert_eq!(stack.widget_stream(request).await.0, StatusCode::OK);
        } else {
            assert_eq!(stack.widget(request).await.status, StatusCode::CREATED);
        }
    }
    let history = stack
        .widget(WidgetRequest::new(Method::GET, &ast, "history").token(&token))
        .await;
    let answer = history.body["data"][1]["id"].as_str().unwrap().to_owned();
    for (route, body) in [
        ("feedback", json!({"messageId": answer, "rating": "up"})),
        ("lead", json!({"email": "ada@example.com"})),
    ] {
        let sent = stack
            .widget(
                WidgetRequest::new(Method::POST, &ast, route)
                    .token(&token)
                    .body(body),
            )
            .await;
        assert!(sent.status.is_success(), "{route}: {}", sent.body);
    }
    let accesses = stack.round_trips.accesses();
    assert_eq!(
        refused("WidgetApiFunction", &accesses),
        Vec::<String>::new()
    );
}
