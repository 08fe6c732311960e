//! The schema: Query, Mutation and Subscription roots (live availability in
//! [`subscription`], its types in [`availability`]), object and input types, batched nested fetches, the
//! limits async-graphql leaves unlimited by default (their values are in [`Config`]),
//! and [`field_errors`], which makes a failed nullable field `null` plus an error.
//! Resolvers reach the served `Ticketing` through the schema data, as a
//! `SharedTicketing` ([`api`]).

pub mod availability;
pub mod field_errors;
pub mod inline;
pub mod inputs;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionFactory};
use async_graphql::{Context, Schema, ValidationMode};
use domain::SharedTicketing;

use crate::config::Config;
use loaders::LoaderCalls;
pub use mutation::Mutation;
pub use query::Query;
pub use subscription::Subscription;

/// The Quartet GraphQL schema.
pub type QuartetSchema = Schema<Query, Mutation, Subscription>;

/// The schema over `api`, with every limit of `config` set, validating every rule.
/// `calls` counts the nested-field batches.
pub fn schema(api: SharedTicketing, config: &Config, calls: Arc<LoaderCalls>) -> QuartetSchema {
    build(api, config, calls, ValidationMode::Strict)
}

/// The same schema with `mode`: [`ValidationMode::Fast`] checks only fragment cycles
/// and the depth and complexity limits (with the request's variables), for documents
/// that already passed every rule (see [`crate::prepared`]).
pub fn build(
    api: SharedTicketing,
    config: &Config,
    calls: Arc<LoaderCalls>,
    mode: ValidationMode,
) -> QuartetSchema {
    build_with(api, config, calls, mode, None)
}

/// As [`build`], with `extension` (if any) on the schema. Any extension sends every
/// field resolved by async-graphql's container and list resolvers through its slower
/// per-field path, so [`crate::prepared`] gives one only to the schemas that need it.
pub fn build_with(
    api: SharedTicketing,
    config: &Config,
    calls: Arc<LoaderCalls>,
    mode: ValidationMode,
    extension: Option<Arc<dyn ExtensionFactory>>,
) -> QuartetSchema {
    let mut builder = Schema::build(Query, Mutation, Subscription)
        .validation_mode(mode)
        .data(api)
        .data(calls)
        .limit_depth(config.max_depth)
        .limit_complexity(config.max_complexity)
        .limit_directives(config.max_directives)
        .limit_recursive_depth(config.max_recursion);
    if !config.introspection {
        builder = builder.disable_introspection();
    }
    if let Some(extension) = extension {
        builder = builder.extension(ArcFactory(extension));
    }
    builder.finish()
}

/// The `Ticketing` the schema serves, from a resolver's context.
///
/// # Errors
/// Only if the schema was built without one (a bug: [`schema`] always adds it).
pub fn api<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a SharedTicketing> {
    ctx.data::<SharedTicketing>()
}

/// The batch counters, from a resolver's context.
///
/// # Errors
/// Only if the schema was built without them (a bug: [`schema`] always adds them).
pub fn calls<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a LoaderCalls> {
    ctx.data::<Arc<LoaderCalls>>().map(AsRef::as_ref)
}

/// A shared extension factory as the `ExtensionFactory` the builder takes by value.
struct ArcFactory(Arc<dyn ExtensionFactory>);

impl ExtensionFactory for ArcFactory {
    fn create(&self) -> Arc<dyn Extension> {
        self.0.create()
    }
}
