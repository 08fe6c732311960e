//! Prepared documents: each query document is parsed and validated once, then reused.
//!
//! [`Engine`] holds the schema twice, built by the same function over the same data:
//! one validating every rule ([`ValidationMode::Strict`]) and one validating only
//! fragment cycles plus the depth and complexity limits ([`ValidationMode::Fast`]). A
//! document not seen before is parsed here and executed by the strict schema; if it
//! passed validation (every error it produced, if any, came from a resolver and has a
//! path) it joins the cache, keyed by its text. A document in the cache is handed to
//! the fast schema already parsed (`Request::set_parsed_query`), so it is neither parsed
//! nor put through the document-only rules again, while everything that depends on the
//! request still runs per request: the depth and complexity limits with this request's
//! variables, the directive and recursion limits, and variable coercion (each variable
//! is checked against its declared type before execution, see [`crate::variables`]; the
//! resolvers' argument parsing checks them once more).
//!
//! Why not an extension: async-graphql's `parse_query` hook can hand back a cached
//! document, but validation would still run every rule; its `validation` hook could
//! skip validation altogether, but then the depth and complexity limits (which depend
//! on the variables, e.g. `first`) would be skipped too. And any extension puts every
//! field through async-graphql's slower per-field path. Two schemas keep the limits and
//! cost nothing per field.
//!
//! Automatic persisted queries (APQ) live here too, for the same reason: a hash maps to
//! a document text that validated, and that text to its parsed document. The cache is
//! bounded in documents and in bytes of document text; the oldest entries go first.

use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, Response, ServerError, ValidationMode};
use domain::SharedTicketing;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::schema::loaders::LoaderCalls;
use crate::schema::types::RawJson;
use crate::schema::{QuartetSchema, build};
use crate::variables::VariableTypes;

/// The message of an APQ request whose hash the server does not know (the text the
/// Apollo protocol's clients look for).
pub const PERSISTED_QUERY_NOT_FOUND: &str = "PersistedQueryNotFound";

/// One cached document.
struct Entry {
    document: Arc<ExecutableDocument>,
    /// The APQ hash it was registered under, if any.
    hash: Option<String>,
}

/// The cache: document text -> parsed document, APQ hash -> document text.
#[derive(Default)]
struct Cache {
    documents: IndexMap<String, Entry>,
    hashes: std::collections::HashMap<String, String>,
    bytes: usize,
}

/// Executes requests with prepared documents. Cheap to share behind an `Arc`.
pub struct Engine {
    strict: QuartetSchema,
    fast: QuartetSchema,
    variables: VariableTypes,
    cache: Mutex<Cache>,
    max_documents: usize,
    max_bytes: usize,
}

/// Counters of the cache, for tests and the curious.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Documents cached.
    pub documents: usize,
    /// Bytes of document text cached.
    pub bytes: usize,
}

impl Engine {
    /// The engine over `api` with `config`'s limits; `calls` counts nested batches.
    pub fn new(api: SharedTicketing, config: &Config, calls: Arc<LoaderCalls>) -> Self {
        let strict = build(
            Arc::clone(&api),
            config,
            Arc::clone(&calls),
            ValidationMode::Strict,
        );
        let fast = build(api, config, calls, ValidationMode::Fast);
        Engine {
            variables: VariableTypes::new(),
            strict,
            fast,
            cache: Mutex::new(Cache::default()),
            max_documents: config.document_cache,
            max_bytes: config.document_cache_bytes,
        }
    }

    /// The strict schema (for its SDL, or to execute without the cache).
    pub fn schema(&self) -> &QuartetSchema {
        &self.strict
    }

