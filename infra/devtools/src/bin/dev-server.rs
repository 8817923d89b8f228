//! The dev server: every API route and the workers on one port, as API
//! Gateway and the event source mappings run them in AWS. Provisions the
//! local resources, seeds a demo workspace, prints how to call it.

use devtools::emulators::embeddings::EmbeddingsEmulator;
use devtools::emulators::pinecone::PineconeEmulator;
use devtools::emulators::{LOCAL_DIMENSIONS, Latency, local_retriever};
use devtools::local::{LocalStack, ResourceNames, require_loopback_endpoint};
use devtools::queue_driver::drive_queue;
use devtools::seed::{curl_examples, seed_demo};
use shared::app::cleanup::handle_message;
use shared::http::all_routes_router;
use shared::ingest::worker::{DEFAULT_CONCURRENCY, Ingestor};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    shared::telemetry::init();
    require_loopback_endpoint()?;
    let port: u16 = match std::env::var("PORT") {
        Ok(value) => value
            .parse()
            .map_err(|_| format!("PORT={value} is not a port number"))?,
        Err(_) => 3000,
    };
    let aws = shared::config::load_aws().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let local = LocalStack::provision(aws, dynamo, &ResourceNames::from_env_or_defaults()).await?;

    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e} (set PORT to use another)"))?;
    let base_url = format!("http://127.0.0.1:{port}");

    let seed = seed_demo(local.store.as_ref(), &base_url).await?;
    let seed_path =
        PathBuf::from(std::env::var("SEED_FILE").unwrap_or_else(|_| ".dev/seed.json".into()));
    if let Some(dir) = seed_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&seed_path, serde_json::to_string_pretty(&seed)?)?;

    // The providers' emulators live on this server under /_local, and the
    // production adapters reach them over HTTP like any real provider.
    let retriever = Arc::new(local_retriever(&format!("{base_url}/_local")));
    let ingestor = Arc::new(Ingestor {
        store: local.store.clone(),
        blobs: local.blobs.clone(),
        embedder: retriever.embedder.clone(),
        index: retriever.index.clone(),
        concurrency: DEFAULT_CONCURRENCY,
    });

    let (stop, stopped) = watch::channel(false);
    let store = local.store.clone();
    let cleanup_worker = tokio::spawn(drive_queue(
        local.sqs.clone(),
        local.cleanup_queue_url.clone(),
        stopped.clone(),
        move |id, body, _| {
            let store = store.clone();
            async move { handle_message(store.as_ref(), &id, &body).await }
        },
    ));
    let ingest_worker = tokio::spawn(drive_queue(
        local.sqs.clone(),
        local.ingest_queue_url.clone(),
        stopped,
        move |id, body, delivery| {
            let ingestor = Arc::clone(&ingestor);
            async move { ingestor.handle_message(&id, &body, delivery).await }
        },
    ));

    println!("\nIllumiChat dev server on {base_url}");
    println!(
        "demo workspace {} (seed written to {})\n",
        seed.workspace_id,
        seed_path.display()
    );
    println!("{}", curl_examples(&seed));
    println!("Ctrl-C stops everything.");

    let app = all_routes_router(&local.backends(retriever)).nest(
        "/_local",
        devtools::emulators::router(
            EmbeddingsEmulator::new(LOCAL_DIMENSIONS, Latency::default()),
            PineconeEmulator::new(LOCAL_DIMENSIONS, Latency::default()),
        ),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(stop_requested())
        .await?;
    let _ = stop.send(true);
    let _ = cleanup_worker.await;
    let _ = ingest_worker.await;
    Ok(())
}

/// Ctrl-C in the terminal, or SIGTERM from the script that started us.
async fn stop_requested() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
