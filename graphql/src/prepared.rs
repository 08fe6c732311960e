//! Prepared documents: each query document is parsed and validated once, then reused.
//!
//! [`Engine`] holds the schema four times, built by the same function over the same
//! data: `strict`, validating every rule ([`ValidationMode::Strict`]), for the SDL and
//! the subscriptions; `recording`, the strict one with the [`Limits`] extension; `fast`,
//! validating only fragment cycles plus the depth and complexity limits
//! ([`ValidationMode::Fast`]); and `prevalidated`, the fast one with the [`Limits`]
//! extension. A document not seen before is parsed here and executed by the recording
//! schema; if it passed validation (every error it produced, if any, came from a
//! resolver and has a path) it joins the cache, keyed by its text. A document in the
//! cache is handed over already parsed (`Request::set_parsed_query`), so it is neither
//! parsed nor put through the document-only rules again, while everything that depends
//! on the request still runs per request: the directive and recursion limits, variable
//! coercion (each variable is checked against its declared type before execution, see
//! [`crate::variables`]; the resolvers' argument parsing checks them once more), and
//! the depth and complexity limits:
//! - when a variable can change them (a field whose complexity is a function, such as
//!   `events(first: $first)`, takes a variable), the fast schema walks the document
//!   with this request's variables, as async-graphql's fast mode does;
//! - otherwise (and when the document selects at least `PREVALIDATE_MIN_FIELDS`
//!   fields; for fewer the walk is cheaper than the hook) they are the same on every
//!   request, so the strict run's result (depth,
//!   complexity, cache control; both limits already checked against it) is kept with
//!   the document and the `prevalidated` schema returns it from the extension's
//!   `validation` hook instead of walking the document again. It is kept per operation
//!   name: another operation of the same text is walked as usual.
//!
//! Why not one extension on one schema: async-graphql's `parse_query` hook can hand back
//! a cached document, but validation would still run every rule; its `validation` hook
//! can skip validation, which is only safe when the limits cannot change (above). And
//! any extension sends every field resolved by async-graphql's container and list
//! resolvers through its slower per-field path (a `ResolveInfo` with a registry lookup
//! and the hook chain), so the extension sits only where it pays: on `prevalidated`
//! (whose walk it saves, about a fifth of a warm small query) and on `recording` (misses
//! only, to record the result); `strict` and `fast` have none (a subscription on a
//! schema with the extension cost about 60% more server CPU per pushed message).
//!
//! A document joins the cache with its fragment spreads written out in place where that
//! changes nothing (see [`inline_fragments`]): every hit works on an owned copy of the
//! document, and each spread in it is looked up by name several times per request.
//!
//! Automatic persisted queries (APQ) live here too, for the same reason: a hash maps to
//! a document text that validated, and that text to its parsed document. The cache is
//! bounded in documents and in bytes of document text; the oldest entries go first.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{
    OutputType, Positioned, Request, Response, ServerError, ValidationMode, ValidationResult,
};
use domain::SharedTicketing;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::schema::loaders::LoaderCalls;
use crate::schema::types::RawJson;
use crate::schema::{Mutation, QuartetSchema, Query, build, build_with};
use crate::variables::VariableTypes;

/// The message of an APQ request whose hash the server does not know (the text the
/// Apollo protocol's clients look for).
pub const PERSISTED_QUERY_NOT_FOUND: &str = "PersistedQueryNotFound";

/// The cache's hasher. Document texts are keys a client chooses, so the hasher is
/// seeded per process (foldhash's `RandomState`), but not cryptographic: SipHash over
/// a few hundred bytes of text was a measurable share of a warm request.
type Hasher = foldhash::fast::RandomState;

/// One cached document.
struct Entry {
    document: Arc<ExecutableDocument>,
    /// The APQ hash it was registered under, if any.
    hash: Option<String>,
    /// When no variable can change its depth and complexity: the operation name it
    /// was validated with and what validation found then (see [`Limits`]).
    known: Option<(Option<String>, ValidationResult)>,
    /// Whether no selection set selects two fields under one response key (see
    /// [`merge_free`]): then objects may be written as JSON text ([`RawJson`]).
    merge_free: bool,
}

