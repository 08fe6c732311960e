//! HTTP for the router targets: fuzzer input is read as an HTTP/1.1 request (request
//! line, headers, blank line, body), parsed by httparse as hyper parses it, so the
//! router sees exactly the requests a real server would hand it, seeds are readable
//! text files, and libFuzzer's dictionary mutations land in meaningful places. Input
//! that hyper would refuse before routing is skipped: it never reaches our code.
//!
//! [`call`] sends one request through a router with `tower::ServiceExt::oneshot` and
//! [`check_answer`] asserts what every answer must satisfy.

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Limited};
use tower::ServiceExt;

/// Headers a request may have; hyper's default is 100, fewer keeps inputs small.
const MAX_HEADERS: usize = 32;

/// The most an answer body may hold: the default response limit of every Quartet server
/// (netkit's `MAX_RESPONSE_BYTES`, 16 MiB). The fuzzing dataset's largest answer is far
/// below it, so reaching it means an answer grew without bound.
pub const MAX_ANSWER_BYTES: usize = 16 << 20;

/// Reads `data` as an HTTP/1.1 request, or `None` if hyper would refuse it.
pub fn parse_request(data: &[u8]) -> Option<Request<Body>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(head_len) = parsed.parse(data).ok()? else {
        return None;
    };
    let method = Method::from_bytes(parsed.method?.as_bytes()).ok()?;
    let uri: Uri = parsed.path?.parse().ok()?;
    let mut builder = Request::builder().method(method).uri(uri);
    for header in parsed.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes()).ok()?;
        let value = HeaderValue::from_bytes(header.value).ok()?;
        builder = builder.header(name, value);
    }
    let body = Bytes::copy_from_slice(&data[head_len..]);
    builder.body(Body::from(body)).ok()
}

/// What came back: status, headers and the whole body.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, at most [`MAX_ANSWER_BYTES`].
    pub body: Bytes,
}

/// Sends `request` through `router` and reads the answer.
///
/// # Panics
/// If the router fails (its error type is `Infallible`) or the body is larger than
/// [`MAX_ANSWER_BYTES`] or cannot be read: each is a finding.
pub async fn call(router: Router, request: Request<Body>) -> Answer {
    let response = match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let body = match Limited::new(body, MAX_ANSWER_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => panic!("answer body unreadable or over {MAX_ANSWER_BYTES} bytes: {e}"),
    };
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// Checks every answer must pass: not a server error (the in-memory service never fails,
/// and a caught handler panic is a 500), and an uncompressed JSON body is valid JSON.
///
/// # Panics
/// When a check fails: that is the finding.
pub fn check_answer(method: &Method, answer: &Answer) {
    assert!(
        !answer.status.is_server_error(),
        "{method} answered {}: {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    );
    let is_json = answer
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let compressed = answer.headers.contains_key(CONTENT_ENCODING);
    if is_json
        && !compressed
        && !answer.body.is_empty()
        && let Err(e) = serde_json::from_slice::<serde_json::Value>(&answer.body)
    {
        panic!("{} answer with an invalid JSON body: {e}", answer.status);
    }
}
