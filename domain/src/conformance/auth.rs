//! Running the conformance suite against a server with authentication on.
//!
//! The suite holds seats for several customers and expects each to succeed, but a
//! client with a token acts for one customer. [`AsEachCustomer`] is a `Ticketing` that
//! sends each hold through a client carrying that customer's token (made on first use by
//! a factory the protocol's test supplies), each booking operation through its owner's
//! client, and reads through a client without a token, so the suite runs unchanged
//! and every call passes the server's policy the way a real customer's would.
//!
//! [`check_policy`] and [`check_rate_limit`] are the refusals every protocol's auth tests
//! run through their own client; what only a transport can get wrong (a malformed
//! header, its status codes) each protocol's test checks itself.
//!
//! The fixtures those tests share live here too: a development key ([`dev_key`]), the
//! servers' gates ([`keyed_gate`], [`limited_gate`]), the tokens the refusals need
//! ([`book_token`], [`no_scope_token`], [`expired_token`], [`not_yet_valid_token`],
//! [`wrongly_signed_token`], [`MALFORMED_TOKEN`]), the `Authorization` values a
//! transport must refuse ([`MALFORMED_AUTHORIZATION`]), the hold an open server must
//! accept ([`open_hold`]) and [`AsEachCustomer::signed_in`] for the suite with auth on.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::BoxFuture;

use crate::auth::token::now_secs;
use crate::auth::{
    AuthKey, Claims, Gate, NO_TOKEN, RATE_LIMIT_WHAT, Rate, RateLimits, SCOPE_BOOK, mint,
};
use crate::dataset::{Dataset, DatasetSpec};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    AvailabilityStream, Booking, BookingId, Customer, Event, EventDetail, EventId, EventPage,
    EventStatus, HoldRequest, ListEventsRequest, Performer, PerformerId, SearchRequest,
    SearchResults, SeatId, SeatMap, Venue, VenueId,
};
use crate::ticketing::Ticketing;

/// Makes a client acting for the customer with this e-mail (a token for it with the
/// `book` scope).
pub type CustomerClients =
    Box<dyn Fn(String) -> BoxFuture<'static, Result<Arc<dyn Ticketing>>> + Send + Sync>;

/// Who booking operations on an id this wrapper never saw are sent as: a customer with
/// a valid token, so a missing booking answers NOT_FOUND and not UNAUTHENTICATED.
pub const STRANGER: &str = "stranger@example.org";

/// A `Ticketing` routing every call through the client of the customer it acts for.
pub struct AsEachCustomer {
    anonymous: Arc<dyn Ticketing>,
    connect: CustomerClients,
    clients: tokio::sync::Mutex<BTreeMap<String, Arc<dyn Ticketing>>>,
    owners: parking_lot::Mutex<HashMap<BookingId, String>>,
}

impl AsEachCustomer {
    /// Reads through `anonymous`; holds and bookings through `connect(email)`'s clients.
    pub fn new(anonymous: Arc<dyn Ticketing>, connect: CustomerClients) -> Self {
        AsEachCustomer {
            anonymous,
            connect,
            clients: tokio::sync::Mutex::new(BTreeMap::new()),
            owners: parking_lot::Mutex::new(HashMap::new()),
        }
    }

    /// Reads through `connect(None)`; holds and bookings through `connect`'s clients
    /// carrying each customer's [`book_token`] signed with `key`: the usual way to build
    /// one when the server checks tokens signed with `key`.
    ///
    /// # Errors
    /// `connect(None)`'s error.
    pub async fn signed_in(connect: Connect, key: AuthKey) -> Result<Self> {
        let anonymous = connect(None).await?;
        Ok(Self::new(
            anonymous,
            Box::new(move |email: String| connect(Some(book_token(&key, &email)))),
        ))
    }

    async fn client(&self, email: &str) -> Result<Arc<dyn Ticketing>> {
        let mut clients = self.clients.lock().await;
        if let Some(client) = clients.get(email) {
            return Ok(Arc::clone(client));
        }
        let client = (self.connect)(email.to_owned()).await?;
        clients.insert(email.to_owned(), Arc::clone(&client));
        Ok(client)
    }

