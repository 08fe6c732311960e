//! The GraphQL object types: thin wrappers over the domain types whose resolvers pick
//! fields, and fetch nested ones (venue, performers, availability, seat map) only when
//! the query selects them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{EnumType, enum_value};
use async_graphql::{
    ComplexObject, Context, ContextSelectionSet, Enum, ID, Name, Object, OutputType, Positioned,
    Result, ScalarType, ServerError, ServerResult, SimpleObject, Value,
};
use serde::Deserialize;

use super::api;
use super::inline::{self, Inline, InlineList, Render};
use super::loaders::{self, Wants};
use crate::error::to_graphql;
use crate::json;

// Each enum is the GraphQL spelling of a domain enum: async-graphql's `remote` derives
// the conversions both ways, and the client reads the same type (its serde names are the
// GraphQL ones, SCREAMING_SNAKE_CASE), so server and client cannot disagree.

/// Kind of event.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[graphql(remote = "domain::Category")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Category {
    /// Music.
    Concert,
    /// Games and matches.
    Sports,
    /// Plays and musicals.
    Theater,
    /// Stand-up and sketch.
    Comedy,
    /// Multi-act events.
    Festival,
}

/// Sales status of an event.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[graphql(remote = "domain::EventStatus")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventStatus {
    /// Announced, not yet on sale.
    Scheduled,
    /// Seats can be held.
    OnSale,
    /// Every seat is held or sold right now.
    SoldOut,
    /// Called off.
    Cancelled,
}

/// State of one seat.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[graphql(remote = "domain::SeatState")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SeatState {
    /// Free.
    Available,
    /// In a live hold.
    Held,
    /// Bought.
    Sold,
}

/// Where a booking is in its life.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[graphql(remote = "domain::BookingStatus")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BookingStatus {
    /// Seats held until `expiresAt`.
    Held,
    /// Seats bought.
    Confirmed,
    /// Released by the customer.
    Cancelled,
    /// The hold lapsed.
    Expired,
}

/// Something people buy seats for, with what its nested fields read when the parent
/// field fetched it ahead (see [`super::loaders`]).
pub struct Event {
    /// The event.
    pub event: domain::Event,
    /// Venues fetched for the list this event is in, by id (`None`: not fetched).
    pub venues: Option<Arc<HashMap<u64, Arc<domain::Venue>>>>,
    /// Performers fetched for the list this event is in, by id.
    pub performers: Option<Arc<HashMap<u64, Arc<domain::Performer>>>>,
    /// This event's availability, when fetched (as the GraphQL objects, so the field
    /// lends them out instead of copying every section's name).
    pub availability: Option<Vec<SectionAvailability>>,
    /// This event's own venue and performers, in the order `venue` and `performers`
    /// answer them, when fetched with the event alone (its detail): read before the
    /// maps above, and lent out as they are (no map built and searched for one event).
    pub own: Option<(Venue, Vec<Performer>)>,
}

impl Event {
    /// `event` with nothing fetched ahead: nested fields fetch what they need.
    pub fn new(event: domain::Event) -> Self {
        Event {
            event,
            venues: None,
            performers: None,
            availability: None,
            own: None,
        }
    }
}