/// The cache: document text -> parsed document, APQ hash -> document text.
#[derive(Default)]
struct Cache {
    documents: IndexMap<String, Entry, Hasher>,
    hashes: HashMap<String, String, Hasher>,
    bytes: usize,
}

/// What fast-mode validation would find for a cached document, known in advance
/// because no variable can change it: handed to the `prevalidated` schema with the
/// request, whose [`Limits`] extension returns it instead of walking the document.
#[derive(Clone, Copy)]
struct Known(ValidationResult);

/// Where the recording schema's [`Limits`] extension leaves a new document's validation
/// result, when the document's limits do not depend on its variables.
struct Record(Arc<Mutex<Option<ValidationResult>>>);

/// The extension on the `recording` and `prevalidated` schemas (never on the fast one,
/// so documents whose limits depend on variables keep the extension-free field path,
/// nor on the strict one, which subscriptions execute on for every message they push).
///
/// async-graphql's fast validation mode still walks the whole document on every
/// request (fragment cycles, cache control, complexity, depth: about a fifth of a warm
/// small query). For a document whose complexity no variable can change (no field with
/// a complexity function takes a variable, see [`limits_fixed`]) and whose depth is
/// the document's alone, the walk's answer is the same on every request, so it is
/// taken once from the recording (strict) run (which also checked both limits against it) and
/// returned as it is on every cache hit. A request with neither piece of data is
/// validated as usual.
struct Limits(Arc<dyn Extension>);

struct LimitsExtension;

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        // One shared instance: `create` runs per request, and there is no state.
        Arc::clone(&self.0)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for LimitsExtension {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        if let Some(Known(known)) = ctx.data_opt::<Known>() {
            return Ok(*known);
        }
        let result = next.run(ctx).await;
        if let (Ok(found), Some(Record(slot))) = (&result, ctx.data_opt::<Record>()) {
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(*found);
        }
        result
    }
}

/// Executes requests with prepared documents. Cheap to share behind an `Arc`.
pub struct Engine {
    /// Every rule, no extension: [`Engine::schema`] (the SDL, and the subscriptions,
    /// which execute each pushed message on it and must not pay the extension's
    /// per-field path).
    strict: QuartetSchema,
    /// Every rule, with the [`Limits`] extension: new documents, whose validation
    /// result it records.
    recording: QuartetSchema,
    fast: QuartetSchema,
    prevalidated: QuartetSchema,
    variables: VariableTypes,
    /// Names of the fields with a complexity function (whose cost may read arguments).
    priced: HashSet<String>,
    cache: Mutex<Cache>,
    max_documents: usize,
    max_bytes: usize,
}

/// Counters of the cache, for tests and the curious.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Documents cached.
    pub documents: usize,
    /// Bytes of document text cached.
    pub bytes: usize,
    /// Cached documents whose validation result is known in advance (no variable can
    /// change their depth or complexity), so a hit skips async-graphql's walk.
    pub prevalidated: usize,
}

impl Engine {
    /// The engine over `api` with `config`'s limits; `calls` counts nested batches.
    pub fn new(api: SharedTicketing, config: &Config, calls: Arc<LoaderCalls>) -> Self {
        let limits: Arc<dyn ExtensionFactory> = Arc::new(Limits(Arc::new(LimitsExtension)));
        let strict = build(
            Arc::clone(&api),
            config,
            Arc::clone(&calls),
            ValidationMode::Strict,
        );
        let recording = build_with(
            Arc::clone(&api),
            config,
            Arc::clone(&calls),
            ValidationMode::Strict,
            Some(Arc::clone(&limits)),
        );
        let fast = build(
            Arc::clone(&api),
            config,
            Arc::clone(&calls),
            ValidationMode::Fast,
        );
        let prevalidated = build_with(api, config, calls, ValidationMode::Fast, Some(limits));
        let variables = VariableTypes::new();
        let priced = priced_fields(&variables);
        Engine {
            variables,
            priced,
            strict,
            recording,
            fast,
            prevalidated,
            cache: Mutex::new(Cache::default()),
            max_documents: config.document_cache,
            max_bytes: config.document_cache_bytes,
        }
    }

