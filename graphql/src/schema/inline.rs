//! [`Inline`]: an object type resolved field after field inside its parent's task.
//!
//! async-graphql resolves an object by boxing one future per selected field and running
//! them all through a `FuturesUnordered` (an allocation and a reference-counted task per
//! field), then hashing each answer into the object. For an object whose fields are
//! plain reads of data already fetched (an event's name, a performer's genre), that
//! machinery is most of the cost of the whole request. `Inline<T>` is the same GraphQL
//! type as `T` (its name, fields and descriptions are `T`'s, so the schema does not
//! change) but resolves the selection in order, calling `T`'s own generated field
//! resolvers one after another with no future boxed per field: the same values, the
//! same errors with the same paths, `__typename`, aliases, fragments and merged
//! selections, as async-graphql's executor gives them.
//!
//! The price is concurrency between sibling fields: a field that waits on I/O delays
//! the next. Use it for types whose nested data the parent fetched ahead (see
//! [`super::loaders`]); not for a type whose sibling fields each make a slow call.
//!
//! When the request asks for it ([`RawJson`] with `objects`, which the engine sets for
//! the documents where no two fields share a response key, so nothing needs merging)
//! and the type implements [`Render`], the object is written straight to JSON text, a
//! `Value::Binary` that [`crate::json`] copies in place: the plain fields (a string, a
//! number, an id, a list of tags) each by the type's own writer, the others (nested
//! objects, lists, anything that can fail) by their resolvers as above and then
//! written. The same fields, in the same order, with the same errors; only the value
//! tree in between is gone (for an event, a map of a dozen keys hashed one by one and
//! a `Value` with its own copy of every string).

use std::borrow::Cow;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    Field, FragmentDefinition, FragmentSpread, Selection, SelectionSet,
};
use async_graphql::registry::Registry;
use async_graphql::{
    ContainerType, ContextSelectionSet, Name, OutputType, Positioned, ServerError, ServerResult,
    Value,
};

use super::types::RawJson;
use crate::json;

/// A type whose plain fields [`Inline`] can write straight to JSON (see the module
/// documentation). Every field the type does not write here resolves through its
/// generated resolver, so writing none is always correct, only slower.
pub trait Render {
    /// Whether objects of this type are written as JSON text when the request allows
    /// (`false`: always a value tree).
    const RENDERS: bool = false;

    /// Writes the JSON value of the field `name` (a field with no arguments and no
    /// selection, that cannot fail) and answers `true`; `false`, writing nothing, for
    /// any other field. What it writes must be, byte for byte, what the field's
    /// resolver gives written by [`crate::json`] (`tests/render.rs` checks each).
    fn render_field(&self, _name: &str, _out: &mut Vec<u8>) -> bool {
        false
    }
}

/// Whether this request's objects may be written as JSON text.
fn renders<T: Render>(ctx: &ContextSelectionSet<'_>) -> bool {
    T::RENDERS && ctx.data_opt::<RawJson>().is_some_and(|raw| raw.objects)
}

/// `T`, resolved field by field in the parent's task (see the module documentation).
pub struct Inline<T>(pub T);

impl<T> From<T> for Inline<T> {
    fn from(value: T) -> Self {
        Inline(value)
    }
}

impl<T: ContainerType + Render + Send + Sync> OutputType for Inline<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let type_name = self.0.introspection_type_name();
        let mut fields = Vec::with_capacity(16);
        selected(ctx, &ctx.item.node, &type_name, &mut fields, 0)?;
        if renders::<T>(ctx) {
            let mut out = Vec::with_capacity(64 + 48 * fields.len());
            render_object(&self.0, ctx, &fields, &type_name, &mut out).await;
            return Ok(Value::Binary(out.into()));
        }
        Ok(resolve_object(&self.0, ctx, &fields, &type_name).await)
    }
}

/// As [`resolve_object`], written as JSON text to `out` (`null` when every field failed,
/// as the value tree is then `Value::Null`).
async fn render_object<T: ContainerType + Render>(
    value: &T,
    ctx: &ContextSelectionSet<'_>,
    fields: &[&Positioned<Field>],
    type_name: &str,
    out: &mut Vec<u8>,
) {
    let start = out.len();
    for &field in fields {
        let mark = out.len();
        out.push(if mark == start { b'{' } else { b',' });
        json::write_str(out, field.node.response_key().node.as_str());
        out.push(b':');
        let name = field.node.name.node.as_str();
        if name == "__typename" {
            json::write_str(out, type_name);
            continue;
        }
        if field.node.selection_set.node.items.is_empty() && value.render_field(name, out) {
            continue;
        }
        let ctx_field = ctx.with_field(field);
        let written = match value.resolve_field(&ctx_field).await {
            Ok(found) => json::write_value(out, &found.unwrap_or_default()).map_err(|e| {
                ctx_field.set_error_path(ServerError::new(e.to_string(), Some(field.pos)))
            }),
            Err(error) => Err(error),
        };
        if let Err(error) = written {
            // The field is left out, as the executor leaves a failed field out.
            out.truncate(mark);
            ctx.add_error(error);
        }
    }
    if out.len() == start {
        out.extend_from_slice(b"null");
    } else {
        out.push(b'}');
    }
}

