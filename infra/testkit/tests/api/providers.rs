//! The embeddings and Pinecone adapters: against the local emulators (the
//! real wire formats), and against scripted failures (429, 5xx, timeouts,
//! malformed answers, refusals).

use devtools::emulators::Latency;
use devtools::emulators::embeddings::EmbeddingsEmulator;
use devtools::emulators::pinecone::PineconeEmulator;
use devtools::emulators::serve_on_loopback;
use secrecy::SecretString;
use serde_json::json;
use shared::adapters::providers::RetryPolicy;
use shared::adapters::providers::embeddings::{EmbeddingsConfig, OpenAiEmbedder};
use shared::adapters::providers::pinecone::{PineconeConfig, PineconeIndex};
use shared::ports::{Embedder, ProviderError, VectorIndex, VectorRecord};
use std::collections::BTreeMap;
use std::time::Duration;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DIMENSIONS: usize = 64;
const SECRET: &str = "sk-test-secret-never-shown";

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        first_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        deadline: None,
    }
}

/// Generous, so a loaded machine never turns a test's answer into a
/// timeout; the timeout test sets its own.
const TIMEOUT: Duration = Duration::from_secs(5);

fn embedder(base_url: String) -> OpenAiEmbedder {
    embedder_timing_out_after(base_url, TIMEOUT)
}

fn embedder_timing_out_after(base_url: String, timeout: Duration) -> OpenAiEmbedder {
    embedder_with(base_url, timeout, fast_retries())
}

fn embedder_with(base_url: String, timeout: Duration, policy: RetryPolicy) -> OpenAiEmbedder {
    OpenAiEmbedder::new(
        shared::adapters::outbound_http::client(),
        EmbeddingsConfig {
            base_url,
            api_key: SecretString::from(SECRET),
            model: "text-embedding-3-small".into(),
            dimensions: None,
            timeout,
        },
        policy,
    )
}

fn index(host: String) -> PineconeIndex {
    PineconeIndex::new(
        shared::adapters::outbound_http::client(),
        PineconeConfig {
            index_host: host,
            api_key: SecretString::from(SECRET),
            timeout: TIMEOUT,
        },
        fast_retries(),
    )
}

fn record(id: &str, values: Vec<f32>, document: &str) -> VectorRecord {
    VectorRecord {
        id: id.into(),
        values,
        metadata: BTreeMap::from([
            ("documentId".to_owned(), json!(document)),
            ("text".to_owned(), json!(format!("text of {id}"))),
        ]),
    }
}

#[tokio::test]
async fn the_embedder_returns_one_vector_per_input_in_order() {
    let emulator = EmbeddingsEmulator::new(DIMENSIONS, Latency::default());
    let base = serve_on_loopback(emulator.clone().router()).await;
    let inputs = vec![
        "refunds take five days".to_owned(),
        "shipping is free".to_owned(),
    ];
    let vectors = embedder(base).embed(&inputs).await.unwrap();
    assert_eq!(vectors.len(), 2);
    assert_eq!(
        vectors[0],
        devtools::emulators::embeddings::embed(&inputs[0], DIMENSIONS)
    );
    assert_eq!(
        vectors[1],
        devtools::emulators::embeddings::embed(&inputs[1], DIMENSIONS)
    );
    assert_eq!(emulator.requests(), 1);
}

#[tokio::test]
async fn the_index_upserts_queries_with_filters_and_deletes() {
    let emulator = PineconeEmulator::new(3, Latency::default());
    let host = serve_on_loopback(emulator.clone().router()).await;
    let index = index(host);
    index
        .upsert(
            "proj_a",
            &[
                record("doc_1#0", vec![1.0, 0.0, 0.0], "doc_1"),
                record("doc_1#1", vec![0.9, 0.1, 0.0], "doc_1"),
                record("doc_2#0", vec![0.0, 1.0, 0.0], "doc_2"),
            ],
        )
        .await
        .unwrap();
    let best = index
        .query("proj_a", &[1.0, 0.0, 0.0], 2, None)
        .await
        .unwrap();
    assert_eq!(
        best.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["doc_1#0", "doc_1#1"]
    );
    assert!(best[0].score > best[1].score);
    assert_eq!(best[0].metadata["text"], "text of doc_1#0");
    let filtered = index
        .query(
            "proj_a",
            &[1.0, 0.0, 0.0],
            10,
            Some(json!({"documentId": {"$eq": "doc_2"}})),
        )
        .await
        .unwrap();
    assert_eq!(filtered.len(), 1);
    assert!(
        index
            .query("proj_b", &[1.0, 0.0, 0.0], 5, None)
            .await
            .unwrap()
            .is_empty(),
        "namespaces are apart"
    );

    index
        .delete_ids("proj_a", &["doc_1#1".to_owned()])
        .await
        .unwrap();
    assert_eq!(emulator.vector_count("proj_a"), 2);
    index
        .delete_matching("proj_a", json!({"documentId": "doc_2"}))
        .await
        .unwrap();
    assert_eq!(emulator.vector_count("proj_a"), 1);
    index.delete_namespace("proj_a").await.unwrap();
    assert_eq!(emulator.vector_count("proj_a"), 0);
}