    async fn owner_of(&self, id: BookingId) -> Result<Arc<dyn Ticketing>> {
        let owner = self
            .owners
            .lock()
            .get(&id)
            .cloned()
            .unwrap_or_else(|| STRANGER.to_owned());
        self.client(&owner).await
    }
}

#[async_trait]
impl Ticketing for AsEachCustomer {
    async fn get_event(&self, id: EventId) -> Result<Event> {
        self.anonymous.get_event(id).await
    }
    async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage> {
        self.anonymous.list_events(request).await
    }
    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
        self.anonymous.search_events(request).await
    }
    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
        self.anonymous.get_event_detail(id).await
    }
    async fn get_venue(&self, id: VenueId) -> Result<Venue> {
        self.anonymous.get_venue(id).await
    }
    async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
        self.anonymous.get_performer(id).await
    }
    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
        self.anonymous.get_seat_map(id).await
    }
    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
        let email = request.customer.email.clone();
        let booking = self.client(&email).await?.hold_seats(request).await?;
        self.owners.lock().insert(booking.id, email);
        Ok(booking)
    }
    async fn get_booking(&self, id: BookingId) -> Result<Booking> {
        self.owner_of(id).await?.get_booking(id).await
    }
    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        self.owner_of(id)
            .await?
            .confirm_booking(id, expected_version)
            .await
    }
    async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
        self.owner_of(id).await?.cancel_booking(id).await
    }
    async fn watch_availability(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<AvailabilityStream> {
        self.anonymous
            .watch_availability(event_id, from_version)
            .await
    }
}

/// Makes a client of the server under test carrying `token` (`None`: no token).
pub type Connect =
    Box<dyn Fn(Option<String>) -> BoxFuture<'static, Result<Arc<dyn Ticketing>>> + Send + Sync>;

/// The customer whose booking the policy checks make.
pub const ANN: &str = "ann@example.org";
/// Another customer, who must not see Ann's booking.
pub const BOB: &str = "bob@example.org";

fn on_sale_events(spec: DatasetSpec) -> Vec<EventId> {
    let data = Dataset::from_spec(spec);
    data.events
        .iter()
        .filter(|e| {
            e.status == EventStatus::OnSale
                && data.venues[super::index(e.venue_id.0)].capacity >= 20
        })
        .map(|e| e.id)
        .collect()
}

fn hold_for(event_id: EventId, seat: u32, email: &str) -> HoldRequest {
    HoldRequest {
        event_id,
        seat_ids: vec![SeatId(seat)],
        customer: Customer {
            name: "Auth Check".into(),
            email: email.into(),
        },
        idempotency_key: None,
    }
}

#[track_caller]
fn expect_error<T: std::fmt::Debug>(check: &str, result: Result<T>, expected: &Error) {
    match result {
        Ok(v) => panic!("{check}: expected {expected:?}, got Ok({v:?})"),
        Err(e) => assert_eq!(&e, expected, "{check}"),
    }
}

#[track_caller]
fn expect_code<T: std::fmt::Debug>(check: &str, result: Result<T>, code: ErrorCode) -> Error {
    match result {
        Ok(v) => panic!("{check}: expected {code}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.code(), code, "{check}: {e:?}");
            e
        }
    }
}

/// How long the tokens made here stay valid: far longer than any test runs.
const TOKEN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3600);

/// The development key the auth tests sign and check tokens with. Its secret is in the
/// source: never a deployment's key.
///
/// # Panics
/// Never: the secret is long enough.
pub fn dev_key() -> AuthKey {
    AuthKey::from_secret(b"quartet auth tests: a 32-byte dev secret").expect("a 32-byte secret")
}

/// A gate checking tokens signed with `key`, without rate limits: what
/// [`check_policy`] and the suite with auth on run against.
pub fn keyed_gate(key: &AuthKey) -> Gate {
    Gate::new(Some(key.clone()), RateLimits::default())
}

/// A gate checking tokens signed with `key` and limiting each customer and each
/// anonymous connection to 4 requests a second with a burst of 2: small enough that
/// [`check_rate_limit`] trips it within a few calls.
pub fn limited_gate(key: &AuthKey) -> Gate {
    let small = Some(Rate {
        per_second: 4,
        burst: 2,
    });
    Gate::new(
        Some(key.clone()),
        RateLimits {
            per_customer: small,
            per_anonymous: small,
        },
    )
}