/// `value`'s `fields` (already expanded by [`selected`]) as an object, in order, as
/// async-graphql's executor gives it: a failed field is reported and left out.
async fn resolve_object<T: ContainerType>(
    value: &T,
    ctx: &ContextSelectionSet<'_>,
    fields: &[&Positioned<Field>],
    type_name: &str,
) -> Value {
    let mut object = IndexMap::with_capacity(fields.len());
    for &field in fields {
        let key = field.node.response_key().node.clone();
        if field.node.name.node == "__typename" {
            insert(&mut object, key, Value::String(type_name.to_owned()));
            continue;
        }
        let ctx_field = ctx.with_field(field);
        match value.resolve_field(&ctx_field).await {
            Ok(found) => insert(&mut object, key, found.unwrap_or_default()),
            Err(error) => ctx.add_error(error),
        }
    }
    if object.is_empty() {
        Value::Null
    } else {
        Value::Object(object)
    }
}

/// A list of objects, `[T!]!` in the schema, each resolved as [`Inline`] does, one
/// after another in the parent's task. As `Vec<T>` async-graphql builds one future
/// per item and joins them with `try_join_all`, and each item walks the selection's
/// fragments again; here the selection is expanded once for the whole list, and each
/// item's path ends in its index, as the executor's does.
/// The items are borrowed when the parent already holds them (an event's fetched
/// availability) and owned when the resolver fetched them itself.
pub struct InlineList<'a, T: Clone>(pub Cow<'a, [T]>);

impl<T: ContainerType + Render + Clone + Send + Sync> OutputType for InlineList<'_, T> {
    fn type_name() -> Cow<'static, str> {
        <Vec<T> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<T> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<T> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let type_name = T::type_name();
        let mut fields = Vec::with_capacity(16);
        selected(ctx, &ctx.item.node, &type_name, &mut fields, 0)?;
        if renders::<T>(ctx) {
            let mut out = Vec::with_capacity(2 + self.0.len() * (16 + 32 * fields.len()));
            out.push(b'[');
            for (index, item) in self.0.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                let ctx_item = ctx.with_index(index);
                render_object(item, &ctx_item, &fields, &type_name, &mut out).await;
            }
            out.push(b']');
            return Ok(Value::Binary(out.into()));
        }
        let mut items = Vec::with_capacity(self.0.len());
        for (index, item) in self.0.iter().enumerate() {
            let ctx_item = ctx.with_index(index);
            items.push(resolve_object(item, &ctx_item, &fields, &type_name).await);
        }
        Ok(Value::List(items))
    }
}

/// The fields `set` selects on an object named `type_name`, in order, fragments
/// expanded. This schema has no interfaces or unions, so a fragment applies when it has
/// no type condition or names the type itself (validation refuses any other).
fn selected<'a>(
    ctx: &ContextSelectionSet<'a>,
    set: &'a SelectionSet,
    type_name: &str,
    out: &mut Vec<&'a Positioned<Field>>,
    depth: usize,
) -> ServerResult<()> {
    // Fragment cycles are refused by validation; this bound is a second guard.
    if depth > 32 {
        return Err(ServerError::new("selection nested too deep", None));
    }
    for selection in &set.items {
        let (condition, inner) = match &selection.node {
            Selection::Field(field) => {
                out.push(field);
                continue;
            }
            Selection::FragmentSpread(spread) => {
                let fragment = fragment(ctx, spread)?;
                (
                    Some(&fragment.type_condition.node.on.node),
                    &fragment.selection_set.node,
                )
            }
            Selection::InlineFragment(inline) => (
                inline.node.type_condition.as_ref().map(|c| &c.node.on.node),
                &inline.node.selection_set.node,
            ),
        };
        if condition.is_none_or(|on| on.as_str() == type_name) {
            selected(ctx, inner, type_name, out, depth + 1)?;
        }
    }
    Ok(())
}

/// The definition a fragment spread names, from this request's document; an unknown
/// name (which validation refuses, so only a second guard) is the spec's error.
pub(super) fn fragment<'a>(
    ctx: &ContextSelectionSet<'a>,
    spread: &Positioned<FragmentSpread>,
) -> ServerResult<&'a FragmentDefinition> {
    let name = &spread.node.fragment_name.node;
    ctx.query_env
        .fragments
        .get(name)
        .map(|fragment| &fragment.node)
        .ok_or_else(|| ServerError::new(format!(r#"Unknown fragment "{name}"."#), Some(spread.pos)))
}

/// Adds `value` under `key`, merging it into an object already there (the same field
/// selected twice with different sub-selections), as async-graphql's executor does.
fn insert(object: &mut IndexMap<Name, Value>, key: Name, value: Value) {
    // One hash of the key per field: `entry` finds the slot and fills it.
    let previous = match object.entry(key) {
        async_graphql::indexmap::map::Entry::Vacant(slot) => {
            slot.insert(value);
            return;
        }
        async_graphql::indexmap::map::Entry::Occupied(slot) => slot.into_mut(),
    };
    match (previous, value) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                insert(into, key, value);
            }
        }
        (Value::List(into), Value::List(from)) => {
            for (into, from) in into.iter_mut().zip(from) {
                if let (Value::Object(into), Value::Object(from)) = (into, from) {
                    for (key, value) in from {
                        insert(into, key, value);
                    }
                }
            }
        }
        _ => {}
    }
}
