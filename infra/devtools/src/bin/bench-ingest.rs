//! Ingest throughput: a 1 MB Markdown document through the real ingest
//! worker, against the embeddings and Pinecone emulators with a fixed
//! latency per call, on the local stack. Prints chunks, request counts,
//! wall time, and wall time over the lower bound
//! `(embedding requests + upsert requests) / concurrency x latency`.
//! Then a 10 MB document, with the process's peak resident memory while the
//! worker handles it (the emulators run in this process too, so it is an
//! upper bound on the worker's own).
//!
//! Run with `./infra/bench` (it runs this after the API benchmark).

use devtools::emulators::embeddings::EmbeddingsEmulator;
use devtools::emulators::pinecone::PineconeEmulator;
use devtools::emulators::serve_on_loopback;
use devtools::emulators::{self, LOCAL_DIMENSIONS, Latency, local_retriever};
use devtools::local::{LocalStack, ResourceNames, require_loopback_endpoint};
use devtools::proc_status;
use devtools::seed::seed_demo;
use shared::domain::document::{Document, DocumentKind};
use shared::domain::ids::{ProjectId, UserId, WorkspaceId};
use shared::domain::project::ProjectChanges;
use shared::ingest::batches::{EMBED_MAX_INPUTS, EMBED_MAX_TOKENS};
use shared::ingest::worker::{DEFAULT_CONCURRENCY, Ingestor};
use shared::jobs::{IngestJob, Job};
use shared::ports::{BlobStore, DocumentStore, ProjectStore};
use std::time::{Duration, Instant};

const LATENCY: Duration = Duration::from_millis(50);
const DOCUMENT_BYTES: usize = 1024 * 1024;
const LARGE_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

/// About 1 MB of Markdown: sections of varied sentences from a fixed
/// vocabulary (deterministic, so runs compare).
fn markdown(bytes: usize) -> String {
    const WORDS: &[&str] = &[
        "refund", "order", "shipping", "customer", "invoice", "account", "delivery", "warranty",
        "support", "payment", "return", "product", "service", "policy", "card", "address",
        "business", "days", "team", "request", "update", "status", "package", "store",
    ];
    let mut text = String::with_capacity(bytes + 1024);
    let mut state: u64 = 42;
    let mut section = 0;
    while text.len() < bytes {
        section += 1;
        text.push_str(&format!("\n## Section {section}\n\n"));
        for _ in 0..8 {
            let mut sentence = Vec::new();
            for _ in 0..14 {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                sentence.push(WORDS[(state >> 33) as usize % WORDS.len()]);
            }
            text.push_str(&sentence.join(" "));
            text.push_str(". ");
        }
        text.push('\n');
    }
    text
}

/// Runs of the 1 MB document after the one printed in full.
const REPEATS: usize = 4;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// How long the emulators worked past their fixed latency since `before`
/// (their calls recorded then): the embedding calls in all, and the longest
/// upsert (they run side by side).
fn providers_work(
    embeddings: &EmbeddingsEmulator,
    pinecone: &PineconeEmulator,
    before: (usize, usize),
) -> (Duration, Duration) {
    let embed = embeddings.service_times.all()[before.0..].iter().sum();
    let upsert = pinecone.upsert_times.all()[before.1..]
        .iter()
        .copied()
        .max()
        .unwrap_or_default();
    (embed, upsert)
}

