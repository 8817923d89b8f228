//! A Pinecone-compatible index (data plane): upsert, query by cosine with
//! metadata filters, delete by ids, filter or namespace, and index stats, in
//! memory. Enforces the real limits (1,000 records and 2 MB per upsert,
//! 40 KB metadata, no nulls, the index dimension), so tests catch an adapter
//! or batcher that breaks them.

use super::{Latency, ServiceTimes};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub const MAX_UPSERT_RECORDS: usize = 1_000;
pub const MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;
pub const MAX_METADATA_BYTES: usize = 40 * 1024;
pub const MAX_TOP_K: usize = 10_000;

type Namespace = BTreeMap<String, (Vec<f32>, Map<String, Value>)>;

#[derive(Clone, Debug)]
pub struct PineconeEmulator {
    pub dimension: usize,
    pub latency: Latency,
    /// The upserts' times (the bench's critical path holds one).
    pub upsert_times: ServiceTimes,
    namespaces: Arc<Mutex<HashMap<String, Namespace>>>,
    upserts: Arc<AtomicUsize>,
}

impl PineconeEmulator {
    pub fn new(dimension: usize, latency: Latency) -> Self {
        Self {
            dimension,
            latency,
            upsert_times: ServiceTimes::default(),
            namespaces: Arc::default(),
            upserts: Arc::default(),
        }
    }

    pub fn upsert_requests(&self) -> usize {
        self.upserts.load(Ordering::SeqCst)
    }

    pub fn vector_count(&self, namespace: &str) -> usize {
        self.lock().get(namespace).map_or(0, BTreeMap::len)
    }

