//! Cold starts: every function's release binary started as Lambda starts
//! it, under the local Runtime API (`devtools::runtime_api`), interleaved
//! with two baselines built with the same profile: the bare `lambda_runtime`
//! and the runtime with the AWS SDK clients only (`infra/coldstart`).
//!
//! For each start: **init**, from the process's spawn to its first
//! `invocation/next` (where Lambda's init phase ends); **first invocation**,
//! from there to its answer, for an event from `events/` that a new
//! container could be handed (its reads go to the local AWS server); and
//! **peak RSS** (`VmHWM`) once it has answered. Prints medians and ratios.
//!
//! Run with `./infra/bench-coldstart`, which builds the release binaries
//! and starts the local AWS server.

use devtools::emulators::{self, Emulators, LOCAL_KEY, Latency, serve_on_loopback};
use devtools::lambda_env::{ProviderKeys, function_environment};
use devtools::local::{LocalStack, ResourceNames, require_loopback_endpoint};
use devtools::runtime_api::{Outcome, RuntimeApi};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Starts of each binary; the figures are their medians.
const DEFAULT_ROUNDS: usize = 25;
/// Longer than any healthy start and first answer, by far.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

struct Subject {
    name: &'static str,
    /// The event its first invocation gets, under `events/`; `None` for the
    /// baselines, which echo `{}`.
    event: Option<&'static str>,
}

const BASELINES: [Subject; 2] = [
    Subject {
        name: "bare-runtime",
        event: None,
    },
    Subject {
        name: "sdk-only",
        event: None,
    },
];

/// Each function with an event that reads but changes nothing.
const FUNCTIONS: [Subject; 10] = [
    Subject {
        name: "assistants-api",
        event: Some("assistants-api/get-assistant.json"),
    },
    Subject {
        name: "projects-api",
        event: Some("projects-api/get-project.json"),
    },
    Subject {
        name: "workspaces-api",
        event: Some("workspaces-api/list-workspaces.json"),
    },
    Subject {
        name: "chat-api",
        event: Some("chat-api/list-conversations.json"),
    },
    Subject {
        name: "sms-api",
        event: Some("sms-api/get-sms-config.json"),
    },
    Subject {
        name: "widget-api",
        event: Some("widget-api/config.json"),
    },
    Subject {
        name: "sms-webhook",
        event: Some("sms-webhook/inbound-text.json"),
    },
    Subject {
        name: "cleanup-worker",
        event: Some("cleanup-worker/batch-with-malformed-bodies.json"),
    },
    Subject {
        name: "ingest-worker",
        event: Some("ingest-worker/batch-with-malformed-body.json"),
    },
    Subject {
        name: "reply-worker",
        event: Some("reply-worker/batch-with-malformed-bodies.json"),
    },
];

#[derive(Default)]
struct Samples {
    init: Vec<Duration>,
    first_invocation: Vec<Duration>,
    peak_rss_kb: Vec<u64>,
    failures: Vec<String>,
}

fn median<T: Copy + Ord>(values: &[T]) -> Option<T> {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied()
}

/// The provider keys, in a Secrets Manager secret as the template
/// configures them (`ProviderKeysSecretName`): the functions that call a
/// provider read it at init, and the figures should include that read.
async fn provider_keys_secret(
    aws: &aws_config::SdkConfig,
    names: &ResourceNames,
) -> Result<String, Box<dyn std::error::Error>> {
    let name = format!("{}-provider-keys", names.table);
    let keys = serde_json::json!({
        "embeddingsApiKey": LOCAL_KEY,
        "pineconeApiKey": LOCAL_KEY,
        "chatApiKey": LOCAL_KEY,
    });
    aws_sdk_secretsmanager::Client::new(aws)
        .create_secret()
        .name(&name)
        .secret_string(keys.to_string())
        .send()
        .await
        .map_err(|e| aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string())?;
    Ok(name)
}

/// What every function reads at init (`devtools::lambda_env`), with what
/// Lambda sets beside it; the runtime API's address is added per start.
fn environment(
    local: &LocalStack,
    names: &ResourceNames,
    providers: &str,
    provider_keys: String,
) -> Vec<(String, String)> {
    let mut vars = function_environment(
        local,
        names,
        providers,
        "https://bench.example",
        ProviderKeys::Secret(provider_keys),
    );
    vars.extend(
        [
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value)),
    );
    vars
}