/// Stores a Markdown document as an upload would and returns its job.
async fn stage(
    local: &LocalStack,
    workspace: &WorkspaceId,
    project: &ProjectId,
    text: &str,
) -> Result<IngestJob, Box<dyn std::error::Error>> {
    let document = Document::new(
        workspace.clone(),
        project.clone(),
        "bench.md".into(),
        Some(DocumentKind::Markdown),
        text.len() as u64,
    );
    local
        .blobs
        .put(
            &document.blob_key(),
            text.as_bytes().to_vec(),
            "text/markdown",
        )
        .await?;
    local.store.create_document(&document).await?;
    Ok(IngestJob::Index {
        workspace_id: document.workspace_id,
        project_id: document.project_id,
        document_id: document.id,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    require_loopback_endpoint()?;
    let aws = shared::config::load_aws(&shared::adapters::outbound_http::client()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let local = LocalStack::provision(aws, dynamo, &ResourceNames::unique("bench-ingest")).await?;
    let seed = seed_demo(local.store.as_ref(), "http://bench").await?;
    let owner = UserId::parse(&seed.users["owner"]).ok_or("seeded owner")?;
    let project = local
        .store
        .create_project(
            &seed.workspace_id,
            ProjectChanges {
                name: Some("Bench".into()),
                ..ProjectChanges::default()
            },
            &owner,
        )
        .await?;

    let embeddings = EmbeddingsEmulator::new(LOCAL_DIMENSIONS, Latency(LATENCY));
    let pinecone = PineconeEmulator::new(LOCAL_DIMENSIONS, Latency(LATENCY));
    let base = serve_on_loopback(emulators::router(emulators::Emulators {
        embeddings: embeddings.clone(),
        pinecone: pinecone.clone(),
        ..emulators::Emulators::local(Latency(LATENCY))
    }))
    .await;
    let retriever = local_retriever(&base);
    let ingestor = Ingestor {
        store: local.store.clone(),
        projects: local.store.clone(),
        blobs: local.blobs.clone(),
        embedder: retriever.embedder,
        index: retriever.index,
        concurrency: DEFAULT_CONCURRENCY,
    };

    // A warm worker: one small document first, so the measured one does not
    // pay the tokenizer's one-time load (the worker does that in its init).
    let warm_up = stage(
        &local,
        &seed.workspace_id,
        &project.id,
        &markdown(16 * 1024),
    )
    .await?;
    ingestor
        .handle_message("warm-up", &warm_up.to_message(), 1)
        .await;
    let (embeds_before, upserts_before) = (embeddings.requests(), pinecone.upsert_requests());
    let (embed_times_before, upsert_times_before) = (
        embeddings.service_times.all().len(),
        pinecone.upsert_times.all().len(),
    );
    let vectors_before = pinecone.vector_count(&project.id.to_string());

    let text = markdown(DOCUMENT_BYTES);
    let job = stage(&local, &seed.workspace_id, &project.id, &text).await?;
    let IngestJob::Index { document_id, .. } = &job else {
        unreachable!("stage() makes index jobs")
    };
    let document = local
        .store
        .get_document(&seed.workspace_id, &project.id, document_id)
        .await?
        .ok_or("the staged document")?;

    let started = Instant::now();
    let outcome = ingestor.handle_message("bench", &job.to_message(), 1).await;
    let wall = started.elapsed();
    let stored = local
        .store
        .get_document(&document.workspace_id, &document.project_id, &document.id)
        .await?
        .ok_or("the document")?;

    let chunks = stored.chunk_count as usize;
    // The CPU part on its own: chunking (tokenizing) the megabyte.
    let chunking_started = Instant::now();
    let chunked =
        shared::ingest::chunker::chunk(&text, shared::ingest::chunker::TextKind::Markdown);
    let chunking = chunking_started.elapsed();
    let tokens: usize = chunked.iter().map(|c| c.tokens).sum();
    let embed_requests = embeddings.requests() - embeds_before;
    let upserts = pinecone.upsert_requests() - upserts_before;
    let fewest_embeds = tokens
        .div_ceil(EMBED_MAX_TOKENS)
        .max(chunks.div_ceil(EMBED_MAX_INPUTS));
    let bound = LATENCY.mul_f64((embed_requests + upserts) as f64 / DEFAULT_CONCURRENCY as f64);
    println!(
        "Ingest of a {:.2} MB Markdown document, emulators at {} ms per call, concurrency {DEFAULT_CONCURRENCY}",
        text.len() as f64 / 1_048_576.0,
        LATENCY.as_millis()
    );
    println!(
        "outcome                    {outcome:?}, status {}",
        stored.status.as_str()
    );
    println!("chunks                     {chunks} ({tokens} tokens)");
    println!(
        "embedding requests         {embed_requests} (fewest the caps allow: {fewest_embeds})"
    );
    println!("upsert requests            {upserts}");
    println!(
        "vectors in the index       {}",
        pinecone.vector_count(&project.id.to_string()) - vectors_before
    );
    println!(
        "wall time                  {:.0} ms",
        wall.as_secs_f64() * 1000.0
    );
    println!(
        "lower bound                {:.0} ms",
        bound.as_secs_f64() * 1000.0
    );
    println!(
        "wall / lower bound         {:.2}",
        wall.as_secs_f64() / bound.as_secs_f64()
    );
    println!(
        "of which chunking (CPU)    {:.0} ms",
        chunking.as_secs_f64() * 1000.0
    );
    // Upserts need the vectors, so at least one embedding call and one
    // upsert call happen one after the other, after the text is chunked.
    let critical_path = chunking + LATENCY * 2;
    println!(
        "critical path              {:.0} ms (chunking, then one embed call, then one upsert call)",
        critical_path.as_secs_f64() * 1000.0
    );
    println!(
        "wall / critical path       {:.2}",
        wall.as_secs_f64() / critical_path.as_secs_f64()
    );
    // The emulators work on this machine's cores, past their fixed latency
    // (a real provider's own time, which no client can save): the embedding
    // call's and the longest upsert's belong on the critical path too.
    let (embed_work, upsert_work) = providers_work(
        &embeddings,
        &pinecone,
        (embed_times_before, upsert_times_before),
    );
    let served_path = critical_path + embed_work + upsert_work;
    println!(
        "the providers' own work    {:.0} ms (the embedding call {:.0} ms, the longest upsert {:.0} ms)",
        (embed_work + upsert_work).as_secs_f64() * 1000.0,
        embed_work.as_secs_f64() * 1000.0,
        upsert_work.as_secs_f64() * 1000.0
    );
    println!(
        "wall / critical path with it {:.2}",
        wall.as_secs_f64() / served_path.as_secs_f64()
    );

    // This machine's timings vary by a third from run to run: the same
    // document again, for medians.
    let mut walls = vec![wall];
    let mut ratios = vec![wall.as_secs_f64() / critical_path.as_secs_f64()];
    let mut served_ratios = vec![wall.as_secs_f64() / served_path.as_secs_f64()];
    for run in 0..REPEATS {
        let job = stage(&local, &seed.workspace_id, &project.id, &text).await?;
        let before = (
            embeddings.service_times.all().len(),
            pinecone.upsert_times.all().len(),
        );
        let started = Instant::now();
        let outcome = ingestor
            .handle_message(&format!("again-{run}"), &job.to_message(), 1)
            .await;
        let wall = started.elapsed();
        if outcome != shared::jobs::MessageOutcome::Done {
            return Err(format!("run {run} ended {outcome:?}").into());
        }
        let chunking_started = Instant::now();
        shared::ingest::chunker::chunk(&text, shared::ingest::chunker::TextKind::Markdown);
        let critical_path = chunking_started.elapsed() + LATENCY * 2;
        let (embed_work, upsert_work) = providers_work(&embeddings, &pinecone, before);
        walls.push(wall);
        ratios.push(wall.as_secs_f64() / critical_path.as_secs_f64());
        served_ratios
            .push(wall.as_secs_f64() / (critical_path + embed_work + upsert_work).as_secs_f64());
    }
    let runs = walls.len();
    let walls_ms: Vec<f64> = walls.iter().map(|w| w.as_secs_f64() * 1000.0).collect();
    println!(
        "over {runs} runs (medians)      wall {:.0} ms, / critical path {:.2}, with the providers' work {:.2}",
        median(walls_ms),
        median(ratios),
        median(served_ratios)
    );

    let large = markdown(LARGE_DOCUMENT_BYTES);
    let job = stage(&local, &seed.workspace_id, &project.id, &large).await?;
    drop(large);
    let IngestJob::Index { document_id, .. } = &job else {
        unreachable!("stage() makes index jobs")
    };
    let resident_before = proc_status::kb("self", "VmRSS").ok_or("VmRSS in /proc/self/status")?;
    proc_status::reset_own_peak()?;
    let started = Instant::now();
    let outcome = ingestor
        .handle_message("bench-large", &job.to_message(), 1)
        .await;
    let wall = started.elapsed();
    let peak = proc_status::kb("self", "VmHWM").ok_or("VmHWM in /proc/self/status")?;
    let stored = local
        .store
        .get_document(&seed.workspace_id, &project.id, document_id)
        .await?
        .ok_or("the large document")?;
    println!();
    println!(
        "Ingest of a {:.2} MB Markdown document",
        LARGE_DOCUMENT_BYTES as f64 / 1_048_576.0
    );
    println!(
        "outcome                    {outcome:?}, status {}, {} chunks",
        stored.status.as_str(),
        stored.chunk_count
    );
    println!(
        "wall time                  {:.0} ms",
        wall.as_secs_f64() * 1000.0
    );
    println!(
        "resident before            {:.1} MB",
        resident_before as f64 / 1024.0
    );
    println!(
        "peak resident during       {:.1} MB (+{:.1} MB; the emulators included)",
        peak as f64 / 1024.0,
        peak.saturating_sub(resident_before) as f64 / 1024.0
    );
    Ok(())
}