    /// Every vector's id and metadata in a namespace, by id.
    pub fn metadata(&self, namespace: &str) -> BTreeMap<String, Map<String, Value>> {
        self.lock()
            .get(namespace)
            .map(|ns| {
                ns.iter()
                    .map(|(id, (_, metadata))| (id.clone(), metadata.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Namespace>> {
        self.namespaces.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Routes under the index host the adapter is given.
    pub fn router(self) -> Router {
        Router::new()
            .route("/vectors/upsert", post(upsert))
            .route("/query", post(query))
            .route("/vectors/delete", post(delete))
            .route("/describe_index_stats", post(stats))
            .with_state(self)
    }
}

fn bad_request(message: impl Into<String>) -> Response {
    BadRequest(message.into()).into_response()
}

/// A refusal in Pinecone's error shape (gRPC code 3, invalid argument).
struct BadRequest(String);

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": 3, "message": self.0})),
        )
            .into_response()
    }
}

fn parse(bytes: &Bytes) -> Result<Map<String, Value>, BadRequest> {
    if bytes.len() > MAX_REQUEST_BYTES {
        return Err(BadRequest("request size exceeds the 2 MB limit".into()));
    }
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(BadRequest("the body must be a JSON object".into())),
    }
}

fn namespace_of(body: &Map<String, Value>) -> String {
    body.get("namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

fn vector_of(value: &Value, dimension: usize) -> Result<Vec<f32>, BadRequest> {
    let values: Vec<f32> = value
        .as_array()
        .ok_or_else(|| BadRequest("values must be a list of numbers".into()))?
        .iter()
        .map(|v| v.as_f64().map(|f| f as f32))
        .collect::<Option<_>>()
        .ok_or_else(|| BadRequest("values must be numbers".into()))?;
    if values.len() != dimension {
        return Err(BadRequest(format!(
            "vector dimension {} does not match the dimension of the index {dimension}",
            values.len()
        )));
    }
    Ok(values)
}

async fn upsert(State(index): State<PineconeEmulator>, bytes: Bytes) -> Response {
    index.upserts.fetch_add(1, Ordering::SeqCst);
    index.latency.wait().await;
    let _timer = index.upsert_times.start();
    let body = match parse(&bytes) {
        Ok(body) => body,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(vectors) = body.get("vectors").and_then(Value::as_array) else {
        return bad_request("vectors is required");
    };
    if vectors.len() > MAX_UPSERT_RECORDS {
        return bad_request("at most 1000 vectors per upsert");
    }
    let mut records = Vec::with_capacity(vectors.len());
    for vector in vectors {
        let Some(id) = vector.get("id").and_then(Value::as_str) else {
            return bad_request("every vector needs an id");
        };
        let values = match vector_of(
            vector.get("values").unwrap_or(&Value::Null),
            index.dimension,
        ) {
            Ok(values) => values,
            Err(refusal) => return refusal.into_response(),
        };
        let metadata = vector
            .get("metadata")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if metadata.values().any(Value::is_null) {
            return bad_request("metadata values may not be null");
        }
        if serde_json::to_vec(&metadata).map_or(0, |m| m.len()) > MAX_METADATA_BYTES {
            return bad_request("metadata size exceeds the 40 KB limit");
        }
        records.push((id.to_owned(), values, metadata));
    }
    let count = records.len();
    let mut namespaces = index.lock();
    let namespace = namespaces.entry(namespace_of(&body)).or_default();
    for (id, values, metadata) in records {
        namespace.insert(id, (values, metadata));
    }
    Json(json!({"upsertedCount": count})).into_response()
}

/// The subset of Pinecone's filter language the product uses: equality
/// (`{"f": v}`, `$eq`, `$ne`), `$in`, `$nin`, and `$and` / `$or`.
fn matches_filter(metadata: &Map<String, Value>, filter: &Value) -> bool {
    let Some(filter) = filter.as_object() else {
        return true;
    };
    filter.iter().all(|(key, condition)| match key.as_str() {
        "$and" => condition
            .as_array()
            .is_some_and(|all| all.iter().all(|f| matches_filter(metadata, f))),
        "$or" => condition
            .as_array()
            .is_some_and(|any| any.iter().any(|f| matches_filter(metadata, f))),
        field => {
            let value = metadata.get(field);
            match condition.as_object() {
                None => value == Some(condition),
                Some(operators) => operators.iter().all(|(op, operand)| match op.as_str() {
                    "$eq" => value == Some(operand),
                    "$ne" => value != Some(operand),
                    "$in" => operand
                        .as_array()
                        .is_some_and(|set| value.is_some_and(|v| set.contains(v))),
                    "$nin" => operand
                        .as_array()
                        .is_some_and(|set| value.is_none_or(|v| !set.contains(v))),
                    _ => false,
                }),
            }
        }
    })
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norms =
        a.iter().map(|x| x * x).sum::<f32>().sqrt() * b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norms == 0.0 { 0.0 } else { dot / norms }
}

async fn query(State(index): State<PineconeEmulator>, bytes: Bytes) -> Response {
    index.latency.wait().await;
    let body = match parse(&bytes) {
        Ok(body) => body,
        Err(refusal) => return refusal.into_response(),
    };
    let top_k = body.get("topK").and_then(Value::as_u64).unwrap_or(0) as usize;
    if top_k == 0 || top_k > MAX_TOP_K {
        return bad_request("topK must be between 1 and 10000");
    }
    let vector = match vector_of(body.get("vector").unwrap_or(&Value::Null), index.dimension) {
        Ok(vector) => vector,
        Err(refusal) => return refusal.into_response(),
    };
    let include_metadata = body
        .get("includeMetadata")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let filter = body.get("filter").cloned().unwrap_or(Value::Null);
    let namespace = namespace_of(&body);
    let namespaces = index.lock();
    let mut matches: Vec<(f32, &String, &Map<String, Value>)> = namespaces
        .get(&namespace)
        .into_iter()
        .flatten()
        .filter(|(_, (_, metadata))| matches_filter(metadata, &filter))
        .map(|(id, (values, metadata))| (cosine(&vector, values), id, metadata))
        .collect();
    matches.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let matches: Vec<Value> = matches
        .into_iter()
        .take(top_k)
        .map(|(score, id, metadata)| {
            let mut m = json!({"id": id, "score": score, "values": []});
            if include_metadata {
                m["metadata"] = Value::Object(metadata.clone());
            }
            m
        })
        .collect();
    Json(json!({"matches": matches, "namespace": namespace, "usage": {"readUnits": 1}}))
        .into_response()
}

async fn delete(State(index): State<PineconeEmulator>, bytes: Bytes) -> Response {
    index.latency.wait().await;
    let body = match parse(&bytes) {
        Ok(body) => body,
        Err(refusal) => return refusal.into_response(),
    };
    let namespace = namespace_of(&body);
    let mut namespaces = index.lock();
    if body.get("deleteAll").and_then(Value::as_bool) == Some(true) {
        namespaces.remove(&namespace);
    } else if let Some(ids) = body.get("ids").and_then(Value::as_array) {
        if ids.len() > 1_000 {
            return bad_request("at most 1000 ids per delete");
        }
        if let Some(ns) = namespaces.get_mut(&namespace) {
            for id in ids.iter().filter_map(Value::as_str) {
                ns.remove(id);
            }
        }
    } else if let Some(filter) = body.get("filter") {
        if let Some(ns) = namespaces.get_mut(&namespace) {
            ns.retain(|_, (_, metadata)| !matches_filter(metadata, filter));
        }
    } else {
        return bad_request("one of ids, filter or deleteAll is required");
    }
    Json(json!({})).into_response()
}

async fn stats(State(index): State<PineconeEmulator>) -> Response {
    let namespaces = index.lock();
    let per_namespace: Map<String, Value> = namespaces
        .iter()
        .map(|(name, ns)| (name.clone(), json!({"vectorCount": ns.len()})))
        .collect();
    let total: usize = namespaces.values().map(BTreeMap::len).sum();
    Json(json!({
        "namespaces": per_namespace,
        "dimension": index.dimension,
        "indexFullness": 0.0,
        "totalVectorCount": total,
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_as_pinecone_documents() {
        let metadata = json!({"documentId": "doc_1", "chunk": 3})
            .as_object()
            .unwrap()
            .clone();
        assert!(matches_filter(&metadata, &json!({"documentId": "doc_1"})));
        assert!(matches_filter(
            &metadata,
            &json!({"documentId": {"$eq": "doc_1"}})
        ));
        assert!(!matches_filter(
            &metadata,
            &json!({"documentId": {"$ne": "doc_1"}})
        ));
        assert!(matches_filter(
            &metadata,
            &json!({"chunk": {"$in": [1, 3]}})
        ));
        assert!(matches_filter(
            &metadata,
            &json!({"$or": [{"chunk": 9}, {"documentId": "doc_1"}]})
        ));
        assert!(!matches_filter(
            &metadata,
            &json!({"$and": [{"chunk": 9}, {"documentId": "doc_1"}]})
        ));
    }
}