#[Object]
impl Event {
    /// Event id.
    async fn id(&self) -> ID {
        ID(decimal(self.event.id.0))
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.event.name
    }
    /// A paragraph about the event.
    async fn description(&self) -> &str {
        &self.event.description
    }
    /// Kind of event.
    async fn category(&self) -> Category {
        self.event.category.into()
    }
    /// Id of the venue (select `venue` for the venue itself).
    async fn venue_id(&self) -> ID {
        ID(decimal(self.event.venue_id.0))
    }
    /// Ids of the performers, headliner first.
    async fn performer_ids(&self) -> ScalarList<ID> {
        let ids: Vec<ID> = self
            .event
            .performer_ids
            .iter()
            .map(|p| ID(decimal(p.0)))
            .collect();
        ScalarList::new(&ids)
    }
    /// When it starts (RFC 3339, UTC).
    async fn starts_at(&self) -> domain::Timestamp {
        self.event.starts_at
    }
    /// Sales status.
    async fn status(&self) -> EventStatus {
        self.event.status.into()
    }
    /// Lower-case tags.
    async fn tags(&self) -> ScalarList<String> {
        ScalarList::new(&self.event.tags)
    }
    /// Cheapest seat, in cents.
    async fn min_price_cents(&self) -> i64 {
        self.event.min_price_cents
    }
    /// Dearest seat, in cents.
    async fn max_price_cents(&self) -> i64 {
        self.event.max_price_cents
    }
    /// ISO 4217 currency.
    async fn currency(&self) -> &str {
        &self.event.currency
    }
    /// The venue, fetched with every other venue of the list this event is in.
    async fn venue(&self, ctx: &Context<'_>) -> Result<Inline<Venue>> {
        let id = self.event.venue_id;
        if let Some((venue, _)) = &self.own {
            return Ok(Inline(venue.clone()));
        }
        if let Some(venues) = &self.venues {
            return venues
                .get(&id.0)
                .map(|v| Inline(Venue(Arc::clone(v))))
                .ok_or_else(|| to_graphql(&domain::Error::not_found("venue", id)));
        }
        let venue = api(ctx)?.get_venue(id).await.map_err(|e| to_graphql(&e))?;
        Ok(Inline(Venue(Arc::new(venue))))
    }
    /// The performers, headliner first, fetched with every other performer of the list
    /// this event is in.
    async fn performers(&self, ctx: &Context<'_>) -> Result<InlineList<'_, Performer>> {
        if let Some((_, performers)) = &self.own {
            return Ok(InlineList(Cow::Borrowed(performers)));
        }
        let found = if let Some(found) = &self.performers {
            Arc::clone(found)
        } else {
            let api = api(ctx)?;
            let mut found = HashMap::new();
            for &id in &self.event.performer_ids {
                let performer = api.get_performer(id).await.map_err(|e| to_graphql(&e))?;
                found.insert(id.0, Arc::new(performer));
            }
            Arc::new(found)
        };
        let performers = self
            .event
            .performer_ids
            .iter()
            .map(|id| {
                found
                    .get(&id.0)
                    .map(|p| Performer(Arc::clone(p)))
                    .ok_or_else(|| to_graphql(&domain::Error::not_found("performer", id)))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(InlineList(Cow::Owned(performers)))
    }
    /// Seats still available in each section.
    async fn availability(&self, ctx: &Context<'_>) -> Result<InlineList<'_, SectionAvailability>> {
        if let Some(fetched) = &self.availability {
            return Ok(InlineList(Cow::Borrowed(fetched)));
        }
        let availability = api(ctx)?
            .get_event_detail(self.event.id)
            .await
            .map_err(|e| to_graphql(&e))?
            .availability;
        Ok(InlineList(Cow::Owned(
            availability
                .into_iter()
                .map(SectionAvailability::from)
                .collect(),
        )))
    }
    /// Every seat with its state (large: thousands of seats for a big venue).
    #[graphql(complexity = "50 + child_complexity")]
    async fn seat_map(&self, ctx: &Context<'_>) -> Result<SeatMap> {
        let map = api(ctx)?
            .get_seat_map(self.event.id)
            .await
            .map_err(|e| to_graphql(&e))?;
        Ok(SeatMap::from(map))
    }
}

// What the resolvers above give, written straight to JSON (see `Render`): every plain
// field of an event. `venue`, `performers`, `availability` and `seatMap` resolve as
// fields.
impl Render for Event {
    const RENDERS: bool = true;

    fn render_field(&self, name: &str, out: &mut Vec<u8>) -> bool {
        let event = &self.event;
        match name {
            "id" => json::write_id(out, event.id.0),
            "name" => json::write_str(out, &event.name),
            "description" => json::write_str(out, &event.description),
            "category" => json::write_str(out, enum_name(Category::from(event.category))),
            "venueId" => json::write_id(out, event.venue_id.0),
            "performerIds" => write_list(out, &event.performer_ids, |out, id| {
                json::write_id(out, id.0);
            }),
            "startsAt" => json::write_timestamp(out, &event.starts_at),
            "status" => json::write_str(out, enum_name(EventStatus::from(event.status))),
            "tags" => write_list(out, &event.tags, |out, tag| json::write_str(out, tag)),
            "minPriceCents" => json::write_i64(out, event.min_price_cents),
            "maxPriceCents" => json::write_i64(out, event.max_price_cents),
            "currency" => json::write_str(out, &event.currency),
            _ => return false,
        }
        true
    }
}

/// The GraphQL name of an enum value (the name `enum_value` would give, without
/// allocating it).
fn enum_name<T: EnumType>(value: T) -> &'static str {
    T::items()
        .iter()
        .find(|item| item.value == value)
        .map_or("", |item| item.name)
}

/// `items` as a JSON array, each written by `write`.
fn write_list<T>(out: &mut Vec<u8>, items: &[T], write: impl Fn(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

/// A list of scalars, `[T!]!` in the schema, resolved in one synchronous pass: as
/// `Vec<T>` async-graphql resolves a list through one future per item joined with
/// `try_join_all`, which cost more than the items (an event's tags and performer ids).
pub struct ScalarList<T>(Vec<Value>, PhantomData<T>);

impl<T: ScalarType> ScalarList<T> {
    /// The list of `items`.
    pub fn new<'a>(items: impl IntoIterator<Item = &'a T>) -> Self
    where
        T: 'a,
    {
        ScalarList(
            items.into_iter().map(ScalarType::to_value).collect(),
            PhantomData,
        )
    }
}

impl<T> OutputType for ScalarList<T>
where
    T: ScalarType + OutputType + Send + Sync,
{
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
        _ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        Ok(Value::List(self.0.clone()))
    }
}

/// A venue with its seat layout.
#[derive(Clone)]
pub struct Venue(pub Arc<domain::Venue>);

#[Object]
impl Venue {
    /// Venue id.
    async fn id(&self) -> ID {
        ID(decimal(self.0.id.0))
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// City.
    async fn city(&self) -> &str {
        &self.0.city
    }
    /// ISO 3166-1 alpha-2 country code.
    async fn country(&self) -> &str {
        &self.0.country
    }
    /// Seats in all sections.
    async fn capacity(&self) -> u32 {
        self.0.capacity
    }
    /// Sections in layout order.
    async fn sections(&self) -> SectionList {
        SectionList(Arc::clone(&self.0))
    }
}

impl Render for Venue {
    const RENDERS: bool = true;

    fn render_field(&self, name: &str, out: &mut Vec<u8>) -> bool {
        let venue = &self.0;
        match name {
            "id" => json::write_id(out, venue.id.0),
            "name" => json::write_str(out, &venue.name),
            "city" => json::write_str(out, &venue.city),
            "country" => json::write_str(out, &venue.country),
            "capacity" => json::write_u64(out, u64::from(venue.capacity)),
            _ => return false,
        }
        true
    }
}

/// A priced block of rows.
#[derive(SimpleObject)]
pub struct Section {
    /// Section id within the venue.
    pub id: u32,
    /// Display name.
    pub name: String,
    /// Price of each seat, in cents.
    pub price_cents: i64,
    /// Rows in layout order.
    pub rows: Vec<Row>,
}

/// A row of seats numbered from 1.
#[derive(SimpleObject)]
pub struct Row {
    /// Row label.
    pub label: String,
    /// Seats in the row.
    pub seats: u32,
}

/// The sections of a venue, with their rows: `[Section!]!` in the schema, resolved in
/// one synchronous pass (a big venue has a thousand rows; as `Vec<Section>` each of
/// their fields would be a boxed future of its own). Selections, aliases, fragments
/// and `__typename` are honoured; fields with one response key merge their selections,
/// as the specification asks. When the request's objects may be JSON text ([`RawJson`]
/// with `objects`), the list is written as text directly (`SectionList::render`), the
/// same bytes the value tree writes.
pub struct SectionList(pub Arc<domain::Venue>);

/// The hasher of [`selected`]'s maps: the keys are a handful of response keys the
/// validated document chose, hashed on every request; SipHash and a fresh
/// `RandomState` per map cost more than the walk.
type Hasher = foldhash::fast::RandomState;

/// The fields a selection set selects, by response key, in order, with every field
/// node for that key (their sub-selections merge).
fn selected<'a>(
    ctx: &ContextSelectionSet<'a>,
    set: &'a SelectionSet,
    out: &mut IndexMap<Name, Vec<&'a Field>, Hasher>,
    depth: usize,
) -> ServerResult<()> {
    let mut all = Vec::new();
    selected_flat(ctx, set, &mut all, depth)?;
    for (_, field) in all {
        out.entry(field.response_key().node.clone())
            .or_default()
            .push(field);
    }
    Ok(())
}

/// As [`selected`], every field in document order with its response key, in a list.
fn selected_flat<'a>(
    ctx: &ContextSelectionSet<'a>,
    set: &'a SelectionSet,
    out: &mut Vec<(&'a str, &'a Field)>,
    depth: usize,
) -> ServerResult<()> {
    // Fragment cycles are refused by validation; this bound is a second guard.
    if depth > 32 {
        return Err(ServerError::new("selection nested too deep", None));
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                out.push((field.node.response_key().node.as_str(), &field.node));
            }
            Selection::FragmentSpread(spread) => {
                let fragment = inline::fragment(ctx, spread)?;
                selected_flat(ctx, &fragment.selection_set.node, out, depth + 1)?;
            }
            Selection::InlineFragment(inline) => {
                selected_flat(ctx, &inline.node.selection_set.node, out, depth + 1)?;
            }
        }
    }
    Ok(())
}

