//! GraphiQL, served entirely from the binary: `GET /graphql` answers the page, and
//! `GET /graphql/assets/...` the files it loads, so the IDE works on a machine without
//! internet access.
//!
//! The files live in `assets/graphiql/` and are compiled in with `include_bytes!`:
//! pinned copies of GraphiQL 3.9.0 (its single UMD bundle and stylesheet) and of React
//! and ReactDOM 18.3.1 (their UMD production builds), each with its licence, plus this
//! crate's own page and start-up script. `assets/graphiql/README.md` says where each
//! vendored file came from and its SHA-256. The vendored files' paths carry their
//! version, so they are cached for a year as immutable; the page and the start-up
//! script are revalidated on every load. The page's Content-Security-Policy lets it
//! load and connect to this origin only.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Error;

use crate::http::request_error;

/// Where the assets are served (the page refers to them by this absolute path).
pub const ASSETS_PREFIX: &str = "/graphql/assets/";

/// Cache policy of a file whose path names its version: a year, never revalidated.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache policy of this crate's own page and script: always revalidated.
const REVALIDATE: &str = "no-cache";

/// The page may load scripts, styles, fonts and images from this origin only (styles
/// also inline: GraphiQL sets style attributes; fonts and images also as `data:` URLs,
/// as GraphiQL's stylesheet embeds its fonts) and may talk only to this origin.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// The page (`GET /graphql`).
const PAGE: &str = include_str!("../assets/graphiql/index.html");

/// One file served under [`ASSETS_PREFIX`].
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// Its path under [`ASSETS_PREFIX`].
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its `Cache-Control`.
    pub cache_control: &'static str,
    /// Its bytes, compiled in.
    pub bytes: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $content_type:expr, $cache:expr) => {
        Asset {
            path: $path,
            content_type: $content_type,
            cache_control: $cache,
            bytes: include_bytes!(concat!("../assets/graphiql/", $path)),
        }
    };
}

/// Every file served under [`ASSETS_PREFIX`]: the vendored GraphiQL, React and
/// ReactDOM with their licences, and the start-up script.
pub const ASSETS: &[Asset] = &[
    asset!("graphiql-3.9.0/graphiql.min.js", JAVASCRIPT, IMMUTABLE),
    asset!("graphiql-3.9.0/graphiql.min.css", CSS, IMMUTABLE),
    asset!("graphiql-3.9.0/LICENSE", TEXT, IMMUTABLE),
    asset!(
        "react-18.3.1/react.production.min.js",
        JAVASCRIPT,
        IMMUTABLE
    ),
    asset!("react-18.3.1/LICENSE", TEXT, IMMUTABLE),
    asset!(
        "react-dom-18.3.1/react-dom.production.min.js",
        JAVASCRIPT,
        IMMUTABLE
    ),
    asset!("react-dom-18.3.1/LICENSE", TEXT, IMMUTABLE),
    asset!("quartet-graphiql.js", JAVASCRIPT, REVALIDATE),
];

/// The asset at `path` (under [`ASSETS_PREFIX`]), if there is one.
pub fn asset(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

fn with_headers(
    mut response: Response,
    content_type: &'static str,
    cache_control: &'static str,
) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `GET /graphql` (when not a WebSocket upgrade): the GraphiQL page, which loads only
/// [`ASSETS`].
pub(crate) fn page() -> Response {
    let mut response = with_headers(PAGE.into_response(), "text/html; charset=utf-8", REVALIDATE);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response
}

/// `GET /graphql/assets/{*path}`: one of [`ASSETS`], or 404 with a NOT_FOUND error.
pub(crate) async fn serve_asset(Path(path): Path<String>) -> Response {
    match asset(&path) {
        Some(asset) => with_headers(
            asset.bytes.into_response(),
            asset.content_type,
            asset.cache_control,
        ),
        None => request_error(StatusCode::NOT_FOUND, &Error::not_found("asset", path)),
    }
}
