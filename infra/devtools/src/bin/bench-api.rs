//! API latency against the local stack: get, list and create assistant
//! through the real router (authentication, authorization, DynamoDB), next
//! to a raw `GetItem` on the same server, in one run. Prints median and p99
//! and the ratio to the raw read, so the figure says how much the API adds
//! on top of the database it cannot be faster than.
//!
//! Run with `./infra/bench` (starts the local server, builds optimised).

use aws_sdk_dynamodb::types::AttributeValue::{N, S};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use axum::body::Body;
use axum::http::{Method, Request};
use devtools::local::{LocalStack, ResourceNames, require_loopback_endpoint};
use devtools::seed::seed_demo;
use shared::http::all_routes_router;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const WARMUP: usize = 20;
const SAMPLES: usize = 300;
/// Assistants in the listed workspace.
const LISTED: usize = 25;

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

async fn time<F, Fut>(mut run: F) -> Figures
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..WARMUP {
        run().await;
    }
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        run().await;
        samples.push(started.elapsed());
    }
    figures(samples)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    require_loopback_endpoint()?;
    let aws = shared::config::load_aws().await;
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

    let raw = time(|| {
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
    })
    .await;
    let raw_query = time(|| {
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
    })
    .await;
    let raw_transaction = time(|| {
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
    })
    .await;
    let get = time(|| {
        let call = router
            .clone()
            .oneshot(request(Method::GET, &get_path, None));
        async move {
            let _ = call.await;
        }
    })
    .await;
    let list = time(|| {
        let call = router
            .clone()
            .oneshot(request(Method::GET, &list_path, None));
        async move {
            let _ = call.await;
        }
    })
    .await;
    let create = time(|| {
        let body = r#"{"name": "bench", "temperature": 0.4}"#.to_owned();
        let call = router
            .clone()
            .oneshot(request(Method::POST, &list_path, Some(body)));
        async move {
            let _ = call.await;
        }
    })
    .await;

    println!(
        "API latency through the router, local stack, {SAMPLES} samples each (after {WARMUP} warm-up)"
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
    Ok(())
}
