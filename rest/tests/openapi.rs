//! The OpenAPI document says what the server enforces, so a tool that generates requests
//! from it (schemathesis, see `scripts/schemathesis.sh`) can tell valid input from
//! invalid: the declared bounds, patterns, formats and statuses, the links from a new
//! booking, and, for every declared pattern, agreement with the server's own checks on a
//! corpus of awkward strings (whitespace and control characters from all over Unicode).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use domain::{Customer, EventFilter, Limits, validate};
use serde_json::{Value, json};

const U64_MAX: u64 = u64::MAX;

fn operation<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not documented");
    op
}

fn parameter<'a>(doc: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
    operation(doc, path, method)["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))
}

fn component<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "no schema {name}");
    schema
}

/// Whether `value` satisfies `schema` (a schema without references).
fn accepts(schema: &Value, value: &str) -> bool {
    jsonschema::draft202012::new(schema)
        .expect("a valid schema")
        .is_valid(&json!(value))
}

#[test]
fn query_parameters_declare_their_bounds() {
    let doc = common::openapi();
    for path in ["/v1/events", "/v1/events/search"] {
        let limit = &parameter(&doc, path, "get", "limit")["schema"];
        assert_eq!(limit["type"], "integer", "{path}");
        assert_eq!(limit["minimum"], 1, "{path}");
        assert_eq!(limit["maximum"], Limits::MAX_PAGE_SIZE, "{path}");
        let city = &parameter(&doc, path, "get", "city")["schema"];
        assert_eq!(
            (&city["minLength"], &city["maxLength"]),
            (&json!(1), &json!(validate::MAX_CITY_CHARS)),
            "{path}"
        );
        assert!(city["pattern"].is_string(), "{path}");
        for time in ["from", "to"] {
            let schema = &parameter(&doc, path, "get", time)["schema"];
            assert_eq!(schema["format"], "date-time", "{path} {time}");
        }
        assert_eq!(
            parameter(&doc, path, "get", "category")["schema"]["$ref"],
            "#/components/schemas/Category"
        );
    }
    let q = parameter(&doc, "/v1/events/search", "get", "q");
    assert_eq!(q["required"], true);
    assert_eq!(q["schema"]["minLength"], 1);
    assert_eq!(q["schema"]["maxLength"], Limits::MAX_QUERY_CHARS);
    assert!(
        q["description"]
            .as_str()
            .unwrap()
            .contains("searchable word"),
        "the rule a schema cannot state is stated in words"
    );
    let cursor = &parameter(&doc, "/v1/events", "get", "cursor");
    assert_eq!(cursor["schema"]["pattern"], "^[0-9a-f]{48}$");
    assert_eq!(
        (
            &cursor["schema"]["minLength"],
            &cursor["schema"]["maxLength"]
        ),
        (&json!(48), &json!(48))
    );
    assert!(
        cursor["description"]
            .as_str()
            .unwrap()
            .contains("bound to the filter")
    );
}

#[test]
fn the_hold_body_and_headers_declare_their_bounds() {
    let doc = common::openapi();
    let hold = component(&doc, "HoldSeats");
    assert_eq!(hold["additionalProperties"], false);
    let seats = &hold["properties"]["seat_ids"];
    assert_eq!(seats["minItems"], 1);
    assert_eq!(seats["maxItems"], Limits::MAX_SEATS_PER_HOLD);
    assert_eq!(seats["uniqueItems"], true);
    assert_eq!(seats["items"]["minimum"], 0);
    assert_eq!(seats["items"]["maximum"], u32::MAX);
    assert_eq!(hold["properties"]["event_id"]["maximum"], U64_MAX);

    let customer = component(&doc, "Customer");
    let name = &customer["properties"]["name"];
    assert_eq!(
        (&name["minLength"], &name["maxLength"]),
        (&json!(1), &json!(validate::MAX_NAME_CHARS))
    );
    let email = &customer["properties"]["email"];
    assert_eq!(email["maxLength"], validate::MAX_EMAIL_BYTES);
    assert!(email["pattern"].is_string());

    let key = parameter(&doc, "/v1/bookings", "post", "Idempotency-Key");
    assert_eq!(key["required"], false);
    assert_eq!(
        key["schema"]["type"], "string",
        "absent or a string, never null"
    );
    assert_eq!(
        (&key["schema"]["minLength"], &key["schema"]["maxLength"]),
        (&json!(1), &json!(validate::MAX_IDEMPOTENCY_KEY_BYTES))
    );

    let if_match = parameter(&doc, "/v1/bookings/{id}/confirm", "post", "If-Match");
    assert_eq!(if_match["required"], true);
    assert_eq!(
        if_match["schema"]["pattern"],
        rest::extract::IF_MATCH_PATTERN
    );
    assert!(accepts(&if_match["schema"], "*"));
    assert!(accepts(&if_match["schema"], "\"1\""));
    assert!(!accepts(&if_match["schema"], "W/\"1\""));
}