/// One cold start of `binary`: spawned, handed `event`, measured, killed.
async fn start_once(
    binary: &Path,
    name: &str,
    event: &[u8],
    environment: &[(String, String)],
    samples: &mut Samples,
) -> Result<(), Box<dyn std::error::Error>> {
    let api = RuntimeApi::start(name).await?;
    let spawned = Instant::now();
    let spawn = tokio::process::Command::new(binary)
        .env_clear()
        .envs(environment.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawn {
        Ok(child) => child,
        Err(error) => {
            samples
                .failures
                .push(format!("{} did not start: {error}", binary.display()));
            return Ok(());
        }
    };
    let outcome = api.invoke(event, ANSWER_WITHIN).await;
    let answered = Instant::now();
    let rss = child
        .id()
        .and_then(|pid| devtools::proc_status::kb(&pid.to_string(), "VmHWM"));
    child.kill().await.ok();
    match (outcome, api.first_asked()) {
        (Ok(Outcome::Response { .. }), Some(asked)) => {
            samples.init.push(asked - spawned);
            samples.first_invocation.push(answered - asked);
            samples.peak_rss_kb.extend(rss);
        }
        (Ok(outcome), _) => samples.failures.push(format!("{outcome:?}")),
        (Err(error), _) => samples.failures.push(error.to_string()),
    }
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn ratio(value: Duration, base: Option<Duration>) -> String {
    base.map_or_else(
        || "-".into(),
        |base| format!("{:.2}x", value.as_secs_f64() / base.as_secs_f64()),
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    require_loopback_endpoint()?;
    let bin_dir = PathBuf::from(
        std::env::var("COLDSTART_BIN_DIR").unwrap_or_else(|_| "target/release".into()),
    );
    let rounds = std::env::var("COLDSTART_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_ROUNDS);
    let aws = shared::wiring::load_aws(&shared::adapters::outbound_http::client()).await;
    let names = ResourceNames::unique("coldstart");
    let local =
        LocalStack::provision(aws.clone(), aws_sdk_dynamodb::Client::new(&aws), &names).await?;
    let providers =
        serve_on_loopback(emulators::router(Emulators::local(Latency::default()))).await;
    let provider_keys = provider_keys_secret(&aws, &names).await?;
    let environment = environment(&local, &names, &providers, provider_keys);

    let subjects: Vec<&Subject> = BASELINES.iter().chain(FUNCTIONS.iter()).collect();
    let mut events = Vec::new();
    for subject in &subjects {
        events.push(match subject.event {
            Some(path) => std::fs::read(Path::new("events").join(path))?,
            None => b"{}".to_vec(),
        });
    }
    let mut samples: Vec<Samples> = subjects.iter().map(|_| Samples::default()).collect();
    for round in 0..rounds {
        // Each round starts at another binary, so none always runs first
        // (or right after the same neighbour).
        for step in 0..subjects.len() {
            let i = (round + step) % subjects.len();
            let binary = bin_dir.join(subjects[i].name);
            start_once(
                &binary,
                subjects[i].name,
                &events[i],
                &environment,
                &mut samples[i],
            )
            .await?;
        }
    }

    let bare = median(&samples[0].init);
    let sdk = median(&samples[1].init);
    println!(
        "Cold starts under the local Runtime API, {rounds} interleaved starts each (medians), binaries from {}",
        bin_dir.display()
    );
    println!(
        "{:<16} {:>9} {:>9} {:>9} {:>12} {:>10} {:>9}",
        "binary", "init", "/ SDK", "/ bare", "1st invoke", "peak RSS", "size"
    );
    for (subject, samples) in subjects.iter().zip(&samples) {
        let size = std::fs::metadata(bin_dir.join(subject.name))
            .map(|m| format!("{:.2} MB", m.len() as f64 / 1e6))
            .unwrap_or_else(|_| "-".into());
        let (Some(init), Some(first), Some(rss)) = (
            median(&samples.init),
            median(&samples.first_invocation),
            median(&samples.peak_rss_kb),
        ) else {
            println!(
                "{:<16} failed: {:?}",
                subject.name,
                samples.failures.first()
            );
            continue;
        };
        println!(
            "{:<16} {:>9} {:>9} {:>9} {:>12} {:>10} {:>9}",
            subject.name,
            ms(init),
            ratio(init, sdk),
            ratio(init, bare),
            ms(first),
            format!("{:.1} MB", rss as f64 / 1024.0),
            size,
        );
        if let Some(failure) = samples.failures.first() {
            println!(
                "  {} of {rounds} starts failed, first: {failure}",
                samples.failures.len()
            );
        }
    }
    Ok(())
}
