//! Keys read from the local secret store as a deployed function reads them,
//! when a request first needs them.

use shared::config::Env;
use shared::wiring::{PROVIDER_KEYS_SECRET, with_provider_keys};

#[tokio::test]
async fn a_function_reads_its_provider_keys_from_the_secret_store_at_start() {
    let aws = shared::wiring::load_aws(&shared::adapters::outbound_http::client()).await;
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

/// The settings a search function has in its configuration; the keys are
/// in the secret.
fn deployed(secret: &str) -> Env {
    Env::from_pairs([
        (PROVIDER_KEYS_SECRET, secret),
        ("EMBEDDINGS_BASE_URL", "http://127.0.0.1:9/v1"),
        ("EMBEDDINGS_MODEL", "text-embedding-3-small"),
        ("PINECONE_INDEX_HOST", "http://127.0.0.1:9"),
    ])
}

#[tokio::test]
async fn a_provider_keys_secret_that_is_not_there_fails_the_search_as_a_deployment_error() {
    use shared::app::error::AppError;
    use shared::domain::ids::ProjectId;
    use shared::ports::{PassageSearch, ProviderError};
    use shared::wiring::{RetryBudget, provider_keys_on_first_use, retriever_on_first_use};

    let http = shared::adapters::outbound_http::client();
    let aws = shared::wiring::load_aws(&http).await;
    // Building the search reads nothing: a container that serves no
    // search never asks for the keys.
    let keys = provider_keys_on_first_use(&aws, deployed("no-such-secret"));
    let search = retriever_on_first_use(&keys, http, RetryBudget::Route);
    let missing = search
        .search(&[ProjectId::generate()], "refunds", 3)
        .await
        .unwrap_err();
    assert!(
        matches!(&missing, ProviderError::Unconfigured { detail } if detail.contains("no-such-secret")),
        "{missing}"
    );
    assert!(matches!(AppError::from(missing), AppError::Internal(_)));
}

#[tokio::test]
async fn a_search_and_an_answer_read_the_provider_keys_from_the_secret_store_on_first_use() {
    use devtools::emulators::{self, Emulators, LOCAL_KEY, Latency, serve_on_loopback};
    use shared::domain::ids::ProjectId;
    use shared::ports::{ChatModel, ChatRequest, PassageSearch, Speaker, Turn};
    use shared::wiring::{
        RetryBudget, chat_model_on_first_use, provider_keys_on_first_use, retriever_on_first_use,
    };

    let http = shared::adapters::outbound_http::client();
    let aws = shared::wiring::load_aws(&http).await;
    // The emulators refuse any other key, as the providers do.
    let providers =
        serve_on_loopback(emulators::router(Emulators::local(Latency::default()))).await;
    let name = format!(
        "provider-keys-{}",
        shared::domain::ids::WorkspaceId::generate()
    );
    aws_sdk_secretsmanager::Client::new(&aws)
        .create_secret()
        .name(&name)
        .secret_string(
            serde_json::json!({
                "embeddingsApiKey": LOCAL_KEY,
                "pineconeApiKey": LOCAL_KEY,
                "chatApiKey": LOCAL_KEY,
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let openai = format!("{providers}/openai/v1");
    let pinecone = format!("{providers}/pinecone");
    let env = Env::from_pairs([
        (PROVIDER_KEYS_SECRET, name.as_str()),
        ("EMBEDDINGS_BASE_URL", openai.as_str()),
        ("EMBEDDINGS_MODEL", "local-lexical"),
        ("PINECONE_INDEX_HOST", pinecone.as_str()),
        ("CHAT_BASE_URL", openai.as_str()),
    ]);
    let keys = provider_keys_on_first_use(&aws, env);
    let search = retriever_on_first_use(&keys, http.clone(), RetryBudget::Route);
    let chat = chat_model_on_first_use(&keys, http, RetryBudget::Route);

    let found = search
        .search(&[ProjectId::generate()], "How long do refunds take?", 3)
        .await
        .unwrap();
    assert!(found.is_empty(), "a new project has no passages");
    let answer = chat
        .complete(&ChatRequest {
            model: "grok-4".into(),
            turns: vec![Turn {
                speaker: Speaker::User,
                content: "Say hello.".into(),
            }],
            temperature: 0.0,
            max_tokens: 50,
        })
        .await
        .unwrap();
    assert!(!answer.text.is_empty());
}
