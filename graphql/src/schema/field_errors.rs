//! Field errors the way the GraphQL specification has them: a nullable field whose
//! resolver fails is `null` in `data`, with the error (its `path` naming the field) in
//! `errors`, and its siblings keep their values.
//!
//! async-graphql 7 instead leaves a failed field out of `data` altogether, and answers
//! `"data": null` when no field of the selection succeeded: `{ event(id: "999999999")
//! { id } }` would say `{"data": null, ...}`, which a client cannot tell from a request
//! that never ran. [`NullableFieldErrors`] is an extension that, for a field whose type
//! is nullable, turns the resolver's error into `null` and keeps the error (path and
//! location as async-graphql set them) to add to the response's `errors` when the
//! operation finishes. An error in a non-null field is left to async-graphql as before.

use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, ResolveInfo,
};
use async_graphql::{Response, ServerError, ServerResult, Value};

/// The extension's factory: add it to the schema once; each operation gets its own
/// collector.
pub struct NullableFieldErrors;

impl ExtensionFactory for NullableFieldErrors {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Collector::default())
    }
}

/// The errors of nullable fields of one operation, kept until it finishes.
#[derive(Default)]
struct Collector {
    errors: Mutex<Vec<ServerError>>,
}

/// Whether a field of this type (as async-graphql spells it: `Event`, `[SearchHit!]!`)
/// may be null.
fn is_nullable(return_type: &str) -> bool {
    !return_type.ends_with('!')
}

#[async_trait::async_trait]
impl Extension for Collector {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let kept = std::mem::take(&mut *self.errors.lock().unwrap_or_else(PoisonError::into_inner));
        response.errors.extend(kept);
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let nullable = is_nullable(info.return_type);
        match next.run(ctx, info).await {
            Err(error) if nullable => {
                self.errors
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(error);
                Ok(Some(Value::Null))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_nullable;

    #[test]
    fn nullability_is_read_from_the_type() {
        for nullable in ["Event", "[SearchHit!]", "[Int]"] {
            assert!(is_nullable(nullable), "{nullable}");
        }
        for non_null in ["Event!", "[SearchHit!]!", "ID!"] {
            assert!(!is_nullable(non_null), "{non_null}");
        }
    }
}