/// `(response key, field name)` for each key of `all`, in order of first appearance,
/// named by its first field: the keys and names of [`selected`]'s map.
fn first_per_key<'a>(all: &[(&'a str, &'a Field)]) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = Vec::with_capacity(all.len());
    for &(key, field) in all {
        if !out.iter().any(|(k, _)| *k == key) {
            out.push((key, field.name.node.as_str()));
        }
    }
    out
}

fn unknown_field(name: &str, on: &str) -> ServerError {
    ServerError::new(
        format!(r#"Cannot query field "{name}" on type "{on}"."#),
        None,
    )
}

impl OutputType for SectionList {
    fn type_name() -> Cow<'static, str> {
        <Vec<Section> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<Section> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<Section> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        if ctx.data_opt::<RawJson>().is_some_and(|raw| raw.objects) {
            // The same plans as below, in lists instead of maps (a handful of fields,
            // nothing hashed or allocated per key).
            let mut all = Vec::with_capacity(8);
            selected_flat(ctx, &ctx.item.node, &mut all, 0)?;
            let sections = first_per_key(&all);
            let mut all_rows = Vec::with_capacity(8);
            for &(key, _) in &sections {
                for &(_, field) in all.iter().filter(|(k, _)| *k == key) {
                    if field.name.node == "rows" {
                        selected_flat(ctx, &field.selection_set.node, &mut all_rows, 1)?;
                    }
                }
            }
            let rows = first_per_key(&all_rows);
            return Ok(Value::Binary(self.render(&sections, &rows)?.into()));
        }
        let mut plan = IndexMap::default();
        selected(ctx, &ctx.item.node, &mut plan, 0)?;
        // The rows' selection: every `rows` field's sub-selection, merged.
        let mut row_plan = IndexMap::default();
        for fields in plan.values() {
            for field in fields.iter().filter(|f| f.name.node == "rows") {
                selected(ctx, &field.selection_set.node, &mut row_plan, 1)?;
            }
        }
        let row_template: IndexMap<Name, Value> =
            row_plan.keys().map(|k| (k.clone(), Value::Null)).collect();
        let section_template: IndexMap<Name, Value> =
            plan.keys().map(|k| (k.clone(), Value::Null)).collect();
        let mut sections = Vec::with_capacity(self.0.sections.len());
        for section in &self.0.sections {
            let mut object = section_template.clone();
            for (slot, fields) in object.values_mut().zip(plan.values()) {
                let name = fields.first().map_or("", |f| f.name.node.as_str());
                *slot = match name {
                    "id" => Value::from(section.id),
                    "name" => Value::String(section.name.clone()),
                    "priceCents" => Value::from(section.price_cents),
                    "__typename" => Value::String("Section".to_owned()),
                    "rows" => {
                        let mut rows = Vec::with_capacity(section.rows.len());
                        for row in &section.rows {
                            let mut object = row_template.clone();
                            for (slot, fields) in object.values_mut().zip(row_plan.values()) {
                                let name = fields.first().map_or("", |f| f.name.node.as_str());
                                *slot = match name {
                                    "label" => Value::String(row.label.clone()),
                                    "seats" => Value::from(row.seats),
                                    "__typename" => Value::String("Row".to_owned()),
                                    other => return Err(unknown_field(other, "Row")),
                                };
                            }
                            rows.push(Value::Object(object));
                        }
                        Value::List(rows)
                    }
                    other => return Err(unknown_field(other, "Section")),
                };
            }
            sections.push(Value::Object(object));
        }
        Ok(Value::List(sections))
    }
}