    /// The strict schema (for its SDL, or to execute without the cache).
    pub fn schema(&self) -> &QuartetSchema {
        &self.strict
    }

    /// Documents and bytes cached now.
    pub fn stats(&self) -> CacheStats {
        let cache = self.lock();
        CacheStats {
            documents: cache.documents.len(),
            bytes: cache.bytes,
            prevalidated: cache
                .documents
                .values()
                .filter(|e| e.known.is_some())
                .count(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one request: APQ first, then the cached document or a strict first run.
    /// The response is an ordinary value tree (serialise it any way).
    pub async fn execute(&self, request: Request) -> Response {
        self.run(request, false).await
    }

    /// As [`execute`](Self::execute), but big lists, and objects when the document
    /// allows (see [`RawJson`]), come back as pre-rendered JSON text: write the
    /// response with [`crate::json`] (what the endpoint does), never with serde
    /// directly.
    pub async fn execute_raw(&self, request: Request) -> Response {
        self.run(request, true).await
    }

    /// `raw`: whether the response may carry pre-rendered JSON ([`RawJson`]).
    async fn run(&self, mut request: Request, raw: bool) -> Response {
        let mut register_hash = None;
        // Most requests carry no extensions: skip hashing the key into an empty map.
        let persisted = if request.extensions.is_empty() {
            None
        } else {
            request.extensions.remove("persistedQuery")
        };
        if let Some(value) = persisted {
            match persisted_query(value) {
                Err(error) => return Response::from_errors(vec![error]),
                Ok(hash) if request.query.is_empty() => {
                    let text = self.lock().hashes.get(&hash).cloned();
                    match text {
                        Some(text) => request.query = text,
                        None => {
                            return Response::from_errors(vec![ServerError::new(
                                PERSISTED_QUERY_NOT_FOUND,
                                None,
                            )]);
                        }
                    }
                }
                Ok(hash) => {
                    let actual = format!("{:x}", Sha256::digest(request.query.as_bytes()));
                    if actual != hash {
                        return Response::from_errors(vec![ServerError::new(
                            "provided sha does not match query",
                            None,
                        )]);
                    }
                    register_hash = Some(hash);
                }
            }
        }
        let cached = self.lock().documents.get(request.query.as_str()).map(|e| {
            let known = e.known.as_ref().and_then(|(operation, result)| {
                (operation.as_deref() == request.operation_name.as_deref()).then_some(*result)
            });
            (Arc::clone(&e.document), known, e.merge_free)
        });
        if let Some((document, known, merge_free)) = cached {
            if let Err(error) = self.variables.check(
                &document,
                request.operation_name.as_deref(),
                &request.variables,
            ) {
                return Response::from_errors(vec![error]);
            }
            if let Some(hash) = register_hash {
                self.remember_hash(&request.query, hash);
            }
            request.set_parsed_query(ExecutableDocument::clone(&document));
            if raw {
                request.data.insert(RawJson {
                    objects: merge_free,
                });
            }
            return match known {
                Some(known) => self.prevalidated.execute(request.data(Known(known))).await,
                None => self.fast.execute(request).await,
            };
        }
        let document = match async_graphql::parser::parse_query(&request.query) {
            Ok(document) => document,
            Err(error) => return Response::from_errors(vec![error.into()]),
        };
        if let Err(error) = self.variables.check(
            &document,
            request.operation_name.as_deref(),
            &request.variables,
        ) {
            return Response::from_errors(vec![error]);
        }
        let text = request.query.clone();
        let operation = request.operation_name.clone();
        let record = (limits_fixed(&document, &self.priced)
            && fields_at_least(&document, PREVALIDATE_MIN_FIELDS))
        .then(|| Arc::new(Mutex::new(None)));
        if let Some(slot) = &record {
            request = request.data(Record(Arc::clone(slot)));
        }
        if raw {
            // Objects as value trees on a first run: the document is not known yet.
            request.data.insert(RawJson { objects: false });
        }
        request.set_parsed_query(document.clone());
        let response = self.recording.execute(request).await;
        // Validation, limit and request errors have no path; resolver errors do. A
        // document is cached only when everything that went wrong was a resolver's.
        if response.errors.iter().all(|e| !e.path.is_empty()) {
            let known = record
                .and_then(|slot| *slot.lock().unwrap_or_else(PoisonError::into_inner))
                .map(|result| (operation, result));
            self.insert(text, document, register_hash, known);
        }
        response
    }

    fn insert(
        &self,
        text: String,
        document: ExecutableDocument,
        hash: Option<String>,
        known: Option<(Option<String>, ValidationResult)>,
    ) {
        let size = text.len();
        if size > self.max_bytes || self.max_documents == 0 {
            return;
        }
        let merge_free = merge_free(&document);
        // What was validated, executed and recorded is the document as parsed; the
        // written-out one selects the same fields, so those results hold for it.
        let document = inline_fragments(&document, self.variables.registry()).unwrap_or(document);
        let mut cache = self.lock();
        if let Some(hash) = &hash {
            cache.hashes.insert(hash.clone(), text.clone());
        }
        if cache.documents.contains_key(text.as_str()) {
            return;
        }
        while cache.documents.len() >= self.max_documents || cache.bytes + size > self.max_bytes {
            let Some((old_text, old)) = cache.documents.shift_remove_index(0) else {
                break;
            };
            cache.bytes -= old_text.len();
            if let Some(old_hash) = old.hash {
                cache.hashes.remove(&old_hash);
            }
        }
        cache.bytes += size;
        cache.documents.insert(
            text,
            Entry {
                document: Arc::new(document),
                hash,
                known,
                merge_free,
            },
        );
    }

    fn remember_hash(&self, text: &str, hash: String) {
        let mut cache = self.lock();
        if let Some(entry) = cache.documents.get_mut(text) {
            entry.hash = Some(hash.clone());
            cache.hashes.insert(hash, text.to_owned());
        }
    }
}

/// The names of the fields whose complexity is computed by a function (which may read
/// the field's arguments, and so its variables), on any object or interface type.
fn priced_fields(variables: &VariableTypes) -> HashSet<String> {
    variables
        .registry()
        .types
        .values()
        .filter_map(|ty| match ty {
            MetaType::Object { fields, .. } | MetaType::Interface { fields, .. } => Some(fields),
            _ => None,
        })
        .flat_map(|fields| fields.values())
        .filter(|field| field.compute_complexity.is_some())
        .map(|field| field.name.clone())
        .collect()
}

/// The fewest fields a document must select to skip its validation walk on a cache hit.
/// The extension that hands back the stored result costs about 3.5k instructions a
/// request (callgrind); the walk it saves costs about 2k plus about 1.2k a field, so
/// for `{ __typename }` (the harness's `graphql-floor`) the walk is the cheaper of the
/// two, and the floor must not pay for an optimisation it cannot use.
const PREVALIDATE_MIN_FIELDS: usize = 3;

/// Whether `document`'s operations and fragments select at least `wanted` fields.
fn fields_at_least(document: &ExecutableDocument, wanted: usize) -> bool {
    fn count(set: &SelectionSet, found: &mut usize, wanted: usize) {
        for item in &set.items {
            if *found >= wanted {
                return;
            }
            match &item.node {
                Selection::Field(field) => {
                    *found += 1;
                    count(&field.node.selection_set.node, found, wanted);
                }
                Selection::FragmentSpread(_) => {}
                Selection::InlineFragment(fragment) => {
                    count(&fragment.node.selection_set.node, found, wanted);
                }
            }
        }
    }
    let mut found = 0;
    for set in top_level_sets(document) {
        count(set, &mut found, wanted);
    }
    found >= wanted
}

/// Every operation's and every fragment's selection set: where a walk of the whole
/// document starts.
fn top_level_sets(document: &ExecutableDocument) -> impl Iterator<Item = &SelectionSet> {
    document
        .operations
        .iter()
        .map(|(_, operation)| &operation.node.selection_set.node)
        .chain(
            document
                .fragments
                .values()
                .map(|fragment| &fragment.node.selection_set.node),
        )
}

/// Whether no variable can change `document`'s validation result: async-graphql's
/// depth is the document's alone, and its complexity reads variables only through the
/// arguments of fields with a complexity function. Conservative: such a field (by
/// name, whatever its parent type) with any argument that uses a variable makes the
/// answer no.
fn limits_fixed(document: &ExecutableDocument, priced: &HashSet<String>) -> bool {
    top_level_sets(document).all(|set| selection_fixed(set, priced))
}

fn selection_fixed(set: &SelectionSet, priced: &HashSet<String>) -> bool {
    set.items.iter().all(|item| match &item.node {
        Selection::Field(field) => {
            let field = &field.node;
            let uses_variable = || {
                field.arguments.iter().any(|(_, value)| {
                    // Only a value with a variable in it fails to become a constant.
                    value
                        .node
                        .clone()
                        .into_const_with(|_| Err::<async_graphql::Value, ()>(()))
                        .is_err()
                })
            };
            !(priced.contains(field.name.node.as_str()) && uses_variable())
                && selection_fixed(&field.selection_set.node, priced)
        }
        Selection::FragmentSpread(_) => true,
        Selection::InlineFragment(fragment) => {
            selection_fixed(&fragment.node.selection_set.node, priced)
        }
    })
}

/// Whether no selection set of `document` selects two fields under one response key,
/// counting the fields its fragments spread into it: then no object of a response is
/// ever merged from two fields, which async-graphql's executor does with value trees and
/// cannot do with objects written as JSON text ([`RawJson`]). Conservative: any repeated
/// key anywhere, or a fragment it cannot find, makes the answer no.
fn merge_free(document: &ExecutableDocument) -> bool {
    document
        .operations
        .iter()
        .all(|(_, operation)| set_merge_free(document, &operation.node.selection_set.node))
}

fn set_merge_free(document: &ExecutableDocument, set: &SelectionSet) -> bool {
    let mut fields = Vec::new();
    if !collect_fields(document, set, &mut fields, 0) {
        return false;
    }
    for (i, field) in fields.iter().enumerate() {
        let key = field.response_key().node.as_str();
        if fields[..i]
            .iter()
            .any(|other| other.response_key().node.as_str() == key)
        {
            return false;
        }
    }
    fields
        .iter()
        .all(|field| set_merge_free(document, &field.selection_set.node))
}

/// The fields `set` selects, fragments expanded; `false` for a fragment that is not in
/// the document or nesting past any a valid document has.
fn collect_fields<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    out: &mut Vec<&'a Field>,
    depth: usize,
) -> bool {
    if depth > 32 {
        return false;
    }
    set.items.iter().all(|item| match &item.node {
        Selection::Field(field) => {
            out.push(&field.node);
            true
        }
        Selection::InlineFragment(fragment) => {
            collect_fields(document, &fragment.node.selection_set.node, out, depth + 1)
        }
        Selection::FragmentSpread(spread) => document
            .fragments
            .get(&spread.node.fragment_name.node)
            .is_some_and(|fragment| {
                collect_fields(document, &fragment.node.selection_set.node, out, depth + 1)
            }),
    })
}

/// The most selections [`inline_fragments`] may write into one document: a valid
/// document can spread fragments inside fragments so that every level doubles what the
/// operation selects (the depth and complexity limits do not see spreads as such), and
/// the cache must not hold the multiplied copy.
const INLINE_BUDGET: usize = 4096;

/// `document` with each named fragment spread written out in place, where the
/// fragment's type condition is the type the spread sits in and neither the spread nor
/// the fragment has a directive: the same fields in the same order, so execution
/// collects exactly what it collected through the spread, the same positions for
/// errors, and the `@skip`/`@include` of the fragment's own fields still applied per
/// request (async-graphql removes skipped selections from operations and fragments
/// alike). When no spread is left the fragment definitions are dropped too.
///
/// Why: every request of a cached document works on an owned copy of it, and every
/// spread is looked up by name (hashed) several times per request, by async-graphql's
/// recursion-depth and directive checks and its skipped-field pass, and by this crate's
/// selection walks ([`crate::schema::inline`], the loaders' lookahead). A spread whose
/// condition names another type (or a type this walk cannot place) stays as it is.
/// Returns `None` (cache the document as parsed) when nothing changes or the written
/// document would exceed [`INLINE_BUDGET`] selections.
fn inline_fragments(
    document: &ExecutableDocument,
    registry: &Registry,
) -> Option<ExecutableDocument> {
    if document.fragments.is_empty() {
        return None;
    }
    let mut walk = Inliner {
        document,
        registry,
        budget: INLINE_BUDGET,
        kept: 0,
        inlined: 0,
    };
    let mut operations = document.operations.clone();
    let roots = [
        (OperationType::Query, <Query as OutputType>::type_name()),
        (
            OperationType::Mutation,
            <Mutation as OutputType>::type_name(),
        ),
    ];
    let mut each = |operation: &mut Positioned<OperationDefinition>| -> Option<()> {
        let root = roots
            .iter()
            .find(|(ty, _)| *ty == operation.node.ty)
            .map(|(_, name)| name.as_ref());
        let Some(root) = root else {
            // A subscription (not executed here) keeps its spreads.
            walk.kept += 1;
            return Some(());
        };
        walk.set(&mut operation.node.selection_set.node, root, 0)
    };
    match &mut operations {
        DocumentOperations::Single(operation) => each(operation)?,
        DocumentOperations::Multiple(all) => {
            for operation in all.values_mut() {
                each(operation)?;
            }
        }
    }
    if walk.inlined == 0 {
        return None;
    }
    let fragments = if walk.kept == 0 {
        HashMap::default()
    } else {
        document.fragments.clone()
    };
    Some(ExecutableDocument {
        operations,
        fragments,
    })
}

/// The walk of [`inline_fragments`].
struct Inliner<'a> {
    document: &'a ExecutableDocument,
    registry: &'a Registry,
    /// Selections it may still write.
    budget: usize,
    /// Spreads left as they are.
    kept: usize,
    /// Spreads written out.
    inlined: usize,
}

impl Inliner<'_> {
    /// Writes out the spreads of `set`, which selects on the type `parent`; below a
    /// field whose type the registry cannot name (introspection) spreads are left
    /// alone. `None` when the budget runs out or the nesting passes what a valid
    /// document has.
    fn set(&mut self, set: &mut SelectionSet, parent: &str, depth: usize) -> Option<()> {
        if depth > 64 {
            return None;
        }
        let items = std::mem::take(&mut set.items);
        let mut out = Vec::with_capacity(items.len());
        for mut item in items {
            self.budget = self.budget.checked_sub(1)?;
            match &mut item.node {
                Selection::Field(field) => {
                    let field = &mut field.node;
                    if !field.selection_set.node.items.is_empty() {
                        match self.field_type(parent, field.name.node.as_str()) {
                            Some(ty) => {
                                self.set(&mut field.selection_set.node, &ty, depth + 1)?;
                            }
                            None => self.kept += count_spreads(&field.selection_set.node),
                        }
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(parent, |c| c.node.on.node.as_str())
                        .to_owned();
                    self.set(&mut fragment.node.selection_set.node, &on, depth + 1)?;
                }
                Selection::FragmentSpread(spread) => {
                    let definition = self.document.fragments.get(&spread.node.fragment_name.node);
                    if let Some(definition) = definition.filter(|d| {
                        spread.node.directives.is_empty()
                            && d.node.directives.is_empty()
                            && d.node.type_condition.node.on.node.as_str() == parent
                    }) {
                        let mut inner = definition.node.selection_set.node.clone();
                        self.set(&mut inner, parent, depth + 1)?;
                        self.inlined += 1;
                        out.extend(inner.items);
                        continue;
                    }
                    self.kept += 1;
                }
            }
            out.push(item);
        }
        set.items = out;
        Some(())
    }

    /// The named type of the field `name` of the object or interface `parent`.
    fn field_type(&self, parent: &str, name: &str) -> Option<String> {
        let (MetaType::Object { fields, .. } | MetaType::Interface { fields, .. }) =
            self.registry.types.get(parent)?
        else {
            return None;
        };
        let ty = &fields.get(name)?.ty;
        Some(MetaTypeName::concrete_typename(ty).to_owned())
    }
}

/// The fragment spreads in `set` and below.
fn count_spreads(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => count_spreads(&field.node.selection_set.node),
            Selection::FragmentSpread(_) => 1,
            Selection::InlineFragment(fragment) => count_spreads(&fragment.node.selection_set.node),
        })
        .sum()
}