#[tokio::test]
async fn a_wrong_dimension_is_refused_by_the_index_without_retries() {
    let emulator = PineconeEmulator::new(3, Latency::default());
    let host = serve_on_loopback(emulator.clone().router()).await;
    let error = index(host)
        .upsert("p", &[record("x", vec![1.0, 2.0], "d")])
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::Rejected { status: 400, .. }),
        "{error}"
    );
    assert_eq!(emulator.upsert_requests(), 1);
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_until_they_pass() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/embeddings"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/embeddings"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/embeddings"))
        .and(header("authorization", format!("Bearer {SECRET}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"index": 0, "embedding": [0.5, 0.5]}]
        })))
        .mount(&server)
        .await;
    let vectors = embedder(server.uri())
        .embed(&["hi".to_owned()])
        .await
        .unwrap();
    assert_eq!(vectors, vec![vec![0.5, 0.5]]);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_provider_that_stays_down_is_unavailable_after_a_bounded_budget() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let error = index(server.uri())
        .query("p", &[1.0], 1, None)
        .await
        .unwrap_err();
    assert!(error.is_transient());
    assert!(!error.to_string().contains(SECRET));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_route_budget_gives_up_on_a_slow_provider_within_it_without_more_tries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    // Each try may take 10 s, five tries are allowed: the 400 ms budget
    // ends the call during the first.
    let embedder = embedder_with(
        server.uri(),
        Duration::from_secs(10),
        RetryPolicy::within(Duration::from_millis(400)),
    );
    let error = embedder.embed(&["hi".to_owned()]).await.unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert!(
        error.to_string().contains("timed out after 1 tries"),
        "{error}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_slow_provider_times_out_and_counts_as_unavailable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let error = embedder_timing_out_after(server.uri(), Duration::from_millis(300))
        .embed(&["hi".to_owned()])
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::Unavailable { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("timed out"));
}

#[tokio::test]
async fn malformed_answers_and_refusals_are_reported_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/embeddings"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{not json"))
        .mount(&server)
        .await;
    let error = embedder(server.uri())
        .embed(&["hi".to_owned()])
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Malformed { .. }), "{error}");

    let short = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"index": 0, "embedding": [1.0]}]})),
        )
        .mount(&short)
        .await;
    let error = embedder(short.uri())
        .embed(&["a".to_owned(), "b".to_owned()])
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::Malformed { .. }),
        "two inputs, one vector: {error}"
    );

    let refusing = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&refusing)
        .await;
    let error = index(refusing.uri())
        .delete_namespace("p")
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Rejected { status: 401, .. }));
    assert_eq!(refusing.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn vectors_are_asked_for_in_base64_and_decoded_exactly() {
    use base64::Engine;
    let server = MockServer::start().await;
    let vector = [0.25_f32, -1.5, 3.0e-7];
    let encoded = base64::engine::general_purpose::STANDARD.encode(
        vector
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>(),
    );
    Mock::given(method("POST"))
        .and(path("/embeddings"))
        .and(body_partial_json(json!({"encoding_format": "base64"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [
                {"index": 1, "embedding": "AAAAAA=="},
                {"index": 0, "embedding": encoded},
            ]
        })))
        .mount(&server)
        .await;
    let vectors = embedder(server.uri())
        .embed(&["a".to_owned(), "b".to_owned()])
        .await
        .unwrap();
    assert_eq!(vectors, vec![vector.to_vec(), vec![0.0]]);

    let broken = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"index": 0, "embedding": "AAA="}]})),
        )
        .mount(&broken)
        .await;
    let error = embedder(broken.uri())
        .embed(&["a".to_owned()])
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::Malformed { .. }),
        "two bytes are not a float: {error}"
    );
}

#[tokio::test]
async fn a_provider_that_redirects_is_refused_and_its_key_goes_nowhere_else() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"matches": []})))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let provider = MockServer::start().await;
    for status in [301, 302, 307, 308] {
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("location", format!("{}/query", elsewhere.uri())),
            )
            .up_to_n_times(1)
            .mount(&provider)
            .await;
        let answer = index(provider.uri())
            .query("proj_x", &[0.5; DIMENSIONS], 3, None)
            .await;
        assert!(
            matches!(answer, Err(ProviderError::Rejected { .. })),
            "{status}: {answer:?}"
        );
        let embedded = embedder(provider.uri()).embed(&["a".to_owned()]).await;
        assert!(embedded.is_err(), "{status}");
    }
    // `expect(0)` on `elsewhere` is checked when it drops: no request, no key.
}

#[tokio::test]
async fn the_local_emulators_refuse_a_request_without_the_key_their_real_counterparts_require() {
    use devtools::emulators::{Emulators, LOCAL_KEY, router};
    let base = serve_on_loopback(router(Emulators::local(Latency::default()))).await;
    let http = devtools::http_client();
    for (path, header_name, good) in [
        (
            "/openai/v1/embeddings",
            "authorization",
            format!("Bearer {LOCAL_KEY}"),
        ),
        (
            "/openai/v1/chat/completions",
            "authorization",
            format!("Bearer {LOCAL_KEY}"),
        ),
        ("/pinecone/query", "api-key", LOCAL_KEY.to_owned()),
    ] {
        for sent in [None, Some("wrong".to_owned())] {
            let mut request = http.post(format!("{base}{path}")).json(&json!({}));
            if let Some(value) = sent {
                request = request.header(header_name, value);
            }
            let answer = request.send().await.unwrap();
            assert_eq!(answer.status(), 401, "{path}");
        }
        let answer = http
            .post(format!("{base}{path}"))
            .header(header_name, good)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_ne!(answer.status(), 401, "{path} with its key");
    }
    // The local adapters send it.
    let embedded = devtools::emulators::local_retriever(&base)
        .embedder
        .embed(&["refunds".to_owned()])
        .await
        .unwrap();
    assert_eq!(embedded.len(), 1);
}
