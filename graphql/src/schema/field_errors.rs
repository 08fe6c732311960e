//! Field errors the way the GraphQL specification has them: a nullable field whose
//! resolver fails is `null` in `data`, with the error (its `path` naming the field) in
//! `errors`, and its siblings keep their values.
//!
//! async-graphql 7 instead leaves a failed field out of `data` altogether, and answers
//! `"data": null` when no field of the selection succeeded: `{ event(id: "999999999")
//! { id } }` would say `{"data": null, ...}`, which a client cannot tell from a request
//! that never ran. Every nullable field of this schema that can fail (`event`, `venue`,
//! `performer`, `booking`: a test lists the schema's nullable fields) resolves through
//! [`nullable`], which reports the error with the field's path and location and answers
//! `null`. This is done in the resolvers rather than in an extension's `resolve` hook:
//! any extension with that hook puts every field of every response (each of the 100 000
//! fields of a big seat map) through async-graphql's slower, boxed, per-field path.

use async_graphql::Context;

/// The value of a nullable field: `Some` on success; on failure the error is recorded
/// (with this field's path and location) and the field is `null`.
pub fn nullable<T>(ctx: &Context<'_>, result: Result<T, domain::Error>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(error) => {
            let error = crate::error::to_graphql(&error).into_server_error(ctx.item.pos);
            ctx.add_error(ctx.set_error_path(error));
            None
        }
    }
}
