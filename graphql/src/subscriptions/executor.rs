//! [`ConnectionExecutor`]: what async-graphql's WebSocket protocol runs each operation
//! of one connection with. It is the strict schema (every validation rule, the depth,
//! complexity, directive and recursion limits of [`Config`]) plus what the HTTP endpoint
//! checks before execution: the query-size limit, one root field per subscription (the
//! GraphQL spec's "single root field" rule, which async-graphql does not check), at most
//! [`Config::max_subscriptions_per_connection`] operations at once, and an
//! `extensions.code` on every error. Documents sent here do not use the prepared-document
//! cache: a subscription is parsed once and then runs for a long time.
//!
//! At shutdown ([`Closing`]) every running operation ends with one UNAVAILABLE error
//! (async-graphql then sends its `complete`), and [`ConnectionExecutor::idle`] tells the
//! connection when the last one has gone, so it can close the socket after them.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Data, Executor, Request, Response, ServerError};
use domain::Error;
use futures::stream::{self, BoxStream, StreamExt};
use tokio::sync::Notify;

use super::connections::Closing;
use crate::config::Config;
use crate::error::{GRAPHQL_VALIDATION_FAILED, classify, to_graphql};
use crate::schema::QuartetSchema;

/// Runs one WebSocket connection's operations. Clones share the connection's count of
/// running operations.
#[derive(Clone)]
pub struct ConnectionExecutor {
    schema: QuartetSchema,
    max_query_bytes: usize,
    max_running: usize,
    running: Arc<Running>,
    closing: Closing,
}

/// A connection's count of running operations, and who waits for it to reach zero.
#[derive(Default)]
struct Running {
    count: AtomicUsize,
    ended: Notify,
}

impl ConnectionExecutor {
    /// An executor for one new connection, over the strict `schema`, with `config`'s
    /// limits.
    pub fn new(schema: QuartetSchema, config: &Config) -> Self {
        ConnectionExecutor {
            schema,
            max_query_bytes: config.max_query_bytes,
            max_running: config.max_subscriptions_per_connection,
            running: Arc::default(),
            closing: Closing::never(),
        }
    }

    /// This executor, ending every running and later operation with UNAVAILABLE once
    /// `closing` fires.
    #[must_use]
    pub fn ending_on(mut self, closing: Closing) -> Self {
        self.closing = closing;
        self
    }

    /// Operations of this connection running now.
    pub fn running(&self) -> usize {
        self.running.count.load(Ordering::Acquire)
    }

    /// Resolves when no operation of this connection is running.
    pub async fn idle(&self) {
        loop {
            let ended = self.running.ended.notified();
            tokio::pin!(ended);
            // Registered before the count is read, so an operation ending in between
            // still wakes this.
            ended.as_mut().enable();
            if self.running() == 0 {
                return;
            }
            ended.await;
        }
    }

    /// Takes one of the connection's operation slots, if one is free.
    fn acquire(&self) -> Option<Slot> {
        self.running
            .count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_running).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(Arc::clone(&self.running)))
    }

    /// The checks the schema does not make, before anything runs.
    fn check(&self, request: &mut Request) -> Result<(), ServerError> {
        if request.query.len() > self.max_query_bytes {
            return Err(request_error(&Error::limit_exceeded(
                "query size (bytes)",
                self.max_query_bytes as u64,
            )));
        }
        let operation_name = request.operation_name.clone();
        // A syntax error is left for the schema to report, with its position.
        if let Ok(document) = request.parsed_query() {
            single_root_field(document, operation_name.as_deref())?;
        }
        Ok(())
    }
}

/// A running operation's hold on its connection's count; given back when the
/// operation's stream is dropped (it ended, the client sent `complete`, or the
/// connection closed).
struct Slot(Arc<Running>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::AcqRel);
        self.0.ended.notify_waiters();
    }
}

/// A refusal before execution: the domain error's message and extensions, no
/// location.
fn request_error(error: &Error) -> ServerError {
    let graphql = to_graphql(error);
    ServerError {
        message: graphql.message,
        source: None,
        locations: Vec::new(),
        path: Vec::new(),
        extensions: graphql.extensions,
    }
}

fn refused(error: ServerError) -> BoxStream<'static, Response> {
    stream::once(async move { Response::from_errors(vec![error]) }).boxed()
}

/// The spec's rule: a subscription operation selects exactly one root field (counted
/// through fragments), so one subscription is one store subscriber.
fn single_root_field(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Result<(), ServerError> {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => {
            match operations.get(name) {
                Some(operation) => operation,
                None => return Ok(()), // the schema reports the unknown name
            }
        }
        (DocumentOperations::Multiple(operations), None) => {
            match operations.values().next() {
                Some(operation) if operations.len() == 1 => operation,
                _ => return Ok(()), // the schema asks for a name
            }
        }
    };
    if operation.node.ty != OperationType::Subscription {
        return Ok(());
    }
    let mut seen = HashSet::new();
    match root_fields(document, &operation.node.selection_set.node, &mut seen) {
        Some(1) | None => Ok(()),
        Some(_) => {
            let mut error = ServerError::new(
                "a subscription must select exactly one top level field",
                Some(operation.pos),
            );
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", GRAPHQL_VALIDATION_FAILED);
            Err(error)
        }
    }
}

/// The fields `set` selects at its own level, through fragments; `None` when a fragment
/// is unknown or spread twice (a cycle or a repeat: the schema's validation judges those).
fn root_fields(
    document: &ExecutableDocument,
    set: &SelectionSet,
    seen: &mut HashSet<String>,
) -> Option<usize> {
    let mut count = 0;
    for selection in &set.items {
        count += match &selection.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(inline) => {
                root_fields(document, &inline.node.selection_set.node, seen)?
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if !seen.insert(name.to_owned()) {
                    return None;
                }
                let fragment = document.fragments.get(name)?;
                root_fields(document, &fragment.node.selection_set.node, seen)?
            }
        };
    }
    Some(count)
}

impl Executor for ConnectionExecutor {
    fn execute(&self, request: Request) -> impl Future<Output = Response> + Send {
        let schema = self.schema.clone();
        async move {
            let mut response = schema.execute(request).await;
            response.errors.iter_mut().for_each(classify);
            response
        }
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        if let Err(error) = self.check(&mut request) {
            return refused(error);
        }
        let Some(slot) = self.acquire() else {
            return refused(request_error(&Error::limit_exceeded(
                "subscriptions per connection",
                self.max_running as u64,
            )));
        };
        let closing = self.closing.clone();
        let responses = self
            .schema
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
            .map(|mut response| {
                response.errors.iter_mut().for_each(classify);
                response
            })
            .take_until(self.closing.clone().begun());
        // Cut short by the shutdown: say so, so the client resumes elsewhere; an
        // operation that ended by itself says nothing more.
        let goodbye = stream::once(async move {
            closing.has_begun().then(|| {
                Response::from_errors(vec![request_error(&Error::unavailable(
                    "the server is shutting down; subscribe again from the last version seen",
                ))])
            })
        })
        .filter_map(std::future::ready);
        responses
            .chain(goodbye)
            .map(move |response| {
                // The slot lives as long as the stream.
                let _running = &slot;
                response
            })
            .boxed()
    }
}
