//! API latency against the local stack: get, list and create assistant
//! through the real router (authentication, authorization, DynamoDB), next
//! to a raw `GetItem` on the same server, in one run. Prints median and p99
//! and the ratio to the raw read, so the figure says how much the API adds
//! on top of the database it cannot be faster than.
//!
//! Run with `./infra/bench` (starts the local server, builds optimised).

use aws_sdk_dynamodb::types::AttributeValue::{N, S};
use aws_sdk_dynamodb::types::{KeysAndAttributes, Put, TransactWriteItem, Update};
use axum::body::Body;
use axum::http::{Method, Request};
use devtools::local::{LocalStack, ResourceNames, require_loopback_endpoint};
use devtools::seed::seed_demo;
use shared::http::all_routes_router;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tower::ServiceExt;

const WARMUP: usize = 20;
const SAMPLES: usize = 300;
/// Assistants in the listed workspace.
const LISTED: usize = 25;
/// Assistants in the large workspace, and documents in its project.
const LARGE: usize = 10_000;
/// Samples of each list of the large sizes: enough for a median that a
/// stray slow call on the local server does not move.
const LARGE_SAMPLES: usize = 60;

struct Figures {
    median: Duration,
    p99: Duration,
}

fn figures(mut samples: Vec<Duration>) -> Figures {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Figures {
        median: at(0.5),
        p99: at(0.99),
    }
}

type Run<'a> = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = ()> + 'a>> + 'a>;

fn boxed<'a, F, Fut>(mut run: F) -> Run<'a>
where
    F: FnMut() -> Fut + 'a,
    Fut: Future<Output = ()> + 'a,
{
    Box::new(move || Box::pin(run()))
}