#[test]
fn path_ids_are_unsigned_64_bit() {
    let doc = common::openapi();
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path" {
                    seen += 1;
                    let schema = &p["schema"];
                    assert_eq!(schema["type"], "integer", "{method} {path}");
                    assert_eq!(schema["minimum"], 0, "{method} {path}");
                    assert_eq!(schema["maximum"], U64_MAX, "{method} {path}");
                    assert_eq!(schema["format"], "uint64", "{method} {path}");
                }
            }
        }
    }
    assert_eq!(seen, 9, "every {{id}} route");
}

#[test]
fn every_status_a_route_can_answer_is_declared() {
    let doc = common::openapi();
    let statuses = |path: &str, method: &str| -> BTreeSet<String> {
        operation(&doc, path, method)["responses"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    let set = |codes: &[&str]| {
        codes
            .iter()
            .map(|c| (*c).to_owned())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        statuses("/v1/bookings/{id}/confirm", "post"),
        set(&[
            "200", "400", "401", "403", "404", "409", "412", "428", "429", "500", "503"
        ])
    );
    assert_eq!(
        statuses("/v1/bookings", "post"),
        set(&[
            "201", "400", "401", "403", "404", "409", "413", "415", "429", "500", "503"
        ])
    );
    assert_eq!(
        statuses("/v1/events", "get"),
        // A bad token is refused even on a public read, and every caller has a rate.
        set(&["200", "400", "401", "429", "500", "503"])
    );
    // Every error answer is a problem.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                if !status.starts_with('2') {
                    assert_eq!(
                        response["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}

#[test]
fn operation_ids_are_unique() {
    let doc = common::openapi();
    let mut ids = BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap().to_owned();
            assert!(ids.insert(id.clone()), "operationId {id} twice");
        }
    }
    assert_eq!(ids.len(), 13);
}

/// The operation with `operation_id`, as (path, method, operation).
fn by_operation_id<'a>(doc: &'a Value, operation_id: &str) -> (&'a str, &'a Value) {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .values()
                .map(move |op| (path.as_str(), op))
        })
        .find(|(_, op)| op["operationId"] == operation_id)
        .unwrap_or_else(|| panic!("no operation {operation_id}"))
}

#[test]
fn a_new_booking_links_to_get_confirm_and_cancel() {
    let doc = common::openapi();
    let created = &operation(&doc, "/v1/bookings", "post")["responses"]["201"];
    assert!(created["headers"]["ETag"].is_object());
    let links = created["links"].as_object().unwrap();
    let mut targets = BTreeSet::new();
    for (name, link) in links {
        let target = link["operationId"].as_str().unwrap();
        assert!(
            link.get("operation_id").is_none(),
            "{name}: OpenAPI spells it operationId"
        );
        targets.insert(target.to_owned());
        let (path, op) = by_operation_id(&doc, target);
        assert_eq!(link["parameters"]["id"], "$response.body#/id", "{name}");
        // Every linked parameter is one the target takes.
        for parameter in link["parameters"].as_object().unwrap().keys() {
            assert!(
                op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["name"] == *parameter),
                "{name}: {path} takes no {parameter}"
            );
        }
    }
    assert_eq!(
        targets,
        ["cancelBooking", "confirmBooking", "getBooking"]
            .map(str::to_owned)
            .into()
    );
    assert_eq!(
        links["confirmBooking"]["parameters"]["If-Match"],
        "$response.header.ETag"
    );
    // The read and the confirm link onwards too, so a tool can walk the whole life.
    for path in ["/v1/bookings/{id}", "/v1/bookings/{id}/confirm"] {
        let method = if path.ends_with("confirm") {
            "post"
        } else {
            "get"
        };
        assert!(
            operation(&doc, path, method)["responses"]["200"]["links"]["cancelBooking"].is_object(),
            "{path}"
        );
    }
}

/// Characters that trip up shape checks: ASCII and C1 controls, every Unicode whitespace,
/// look-alikes that are not whitespace, and ordinary letters and punctuation.
fn awkward_chars() -> Vec<char> {
    let mut chars: Vec<char> = (0u32..=0xa0).filter_map(char::from_u32).collect();
    chars.extend([
        '\u{1680}', '\u{180e}', '\u{2000}', '\u{2005}', '\u{200a}', '\u{200b}', '\u{2028}',
        '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}', '\u{feff}', 'é', 'ß', 'Ж', '東', '😀',
    ]);
    chars
}

