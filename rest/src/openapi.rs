//! The OpenAPI 3.1 document, generated from the handlers' annotations and the JSON
//! model, served at `/openapi.json`, with Swagger UI at `/docs` (assets vendored into
//! the binary: nothing is fetched at build or run time).
//!
//! The document declares what the server enforces, so a generator of requests (such as
//! schemathesis) can tell valid input from invalid: lengths, patterns and formats of
//! every parameter and field the server checks, every status each route can answer, and
//! links from a new booking to the operations that follow it. [`Exact`] finishes what the
//! derive macros cannot say: unsigned integers keep their whole range (`u64` ids up to
//! 18446744073709551615, not `int64`'s), and every operation declares the 500 and 503
//! that any request can meet.

use axum::Router;
use serde_json::Value;
use utoipa::openapi::schema::{KnownFormat, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{
    ContentBuilder, OpenApi as Document, Ref, RefOr, ResponseBuilder, Schema, schema,
};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{PROBLEM_JSON, Problem};
use crate::model;
use crate::routes::{availability, bookings, events, health, performers, venues};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Quartet REST API",
        description = "One ticketing domain: events, venues, performers, seat maps and \
            bookings. Every error is application/problem+json with a stable `code`.",
    ),
    paths(
        health::health,
        events::list, events::search, events::get, events::detail, events::seat_map,
        availability::stream,
        venues::get, performers::get,
        bookings::hold, bookings::get, bookings::confirm, bookings::cancel,
    ),
    components(schemas(
        Problem, model::Event, model::EventPage, model::SearchResults, model::SearchHit,
        model::EventDetail, model::Venue, model::Section, model::Row, model::Performer,
        model::SeatMap, model::Seat, model::SectionAvailability, model::Booking,
        model::Customer, model::HoldSeats, model::Category, model::EventStatus,
        model::SeatState, model::BookingStatus, model::Health,
        model::AvailabilityUpdate, model::UpdateKind, model::SectionCount, model::SeatChange,
    )),
    modifiers(&Exact),
    tags(
        (name = "events", description = "Browse and search events, and watch their availability live"),
        (name = "venues", description = "Venues and their seat layouts"),
        (name = "performers", description = "Performers"),
        (name = "bookings", description = "Hold, confirm and cancel seats"),
        (name = "health", description = "Liveness"),
    ),
)]
pub struct ApiDoc;

/// Post-processing of the generated document; see the module docs.
#[derive(Debug, Clone, Copy)]
pub struct Exact;

impl Modify for Exact {
    fn modify(&self, openapi: &mut Document) {
        if let Some(components) = openapi.components.as_mut() {
            for schema in components.schemas.values_mut() {
                widen_unsigned(schema);
            }
        }
        for (path, item) in &mut openapi.paths.paths {
            let bookings = path.starts_with("/v1/bookings");
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                for parameter in operation.parameters.iter_mut().flatten() {
                    if let Some(schema) = parameter.schema.as_mut() {
                        widen_unsigned(schema);
                        never_null(schema);
                    }
                }
                if let Some(body) = operation.request_body.as_mut() {
                    for content in body.content.values_mut() {
                        if let Some(schema) = content.schema.as_mut() {
                            widen_unsigned(schema);
                        }
                    }
                }
                let responses = &mut operation.responses.responses;
                // Any request may carry a bad token or run past its caller's rate limit
                // (servers started with --auth-key or rate limits); only bookings need a scope.
                let security: &[(&str, &str)] = if bookings {
                    &[
                        (
                            "401",
                            "UNAUTHENTICATED: no bearer token, or a malformed, expired, not yet valid or wrongly signed one (with `WWW-Authenticate: Bearer`)",
                        ),
                        (
                            "403",
                            "PERMISSION_DENIED: the token lacks the `book` scope or names another customer",
                        ),
                        (
                            "429",
                            "LIMIT_EXCEEDED: the caller's rate limit (with `Retry-After`)",
                        ),
                    ]
                } else {
                    &[
                        (
                            "401",
                            "UNAUTHENTICATED: a malformed, expired, not yet valid or wrongly signed bearer token (with `WWW-Authenticate: Bearer`)",
                        ),
                        (
                            "429",
                            "LIMIT_EXCEEDED: the caller's rate limit (with `Retry-After`)",
                        ),
                    ]
                };
                for &(status, description) in [
                    ("500", "Internal error (a bug; logged, never detailed)"),
                    ("503", "The request ran past the server's time limit"),
                ]
                .iter()
                .chain(security)
                {
                    responses
                        .entry(status.to_owned())
                        .or_insert_with(|| problem_response(description));
                }
            }
        }
    }
}