/// Each operation's figures, from rounds that run each of them once.
async fn in_turns<const N: usize>(
    warmup: usize,
    count: usize,
    mut runs: [Run<'_>; N],
) -> [Figures; N] {
    for _ in 0..warmup {
        for run in runs.iter_mut() {
            run().await;
        }
    }
    let mut samples: [Vec<Duration>; N] = std::array::from_fn(|_| Vec::with_capacity(count));
    for _ in 0..count {
        for (run, taken) in runs.iter_mut().zip(samples.iter_mut()) {
            let started = Instant::now();
            run().await;
            taken.push(started.elapsed());
        }
    }
    samples.map(figures)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    require_loopback_endpoint()?;
    let aws = shared::wiring::load_aws(&shared::adapters::outbound_http::client()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let local = LocalStack::provision(aws, dynamo.clone(), &ResourceNames::unique("bench")).await?;
    let seed = seed_demo(local.store.as_ref(), "http://bench").await?;
    // The benchmark never searches nor chats: both point at nothing.
    let search = std::sync::Arc::new(devtools::emulators::local_retriever("http://127.0.0.1:9"));
    let sms = devtools::emulators::local_sms_backends(
        "http://127.0.0.1:9",
        local.cipher.clone(),
        "http://bench",
    );
    let chat = std::sync::Arc::new(devtools::emulators::local_chat("http://127.0.0.1:9"));
    let router = all_routes_router(&local.backends(search, chat, sms));
    let owner = format!("Bearer {}", seed.keys["owner"]);
    let list_path = format!("/api/workspaces/{}/assistants", seed.workspace_id);

    let request = |method: Method, path: &str, body: Option<String>| {
        Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", &owner)
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, Body::from))
            .expect("a well-formed request")
    };
    let mut assistant = String::new();
    for i in 0..LISTED {
        let body =
            format!(r#"{{"name": "bench {i}", "instructions": "You are a helpful assistant."}}"#);
        let response = router
            .clone()
            .oneshot(request(Method::POST, &list_path, Some(body)))
            .await?;
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        let created: serde_json::Value = serde_json::from_slice(&bytes)?;
        assistant = created["id"].as_str().unwrap_or_default().to_owned();
    }
    let get_path = format!("{list_path}/{assistant}");

    let raw = boxed(|| {
        let dynamo = dynamo.clone();
        let table = local.table.to_owned();
        let ws = seed.workspace_id.to_string();
        let id = assistant.clone();
        async move {
            let _ = dynamo
                .get_item()
                .table_name(table)
                .key("PK", S(format!("WS#{ws}")))
                .key("SK", S(format!("AST#{id}")))
                .consistent_read(true)
                .send()
                .await;
        }
    });
    // What a warm get asks the store for, asked directly: the workspace, the
    // owner's membership, the assistant and the owner's grant on it, in
    // one BatchGetItem (the keys the adapter builds), so the API's own
    // share of the get's time can be told from the local server's.
    let raw_batch = boxed(|| {
        let ws = seed.workspace_id.to_string();
        let user = seed.users["owner"].clone();
        let key = |sk: String| {
            std::collections::HashMap::from([
                ("PK".to_owned(), S(format!("WS#{ws}"))),
                ("SK".to_owned(), S(sk)),
            ])
        };
        let keys = KeysAndAttributes::builder()
            .keys(key("META".into()))
            .keys(key(format!("MEMBER#{user}")))
            .keys(key(format!("AST#{assistant}")))
            .keys(key(format!("AST#{assistant}#GRANT#{user}")))
            .consistent_read(true)
            .build()
            .expect("keys are set");
        let read = dynamo
            .batch_get_item()
            .request_items(&local.table, keys)
            .send();
        async move {
            let _ = read.await;
        }
    });
    let raw_query = boxed(|| {
        let query = dynamo
            .query()
            .table_name(&local.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", S(format!("WS#{}", seed.workspace_id)))
            .expression_attribute_values(":prefix", S("AST#".into()))
            .consistent_read(true)
            .send();
        async move {
            let _ = query.await;
        }
    });
    let raw_transaction = boxed(|| {
        let put = TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&local.table)
                    .item("PK", S("BENCH".into()))
                    .item(
                        "SK",
                        S(shared::domain::ids::AssistantId::generate().to_string()),
                    )
                    .build()
                    .expect("table and item are set"),
            )
            .build();
        let count = TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(&local.table)
                    .key("PK", S("BENCH".into()))
                    .key("SK", S("COUNT".into()))
                    .update_expression("ADD n :one")
                    .expression_attribute_values(":one", N("1".into()))
                    .build()
                    .expect("table, key and expression are set"),
            )
            .build();
        let write = dynamo
            .transact_write_items()
            .transact_items(put)
            .transact_items(count)
            .send();
        async move {
            let _ = write.await;
        }
    });
    let get = boxed(|| {
        let call = router
            .clone()
            .oneshot(request(Method::GET, &get_path, None));
        async move {
            let _ = call.await;
        }
    });
    let list = boxed(|| {
        let call = router
            .clone()
            .oneshot(request(Method::GET, &list_path, None));
        async move {
            let _ = call.await;
        }
    });
    // Sampled in turns, one of each per round, so that each sees the same
    // machine: this one's speed drifts by up to 2x within a minute, which
    // timed one after another made the ratios swing (the get measured
    // 0.9x to 1.8x a raw GetItem in back-to-back runs).
    let [raw, raw_batch, raw_query, raw_transaction, get, list] = in_turns(
        WARMUP,
        SAMPLES,
        [raw, raw_batch, raw_query, raw_transaction, get, list],
    )
    .await;
    // Alone: each create grows the table the others read.
    let [create] = in_turns(
        WARMUP,
        SAMPLES,
        [boxed(|| {
            let body = r#"{"name": "bench", "temperature": 0.4}"#.to_owned();
            let call = router
                .clone()
                .oneshot(request(Method::POST, &list_path, Some(body)));
            async move {
                let _ = call.await;
            }
        })],
    )
    .await;

    let lists = list_sizes(&router, &local, &dynamo).await?;

    println!(
        "API latency through the router, local stack, {SAMPLES} samples each in turns (after {WARMUP} warm-up rounds)"
    );
    println!(
        "{:<28} {:>10} {:>10} {:>16}",
        "operation", "median", "p99", "median / GetItem"
    );
    println!(
        "{:<28} {:>10} {:>10} {:>16}",
        "raw GetItem (baseline)",
        ms(raw.median),
        ms(raw.p99),
        "1.00x"
    );
    for (name, f) in [
        ("raw BatchGetItem (get's 4)", &raw_batch),
        ("raw Query (list's read)", &raw_query),
        ("raw TransactWriteItems (2)", &raw_transaction),
        ("get assistant", &get),
        (&*format!("list assistants ({LISTED})"), &list),
        ("create assistant", &create),
    ] {
        println!(
            "{:<28} {:>10} {:>10} {:>15.2}x",
            name,
            ms(f.median),
            ms(f.p99),
            f.median.as_secs_f64() / raw.median.as_secs_f64()
        );
    }
    println!(
        "get assistant / its raw BatchGetItem: {:.2}x (what the API adds to its one round trip)",
        get.median.as_secs_f64() / raw_batch.median.as_secs_f64()
    );
    println!(
        "\nLists, a page of 25 (the default), {LARGE_SAMPLES} samples each, in turns; the same page from {LISTED} and from {LARGE}:"
    );
    println!(
        "{:<36} {:>10} {:>10} {:>12}",
        "list",
        &*format!("of {LISTED}"),
        &*format!("of {LARGE}"),
        "large/small"
    );
    for (name, small, large) in &lists {
        println!(
            "{:<36} {:>10} {:>10} {:>11.2}x",
            name,
            ms(small.median),
            ms(large.median),
            large.median.as_secs_f64() / small.median.as_secs_f64()
        );
    }
    Ok(())
}

