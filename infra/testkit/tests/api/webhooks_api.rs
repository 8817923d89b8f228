//! The Webhooks API through its routes: every refused target a 400 naming
//! `url` with nothing stored, the secret in the two answers that show it
//! and no other, deliveries paged newest first by cursor, another
//! workspace's webhook not there, and the twenty-first a 409.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::webhook::WEBHOOKS_PER_WORKSPACE;
use std::net::IpAddr;
use testkit::MemoryStack;
use testkit::api::Fixture;

fn webhooks(f: &Fixture) -> String {
    format!("/api/workspaces/{}/webhooks", f.ws())
}

async fn create(stack: &MemoryStack, f: &Fixture, body: Value) -> (StatusCode, Value) {
    stack
        .call(Method::POST, &webhooks(f), Some(f.key("owner")), Some(body))
        .await
}

async fn total(stack: &MemoryStack, f: &Fixture) -> u64 {
    let (_, page) = stack
        .call(Method::GET, &webhooks(f), Some(f.key("owner")), None)
        .await;
    page["total"].as_u64().unwrap()
}

#[tokio::test]
async fn every_refused_target_is_a_400_naming_url_and_nothing_is_stored() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let before = total(&stack, &f).await;
    let internal: IpAddr = "10.1.2.3".parse().unwrap();
    stack.hosts.point("crm.internal.example", &[internal]);
    let long = format!("https://crm.example.com/{}", "a".repeat(2_048));
    for (url, problem) in [
        ("http://crm.example.com/in", "must be an absolute https URL"),
        ("crm.example.com/in", "must be an absolute https URL"),
        ("ftp://crm.example.com/in", "must be an absolute https URL"),
        (long.as_str(), "must be at most 2048 characters"),
        (
            "https://ops:hunter2@crm.example.com/in",
            "must not hold credentials",
        ),
        ("https://127.0.0.1/in", "must not name a loopback address"),
        ("https://localhost/in", "must not name a loopback address"),
        ("https://[::1]/in", "must not name a loopback address"),
        ("https://10.0.0.8/in", "must not name a private address"),
        ("https://192.168.1.20/in", "must not name a private address"),
        ("https://[fd00::1]/in", "must not name a private address"),
        (
            "https://169.254.169.254/latest/meta-data",
            "must not name a link-local address",
        ),
        ("https://[fe80::1]/in", "must not name a link-local address"),
        (
            "https://100.64.0.1/in",
            "must not name a shared (carrier-grade NAT) address",
        ),
        ("https://224.0.0.1/in", "must not name a multicast address"),
        ("https://0.0.0.0/in", "must not name a reserved address"),
        ("https://240.0.0.1/in", "must not name a reserved address"),
        (
            "https://[::ffff:10.0.0.8]/in",
            "must not name a private address",
        ),
        (
            "https://[::ffff:169.254.169.254]/in",
            "must not name a link-local address",
        ),
        (
            "https://crm.internal.example/in",
            "must not name a private address (its name resolves to one)",
        ),
    ] {
        let (status, body) = create(&stack, &f, json!({"url": url, "events": ["*"]})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
        assert_eq!(body["details"]["url"], problem, "{url}");
        let (status, body) = stack
            .call(
                Method::PATCH,
                &format!("{}/{}", webhooks(&f), f.webhook),
                Some(f.key("owner")),
                Some(json!({"url": url})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "PATCH {url}: {body}");
        assert_eq!(body["details"]["url"], problem, "PATCH {url}");
    }
    let (status, body) = create(
        &stack,
        &f,
        json!({"url": "https://10.0.0.8/in", "events": [], "secret": "whsec_short", "active": "yes"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in ["url", "events", "secret", "active"] {
        assert!(body["details"][field].is_string(), "{field}: {body}");
    }
    let (_, body) = create(
        &stack,
        &f,
        json!({"url": "https://crm.example.com/in", "events": ["message.created", "lead.won"]}),
    )
    .await;
    assert!(
        body["details"]["events"]
            .as_str()
            .unwrap()
            .contains("lead.won"),
        "{body}"
    );
    assert_eq!(total(&stack, &f).await, before, "nothing was stored");
    let (_, unchanged) = stack
        .call(
            Method::GET,
            &format!("{}/{}", webhooks(&f), f.webhook),
            Some(f.key("owner")),
            None,
        )
        .await;
    assert_eq!(unchanged["url"], "https://hooks.example.com/in");
    assert!(
        stack.webhook_jobs.sent().len() == 1,
        "only the fixture's test"
    );
}

#[tokio::test]
async fn the_secret_is_in_the_creation_and_rotation_answers_and_no_other() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let brought = format!("whsec_{}", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    let (status, made) = create(
        &stack,
        &f,
        json!({"url": "https://crm.example.com/in", "events": ["contact.created"], "secret": brought}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["secret"], brought.as_str());
    let (status, generated) = create(
        &stack,
        &f,
        json!({"url": "https://crm.example.com/two", "events": ["*"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let generated_secret = generated["secret"].as_str().unwrap().to_owned();
    assert!(generated_secret.starts_with("whsec_"));
    let hook = format!("{}/{}", webhooks(&f), made["id"].as_str().unwrap());
    let (status, rotated) = stack
        .call(
            Method::POST,
            &format!("{hook}/secret"),
            Some(f.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, brought);
    assert!(rotated["previousSecretExpiresAt"].is_string());

    stack
        .call(
            Method::POST,
            &format!("{hook}/test"),
            Some(f.key("owner")),
            None,
        )
        .await;
    let (_, page) = stack
        .call(
            Method::GET,
            &format!("{hook}/deliveries"),
            Some(f.key("owner")),
            None,
        )
        .await;
    let delivery = page["data"][0]["id"].as_str().unwrap();
    let owner = Some(f.key("owner"));
    let mut answers = Vec::new();
    for path in [
        webhooks(&f),
        hook.clone(),
        format!("{hook}/deliveries"),
        format!("{hook}/deliveries/{delivery}"),
    ] {
        answers.push(stack.call(Method::GET, &path, owner, None).await.1);
    }
    answers.push(
        stack
            .call(
                Method::PATCH,
                &hook,
                owner,
                Some(json!({"description": "CRM"})),
            )
            .await
            .1,
    );
    // Delivered (here refused: the sender reaches loopback only), logged,
    // and no secret in any line.
    for (label, secret) in [
        ("a brought secret", &brought),
        ("a made secret", &generated_secret),
        ("a rotated secret", &new_secret),
    ] {
        testkit::logs::forbid(label, secret.trim_start_matches("whsec_"));
    }
    stack.hooks().deliver().await;
    testkit::logs::assert_clean();
    for answer in answers {
        let text = answer.to_string();
        for secret in [&brought, &generated_secret, &new_secret] {
            let key = secret.trim_start_matches("whsec_");
            assert!(!text.contains(key), "a secret in {text}");
        }
        assert!(!text.contains("\"secret\""), "{text}");
        testkit::logs::assert_no_secret_in_response(&text);
    }
}

#[tokio::test]
async fn deliveries_are_paged_newest_first_by_cursor_and_a_bad_cursor_is_named() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    let hook = format!("{}/{}", webhooks(&f), f.webhook);
    let owner = Some(f.key("owner"));
    let mut events = Vec::new();
    for _ in 0..2 {
        let (status, queued) = stack
            .call(Method::POST, &format!("{hook}/test"), owner, None)
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        events.push(queued["eventId"].as_str().unwrap().to_owned());
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let (_, first) = stack
        .call(
            Method::GET,
            &format!("{hook}/deliveries?limit=2"),
            owner,
            None,
        )
        .await;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        first["data"][0]["eventId"],
        events[1].as_str(),
        "newest first"
    );
    assert_eq!(first["data"][1]["eventId"], events[0].as_str());
    assert_eq!(first["data"][0]["status"], "pending");
    assert_eq!(first["data"][0]["attempts"], 0);
    assert_eq!(first["data"][0]["lastAttempt"], Value::Null);
    let cursor = first["nextCursor"].as_str().expect("a next page");
    let (_, last) = stack
        .call(
            Method::GET,
            &format!("{hook}/deliveries?limit=2&cursor={cursor}"),
            owner,
            None,
        )
        .await;
    assert_eq!(last["data"].as_array().unwrap().len(), 1, "the fixture's");
    assert_eq!(last["data"][0]["id"], f.webhook_delivery.as_str());
    assert_eq!(last["nextCursor"], Value::Null);

    let (status, refused) = stack
        .call(
            Method::GET,
            &format!("{hook}/deliveries?limit=0&cursor=page-2"),
            owner,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused["details"]["limit"].is_string() && refused["details"]["cursor"].is_string());
}

#[tokio::test]
async fn another_workspaces_webhook_and_delivery_are_not_there() {
    let stack = MemoryStack::start().await;
    let ours = stack.fixture().await;
    let theirs = stack.fixture().await;
    let owner = Some(ours.key("owner"));
    let foreign = format!("{}/{}", webhooks(&ours), theirs.webhook);
    for (method, path) in [
        (Method::GET, foreign.clone()),
        (Method::DELETE, foreign.clone()),
        (Method::POST, format!("{foreign}/test")),
        (Method::POST, format!("{foreign}/secret")),
        (Method::GET, format!("{foreign}/deliveries")),
        (
            Method::GET,
            format!(
                "{}/{}/deliveries/{}",
                webhooks(&ours),
                ours.webhook,
                theirs.webhook_delivery
            ),
        ),
    ] {
        let (status, body) = stack.call(method.clone(), &path, owner, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
    }
    let (status, _) = stack
        .call(
            Method::GET,
            &format!("{}/{}", webhooks(&theirs), theirs.webhook),
            Some(theirs.key("owner")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "still there for its own workspace");
}

#[tokio::test]
async fn a_workspace_holds_twenty_webhooks_and_the_twenty_first_is_a_409() {
    let stack = MemoryStack::start().await;
    let f = stack.fixture().await;
    for n in 1..WEBHOOKS_PER_WORKSPACE {
        let (status, body) = create(
            &stack,
            &f,
            json!({"url": format!("https://crm.example.com/{n}"), "events": ["*"]}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{n}: {body}");
    }
    let (status, body) = create(
        &stack,
        &f,
        json!({"url": "https://crm.example.com/21", "events": ["*"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(total(&stack, &f).await, WEBHOOKS_PER_WORKSPACE as u64);
}
