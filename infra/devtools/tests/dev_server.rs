//! The README's path, end to end: the dev server starts, seeds, writes
//! `.dev/seed.json`, and the documentation's curl examples get exactly the
//! documented statuses and shapes over real HTTP. Also the admin CLI.

use devtools::local::{LocalStack, ResourceNames};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::ports::GrantStore;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn stack_file(names: &ResourceNames) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("{}-stack.json", names.table))
}

async fn start_dev_server() -> (Running, Value, ResourceNames) {
    let names = ResourceNames::unique("e2e");
    let seed_file = std::env::temp_dir().join(format!("{}-seed.json", names.table));
    let child = Command::new(env!("CARGO_BIN_EXE_dev-server"))
        // Port 0: the server binds free ports itself and reports them in
        // the seed and stack files (a port picked here could be taken by
        // another process before the server bound it).
        .env("PORT", "0")
        .env("WEBHOOK_PORT", "0")
        .env("DEMO_PORT", "0")
        .env("WIDGET_SIGNING_SECRET", &names.widget_secret)
        .env("CONTACT_KEY_SECRET", &names.contact_secret)
        .env("TABLE_NAME", &names.table)
        .env("CLEANUP_QUEUE_NAME", &names.cleanup_queue)
        .env("INGEST_QUEUE_NAME", &names.ingest_queue)
        .env("REPLY_QUEUE_NAME", &names.reply_queue)
        .env("SMS_KEY_ALIAS", &names.sms_key_alias)
        .env("STACK_FILE", stack_file(&names))
        .env("SEED_FILE", &seed_file)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("the dev server starts");
    let running = Running(child);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(text) = std::fs::read_to_string(&seed_file)
            && let Ok(seed) = serde_json::from_str::<Value>(&text)
        {
            let _ = std::fs::remove_file(&seed_file);
            return (running, seed, names);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the dev server wrote no seed file within 60 s");
}

#[tokio::test]
async fn the_documented_examples_work_against_the_dev_server() {
    let (_server, seed, names) = start_dev_server().await;
    for field in ["baseUrl", "workspaceId", "otherWorkspaceId"] {
        assert!(seed[field].is_string(), "seed.json has {field}");
    }
    for role in ["owner", "admin", "member", "guest", "outsider"] {
        assert!(seed["keys"][role].as_str().unwrap().starts_with("ic_"));
        assert!(seed["users"][role].as_str().unwrap().starts_with("usr_"));
    }
    let base = seed["baseUrl"].as_str().unwrap();
    let ws = seed["workspaceId"].as_str().unwrap();
    let owner = seed["keys"]["owner"].as_str().unwrap();
    let http = devtools::http_client();
    let assistants = format!("{base}/api/workspaces/{ws}/assistants");

    let created = http
        .post(&assistants)
        .bearer_auth(owner)
        .header("Content-Type", "application/json")
        .body(
            json!({
                "name": "Support Bot",
                "instructions": "You are a helpful customer support assistant for Acme Corp.",
                "model": "grok-2",
                "visibility": "public",
                "temperature": 0.5,
                "maxTokens": 2048,
                "welcomeMessage": "Hello! How can I help you today?"
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert!(
        created.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let one = format!("{assistants}/{id}");

    let listed = http
        .get(format!("{assistants}?limit=10"))
        .bearer_auth(seed["keys"]["member"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(listed["limit"], 10);
    assert_eq!(listed["offset"], 0);
    // The new one, and the widget demo's assistant the dev server seeds.
    assert_eq!(listed["total"], 2);
    assert_eq!(
        listed["data"][0],
        json!({
            "id": id, "name": "Support Bot", "model": "grok-2", "visibility": "public",
            "widgetEnabled": false, "projectCount": 0, "createdAt": created["createdAt"]
        })
    );

    let fetched = http.get(&one).bearer_auth(owner).send().await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.json::<Value>().await.unwrap(), created);

    let updated = http
        .patch(&one)
        .bearer_auth(owner)
        .header("Content-Type", "application/json")
        .body(r#"{"instructions": "You are a technical support specialist. Always ask clarifying questions.", "temperature": 0.3}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), StatusCode::OK);
    let updated: Value = updated.json().await.unwrap();
    assert_eq!(updated["temperature"], 0.3);
    assert_eq!(updated["maxTokens"], 2048);

    // A grant, so the cascade has something to remove.
    let member = seed["users"]["member"].as_str().unwrap();
    let granted = http
        .put(format!("{one}/access/{member}"))
        .bearer_auth(owner)
        .send()
        .await
        .unwrap();
    assert_eq!(granted.status(), StatusCode::OK);

    let deleted = http.delete(&one).bearer_auth(owner).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(deleted.bytes().await.unwrap().is_empty());
    let gone = http.get(&one).bearer_auth(owner).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // The dev server drives the cleanup queue, as the event source mapping does.
    let aws = shared::wiring::load_aws(&shared::adapters::outbound_http::client()).await;
    let store = shared::adapters::dynamo::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        &names.table,
    );
    let ws_id = shared::domain::ids::WorkspaceId::parse(ws).unwrap();
    let ast_id = shared::domain::access::AccessTarget::Assistant(
        shared::domain::ids::AssistantId::parse(&id).unwrap(),
    );
    let started = Instant::now();
    while !store.list_grants(&ws_id, &ast_id).await.unwrap().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the cleanup job never ran"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let outsider = http
        .get(&assistants)
        .bearer_auth(seed["keys"]["outsider"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(outsider.status(), StatusCode::NOT_FOUND);
    let anonymous = http.get(&assistants).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_admin_cli_bootstraps_a_workspace_whose_key_works_and_deletes_it_on_request() {
    let aws = shared::wiring::load_aws(&shared::adapters::outbound_http::client()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let local = LocalStack::provision(aws, dynamo, &ResourceNames::unique("admin"))
        .await
        .unwrap();
    // The CLI's workspaces, read through the API's own router.
    let search = std::sync::Arc::new(devtools::emulators::local_retriever("http://127.0.0.1:9"));
    let sms = devtools::emulators::local_sms_backends(
        "http://127.0.0.1:9",
        local.cipher.clone(),
        "http://webhook.test",
    );
    let chat = std::sync::Arc::new(devtools::emulators::local_chat("http://127.0.0.1:9"));
    let router = shared::http::all_routes_router(&local.backends(search, chat, sms));
    let call = |method: &'static str, path: String, key: String, body: Option<Value>| {
        let router = router.clone();
        async move {
            let request = axum::http::Request::builder()
                .method(method)
                .uri(path)
                .header("authorization", format!("Bearer {key}"))
                .header("content-type", "application/json")
                .body(body.map_or_else(axum::body::Body::empty, |b| {
                    axum::body::Body::from(b.to_string())
                }))
                .unwrap();
            let response = tower::ServiceExt::oneshot(router, request).await.unwrap();
            let status = response.status().as_u16();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        }
    };
    let get = |path: String, key: String| call("GET", path, key, None);
    let admin = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_admin"))
            .env("TABLE_NAME", &local.table)
            .args(args)
            .output()
            .expect("the admin CLI runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, out, err) = admin(&[
        "bootstrap",
        "--workspace-name",
        "Acme",
        "--owner-email",
        "ann@acme.example",
    ]);
    assert!(ok, "{err}");
    let boot: Value = serde_json::from_str(&out).unwrap();
    let ws = boot["workspaceId"].as_str().unwrap();
    let key = boot["owner"]["apiKey"].as_str().unwrap();
    let (status, body) = get(format!("/api/workspaces/{ws}"), key.to_owned()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], "owner");

    let (ok, out, err) = admin(&[
        "add-member",
        "--workspace",
        ws,
        "--email",
        "bob@acme.example",
        "--role",
        "admin",
    ]);
    assert!(ok, "{err}");
    let added: Value = serde_json::from_str(&out).unwrap();
    let member_key = added["member"]["apiKey"].as_str().unwrap().to_owned();
    let (status, body) = get(format!("/api/workspaces/{ws}"), member_key).await;
    assert_eq!(status, 200);
    assert_eq!(body["role"], "admin");

    let (ok, out, _) = admin(&["issue-key", "--email", "bob@acme.example"]);
    assert!(ok);
    assert!(out.contains("\"apiKey\": \"ic_"));

    let (ok, _, err) = admin(&["issue-key", "--email", "nobody@acme.example"]);
    assert!(!ok);
    assert!(err.contains("no user has the email"), "{err}");
    let (ok, _, err) = admin(&[
        "add-member",
        "--workspace",
        "ws_00000000000000000000",
        "--email",
        "c@acme.example",
        "--role",
        "member",
    ]);
    assert!(!ok);
    assert!(err.contains("workspace not found"), "{err}");

    // Deleting the workspace on request: refused while an assistant hangs
    // off it, done once the API has deleted it, then gone for its members.
    let assistants = format!("/api/workspaces/{ws}/assistants");
    let (status, bot) = call(
        "POST",
        assistants.clone(),
        key.to_owned(),
        Some(serde_json::json!({ "name": "Support" })),
    )
    .await;
    assert_eq!(status, 201, "{bot}");
    let (ok, _, err) = admin(&["delete-workspace", "--workspace", ws]);
    assert!(!ok);
    assert!(
        err.contains("still has 1 assistant:") && err.contains("nothing was deleted"),
        "{err}"
    );
    let (status, _) = get(format!("/api/workspaces/{ws}"), key.to_owned()).await;
    assert_eq!(status, 200, "a refusal deletes nothing");
    let bot = bot["id"].as_str().unwrap();
    let (status, _) = call(
        "DELETE",
        format!("{assistants}/{bot}"),
        key.to_owned(),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (ok, out, err) = admin(&["delete-workspace", "--workspace", ws]);
    assert!(ok, "{err}");
    let deleted: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(deleted["deleted"], true);
    for caller in [key, added["member"]["apiKey"].as_str().unwrap()] {
        let (status, _) = get(format!("/api/workspaces/{ws}"), caller.to_owned()).await;
        assert_eq!(status, 404);
        let (status, mine) = get("/api/workspaces".into(), caller.to_owned()).await;
        assert_eq!(status, 200, "their keys still work");
        assert_eq!(mine["data"], serde_json::json!([]), "{mine}");
    }
    let (ok, _, err) = admin(&["delete-workspace", "--workspace", ws]);
    assert!(!ok);
    assert!(err.contains("already deleted"), "{err}");
}

/// The README's SMS and chat walkthroughs, as a new user runs them: a
/// document, an assistant connected to it, the demo Twilio account, then
/// `text`; then a member's conversation whose answer streams in.
#[tokio::test]
async fn a_text_and_a_chat_to_the_dev_server_are_answered_from_the_connected_project() {
    let (_server, seed, names) = start_dev_server().await;
    let base = seed["baseUrl"].as_str().unwrap();
    let ws = seed["workspaceId"].as_str().unwrap();
    let owner = seed["keys"]["owner"].as_str().unwrap();
    let api = format!("{base}/api/workspaces/{ws}");
    let http = devtools::http_client();
    let post = |path: String, body: Value| {
        http.post(format!("{api}{path}"))
            .bearer_auth(owner)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
    };
    let assistant: Value = post("/assistants".into(), json!({"name": "Support"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let assistant = assistant["id"].as_str().unwrap().to_owned();
    let project: Value = post("/projects".into(), json!({"name": "FAQ"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let project = project["id"].as_str().unwrap().to_owned();
    let boundary = "----e2eBoundary7MA4YWxkTrZu0gW";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"refunds.md\"\r\nContent-Type: text/markdown\r\n\r\n# Refunds\n\nRefunds reach the original card within five business days.\n\r\n--{boundary}--\r\n"
    );
    let uploaded = http
        .post(format!("{api}/projects/{project}/documents"))
        .bearer_auth(owner)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let connected = post(
        format!("/assistants/{assistant}/projects"),
        json!({"projectId": project}),
    )
    .await
    .unwrap();
    assert_eq!(connected.status(), StatusCode::CREATED);
    let configured = http
        .put(format!("{api}/assistants/{assistant}/sms"))
        .bearer_auth(owner)
        .header("Content-Type", "application/json")
        .body(
            json!({"enabled": true, "twilioAccountSid": "AC0123456789abcdef0123456789abcdef",
                   "twilioAuthToken": "local0auth0token0f0r0the0emulator", "phoneNumber": "+15005550006"})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(configured.status(), StatusCode::OK);
    // The ingest worker indexes the document off the local queue.
    let started = Instant::now();
    loop {
        let docs: Value = http
            .get(format!("{api}/projects/{project}/documents"))
            .bearer_auth(owner)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if docs["data"][0]["status"] == "completed" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{docs}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The dev server is another process: blocking this test's thread on
    // the command is harmless.
    let output = Command::new(env!("CARGO_BIN_EXE_text"))
        .args([
            "--assistant",
            &assistant,
            "--from",
            "+15557654321",
            "How long do refunds take?",
        ])
        .env("STACK_FILE", stack_file(&names))
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        printed.contains("webhook answered 200 OK: <Response></Response>"),
        "{printed}"
    );
    assert!(
        printed.contains("Refunds reach the original card within five business days."),
        "{printed}"
    );

    // Chat, as the member: the answer arrives over real HTTP as it is
    // written, not in one piece at the end.
    let member = seed["keys"]["member"].as_str().unwrap();
    let conversation: Value = http
        .post(format!("{api}/conversations"))
        .bearer_auth(member)
        .header("Content-Type", "application/json")
        .body(json!({"assistantId": assistant}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let conversation = conversation["id"].as_str().unwrap();
    let mut answer = http
        .post(format!("{api}/conversations/{conversation}/messages"))
        .bearer_auth(member)
        .header("Content-Type", "application/json")
        .body(json!({"content": "How long do refunds take?"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["content-type"], "text/event-stream");
    let mut reads = Vec::new();
    while let Some(bytes) = answer.chunk().await.unwrap() {
        reads.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    let first_delta = reads
        .iter()
        .position(|r| r.contains("event: delta"))
        .expect("a delta arrived");
    let done = reads
        .iter()
        .position(|r| r.contains("event: done"))
        .expect("the answer ended");
    assert!(
        first_delta < done,
        "the first words came before the end: {reads:?}"
    );
    assert!(
        reads[done].contains("Refunds reach the original card within five business days."),
        "{reads:?}"
    );
}