    /// Documents and bytes cached now.
    pub fn stats(&self) -> CacheStats {
        let cache = self.lock();
        CacheStats {
            documents: cache.documents.len(),
            bytes: cache.bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one request: APQ first, then the cached document or a strict first run.
    /// The response is an ordinary value tree (serialise it any way).
    pub async fn execute(&self, request: Request) -> Response {
        self.run(request).await
    }

    /// As [`execute`](Self::execute), but big lists come back as pre-rendered JSON
    /// text: write the response with [`crate::json`] (what the endpoint does), never
    /// with serde directly.
    pub async fn execute_raw(&self, request: Request) -> Response {
        self.run(request.data(RawJson)).await
    }

    async fn run(&self, mut request: Request) -> Response {
        let mut register_hash = None;
        if let Some(value) = request.extensions.remove("persistedQuery") {
            match persisted_query(value) {
                Err(error) => return Response::from_errors(vec![error]),
                Ok(hash) if request.query.is_empty() => {
                    let text = self.lock().hashes.get(&hash).cloned();
                    match text {
                        Some(text) => request.query = text,
                        None => {
                            return Response::from_errors(vec![ServerError::new(
                                PERSISTED_QUERY_NOT_FOUND,
                                None,
                            )]);
                        }
                    }
                }
                Ok(hash) => {
                    let actual = format!("{:x}", Sha256::digest(request.query.as_bytes()));
                    if actual != hash {
                        return Response::from_errors(vec![ServerError::new(
                            "provided sha does not match query",
                            None,
                        )]);
                    }
                    register_hash = Some(hash);
                }
            }
        }
        let cached = self
            .lock()
            .documents
            .get(request.query.as_str())
            .map(|e| Arc::clone(&e.document));
        if let Some(document) = cached {
            if let Err(error) = self.variables.check(
                &document,
                request.operation_name.as_deref(),
                &request.variables,
            ) {
                return Response::from_errors(vec![error]);
            }
            if let Some(hash) = register_hash {
                self.remember_hash(&request.query, hash);
            }
            request.set_parsed_query(ExecutableDocument::clone(&document));
            return self.fast.execute(request).await;
        }
        let document = match async_graphql::parser::parse_query(&request.query) {
            Ok(document) => document,
            Err(error) => return Response::from_errors(vec![error.into()]),
        };
        if let Err(error) = self.variables.check(
            &document,
            request.operation_name.as_deref(),
            &request.variables,
        ) {
            return Response::from_errors(vec![error]);
        }
        let text = request.query.clone();
        request.set_parsed_query(document.clone());
        let response = self.strict.execute(request).await;
        // Validation, limit and request errors have no path; resolver errors do. A
        // document is cached only when everything that went wrong was a resolver's.
        if response.errors.iter().all(|e| !e.path.is_empty()) {
            self.insert(text, document, register_hash);
        }
        response
    }

    fn insert(&self, text: String, document: ExecutableDocument, hash: Option<String>) {
        let size = text.len();
        if size > self.max_bytes || self.max_documents == 0 {
            return;
        }
        let mut cache = self.lock();
        if let Some(hash) = &hash {
            cache.hashes.insert(hash.clone(), text.clone());
        }
        if cache.documents.contains_key(text.as_str()) {
            return;
        }
        while cache.documents.len() >= self.max_documents || cache.bytes + size > self.max_bytes {
            let Some((old_text, old)) = cache.documents.shift_remove_index(0) else {
                break;
            };
            cache.bytes -= old_text.len();
            if let Some(old_hash) = old.hash {
                cache.hashes.remove(&old_hash);
            }
        }
        cache.bytes += size;
        cache.documents.insert(
            text,
            Entry {
                document: Arc::new(document),
                hash,
            },
        );
    }

    fn remember_hash(&self, text: &str, hash: String) {
        let mut cache = self.lock();
        if let Some(entry) = cache.documents.get_mut(text) {
            entry.hash = Some(hash.clone());
            cache.hashes.insert(hash, text.to_owned());
        }
    }
}

/// The hash of an APQ `persistedQuery` extension.
fn persisted_query(value: async_graphql::Value) -> Result<String, ServerError> {
    #[derive(serde::Deserialize)]
    struct PersistedQuery {
        version: i32,
        #[serde(rename = "sha256Hash")]
        sha256_hash: String,
    }
    let query: PersistedQuery = async_graphql::from_value(value).map_err(|_| {
        ServerError::new("Invalid \"PersistedQuery\" extension configuration.", None)
    })?;
    if query.version != 1 {
        return Err(ServerError::new(
            format!(
                "Only the \"PersistedQuery\" extension of version \"1\" is supported, and the current version is \"{}\".",
                query.version
            ),
            None,
        ));
    }
    Ok(query.sha256_hash)
}