/// A workspace of `size` assistants (one in ten private, made by the
/// owner) and a project of `size` documents, besides the demo's. The first
/// of each goes through the store; the rest are copies of its stored items
/// (the record, its place in the listing, its creator's note) under new ids
/// and times, written with `BatchWriteItem`, and the counters moved to
/// match: 20,000 transactional creates would take the local server longer
/// than the rest of the benchmark.
async fn seeded_of(
    store: &shared::adapters::dynamo::DynamoStore,
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    size: usize,
) -> Result<(devtools::seed::Seed, String), Box<dyn std::error::Error>> {
    use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
    use shared::domain::assistant::AssistantChanges;
    use shared::domain::document::{Document, DocumentKind};
    use shared::domain::ids::{AssistantId, DocumentId};
    use shared::domain::project::ProjectChanges;
    use shared::ports::{AssistantStore, DocumentStore, ProjectStore, WorkspaceStore};
    let seed = seed_demo(store, "http://bench").await?;
    let owner = shared::domain::ids::UserId::parse(&seed.users["owner"]).ok_or("owner")?;
    let ws = seed.workspace_id.clone();
    let models = store
        .workspace_context(&ws, &owner)
        .await?
        .ok_or("workspace")?
        .workspace
        .models;
    let project = store
        .create_project(
            &ws,
            ProjectChanges {
                name: Some("Handbook".into()),
                ..ProjectChanges::default()
            },
            &owner,
        )
        .await?;
    let first = store
        .create_assistant(
            &ws,
            AssistantChanges::from_json(serde_json::json!({"name": "assistant 0"}), &models, true)
                .map_err(|e| format!("{e:?}"))?
                .into_new_config(&models),
            &owner,
        )
        .await?;
    let document = Document::new(
        ws.clone(),
        project.id.clone(),
        "file-0.md".into(),
        Some(DocumentKind::Markdown),
        100,
    );
    store.create_document(&document).await?;
    let pk = format!("WS#{ws}");
    let stored = |sk: String| {
        let (dynamo, pk) = (dynamo.clone(), pk.clone());
        async move {
            dynamo
                .get_item()
                .table_name(table)
                .key("PK", AttributeValue::S(pk))
                .key("SK", AttributeValue::S(sk))
                .send()
                .await
                .map_err(|e| format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?
                .item
                .ok_or_else(|| "the template item".to_owned())
        }
    };
    let assistant_template = stored(format!("AST#{}", first.id)).await?;
    let document_template = stored(format!("DOC#{}#{}", project.id, document.id)).await?;
    let base = document.created_at.millis();
    let mut items = Vec::new();
    for i in 1..size {
        let at = AttributeValue::N((base + i as i64).to_string());
        let id = AssistantId::generate();
        let mut assistant = assistant_template.clone();
        assistant.insert("SK".into(), AttributeValue::S(format!("AST#{id}")));
        assistant.insert("id".into(), AttributeValue::S(id.to_string()));
        assistant.insert("name".into(), AttributeValue::S(format!("assistant {i}")));
        assistant.insert("createdAt".into(), at.clone());
        let private = i % 10 == 0;
        if private {
            assistant.insert("visibility".into(), AttributeValue::S("private".into()));
        }
        items.push(assistant);
        let listing = if private { "PRIVATE" } else { "SHARED" };
        items.push(key_only(
            format!("ASTS#{ws}"),
            format!("{listing}#{:013}#{id}", base + i as i64),
        ));
        items.push(key_only(format!("SEES#{ws}#{owner}"), format!("MADE#{id}")));
        let id = DocumentId::generate();
        let mut document = document_template.clone();
        let prefix = format!("DOC#{}#", project.id);
        document.insert("SK".into(), AttributeValue::S(format!("{prefix}{id}")));
        document.insert("id".into(), AttributeValue::S(id.to_string()));
        document.insert("createdAt".into(), at);
        items.push(document);
        items.push(key_only(
            format!("DOCS#{ws}#{}", project.id),
            format!("AT#{:013}#{id}", base + i as i64),
        ));
    }
    for chunk in items.chunks(25) {
        let mut pending: Vec<WriteRequest> = chunk
            .iter()
            .map(|item| {
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item.clone()))
                            .build()
                            .expect("an item"),
                    )
                    .build()
            })
            .collect();
        while !pending.is_empty() {
            let output = dynamo
                .batch_write_item()
                .request_items(table, pending)
                .send()
                .await
                .map_err(|e| format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
            pending = output
                .unprocessed_items
                .and_then(|mut left| left.remove(table))
                .unwrap_or_default();
        }
    }
    let copies = size - 1;
    for (sk, counter, added) in [
        (String::from("META"), "assistantCount", copies),
        (String::from("META"), "privateAssistantCount", copies / 10),
        (format!("PROJ#{}", project.id), "documentCount", copies),
    ] {
        dynamo
            .update_item()
            .table_name(table)
            .key("PK", AttributeValue::S(pk.clone()))
            .key("SK", AttributeValue::S(sk))
            .update_expression("ADD #count :added")
            .expression_attribute_names("#count", counter)
            .expression_attribute_values(":added", AttributeValue::N(added.to_string()))
            .send()
            .await
            .map_err(|e| format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    }
    Ok((seed, project.id.to_string()))
}