impl SectionList {
    /// The sections as the JSON text the value tree above writes, byte for byte (the
    /// same keys in the same order, each value by the writer [`crate::json`] uses for
    /// it; each plan is `(response key, field name)` per key, see [`first_per_key`]),
    /// for a request whose objects may be text ([`RawJson`] with `objects`: no two
    /// fields of the document share a response key, so nothing is merged into it). A
    /// venue has a few sections of a few dozen rows; as a value tree each row was a map
    /// cloned from a template and each label a copied string, all written once more.
    fn render(
        &self,
        section_fields: &[(&str, &str)],
        row_fields: &[(&str, &str)],
    ) -> ServerResult<Vec<u8>> {
        let rows: usize = self.0.sections.iter().map(|s| s.rows.len()).sum();
        let mut out = Vec::with_capacity(
            2 + self.0.sections.len() * 24 * (1 + section_fields.len())
                + rows * 24 * (1 + row_fields.len()),
        );
        out.push(b'[');
        for (n, section) in self.0.sections.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            for (i, &(key, name)) in section_fields.iter().enumerate() {
                write_key(&mut out, i, key);
                match name {
                    "id" => json::write_u64(&mut out, u64::from(section.id)),
                    "name" => json::write_str(&mut out, &section.name),
                    "priceCents" => json::write_i64(&mut out, section.price_cents),
                    "__typename" => json::write_str(&mut out, "Section"),
                    "rows" => {
                        out.push(b'[');
                        for (r, row) in section.rows.iter().enumerate() {
                            if r > 0 {
                                out.push(b',');
                            }
                            for (i, &(key, name)) in row_fields.iter().enumerate() {
                                write_key(&mut out, i, key);
                                match name {
                                    "label" => json::write_str(&mut out, &row.label),
                                    "seats" => json::write_u64(&mut out, u64::from(row.seats)),
                                    "__typename" => json::write_str(&mut out, "Row"),
                                    other => return Err(unknown_field(other, "Row")),
                                }
                            }
                            close(&mut out, row_fields.is_empty());
                        }
                        out.push(b']');
                    }
                    other => return Err(unknown_field(other, "Section")),
                }
            }
            close(&mut out, section_fields.is_empty());
        }
        out.push(b']');
        Ok(out)
    }
}

