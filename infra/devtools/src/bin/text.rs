//! Texts an assistant on the local stack as a customer's phone would via
//! Twilio: signs the message with the assistant's stored Auth Token, posts it
//! to the webhook, and prints the reply the Twilio emulator recorded.
//!
//!     cargo run -q -p devtools --bin text -- --assistant ast_... --from +15551234567 "When do you open?"

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::Parser;
use devtools::emulators::twilio::{inbound_params, random_sid, signed_webhook_request};
use devtools::local::StackFile;
use secrecy::ExposeSecret;
use shared::adapters::dynamo::DynamoStore;
use shared::adapters::kms::KmsCipher;
use shared::domain::ids::AssistantId;
use shared::domain::sms::PhoneNumber;
use shared::ports::{SecretCipher, SecretContext, SmsStore};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Text an assistant on the local stack and print its reply")]
struct Args {
    /// The assistant (its SMS configuration must be stored).
    #[arg(long)]
    assistant: String,
    /// The texter's number, E.164.
    #[arg(long, default_value = "+15551234567")]
    from: String,
    /// How long to wait for the reply, in seconds.
    #[arg(long, default_value_t = 30)]
    wait: u64,
    /// What the customer texts.
    body: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let stack = StackFile::read()?;
    let assistant = AssistantId::parse(&args.assistant)
        .ok_or_else(|| format!("{} is not an assistant id", args.assistant))?;
    let from = PhoneNumber::parse(&args.from)
        .ok_or_else(|| format!("{} is not an E.164 phone number", args.from))?;
    let aws = stack.aws().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), &stack.names.table);
    let config = store
        .sms_config(&assistant)
        .await?
        .ok_or("this assistant has no SMS configuration: PUT .../sms first")?;
    let kms = aws_sdk_kms::Client::new(&aws);
    let key_id = kms
        .describe_key()
        .key_id(&stack.names.sms_key_alias)
        .send()
        .await?
        .key_metadata
        .map(|m| m.key_id)
        .ok_or("the local SMS key is missing")?;
    let token = KmsCipher::new(kms, key_id)
        .open(
            &config.sealed_auth_token,
            &SecretContext::twilio_auth_token(&config.workspace_id, &config.assistant_id),
        )
        .await?;

    let http = shared::adapters::outbound_http::client().reqwest().clone();
    let list_url = format!(
        "{}/2010-04-01/Accounts/{}/Messages.json?To={}",
        stack.twilio_api_base_url,
        config.account_sid,
        form_urlencoded::byte_serialize(from.as_str().as_bytes()).collect::<String>()
    );
    let basic = format!(
        "Basic {}",
        BASE64.encode(format!("{}:{}", config.account_sid, token.expose_secret()))
    );
    let replies = |body: serde_json::Value| -> Vec<String> {
        body["messages"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|m| m["sid"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let before = replies(
        http.get(&list_url)
            .header("Authorization", &basic)
            .send()
            .await?
            .json()
            .await?,
    );

    let message_sid = random_sid("SM");
    let url = format!(
        "{}/api/sms/webhook/{}",
        stack.webhook_base_url, config.assistant_id
    );
    let params = inbound_params(
        &message_sid,
        config.account_sid.as_str(),
        from.as_str(),
        config.phone_number.as_str(),
        &args.body,
    );
    let answer = signed_webhook_request(&http, &url, &token, &params)
        .send()
        .await?;
    let status = answer.status();
    let text = answer.text().await?;
    println!("webhook answered {status}: {text}");
    if !status.is_success() {
        return Err("the webhook refused the message".into());
    }

    let deadline = Instant::now() + Duration::from_secs(args.wait);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let body: serde_json::Value = http
            .get(&list_url)
            .header("Authorization", &basic)
            .send()
            .await?
            .json()
            .await?;
        let mut new: Vec<&serde_json::Value> = body["messages"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter(|m| {
                        !m["sid"]
                            .as_str()
                            .is_some_and(|s| before.contains(&s.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !new.is_empty() {
            // The list is newest first; print in the order they were sent.
            new.reverse();
            for message in new {
                println!(
                    "reply ({} segment(s)): {}",
                    message["num_segments"].as_str().unwrap_or("?"),
                    message["body"].as_str().unwrap_or_default()
                );
            }
            return Ok(());
        }
    }
    Err(format!("no reply within {} s", args.wait).into())
}
