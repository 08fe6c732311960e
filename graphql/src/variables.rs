//! Variable coercion, checked before execution on every request (cached document or
//! not): each variable of the operation is checked against the type its definition
//! declares, as the GraphQL specification's CoerceVariableValues asks. A required
//! variable that is missing or null, a value of the wrong type, an unknown enum value,
//! an unknown or missing field of an input object: each is a request error (no `data`),
//! never a value that reaches a resolver.
//!
//! async-graphql's strict validation checks variable values only where they are used as
//! arguments (its `ArgumentsOfCorrectType` rule), and its fast mode, which cached
//! documents run with, not at all; this check is at least as strict as that rule, so a
//! cached document and a new one refuse the same variables in the same way. The input
//! types are read from the schema's own registry (the types the derive macros
//! describe), with async-graphql's rules for what each accepts.

use std::collections::HashSet;

use async_graphql::parser::types::{BaseType, DocumentOperations, ExecutableDocument, Type};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{OutputType, Pos, ServerError, Value, Variables};

use crate::schema::{Mutation, Query};

/// The schema's input types, to check variables against.
pub struct VariableTypes {
    registry: Registry,
}

impl Default for VariableTypes {
    fn default() -> Self {
        Self::new()
    }
}

impl VariableTypes {
    /// The input types of this crate's schema.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        <Query as OutputType>::create_type_info(&mut registry);
        <Mutation as OutputType>::create_type_info(&mut registry);
        VariableTypes { registry }
    }

    /// The registry the input types are read from (this crate's Query and Mutation).
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Checks `variables` against the variable definitions of the operation that
    /// `operation_name` selects in `document`. An operation that cannot be selected is
    /// left for execution to report.
    ///
    /// # Errors
    /// The first variable that is missing, null where required, or not of its type.
    pub fn check(
        &self,
        document: &ExecutableDocument,
        operation_name: Option<&str>,
        variables: &Variables,
    ) -> Result<(), ServerError> {
        let operation = match (&document.operations, operation_name) {
            (DocumentOperations::Single(op), _) => op,
            (DocumentOperations::Multiple(ops), Some(name)) => match ops.get(name) {
                Some(op) => op,
                None => return Ok(()),
            },
            (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
                match ops.values().next() {
                    Some(op) => op,
                    None => return Ok(()),
                }
            }
            (DocumentOperations::Multiple(_), None) => return Ok(()),
        };
        for definition in &operation.node.variable_definitions {
            let name = definition.node.name.node.as_str();
            let ty = &definition.node.var_type.node;
            let pos = definition.pos;
            match variables.get(name) {
                None if definition.node.default_value.is_none() && !ty.nullable => {
                    return Err(error(
                        pos,
                        format!(r#"Variable "${name}" of required type "{ty}" was not provided."#),
                    ));
                }
                None => {}
                Some(value) => {
                    if let Some(reason) = self.invalid(ty, value) {
                        return Err(error(
                            pos,
                            format!(r#"Variable "${name}" got an invalid value: {reason}"#),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Why `value` is not a `ty`, if it is not.
    fn invalid(&self, ty: &Type, value: &Value) -> Option<String> {
        if matches!(value, Value::Null) {
            return (!ty.nullable).then(|| format!(r#"expected type "{ty}", found null"#));
        }
        match &ty.base {
            BaseType::List(item) => match value {
                Value::List(items) => items.iter().find_map(|v| self.invalid(item, v)),
                // A single value stands for a list of one.
                other => self.invalid(item, other),
            },
            BaseType::Named(name) => self.invalid_named(name.as_str(), value),
        }
    }

    /// The same for a registry type name (`ID!`, `[Int!]`, `EventFilter`).
    fn invalid_type_name(&self, type_name: &str, value: &Value) -> Option<String> {
        match MetaTypeName::create(type_name) {
            MetaTypeName::NonNull(inner) => match value {
                Value::Null => Some(format!(r#"expected type "{type_name}", found null"#)),
                _ => self.invalid_type_name(inner, value),
            },
            MetaTypeName::List(inner) => match value {
                Value::Null => None,
                Value::List(items) => items.iter().find_map(|v| self.invalid_type_name(inner, v)),
                other => self.invalid_type_name(inner, other),
            },
            MetaTypeName::Named(name) => self.invalid_named(name, value),
        }
    }

    fn invalid_named(&self, name: &str, value: &Value) -> Option<String> {
        if matches!(value, Value::Null) {
            return None;
        }
        let Some(meta) = self.registry.types.get(name) else {
            return Some(format!(r#"unknown type "{name}""#));
        };
        match meta {
            MetaType::Scalar {
                is_valid: Some(is_valid),
                ..
            } => (!is_valid(value)).then(|| format!(r#"expected type "{name}""#)),
            MetaType::Scalar { is_valid: None, .. } => None,
            MetaType::Enum { enum_values, .. } => match value {
                Value::Enum(v) if enum_values.contains_key(v.as_str()) => None,
                Value::String(v) if enum_values.contains_key(v.as_str()) => None,
                Value::Enum(_) | Value::String(_) => Some(format!(
                    r#"enumeration type "{name}" does not contain the value {value}"#
                )),
                _ => Some(format!(r#"expected type "{name}""#)),
            },
            MetaType::InputObject {
                input_fields,
                oneof,
                ..
            } => {
                let Value::Object(fields) = value else {
                    return Some(format!(r#"expected type "{name}""#));
                };
                if *oneof && (fields.len() != 1 || fields.values().any(|v| *v == Value::Null)) {
                    return Some(format!(r#""{name}" takes exactly one non-null field"#));
                }
                let mut unknown: HashSet<&str> =
                    fields.keys().map(async_graphql::Name::as_str).collect();
                for field in input_fields.values() {
                    unknown.remove(field.name.as_str());
                    match fields.get(field.name.as_str()) {
                        Some(v) => {
                            if let Some(reason) = self.invalid_type_name(&field.ty, v) {
                                return Some(format!("{}.{}: {reason}", name, field.name));
                            }
                        }
                        None if MetaTypeName::create(&field.ty).is_non_null()
                            && field.default_value.is_none() =>
                        {
                            return Some(format!(
                                r#"field "{}" of type "{}" is required but not provided"#,
                                field.name, field.ty
                            ));
                        }
                        None => {}
                    }
                }
                unknown
                    .into_iter()
                    .next()
                    .map(|field| format!(r#"unknown field "{field}" of type "{name}""#))
            }
            _ => Some(format!(r#""{name}" is not an input type"#)),
        }
    }
}

fn error(pos: Pos, message: String) -> ServerError {
    ServerError::new(message, Some(pos))
}