/// A valid token for the customer `who` (an e-mail) with the `book` scope: `who` may
/// hold seats for itself and manage its own bookings; [`BOB`]'s is the token of another
/// customer than [`ANN`].
///
/// # Panics
/// If the token cannot be signed (it always can).
pub fn book_token(key: &AuthKey, who: &str) -> String {
    mint(key, who, &[SCOPE_BOOK], TOKEN_LIFETIME).expect("mint")
}

/// A valid token for `who` without any scope: it reads, and a hold is PERMISSION_DENIED.
///
/// # Panics
/// As [`book_token`].
pub fn no_scope_token(key: &AuthKey, who: &str) -> String {
    mint(key, who, &[], TOKEN_LIFETIME).expect("mint")
}

/// [`ANN`]'s `book` token signed with `key`, valid from `nbf_offset` to `exp_offset`
/// seconds from now.
fn token_with(key: &AuthKey, nbf_offset: i64, exp_offset: i64) -> String {
    let now = now_secs();
    key.sign(&Claims {
        sub: ANN.into(),
        scope: SCOPE_BOOK.into(),
        iat: now,
        nbf: now.saturating_add_signed(nbf_offset),
        exp: now.saturating_add_signed(exp_offset),
    })
    .expect("sign")
}

/// [`ANN`]'s `book` token that expired an hour ago (well past the verifier's leeway):
/// "the token has expired".
///
/// # Panics
/// As [`book_token`].
pub fn expired_token(key: &AuthKey) -> String {
    token_with(key, -7200, -3600)
}

/// [`ANN`]'s `book` token valid only from an hour from now: "the token is not valid yet".
///
/// # Panics
/// As [`book_token`].
pub fn not_yet_valid_token(key: &AuthKey) -> String {
    token_with(key, 3600, 7200)
}

/// [`ANN`]'s `book` token signed with a key other than [`dev_key`] (and any key a test
/// would pick): "the token's signature does not verify".
///
/// # Panics
/// As [`book_token`].
pub fn wrongly_signed_token() -> String {
    let other = AuthKey::from_secret(&[0x42; 32]).expect("a 32-byte secret");
    book_token(&other, ANN)
}

/// A token of JWT shape that is not one: "the token is malformed".
pub const MALFORMED_TOKEN: &str = "abc.def.ghi";

/// `Authorization` values every HTTP-borne transport (REST, GraphQL, gRPC metadata) must
/// refuse as UNAUTHENTICATED: another scheme, a bearer without a token, a token with a
/// space in it, and [`MALFORMED_TOKEN`].
pub const MALFORMED_AUTHORIZATION: &[&str] = &[
    "Basic YW5uOnB3",
    "Bearer",
    "Bearer two words",
    "Bearer abc.def.ghi",
];

/// A hold of seat 0 of the first on-sale event of `spec`'s dataset for a customer no
/// token names: what a server without a key must accept from anyone.
///
/// # Panics
/// If the dataset has no on-sale event.
pub fn open_hold(spec: DatasetSpec) -> HoldRequest {
    let event = Dataset::from_spec(spec)
        .events
        .iter()
        .find(|e| e.status == EventStatus::OnSale)
        .expect("an on-sale event")
        .id;
    HoldRequest {
        event_id: event,
        seat_ids: vec![SeatId(0)],
        customer: Customer {
            name: "Anyone".into(),
            email: "anyone@example.org".into(),
        },
        idempotency_key: None,
    }
}

