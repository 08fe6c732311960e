//! The schema: Query and Mutation roots, object and input types, DataLoaders, and the
//! limits async-graphql leaves unlimited by default.

pub mod inputs;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod types;

use std::sync::Arc;

use async_graphql::extensions::apollo_persisted_queries::{
    ApolloPersistedQueries, LruCacheStorage,
};
use async_graphql::{EmptySubscription, Schema};
use domain::Service;

use loaders::LoaderCalls;
pub use mutation::Mutation;
pub use query::Query;

/// The Quartet GraphQL schema.
pub type QuartetSchema = Schema<Query, Mutation, EmptySubscription>;

/// Knobs of the schema and its HTTP endpoint. `Default` is the design's limits.
#[derive(Debug, Clone)]
pub struct SchemaOptions {
    /// Deepest selection allowed.
    pub max_depth: usize,
    /// Largest complexity score allowed (each field 1; list fields multiply by `first`,
    /// the seat map costs 50).
    pub max_complexity: usize,
    /// Most directives on one field.
    pub max_directives: usize,
    /// Deepest nesting of the query document itself (fragments, input values).
    pub max_recursion: usize,
    /// Longest query document, in bytes.
    pub max_query_bytes: usize,
    /// Most operations in one batched request.
    pub max_batch: usize,
    /// Whether introspection (`__schema`, `__type`) is served.
    pub introspection: bool,
    /// Persisted queries remembered for APQ.
    pub apq_cache: usize,
    /// How long a DataLoader waits after the first key before fetching the batch: every
    /// key that arrives within it joins one lookup. Each nested level that uses a loader
    /// pays it once per request, so it is a latency / batching trade-off.
    pub loader_delay: std::time::Duration,
}

impl SchemaOptions {
    /// The options the shared limits describe.
    pub fn from_limits(limits: &domain::Limits) -> Self {
        SchemaOptions {
            max_depth: limits.graphql_max_depth,
            max_complexity: limits.graphql_max_complexity,
            ..SchemaOptions::default()
        }
    }
}

impl Default for SchemaOptions {
    fn default() -> Self {
        let limits = domain::Limits::default();
        SchemaOptions {
            max_depth: limits.graphql_max_depth,
            max_complexity: limits.graphql_max_complexity,
            max_directives: 8,
            max_recursion: 32,
            max_query_bytes: 32 * 1024,
            max_batch: 10,
            introspection: true,
            apq_cache: 1_024,
            // async-graphql's own default.
            loader_delay: std::time::Duration::from_millis(1),
        }
    }
}

/// The schema over `service`, with every limit set. `calls` counts DataLoader batches.
pub fn schema(service: Service, options: &SchemaOptions, calls: Arc<LoaderCalls>) -> QuartetSchema {
    let mut builder = Schema::build(Query, Mutation, EmptySubscription)
        .data(service)
        .data(calls)
        .limit_depth(options.max_depth)
        .limit_complexity(options.max_complexity)
        .limit_directives(options.max_directives)
        .limit_recursive_depth(options.max_recursion)
        .extension(ApolloPersistedQueries::new(LruCacheStorage::new(
            options.apq_cache.max(1),
        )));
    if !options.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}