/// An item that is only its key: a place in a listing, a note.
fn key_only(
    pk: String,
    sk: String,
) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    use aws_sdk_dynamodb::types::AttributeValue;
    std::collections::HashMap::from([
        ("PK".to_owned(), AttributeValue::S(pk)),
        ("SK".to_owned(), AttributeValue::S(sk)),
    ])
}

type ListFigures = Vec<(String, Figures, Figures)>;

/// The same three pages from a workspace of `LISTED` and one of `LARGE`:
/// assistants as an owner and as a member (who may not see the private
/// ones), documents as the owner.
async fn list_sizes(
    router: &axum::Router,
    local: &LocalStack,
    dynamo: &aws_sdk_dynamodb::Client,
) -> Result<ListFigures, Box<dyn std::error::Error>> {
    let mut seeded = Vec::new();
    for size in [LISTED, LARGE] {
        let started = Instant::now();
        let (seed, project) = seeded_of(local.store.as_ref(), dynamo, &local.table, size).await?;
        eprintln!(
            "seeded {size} assistants and documents in {:.0?}",
            started.elapsed()
        );
        seeded.push((seed, project));
    }
    type PathOf = fn(&str, &str) -> String;
    let lists: [(&str, &str, PathOf); 3] = [
        ("assistants, as the owner", "owner", |ws, _| {
            format!("/api/workspaces/{ws}/assistants")
        }),
        ("assistants, as a member", "member", |ws, _| {
            format!("/api/workspaces/{ws}/assistants")
        }),
        (
            "documents of a project, as the owner",
            "owner",
            |ws, project| format!("/api/workspaces/{ws}/projects/{project}/documents"),
        ),
    ];
    let mut figures = Vec::new();
    for (name, role, path_of) in lists {
        let refused = [AtomicUsize::new(0), AtomicUsize::new(0)];
        let runs: Vec<Run<'_>> = seeded
            .iter()
            .zip(&refused)
            .map(|((seed, project), refused)| {
                let key = format!("Bearer {}", seed.keys[role]);
                let path = path_of(&seed.workspace_id.to_string(), project);
                boxed(move || {
                    let request = Request::builder()
                        .uri(&path)
                        .header("authorization", &key)
                        .body(Body::empty())
                        .expect("a well-formed request");
                    let call = router.clone().oneshot(request);
                    async move {
                        let response = call.await.expect("the router answers");
                        if response.status() != 200 {
                            refused.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        let runs: [Run<'_>; 2] = runs.try_into().map_err(|_| "two sizes")?;
        // In turns, like the operations above: a large page and a small
        // one see the same machine.
        let [small, large] = in_turns(1, LARGE_SAMPLES, runs).await;
        let refused = refused.map(AtomicUsize::into_inner);
        let name = if refused == [0, 0] {
            name.to_owned()
        } else {
            format!(
                "{name} (not 200: {} and {} of {})",
                refused[0],
                refused[1],
                LARGE_SAMPLES + 1
            )
        };
        figures.push((name, small, large));
    }
    Ok(figures)
}