/// `{"key":` for an object's first field (`i == 0`), `,"key":` for the others.
fn write_key(out: &mut Vec<u8>, i: usize, key: &str) {
    out.push(if i == 0 { b'{' } else { b',' });
    json::write_str(out, key);
    out.push(b':');
}

/// Ends an object written field by field: `}`, or `{}` when it had no field.
fn close(out: &mut Vec<u8>, empty: bool) {
    out.extend_from_slice(if empty { b"{}" } else { b"}" });
}

/// Someone who performs at events.
#[derive(Clone)]
pub struct Performer(pub Arc<domain::Performer>);

#[Object]
impl Performer {
    /// Performer id.
    async fn id(&self) -> ID {
        ID(decimal(self.0.id.0))
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Genre.
    async fn genre(&self) -> &str {
        &self.0.genre
    }
    /// A short biography.
    async fn bio(&self) -> &str {
        &self.0.bio
    }
}

impl Render for Performer {
    const RENDERS: bool = true;

    fn render_field(&self, name: &str, out: &mut Vec<u8>) -> bool {
        let performer = &self.0;
        match name {
            "id" => json::write_id(out, performer.id.0),
            "name" => json::write_str(out, &performer.name),
            "genre" => json::write_str(out, &performer.genre),
            "bio" => json::write_str(out, &performer.bio),
            _ => return false,
        }
        true
    }
}

/// Availability of one section.
#[derive(SimpleObject, Clone)]
pub struct SectionAvailability {
    /// Section id.
    pub section_id: u32,
    /// Section name.
    pub name: String,
    /// Seat price in cents.
    pub price_cents: i64,
    /// Seats in the section.
    pub total: u32,
    /// Seats neither held nor sold.
    pub available: u32,
}

impl Render for SectionAvailability {
    const RENDERS: bool = true;

