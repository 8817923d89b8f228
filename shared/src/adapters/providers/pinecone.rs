//! Pinecone's REST data plane, against one index host: upsert, query and
//! delete within a namespace (one namespace per project).

use super::http::{RetryPolicy, send_json};
use crate::adapters::outbound_http::OutboundHttp;
use crate::ports::{ProviderError, VectorIndex, VectorMatch, VectorRecord};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

const PROVIDER: &str = "the vector index";
const API_VERSION: &str = "2025-01";

#[derive(Clone, Debug)]
pub struct PineconeConfig {
    /// The index's own host, e.g. `https://docs-abc123.svc.aped-1234.pinecone.io`.
    pub index_host: String,
    pub api_key: SecretString,
    pub timeout: Duration,
}

#[derive(Clone, Debug)]
pub struct PineconeIndex {
    http: OutboundHttp,
    config: PineconeConfig,
    retry: RetryPolicy,
}

#[derive(Deserialize)]
struct QueryResponse {
    #[serde(default)]
    matches: Vec<QueryMatch>,
}

#[derive(Deserialize)]
struct QueryMatch {
    id: String,
    score: f32,
    #[serde(default)]
    metadata: BTreeMap<String, Value>,
}

impl PineconeIndex {
    pub fn new(http: OutboundHttp, config: PineconeConfig, retry: RetryPolicy) -> Self {
        Self {
            http,
            config,
            retry,
        }
    }

    async fn post(&self, path: &str, body: impl Serialize) -> Result<Value, ProviderError> {
        let url = format!("{}{path}", self.config.index_host.trim_end_matches('/'));
        send_json(PROVIDER, self.retry, || {
            self.http
                .reqwest()
                .post(&url)
                .header("Api-Key", self.config.api_key.expose_secret())
                .header("X-Pinecone-API-Version", API_VERSION)
                .timeout(self.config.timeout)
                .json(&body)
        })
        .await
    }
}

impl VectorIndex for PineconeIndex {
    async fn upsert(&self, namespace: &str, records: &[VectorRecord]) -> Result<(), ProviderError> {
        if records.is_empty() {
            return Ok(());
        }
        #[derive(Serialize)]
        struct Upsert<'a> {
            namespace: &'a str,
            vectors: &'a [VectorRecord],
        }
        self.post(
            "/vectors/upsert",
            Upsert {
                namespace,
                vectors: records,
            },
        )
        .await?;
        Ok(())
    }

    async fn query(
        &self,
        namespace: &str,
        vector: &[f32],
        top_k: usize,
        filter: Option<Value>,
    ) -> Result<Vec<VectorMatch>, ProviderError> {
        let mut body = json!({
            "namespace": namespace,
            "vector": vector,
            "topK": top_k,
            "includeMetadata": true,
            "includeValues": false,
        });
        if let Some(filter) = filter {
            body["filter"] = filter;
        }
        let answer = self.post("/query", body).await?;
        let parsed: QueryResponse =
            serde_json::from_value(answer).map_err(|e| ProviderError::Malformed {
                provider: PROVIDER,
                detail: e.to_string(),
            })?;
        Ok(parsed
            .matches
            .into_iter()
            .map(|m| VectorMatch {
                id: m.id,
                score: m.score,
                metadata: m.metadata,
            })
            .collect())
    }

    async fn delete_ids(&self, namespace: &str, ids: &[String]) -> Result<(), ProviderError> {
        // At most 1,000 ids per request.
        for chunk in ids.chunks(1_000) {
            self.post(
                "/vectors/delete",
                json!({ "namespace": namespace, "ids": chunk }),
            )
            .await?;
        }
        Ok(())
    }

    async fn delete_matching(&self, namespace: &str, filter: Value) -> Result<(), ProviderError> {
        self.post(
            "/vectors/delete",
            json!({ "namespace": namespace, "filter": filter }),
        )
        .await?;
        Ok(())
    }

    async fn delete_namespace(&self, namespace: &str) -> Result<(), ProviderError> {
        self.post(
            "/vectors/delete",
            json!({ "namespace": namespace, "deleteAll": true }),
        )
        .await?;
        Ok(())
    }
}
