//! What the functions read from their environment in AWS (`template.yaml`:
//! the globals and each function's variables), pointed at a local stack, so
//! that the functions' own binaries can run as Lambda runs them: under the
//! local Runtime API (`bench-coldstart`) or cargo-lambda's emulator (the
//! `.dev/lambda.env` the dev server writes for `cargo lambda watch`).

use crate::local::{LocalStack, ResourceNames};

/// moto's account: every ARN the local server hands out is in it.
const LOCAL_ACCOUNT: &str = "123456789012";

/// Where the functions that call a provider find its keys.
pub enum ProviderKeys {
    /// In a Secrets Manager secret of this name, as the template configures
    /// them (read once per container, which the cold-start figures count).
    Secret(String),
    /// As plain variables holding the emulators' key: nothing to read.
    Emulators,
}

/// The ARN the local server gives the queue named `name`.
pub fn local_queue_arn(local: &LocalStack, name: &str) -> String {
    let region = local
        .aws
        .region()
        .map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
    format!("arn:aws:sqs:{region}:{LOCAL_ACCOUNT}:{name}")
}

/// Sets `name` to `value` in `vars`, in place of any value it had.
pub fn set(vars: &mut Vec<(String, String)>, name: &str, value: &str) {
    vars.retain(|(set, _)| set != name);
    vars.push((name.to_owned(), value.to_owned()));
}

/// Every function's settings, the union of what the template gives each one
/// (a function ignores what it does not read). `providers` is the root the
/// emulators are served under (`/openai/v1`, `/pinecone`, `/twilio`),
/// `sms_webhook_base_url` where Twilio would call. The local server's `AWS_*`
/// settings are passed on from this process, with `SSL_CERT_*`; what Lambda
/// itself sets (`AWS_LAMBDA_*`, the runtime API) is the runner's to add.
pub fn function_environment(
    local: &LocalStack,
    names: &ResourceNames,
    providers: &str,
    sms_webhook_base_url: &str,
    keys: ProviderKeys,
) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = std::env::vars()
        .filter(|(name, _)| {
            (name.starts_with("AWS_") && !name.starts_with("AWS_LAMBDA_"))
                || name.starts_with("SSL_CERT_")
        })
        .collect();
    let queue_arn = |name: &str| local_queue_arn(local, name);
    let openai = format!("{providers}/openai/v1");
    let settings = [
        ("TABLE_NAME", names.table.clone()),
        ("CLEANUP_QUEUE_URL", local.cleanup_queue_url.clone()),
        ("INGEST_QUEUE_URL", local.ingest_queue_url.clone()),
        ("REPLY_QUEUE_URL", local.reply_queue_url.clone()),
        ("WEBHOOK_QUEUE_URL", local.webhook_queue_url.clone()),
        (
            "WEBHOOK_FAILING_QUEUE_URL",
            local.webhook_failing_queue_url.clone(),
        ),
        (
            "WEBHOOK_FAILING_QUEUE_ARN",
            queue_arn(&format!("{}-failing", names.webhook_queue)),
        ),
        (
            "INGEST_DEAD_LETTER_QUEUE_ARN",
            queue_arn(&format!("{}-dlq", names.ingest_queue)),
        ),
        ("DOCUMENTS_BUCKET", names.bucket.clone()),
        ("SMS_KEY_ID", names.sms_key_alias.clone()),
        ("WIDGET_SIGNING_SECRET_ARN", names.widget_secret.clone()),
        ("CONTACT_KEY_SECRET_ARN", names.contact_secret.clone()),
        ("EMBEDDINGS_BASE_URL", openai.clone()),
        ("EMBEDDINGS_MODEL", "local-lexical".into()),
        ("PINECONE_INDEX_HOST", format!("{providers}/pinecone")),
        ("CHAT_BASE_URL", openai),
        ("TWILIO_API_BASE_URL", format!("{providers}/twilio")),
        ("SMS_WEBHOOK_BASE_URL", sms_webhook_base_url.to_owned()),
        ("RUST_LOG", "info".into()),
    ];
    vars.extend(
        settings
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value)),
    );
    match keys {
        ProviderKeys::Secret(name) => {
            vars.push((shared::wiring::PROVIDER_KEYS_SECRET.to_owned(), name));
        }
        ProviderKeys::Emulators => {
            for name in ["EMBEDDINGS_API_KEY", "PINECONE_API_KEY", "CHAT_API_KEY"] {
                vars.push((name.to_owned(), crate::emulators::LOCAL_KEY.to_owned()));
            }
        }
    }
    vars
}

/// The variables as an env file, as `cargo lambda watch --env-file` reads
/// it: `KEY='VALUE'` lines, single-quoted so that nothing in a value is
/// expanded. A value that a single-quoted line cannot hold is refused rather
/// than written as a file that would read back as something else.
pub fn env_file(vars: &[(String, String)]) -> Result<String, String> {
    let mut text = String::new();
    for (name, value) in vars {
        if value.contains(['\n', '\r', '\'']) {
            return Err(format!("{name} holds a quote or a line break"));
        }
        text.push_str(&format!("{name}='{value}'\n"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::env_file;

    #[test]
    fn an_env_file_quotes_every_value_and_refuses_what_a_line_cannot_hold() {
        let vars = |value: &str| vec![("NAME".to_owned(), value.to_owned())];
        assert_eq!(env_file(&vars("$LATEST")).unwrap(), "NAME='$LATEST'\n");
        assert!(env_file(&vars("two\nlines")).unwrap_err().contains("NAME"));
        assert!(env_file(&vars("it's")).is_err());
    }
}
