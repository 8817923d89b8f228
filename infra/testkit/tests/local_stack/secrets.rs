//! Keys read from the local secret store as a deployed function reads them
//! at cold start.

use shared::config::Env;
use shared::config::{PROVIDER_KEYS_SECRET, with_provider_keys};

#[tokio::test]
async fn a_function_reads_its_provider_keys_from_the_secret_store_at_start() {
    let aws = shared::config::load_aws(&shared::adapters::outbound_http::client()).await;
    let client = aws_sdk_secretsmanager::Client::new(&aws);
    let name = format!(
        "provider-keys-{}",
        shared::domain::ids::WorkspaceId::generate()
    );
    client
        .create_secret()
        .name(&name)
        .secret_string(
            r#"{"embeddingsApiKey": "sk-from-the-store", "pineconeApiKey": "pc-from-the-store"}"#,
        )
        .send()
        .await
        .unwrap();
    let env = Env::from_pairs([
        (PROVIDER_KEYS_SECRET, name.as_str()),
        ("EMBEDDINGS_API_KEY", ""),
    ]);
    let env = with_provider_keys(&aws, env).await.unwrap();
    assert_eq!(
        env.optional("EMBEDDINGS_API_KEY").as_deref(),
        Some("sk-from-the-store")
    );
    assert_eq!(
        env.optional("PINECONE_API_KEY").as_deref(),
        Some("pc-from-the-store")
    );
    assert!(
        !format!("{env:?}").contains("from-the-store"),
        "Debug shows names only"
    );
    // Locally, without the setting, the environment is as it was.
    let plain = with_provider_keys(&aws, Env::from_pairs([("EMBEDDINGS_API_KEY", "sk-local")]))
        .await
        .unwrap();
    assert_eq!(
        plain.optional("EMBEDDINGS_API_KEY").as_deref(),
        Some("sk-local")
    );
    let missing = with_provider_keys(
        &aws,
        Env::from_pairs([(PROVIDER_KEYS_SECRET, "no-such-secret")]),
    )
    .await
    .unwrap_err();
    assert!(missing.to_string().contains("no-such-secret"), "{missing}");
}
