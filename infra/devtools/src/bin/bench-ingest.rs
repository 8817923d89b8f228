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
use shared::jobs::{IngestJob, Job, MessageOutcome};
use shared::ports::{BlobStore, DocumentStore, Embedder, ProjectStore, VectorIndex};
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

/// One timed ingest of a staged document.
struct Run {
    outcome: MessageOutcome,
    wall: Duration,
    /// The CPU part on its own: chunking (tokenizing) the text again.
    chunking: Duration,
    /// The text's tokens over all its chunks.
    tokens: usize,
    /// How long the emulators worked past their fixed latency: the
    /// embedding calls in all, and the longest upsert (they run side by
    /// side).
    embed_work: Duration,
    upsert_work: Duration,
}

impl Run {
    /// Upserts need the vectors, so at least one embedding call and one
    /// upsert call happen one after the other, after the text is chunked.
    fn critical_path(&self) -> Duration {
        self.chunking + LATENCY * 2
    }

    fn over_critical_path(&self) -> f64 {
        self.wall.as_secs_f64() / self.critical_path().as_secs_f64()
    }

    /// The emulators work on this machine's cores (a real provider's own
    /// time, which no client can save), so theirs belongs on the critical
    /// path too.
    fn over_critical_path_with_providers(&self) -> f64 {
        let path = self.critical_path() + self.embed_work + self.upsert_work;
        self.wall.as_secs_f64() / path.as_secs_f64()
    }
}

async fn ingest_once<E: Embedder, V: VectorIndex>(
    ingestor: &Ingestor<E, V>,
    (embeddings, pinecone): (&EmbeddingsEmulator, &PineconeEmulator),
    label: &str,
    job: &IngestJob,
    text: &str,
) -> Run {
    let embeds_before = embeddings.service_times.all().len();
    let upserts_before = pinecone.upsert_times.all().len();
    let started = Instant::now();
    let outcome = ingestor.handle_message(label, &job.to_message(), 1).await;
    let wall = started.elapsed();
    let chunking_started = Instant::now();
    let chunks = shared::ingest::chunker::chunk(text, shared::ingest::chunker::TextKind::Markdown);
    let chunking = chunking_started.elapsed();
    Run {
        outcome,
        wall,
        chunking,
        tokens: chunks.iter().map(|c| c.tokens).sum(),
        embed_work: embeddings.service_times.all()[embeds_before..].iter().sum(),
        upsert_work: pinecone.upsert_times.all()[upserts_before..]
            .iter()
            .copied()
            .max()
            .unwrap_or_default(),
    }
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
    let aws = shared::wiring::load_aws(&shared::adapters::outbound_http::client()).await;
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
        usage: local.store.clone(),
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
    let vectors_before = pinecone.vector_count(&project.id.to_string());

    let text = markdown(DOCUMENT_BYTES);
    let job = stage(&local, &seed.workspace_id, &project.id, &text).await?;
    let IngestJob::Index { document_id, .. } = &job else {
        unreachable!("stage() makes index jobs")
    };
    let emulated = (&embeddings, &pinecone);
    let run = ingest_once(&ingestor, emulated, "bench", &job, &text).await;
    let stored = local
        .store
        .get_document(&seed.workspace_id, &project.id, document_id)
        .await?
        .ok_or("the document")?;

    let chunks = stored.chunk_count as usize;
    let tokens = run.tokens;
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
        "outcome                    {:?}, status {}",
        run.outcome,
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
        run.wall.as_secs_f64() * 1000.0
    );
    println!(
        "lower bound                {:.0} ms",
        bound.as_secs_f64() * 1000.0
    );
    println!(
        "wall / lower bound         {:.2}",
        run.wall.as_secs_f64() / bound.as_secs_f64()
    );
    println!(
        "of which chunking (CPU)    {:.0} ms",
        run.chunking.as_secs_f64() * 1000.0
    );
    println!(
        "critical path              {:.0} ms (chunking, then one embed call, then one upsert call)",
        run.critical_path().as_secs_f64() * 1000.0
    );
    println!("wall / critical path       {:.2}", run.over_critical_path());
    println!(
        "the providers' own work    {:.0} ms (the embedding call {:.0} ms, the longest upsert {:.0} ms)",
        (run.embed_work + run.upsert_work).as_secs_f64() * 1000.0,
        run.embed_work.as_secs_f64() * 1000.0,
        run.upsert_work.as_secs_f64() * 1000.0
    );
    println!(
        "wall / critical path with it {:.2}",
        run.over_critical_path_with_providers()
    );

    // This machine's timings vary by a third from run to run: the same
    // document again, for medians.
    let mut runs = vec![run];
    for n in 0..REPEATS {
        let job = stage(&local, &seed.workspace_id, &project.id, &text).await?;
        let run = ingest_once(&ingestor, emulated, &format!("again-{n}"), &job, &text).await;
        if run.outcome != MessageOutcome::Done {
            return Err(format!("run {n} ended {:?}", run.outcome).into());
        }
        runs.push(run);
    }
    println!(
        "over {} runs (medians)      wall {:.0} ms, / critical path {:.2}, with the providers' work {:.2}",
        runs.len(),
        median(runs.iter().map(|r| r.wall.as_secs_f64() * 1000.0).collect()),
        median(runs.iter().map(Run::over_critical_path).collect()),
        median(
            runs.iter()
                .map(Run::over_critical_path_with_providers)
                .collect()
        )
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