    fn render_field(&self, name: &str, out: &mut Vec<u8>) -> bool {
        match name {
            "sectionId" => json::write_u64(out, u64::from(self.section_id)),
            "name" => json::write_str(out, &self.name),
            "priceCents" => json::write_i64(out, self.price_cents),
            "total" => json::write_u64(out, u64::from(self.total)),
            "available" => json::write_u64(out, u64::from(self.available)),
            _ => return false,
        }
        true
    }
}

impl From<domain::SectionAvailability> for SectionAvailability {
    fn from(a: domain::SectionAvailability) -> Self {
        SectionAvailability {
            section_id: a.section_id,
            name: a.name,
            price_cents: a.price_cents,
            total: a.total,
            available: a.available,
        }
    }
}

/// Every seat of an event.
#[derive(SimpleObject)]
pub struct SeatMap {
    /// Event id.
    pub event_id: ID,
    /// Inventory version the map was read at.
    pub version: u64,
    /// Seats in id order.
    pub seats: SeatList,
}

impl From<domain::SeatMap> for SeatMap {
    fn from(m: domain::SeatMap) -> Self {
        SeatMap {
            event_id: ID(m.event_id.to_string()),
            version: m.version,
            seats: SeatList(m.seats),
        }
    }
}

// The schema describes `Seat` (and validation checks selections against it) like any
// object; its values are built by `SeatList`, not by per-field resolvers.
/// One seat.
#[derive(SimpleObject)]
pub struct Seat {
    /// Seat id within the event.
    pub seat_id: u32,
    /// Section id.
    pub section_id: u32,
    /// Row label.
    pub row: String,
    /// Seat number in the row.
    pub number: u32,
    /// Price in cents.
    pub price_cents: i64,
    /// Current state.
    pub state: SeatState,
}

/// The seats of a seat map: `[Seat!]!` in the schema, resolved in one synchronous pass.
///
/// A big venue has tens of thousands of seats, six fields each. Resolved as a
/// `Vec<Seat>`, every one of those fields is its own boxed future polled by
/// async-graphql; here the selection (fields, aliases, fragments, `__typename`) is read
/// once, and each seat becomes an object with exactly the selected fields, in selection
/// order, from a template whose keys are hashed once. The seat fields are plain values
/// that cannot fail, so nothing a resolver would add is lost.
pub struct SeatList(pub Vec<domain::Seat>);

/// A field of [`Seat`] a selection can ask for.
#[derive(Clone, Copy)]
enum SeatField {
    SeatId,
    SectionId,
    Row,
    Number,
    PriceCents,
    State,
    Typename,
}

impl SeatList {
    /// The selected fields, by response key, in order (first occurrence wins; validation
    /// guarantees a repeated key names the same field).
    fn plan(
        ctx: &ContextSelectionSet<'_>,
        set: &SelectionSet,
        plan: &mut IndexMap<Name, SeatField>,
        depth: usize,
    ) -> ServerResult<()> {
        // Fragment cycles are refused by validation; this bound is a second guard.
        if depth > 32 {
            return Err(ServerError::new("seat selection nested too deep", None));
        }
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let kind = match field.name.node.as_str() {
                        "seatId" => SeatField::SeatId,
                        "sectionId" => SeatField::SectionId,
                        "row" => SeatField::Row,
                        "number" => SeatField::Number,
                        "priceCents" => SeatField::PriceCents,
                        "state" => SeatField::State,
                        "__typename" => SeatField::Typename,
                        other => {
                            return Err(ServerError::new(
                                format!(r#"Cannot query field "{other}" on type "Seat"."#),
                                Some(selection.pos),
                            ));
                        }
                    };
                    let key = field.response_key().node.clone();
                    plan.entry(key).or_insert(kind);
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    let Some(fragment) = ctx.query_env.fragments.get(name) else {
                        return Err(ServerError::new(
                            format!(r#"Unknown fragment "{name}"."#),
                            Some(spread.pos),
                        ));
                    };
                    Self::plan(ctx, &fragment.node.selection_set.node, plan, depth + 1)?;
                }
                Selection::InlineFragment(inline) => {
                    Self::plan(ctx, &inline.node.selection_set.node, plan, depth + 1)?;
                }
            }
        }
        Ok(())
    }
}