/// A response whose body is a [`Problem`].
fn problem_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

/// An optional parameter is absent or a value, never JSON `null`: utoipa types an
/// `Option<String>` header as `["string", "null"]`, which would invite a generator to send
/// the text `null`.
fn never_null(schema: &mut RefOr<Schema>) {
    if let RefOr::T(Schema::Object(object)) = schema
        && let SchemaType::Array(types) = &object.schema_type
        && types.contains(&Type::Null)
    {
        let mut rest: Vec<Type> = types
            .iter()
            .filter(|t| **t != Type::Null)
            .cloned()
            .collect();
        object.schema_type = if rest.len() == 1 {
            SchemaType::Type(rest.remove(0))
        } else {
            SchemaType::Array(rest)
        };
    }
}

/// utoipa writes `u64` as `int64` and `u32` as `int32` (with `minimum: 0`); the server
/// accepts their whole range, so say `uint64`/`uint32` and give the real maximum.
fn widen_unsigned(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(object) => {
            // utoipa writes the implicit minimum of an unsigned type as the float 0.
            let unsigned = match object.minimum {
                Some(utoipa::Number::UInt(n)) => n == 0,
                Some(utoipa::Number::Int(n)) => n == 0,
                Some(utoipa::Number::Float(n)) => n.to_bits() == 0.0f64.to_bits(),
                None => false,
            };
            match &object.format {
                Some(SchemaFormat::KnownFormat(KnownFormat::Int64)) if unsigned => {
                    object.format = Some(SchemaFormat::Custom("uint64".to_owned()));
                    object.maximum = Some(utoipa::Number::UInt(u64::MAX as usize));
                }
                Some(SchemaFormat::KnownFormat(KnownFormat::Int32)) if unsigned => {
                    object.format = Some(SchemaFormat::Custom("uint32".to_owned()));
                    object.maximum = Some(utoipa::Number::UInt(u32::MAX as usize));
                }
                _ => {}
            }
            for property in object.properties.values_mut() {
                widen_unsigned(property);
            }
            if let Some(additional) = object.additional_properties.as_deref_mut()
                && let schema::AdditionalProperties::RefOr(inner) = additional
            {
                widen_unsigned(inner);
            }
        }
        Schema::Array(array) => {
            if let schema::ArrayItems::RefOrSchema(items) = &mut array.items {
                widen_unsigned(items);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(widen_unsigned),
        Schema::AllOf(all_of) => all_of.items.iter_mut().for_each(widen_unsigned),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(widen_unsigned),
        _ => {}
    }
}

/// The document as served: [`ApiDoc`] as JSON, with its response links spelled as
/// OpenAPI spells them. (utoipa 5.5 serializes a link's `operationId`, `operationRef`
/// and `requestBody` in snake case, which no tool reads.)
pub fn document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|error| {
        // Serializing a tree of strings and maps cannot fail; if it ever did, serve a
        // document that says so rather than panic.
        serde_json::json!({"openapi": "3.1.0", "info": {"title": error.to_string(), "version": ""}, "paths": {}})
    });
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        let links = paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|item| item.values_mut())
            .filter_map(|operation| operation.get_mut("responses")?.as_object_mut())
            .flat_map(|responses| responses.values_mut())
            .filter_map(|response| response.get_mut("links")?.as_object_mut())
            .flat_map(|links| links.values_mut())
            .filter_map(Value::as_object_mut);
        for link in links {
            for (snake, camel) in [
                ("operation_id", "operationId"),
                ("operation_ref", "operationRef"),
                ("request_body", "requestBody"),
            ] {
                if let Some(value) = link.remove(snake) {
                    link.insert(camel.to_owned(), value);
                }
            }
        }
    }
    doc
}

/// `/openapi.json` (the [`document`]) and the Swagger UI at `/docs`.
pub fn router() -> Router {
    SwaggerUi::new("/docs")
        .external_url_unchecked("/openapi.json", document())
        .into()
}