#[test]
fn the_name_pattern_is_the_servers_rule() {
    let doc = common::openapi();
    let schema = &component(&doc, "Customer")["properties"]["name"];
    let mut names: Vec<String> = vec![
        String::new(),
        "Ada".into(),
        " Ada ".into(),
        "a".repeat(validate::MAX_NAME_CHARS),
        "a".repeat(validate::MAX_NAME_CHARS + 1),
        "é".repeat(validate::MAX_NAME_CHARS),
        "Ada\n".into(),
    ];
    for c in awkward_chars() {
        names.push(c.to_string());
        names.push(format!("A{c}"));
        names.push(format!("{c}A{c}"));
        names.push(format!("{c}{c}"));
    }
    for name in names {
        let server = validate::customer(&Customer {
            name: name.clone(),
            email: "ada@example.org".into(),
        })
        .is_ok();
        assert_eq!(accepts(schema, &name), server, "name {name:?}");
    }
}

#[test]
fn the_email_pattern_is_the_servers_rule() {
    let doc = common::openapi();
    let schema = &component(&doc, "Customer")["properties"]["email"];
    let mut emails: Vec<String> = [
        "a@b.co",
        "first.last+tag@example.org",
        "",
        "a",
        "a@b",
        "@b.co",
        "a@@b.co",
        "a@b..co",
        "a b@c.de",
        "a@b.co.",
        "a@.b",
        ".a@b.c",
        "a.@b.c",
        "a@b.c.d.e",
        "é@ü.de",
        "a@b.c@d.e",
        "a@b.co\n",
    ]
    .map(str::to_owned)
    .into();
    // At the length limit (ASCII, where characters and bytes agree).
    let local = |n: usize| "a".repeat(n);
    emails.push(format!("{}@b.co", local(validate::MAX_EMAIL_BYTES - 5)));
    emails.push(format!("{}@b.co", local(validate::MAX_EMAIL_BYTES - 4)));
    for c in awkward_chars() {
        emails.push(format!("a{c}@b.co"));
        emails.push(format!("a@b{c}.co"));
        emails.push(format!("a@b.co{c}"));
        emails.push(format!("{c}a@b.co"));
    }
    for email in emails {
        let server = validate::customer(&Customer {
            name: "Ada".into(),
            email: email.clone(),
        })
        .is_ok();
        assert_eq!(accepts(schema, &email), server, "email {email:?}");
    }
}

#[test]
fn the_city_query_and_key_patterns_are_the_servers_rules() {
    let doc = common::openapi();
    let city = &parameter(&doc, "/v1/events", "get", "city")["schema"];
    let q = &parameter(&doc, "/v1/events/search", "get", "q")["schema"];
    let key = &parameter(&doc, "/v1/bookings", "post", "Idempotency-Key")["schema"];
    let mut samples: Vec<String> = vec![
        String::new(),
        "Berlin".into(),
        " Berlin ".into(),
        "x".repeat(100),
        "x".repeat(101),
        "x".repeat(200),
        "x".repeat(201),
        "k".repeat(64),
        "k".repeat(65),
    ];
    for c in awkward_chars() {
        samples.push(c.to_string());
        samples.push(format!("{c}{c}"));
        samples.push(format!("k{c}"));
    }
    let limits = Limits::default();
    for s in samples {
        let filter = EventFilter {
            city: Some(s.clone()),
            ..EventFilter::default()
        };
        assert_eq!(
            accepts(city, &s),
            validate::filter(&filter).is_ok(),
            "city {s:?}"
        );
        // Length and blankness; searchable words are the index's rule, stated in words.
        assert_eq!(
            accepts(q, &s),
            validate::query(&s, &limits).is_ok(),
            "q {s:?}"
        );
        assert_eq!(
            accepts(key, &s),
            validate::idempotency_key(&s).is_ok(),
            "key {s:?}"
        );
    }
}

#[test]
fn the_cursor_pattern_is_the_servers_shape() {
    let doc = common::openapi();
    let cursor = &parameter(&doc, "/v1/events", "get", "cursor")["schema"];
    let hex = "0123456789abcdef".repeat(3);
    for s in [
        hex.clone(),
        hex.to_uppercase(),
        hex[1..].to_owned(),
        format!("{hex}0"),
        hex.replace('a', "g"),
        String::new(),
        format!("{}\n", &hex),
    ] {
        assert_eq!(
            accepts(cursor, &s),
            domain::catalog::Cursor::is_well_formed(&s),
            "cursor {s:?}"
        );
    }
}