impl OutputType for SeatList {
    fn type_name() -> Cow<'static, str> {
        <Vec<Seat> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<Seat> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<Seat> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let mut plan = IndexMap::new();
        Self::plan(ctx, &ctx.item.node, &mut plan, 0)?;
        let states = [
            enum_value(SeatState::Available),
            enum_value(SeatState::Held),
            enum_value(SeatState::Sold),
        ];
        let index = |state: domain::SeatState| match state {
            domain::SeatState::Available => 0,
            domain::SeatState::Held => 1,
            domain::SeatState::Sold => 2,
        };
        if ctx.data_opt::<RawJson>().is_some() {
            return Ok(Value::Binary(self.render(&plan, &states, index)?.into()));
        }
        let typename = Value::String("Seat".to_owned());
        let template: IndexMap<Name, Value> =
            plan.keys().map(|k| (k.clone(), Value::Null)).collect();
        let kinds: Vec<SeatField> = plan.values().copied().collect();
        let seats = self
            .0
            .iter()
            .map(|seat| {
                let mut object = template.clone();
                for (slot, kind) in object.values_mut().zip(&kinds) {
                    *slot = match kind {
                        SeatField::SeatId => Value::from(seat.seat_id.0),
                        SeatField::SectionId => Value::from(seat.section_id),
                        SeatField::Row => Value::String(seat.row.clone()),
                        SeatField::Number => Value::from(seat.number),
                        SeatField::PriceCents => Value::from(seat.price_cents),
                        SeatField::State => states[index(seat.state)].clone(),
                        SeatField::Typename => typename.clone(),
                    };
                }
                Value::Object(object)
            })
            .collect();
        Ok(Value::List(seats))
    }
}

impl SeatList {
    /// The seats as the JSON text of the list, for [`crate::http`]'s writer: each key
    /// escaped once, each value written straight from the domain seat.
    fn render(
        &self,
        plan: &IndexMap<Name, SeatField>,
        states: &[Value; 3],
        index: impl Fn(domain::SeatState) -> usize,
    ) -> ServerResult<Vec<u8>> {
        let failed = |e: serde_json::Error| ServerError::new(e.to_string(), None);
        // `{"key":` for the first field, `,"key":` for the others.
        let mut prefixes = Vec::with_capacity(plan.len());
        for (i, key) in plan.keys().enumerate() {
            let mut prefix = vec![if i == 0 { b'{' } else { b',' }];
            serde_json::to_writer(&mut prefix, key.as_str()).map_err(failed)?;
            prefix.push(b':');
            prefixes.push(prefix);
        }
        let mut rendered_states = Vec::with_capacity(3);
        for state in states {
            rendered_states.push(serde_json::to_vec(state).map_err(failed)?);
        }
        let mut out = Vec::with_capacity(self.0.len() * (16 + 12 * plan.len()) + 2);
        out.push(b'[');
        for (n, seat) in self.0.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            if plan.is_empty() {
                out.extend_from_slice(b"{}");
                continue;
            }
            for (prefix, kind) in prefixes.iter().zip(plan.values()) {
                out.extend_from_slice(prefix);
                match kind {
                    SeatField::SeatId => json::write_u64(&mut out, u64::from(seat.seat_id.0)),
                    SeatField::SectionId => json::write_u64(&mut out, u64::from(seat.section_id)),
                    SeatField::Number => json::write_u64(&mut out, u64::from(seat.number)),
                    SeatField::PriceCents => json::write_i64(&mut out, seat.price_cents),
                    SeatField::Row => json::write_str(&mut out, &seat.row),
                    SeatField::State => {
                        out.extend_from_slice(&rendered_states[index(seat.state)]);
                    }
                    SeatField::Typename => out.extend_from_slice(b"\"Seat\""),
                }
            }
            out.push(b'}');
        }
        out.push(b']');
        Ok(out)
    }
}

