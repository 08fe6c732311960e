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

use std::borrow::Cow;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{
    ContainerType, ContextSelectionSet, Name, OutputType, Positioned, ServerError, ServerResult,
    Value,
};

/// `T`, resolved field by field in the parent's task (see the module documentation).
pub struct Inline<T>(pub T);

impl<T> From<T> for Inline<T> {
    fn from(value: T) -> Self {
        Inline(value)
    }
}

impl<T: ContainerType + Send + Sync> OutputType for Inline<T> {
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
        let mut fields = Vec::new();
        selected(ctx, &ctx.item.node, &type_name, &mut fields, 0)?;
        Ok(resolve_object(&self.0, ctx, &fields, &type_name).await)
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

impl<T: ContainerType + Clone + Send + Sync> OutputType for InlineList<'_, T> {
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
        let mut fields = Vec::new();
        selected(ctx, &ctx.item.node, &type_name, &mut fields, 0)?;
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
                let name = &spread.node.fragment_name.node;
                let Some(fragment) = ctx.query_env.fragments.get(name) else {
                    return Err(ServerError::new(
                        format!(r#"Unknown fragment "{name}"."#),
                        Some(spread.pos),
                    ));
                };
                (
                    Some(&fragment.node.type_condition.node.on.node),
                    &fragment.node.selection_set.node,
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
