//! One function of each kind run as Lambda runs it: its own binary under
//! cargo-lambda's runtime emulator (`cargo lambda watch`), fed a file of
//! `events/` with `cargo lambda invoke`, on a fresh stack of the local AWS
//! server and the providers' emulators:
//!
//! - **API** (API Gateway REST events): `assistants-api` creates an
//!   assistant, `sms-api` stores its Twilio credentials;
//! - **Function URL**: `sms-webhook` takes a text signed as Twilio signs it
//!   and queues its reply job;
//! - **SQS worker**: `reply-worker` is handed that job as Lambda's event
//!   source mapping hands it (then the same job again) and texts the answer
//!   back once.
//!
//! Run with `./infra/lambda-replay`, which installs cargo-lambda and starts
//! the local AWS server; each check's failure names what was answered.

use devtools::admin::bootstrap_workspace;
use devtools::emulators::twilio::{DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN};
use devtools::emulators::{self, Emulators, Latency, serve_on_loopback};
use devtools::lambda_env::{ProviderKeys, env_file, function_environment, local_queue_arn, set};
use devtools::local::{LocalStack, ResourceNames, require_loopback_endpoint};
use devtools::sample_events::{
    EVENT_API_KEY, EVENT_ASSISTANT, EVENT_WORKSPACE, sign_webhook_event,
};
use serde_json::Value;
use shared::domain::member::Email;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

type Failure = Box<dyn std::error::Error>;

/// How long the first invocation of a function may take: cargo-lambda
/// builds it then, if the script's build has not.
const FIRST_ANSWER_WITHIN: Duration = Duration::from_secs(600);
/// The reply job waits out the burst window (set to 1 s below) in SQS.
const JOB_QUEUED_WITHIN: Duration = Duration::from_secs(30);

/// `cargo lambda watch` on a free loopback port, killed when dropped.
struct Emulator {
    port: u16,
    _watch: tokio::process::Child,
    scratch: PathBuf,
}