/// The hash of an APQ `persistedQuery` extension.
fn persisted_query(value: async_graphql::Value) -> Result<String, ServerError> {
    #[derive(serde::Deserialize)]
    struct PersistedQuery {
        version: i32,
        #[serde(rename = "sha256Hash")]
        sha256_hash: String,
    }
    let query: PersistedQuery = async_graphql::from_value(value).map_err(|_| {
        ServerError::new("Invalid \"PersistedQuery\" extension configuration.", None)
    })?;
    if query.version != 1 {
        return Err(ServerError::new(
            format!(
                "Only the \"PersistedQuery\" extension of version \"1\" is supported, and the current version is \"{}\".",
                query.version
            ),
            None,
        ));
    }
    Ok(query.sha256_hash)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::fmt::Write as _;

    use super::*;

    fn parse(text: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(text).unwrap()
    }

    /// The response keys of the first operation's selection, in order, one level deep
    /// and through inline fragments; spreads as `...Name`.
    fn keys(set: &SelectionSet, out: &mut Vec<String>) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    out.push(field.node.response_key().node.to_string());
                    keys(&field.node.selection_set.node, out);
                }
                Selection::FragmentSpread(spread) => {
                    out.push(format!("...{}", spread.node.fragment_name.node));
                }
                Selection::InlineFragment(fragment) => {
                    keys(&fragment.node.selection_set.node, out);
                }
            }
        }
    }

    fn first_keys(document: &ExecutableDocument) -> Vec<String> {
        let mut out = Vec::new();
        for (_, operation) in document.operations.iter() {
            keys(&operation.node.selection_set.node, &mut out);
        }
        out
    }

    #[test]
    fn spreads_are_written_out_in_place_and_the_fragments_dropped() {
        let registry = VariableTypes::new();
        let document = parse(
            "query Q { event(id: 1) { id ...E venue { ...V } } }
             fragment E on Event { a: name ...F }
             fragment F on Event { tags }
             fragment V on Venue { city }",
        );
        let inlined = inline_fragments(&document, registry.registry()).unwrap();
        assert!(inlined.fragments.is_empty());
        assert_eq!(
            first_keys(&inlined),
            ["event", "id", "a", "tags", "venue", "city"]
        );
    }

    #[test]
    fn spreads_with_directives_or_on_unknown_ground_stay() {
        let registry = VariableTypes::new();
        let document = parse(
            "query Q($x: Boolean!) { event(id: 1) { ...E @skip(if: $x) ...F } }
             fragment E on Event { name }
             fragment F on Event { tags }",
        );
        let inlined = inline_fragments(&document, registry.registry()).unwrap();
        // `E` is still spread, so the fragments stay with the document.
        assert_eq!(inlined.fragments.len(), 2);
        assert_eq!(first_keys(&inlined), ["event", "...E", "tags"]);
        // A fragment whose condition is not the type it is spread into is left alone.
        let document = parse("{ event(id: 1) { ...V } } fragment V on Venue { city }");
        assert!(inline_fragments(&document, registry.registry()).is_none());
        // Nothing to do.
        assert!(inline_fragments(&parse("{ __typename }"), registry.registry()).is_none());
    }

    #[test]
    fn a_document_that_would_multiply_is_kept_as_parsed() {
        let registry = VariableTypes::new();
        // Every level spreads the next one twice: 2^14 copies of `id` written out.
        let mut text = String::from("{ event(id: 1) { ...F0 } }");
        for level in 0..14 {
            let next = level + 1;
            write!(
                text,
                " fragment F{level} on Event {{ ...F{next} ...F{next} }}"
            )
            .unwrap();
        }
        text.push_str(" fragment F14 on Event { id }");
        let document = parse(&text);
        assert!(inline_fragments(&document, registry.registry()).is_none());
    }
}