/// `n` in decimal, as an id's text: `to_string` goes through the formatting machinery,
/// which costs several times this for the ids every event carries.
fn decimal(n: u64) -> String {
    let mut out = Vec::with_capacity(20);
    json::write_u64(&mut out, n);
    // Only ASCII digits were written.
    String::from_utf8(out).unwrap_or_default()
}

/// Request data asking [`SeatList`] for its JSON text (a `Value::Binary` the endpoint's
/// writer copies as is) instead of a value tree, and, with `objects`, the objects
/// [`Inline`] resolves and a venue's sections ([`SectionList`]) too. Only [`crate::prepared::Engine`]'s JSON path adds it;
/// without it the seats are an ordinary value tree, so `Schema::execute` and serde
/// serialisation stay correct.
#[derive(Debug, Clone, Copy)]
pub struct RawJson {
    /// Whether objects may be written as text as well: only for a document where no
    /// two fields of a selection share a response key, since async-graphql merges the
    /// objects of such fields, which it cannot do with text (see
    /// [`crate::prepared`]).
    pub objects: bool,
}

/// One search hit.
#[derive(SimpleObject)]
pub struct SearchHit {
    /// The event.
    pub event: Inline<Event>,
    /// BM25 relevance, higher is better.
    pub score: f64,
}

// Value trees always: a hit is two fields, one of them the event (written as text).
impl Render for SearchHit {}

/// Who a booking is for.
#[derive(SimpleObject)]
pub struct Customer {
    /// Full name.
    pub name: String,
    /// E-mail address.
    pub email: String,
}

/// Seats of one event held or bought by one customer.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Booking {
    /// Booking id.
    pub id: ID,
    /// Event id.
    pub event_id: ID,
    /// Seat ids, ascending.
    pub seat_ids: Vec<u32>,
    /// Who it is for.
    pub customer: Customer,
    /// Status.
    pub status: BookingStatus,
    /// Total in cents.
    pub total_cents: i64,
    /// ISO 4217 currency.
    pub currency: String,
    /// When the hold was made.
    pub created_at: domain::Timestamp,
    /// When the hold lapses unless confirmed.
    pub expires_at: domain::Timestamp,
    /// Bumped by every change; `confirmBooking` must name the current one.
    pub version: u64,
    /// The event id as the domain has it, for the `event` resolver.
    #[graphql(skip)]
    pub domain_event_id: domain::EventId,
}

// Value trees always (mutations and `booking`, not the hot reads).
impl Render for Booking {}

#[ComplexObject]
impl Booking {
    /// The event the seats belong to.
    async fn event(&self, ctx: &Context<'_>) -> Result<Inline<Event>> {
        let wants = Wants::of_field(ctx);
        loaders::one(api(ctx)?, self.domain_event_id, wants)
            .await
            .map(Inline)
            .map_err(|e| to_graphql(&e))
    }
}

impl From<domain::Booking> for Booking {
    fn from(b: domain::Booking) -> Self {
        Booking {
            id: ID(b.id.to_string()),
            event_id: ID(b.event_id.to_string()),
            seat_ids: b.seat_ids.iter().map(|s| s.0).collect(),
            customer: Customer {
                name: b.customer.name,
                email: b.customer.email,
            },
            status: b.status.into(),
            total_cents: b.total_cents,
            currency: b.currency,
            created_at: b.created_at,
            expires_at: b.expires_at,
            version: b.version,
            domain_event_id: b.event_id,
        }
    }
}