impl Emulator {
    async fn start(env_file: &Path, scratch: PathBuf) -> Result<Self, Failure> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(scratch.join("cargo-lambda-watch.log"))?;
        let watch = tokio::process::Command::new("cargo")
            .args(["lambda", "watch", "--ignore-changes", "--quiet"])
            .args(["--invoke-address", "127.0.0.1", "--invoke-port"])
            .arg(port.to_string())
            .arg("--env-file")
            .arg(env_file)
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                format!("cargo lambda watch did not start ({e}); is cargo-lambda installed?")
            })?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                return Err(format!(
                    "cargo lambda watch never listened on port {port}; see {}",
                    scratch.join("cargo-lambda-watch.log").display()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(Self {
            port,
            _watch: watch,
            scratch,
        })
    }

    /// `cargo lambda invoke <function> --data-file <event>`: what the
    /// function answered, as JSON.
    async fn invoke(&self, function: &str, event: &str) -> Result<Value, Failure> {
        let file = self.scratch.join(format!("{function}-event.json"));
        std::fs::write(&file, event)?;
        let run = tokio::process::Command::new("cargo")
            .args(["lambda", "invoke", function, "--output-format", "json"])
            .args(["--invoke-address", "127.0.0.1", "--invoke-port"])
            .arg(self.port.to_string())
            .arg("--data-file")
            .arg(&file)
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(FIRST_ANSWER_WITHIN, run)
            .await
            .map_err(|_| format!("{function} did not answer within {FIRST_ANSWER_WITHIN:?}"))??;
        if !output.status.success() {
            return Err(format!(
                "cargo lambda invoke {function} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )
            .into());
        }
        serde_json::from_slice(&output.stdout).map_err(|e| {
            format!(
                "{function} answered something that is not JSON ({e}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
            .into()
        })
    }
}

fn sample(path: &str) -> Result<String, Failure> {
    std::fs::read_to_string(Path::new("events").join(path))
        .map_err(|e| format!("events/{path}: {e}").into())
}

/// An API Gateway answer's status and JSON body.
fn api_answer(answer: &Value) -> (u64, Value) {
    let status = answer["statusCode"].as_u64().unwrap_or_default();
    let body = answer["body"]
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

fn expect(condition: bool, what: impl FnOnce() -> String) -> Result<(), Failure> {
    if condition {
        Ok(())
    } else {
        Err(what().into())
    }
}

/// The texts the Twilio emulator has sent to `to`.
async fn texts_sent_to(providers: &str, to: &str) -> Result<usize, Failure> {
    let listing: Value = devtools::http_client()
        .get(format!(
            "{providers}/twilio/2010-04-01/Accounts/{DEMO_ACCOUNT_SID}/Messages.json?To={}",
            form_urlencoded::byte_serialize(to.as_bytes()).collect::<String>()
        ))
        .basic_auth(DEMO_ACCOUNT_SID, Some(DEMO_AUTH_TOKEN))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(listing["messages"].as_array().map_or(0, Vec::len))
}

/// The reply job the webhook queued, received as Lambda's event source
/// mapping receives it, in the shape of `events/reply-worker/reply-to-text.json`.
async fn reply_job_event(local: &LocalStack, queue_name: &str) -> Result<String, Failure> {
    let deadline = Instant::now() + JOB_QUEUED_WITHIN;
    let message = loop {
        let received = local
            .sqs
            .receive_message()
            .queue_url(&local.reply_queue_url)
            .wait_time_seconds(2)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .send()
            .await?;
        if let Some(message) = received.messages.and_then(|m| m.into_iter().next()) {
            break message;
        }
        if Instant::now() > deadline {
            return Err("the webhook queued no reply job".into());
        }
    };
    let mut event: Value = serde_json::from_str(&sample("reply-worker/reply-to-text.json")?)?;
    let record = &mut event["Records"][0];
    record["messageId"] = message.message_id.unwrap_or_default().into();
    record["receiptHandle"] = message.receipt_handle.unwrap_or_default().into();
    record["body"] = message.body.unwrap_or_default().into();
    record["md5OfBody"] = message.md5_of_body.unwrap_or_default().into();
    record["eventSourceARN"] = local_queue_arn(local, queue_name).into();
    for (name, value) in message.attributes.unwrap_or_default() {
        record["attributes"][name.as_str()] = value.into();
    }
    Ok(event.to_string())
}

async fn replay(
    emulator: &Emulator,
    local: &LocalStack,
    names: &ResourceNames,
    providers: &str,
    workspace: &str,
    key: &str,
) -> Result<(), Failure> {
    let with_ids = |text: String, assistant: &str| {
        text.replace(EVENT_WORKSPACE, workspace)
            .replace(EVENT_ASSISTANT, assistant)
            .replace(EVENT_API_KEY, key)
    };

    let file = "assistants-api/create-assistant.json";
    let (status, body) = api_answer(
        &emulator
            .invoke("assistants-api", &with_ids(sample(file)?, EVENT_ASSISTANT))
            .await?,
    );
    expect(status == 201, || format!("{file}: {status} {body}"))?;
    let assistant = body["id"].as_str().unwrap_or_default().to_owned();
    expect(assistant.starts_with("ast_"), || {
        format!("{file}: no assistant id in {body}")
    })?;
    println!("API            assistants-api  {file}: 201, assistant created");

    let file = "sms-api/update-sms-config.json";
    let (status, body) = api_answer(
        &emulator
            .invoke("sms-api", &with_ids(sample(file)?, &assistant))
            .await?,
    );
    expect(status == 200, || format!("{file}: {status} {body}"))?;
    expect(body["data"]["enabled"] == true, || {
        format!("{file}: SMS not enabled: {body}")
    })?;
    println!("API            sms-api         {file}: 200, SMS enabled");

    let file = "sms-webhook/inbound-text.json";
    let event = sign_webhook_event(&with_ids(sample(file)?, &assistant), DEMO_AUTH_TOKEN)?;
    let texter = serde_json::from_str::<Value>(&event)?["body"]
        .as_str()
        .and_then(|body| {
            form_urlencoded::parse(body.as_bytes())
                .find(|(k, _)| k == "From")
                .map(|(_, v)| v.into_owned())
        })
        .ok_or("the webhook event names no texter")?;
    let answer = emulator.invoke("sms-webhook", &event).await?;
    let status = answer["statusCode"].as_u64().unwrap_or_default();
    expect(
        status == 200 && answer["body"] == "<Response></Response>",
        || format!("{file}: {answer}"),
    )?;
    println!("Function URL   sms-webhook     {file}: 200, empty TwiML, the reply job queued");

    let file = "reply-worker/reply-to-text.json";
    let job = reply_job_event(local, &names.reply_queue).await?;
    for round in ["the job", "the same job again"] {
        let answer = emulator.invoke("reply-worker", &job).await?;
        expect(answer["batchItemFailures"] == serde_json::json!([]), || {
            format!("{file} ({round}): {answer}")
        })?;
        let sent = texts_sent_to(providers, &texter).await?;
        expect(sent == 1, || {
            format!("{file} ({round}): {sent} texts sent to the texter, not 1")
        })?;
        println!(
            "SQS worker     reply-worker    {file} with {round}: no failed item, 1 reply texted"
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    require_loopback_endpoint()?;
    let aws = shared::wiring::load_aws(&shared::adapters::outbound_http::client()).await;
    let names = ResourceNames::unique("replay");
    let local =
        LocalStack::provision(aws.clone(), aws_sdk_dynamodb::Client::new(&aws), &names).await?;
    let providers =
        serve_on_loopback(emulators::router(Emulators::local(Latency::default()))).await;

    let owner = Email::parse("owner@replay.illumichat.local").ok_or("a valid address")?;
    let (workspace, key) =
        bootstrap_workspace(local.store.as_ref(), "Replay", &owner, None).await?;

    // Signed as a Function URL without a custom domain is called.
    let function_url: Value = serde_json::from_str(&sample("sms-webhook/inbound-text.json")?)?;
    let webhook_base = format!(
        "https://{}",
        function_url["headers"]["host"].as_str().unwrap_or_default()
    );
    let mut vars = function_environment(
        &local,
        &names,
        &providers,
        &webhook_base,
        ProviderKeys::Emulators,
    );
    set(&mut vars, "SMS_BURST_WINDOW_MS", "1000");
    set(&mut vars, "RUST_LOG", "warn");
    let scratch =
        PathBuf::from(std::env::var("REPLAY_DIR").unwrap_or_else(|_| ".dev/lambda-replay".into()));
    std::fs::create_dir_all(&scratch)?;
    let env_path = scratch.join("lambda.env");
    std::fs::write(&env_path, env_file(&vars)?)?;

    let emulator = Emulator::start(&env_path, scratch).await?;
    replay(
        &emulator,
        &local,
        &names,
        &providers,
        workspace.id.as_str(),
        &key.api_key,
    )
    .await?;
    println!("lambda replay: 3 function kinds answered as expected under cargo lambda watch");
    Ok(())
}