/// Checks the policy through `connect`'s clients against a server that checks tokens
/// signed with `key` (no rate limits) and serves a fresh store generated from `spec`:
/// public reads, UNAUTHENTICATED for a hold without a token and for expired, not yet
/// valid, wrongly signed and malformed tokens, PERMISSION_DENIED for a token without
/// the `book` scope or for another customer's hold, and another customer's booking
/// answering exactly what a missing one answers on read, confirm and cancel.
///
/// # Panics
/// On the first answer that differs.
pub async fn check_policy(connect: &Connect, key: &AuthKey, spec: DatasetSpec) {
    let events = on_sale_events(spec);
    let event = *events.last().expect("an on-sale event");

    let anonymous = connect(None).await.expect("connect");
    anonymous
        .get_event(event)
        .await
        .expect("catalogue reads are public");
    expect_error(
        "a hold without a token",
        anonymous.hold_seats(hold_for(event, 0, ANN)).await,
        &Error::unauthenticated(NO_TOKEN),
    );

    let ann = connect(Some(book_token(key, ANN))).await.expect("ann");
    let booking = ann
        .hold_seats(hold_for(event, 0, ANN))
        .await
        .expect("ann holds her own seat");
    let bob = connect(Some(book_token(key, BOB))).await.expect("bob");
    // Exactly what the store answers for a booking that does not exist with that id.
    let missing = Error::not_found("booking", booking.id);
    expect_error(
        "bob reads ann's booking",
        bob.get_booking(booking.id).await,
        &missing,
    );
    expect_error(
        "bob confirms ann's booking",
        bob.confirm_booking(booking.id, booking.version).await,
        &missing,
    );
    expect_error(
        "bob cancels ann's booking",
        bob.cancel_booking(booking.id).await,
        &missing,
    );
    let unknown = BookingId(booking.id.0 ^ 0x5a5a_5a5a);
    let absent = expect_code(
        "bob reads a booking that does not exist",
        bob.get_booking(unknown).await,
        ErrorCode::NotFound,
    );
    assert_eq!(absent, Error::not_found("booking", unknown));
    expect_code(
        "bob holds for ann",
        bob.hold_seats(hold_for(event, 1, ANN)).await,
        ErrorCode::PermissionDenied,
    );
    assert_eq!(
        ann.get_booking(booking.id)
            .await
            .expect("ann reads her booking"),
        booking,
        "bob's attempts changed nothing"
    );

    let reader = connect(Some(no_scope_token(key, "carol@example.org")))
        .await
        .expect("carol");
    reader
        .get_event(event)
        .await
        .expect("a token without scopes reads");
    expect_error(
        "a hold with a token without the book scope",
        reader
            .hold_seats(hold_for(event, 2, "carol@example.org"))
            .await,
        &Error::permission_denied(format!("the token lacks the {SCOPE_BOOK} scope")),
    );

    let refusals = [
        (expired_token(key), "the token has expired"),
        (not_yet_valid_token(key), "the token is not valid yet"),
        (
            wrongly_signed_token(),
            "the token's signature does not verify",
        ),
        (MALFORMED_TOKEN.to_owned(), "the token is malformed"),
    ];
    for (bad, reason) in refusals {
        let client = connect(Some(bad)).await.expect("connect");
        let expected = Error::unauthenticated(reason);
        expect_error(reason, client.get_event(event).await, &expected);
        expect_error(
            reason,
            client.hold_seats(hold_for(event, 3, ANN)).await,
            &expected,
        );
        expect_error(reason, client.get_booking(booking.id).await, &expected);
    }

    let confirmed = ann
        .confirm_booking(booking.id, booking.version)
        .await
        .expect("ann confirms");
    let cancelled = ann.cancel_booking(confirmed.id).await.expect("ann cancels");
    assert_eq!(cancelled.id, booking.id);
}

/// Checks that `client` (of a server limiting its caller to a small bucket) is refused
/// with the rate limit's LIMIT_EXCEEDED once it has spent its burst, and served again
/// once the bucket refills. Waits for each condition with a deadline, never a sleep of
/// a guessed length.
///
/// # Panics
/// If the limit never trips or never recovers within 10 seconds each.
pub async fn check_rate_limit(client: &dyn Ticketing, spec: DatasetSpec) {
    let event = *on_sale_events(spec).first().expect("an on-sale event");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let refused = loop {
        match client.get_event(event).await {
            Ok(_) => assert!(
                std::time::Instant::now() < deadline,
                "the rate limit never tripped"
            ),
            Err(e) => break e,
        }
    };
    assert_eq!(refused.code(), ErrorCode::LimitExceeded, "{refused:?}");
    assert!(
        matches!(&refused, Error::LimitExceeded { what, .. } if what == RATE_LIMIT_WHAT),
        "{refused:?}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match client.get_event(event).await {
            Ok(_) => break,
            Err(e) => {
                assert_eq!(e, refused, "only the rate limit may refuse");
                assert!(
                    std::time::Instant::now() < deadline,
                    "the rate limit never recovered"
                );
                // Yield between attempts; the bucket refills on its own clock.
                tokio::task::yield_now().await;
            }
        }
    }
}
