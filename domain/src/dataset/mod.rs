//! The deterministic dataset generator: venues with seat layouts, performers and events.
//!
//! Same `(events, seed)`, same data, byte for byte, in every process and on every machine:
//! the only source of randomness is a seeded `ChaCha8` stream per kind of record, every list
//! it draws from is a fixed slice (no hash-map order), and dates count from a fixed epoch
//! (no wall clock). Sizes scale with the number of events.

mod cities;
mod words;

use chrono::{Duration, TimeZone, Utc};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::{
    Category, Event, EventId, EventStatus, Performer, PerformerId, Row, Section, Timestamp, Venue,
    VenueId,
};
use words::{
    ADJECTIVES, BIO_TEMPLATES, COMEDY_GENRES, COMEDY_TAGS, CONCERT_GENRES, CONCERT_TAGS,
    DESCRIPTION_CLOSERS, DESCRIPTION_OPENERS, FESTIVAL_TAGS, FESTIVAL_WORDS, FIRST_NAMES,
    LAST_NAMES, NOUNS, SECTION_KINDS, SHOW_TITLES, SPORTS_GENRES, SPORTS_TAGS, TEAM_NOUNS,
    THEATER_GENRES, THEATER_TAGS, TOUR_WORDS, VENUE_KINDS,
};

/// Events generated when no size is given.
pub const DEFAULT_EVENTS: u32 = 10_000;
/// Seed used when none is given.
pub const DEFAULT_SEED: u64 = 42;
/// Smallest and largest venue capacity the generator aims for.
pub const CAPACITY_RANGE: (u32, u32) = (100, 20_000);
/// Days after the epoch over which event start times are spread.
pub const SPAN_DAYS: i64 = 730;

/// The fixed epoch event dates count from: 2027-01-01T00:00:00Z.
pub fn epoch() -> Timestamp {
    Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// What a dataset is generated from. Two processes with the same spec hold the same data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct DatasetSpec {
    /// Number of events.
    pub events: u32,
    /// Random seed.
    pub seed: u64,
}

impl Default for DatasetSpec {
    fn default() -> Self {
        DatasetSpec {
            events: DEFAULT_EVENTS,
            seed: DEFAULT_SEED,
        }
    }
}

/// A generated catalogue. Ids are dense and start at 1: record `id` is at index `id - 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// What it was generated from.
    pub spec: DatasetSpec,
    /// Venues with their seat layouts.
    pub venues: Vec<Venue>,
    /// Performers.
    pub performers: Vec<Performer>,
    /// Events.
    pub events: Vec<Event>,
}

impl Dataset {
    /// Generates `events` events (and venues and performers in proportion) from `seed`.
    pub fn generate(events: u32, seed: u64) -> Dataset {
        Self::from_spec(DatasetSpec { events, seed })
    }

    /// Generates the dataset `spec` describes.
    pub fn from_spec(spec: DatasetSpec) -> Dataset {
        let venue_count = (spec.events / 25).max(10);
        let performer_count = (spec.events / 5).max(20);
        let (venues, currencies): (Vec<Venue>, Vec<&str>) = (1..=u64::from(venue_count))
            .map(|id| generate_venue(VenueId(id), &mut stream(spec.seed, 1, id)))
            .unzip();
        let performers = (1..=u64::from(performer_count))
            .map(|id| generate_performer(PerformerId(id), &mut stream(spec.seed, 2, id)))
            .collect::<Vec<_>>();
        let pools = PerformerPools::new(&performers);
        let events = (1..=u64::from(spec.events))
            .map(|id| {
                generate_event(
                    EventId(id),
                    &mut stream(spec.seed, 3, id),
                    &venues,
                    &currencies,
                    &performers,
                    &pools,
                )
            })
            .collect();
        Dataset {
            spec,
            venues,
            performers,
            events,
        }
    }

    /// Total seats over all events (each event has its venue's capacity).
    pub fn total_seats(&self) -> u64 {
        self.events
            .iter()
            .map(|e| u64::from(self.venues[venue_index(e.venue_id)].capacity))
            .sum()
    }
}

fn venue_index(id: VenueId) -> usize {
    (id.0 - 1) as usize
}

/// One independent random stream per record, so a record depends only on the seed and its
/// own id (and generating more events never changes the earlier ones).
fn stream(seed: u64, kind: u64, id: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(kind);
    rng.set_word_pos(u128::from(id) << 12);
    rng
}

/// Kind of act a performer is, which decides the events it can appear in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Act {
    Music,
    Team,
    Troupe,
    Comic,
}

const ACTS: [Act; 4] = [Act::Music, Act::Team, Act::Troupe, Act::Comic];

fn act_of(id: PerformerId, rng: &mut ChaCha8Rng) -> Act {
    // The first ids cycle through every act so even the smallest dataset has each kind.
    if id.0 <= 8 {
        return ACTS[(id.0 as usize - 1) % 4];
    }
    match rng.random_range(0..100) {
        0..50 => Act::Music,
        50..70 => Act::Team,
        70..85 => Act::Troupe,
        _ => Act::Comic,
    }
}

fn pick<'a>(rng: &mut ChaCha8Rng, list: &[&'a str]) -> &'a str {
    list.choose(rng).copied().unwrap_or_default()
}

fn title_case(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn city_of(rng: &mut ChaCha8Rng) -> (&'static str, &'static str, &'static str) {
    cities::CITIES
        .choose(rng)
        .copied()
        .unwrap_or(("Paris", "FR", "EUR"))
}

/// A venue and the currency its events are priced in.
fn generate_venue(id: VenueId, rng: &mut ChaCha8Rng) -> (Venue, &'static str) {
    let (city, country, currency) = city_of(rng);
    let kind = pick(rng, VENUE_KINDS);
    let name = match rng.random_range(0..3) {
        0 => format!("{} {kind}", title_case(pick(rng, ADJECTIVES))),
        1 => format!("{city} {kind}"),
        _ => format!("{} Memorial {kind}", pick(rng, LAST_NAMES)),
    };
    // Squaring a uniform draw before the exponent makes small rooms common and stadiums
    // rare: a long tail from about 100 to 20 000 seats.
    let u: f64 = rng.random();
    let (lo, hi) = CAPACITY_RANGE;
    let target = (f64::from(lo) * (f64::from(hi) / f64::from(lo)).powf(u * u)).round() as u32;
    let section_count = (target / 1_500 + rng.random_range(1..=3)).clamp(1, 12);
    let base_price = i64::from(rng.random_range(15..=90)) * 100;
    let mut sections = Vec::with_capacity(section_count as usize);
    let mut first_row = 0usize;
    for s in 0..section_count {
        let mut seats = target / section_count;
        if s == 0 {
            seats += target % section_count;
        }
        let per_row = rng.random_range(10..=40).min(seats.max(1));
        let mut rows = Vec::new();
        let mut left = seats;
        while left > 0 {
            let n = per_row.min(left);
            rows.push(Row {
                label: row_label(first_row + rows.len()),
                seats: n,
            });
            left -= n;
        }
        first_row += rows.len();
        // Front sections cost up to three times the back ones, rounded to whole units.
        let factor = 3.0 - 2.0 * f64::from(s) / f64::from(section_count);
        let price_cents = ((base_price as f64 * factor) / 100.0).round() as i64 * 100;
        sections.push(Section {
            id: s,
            name: format!("{} {}", pick(rng, SECTION_KINDS), s + 1),
            price_cents,
            rows,
        });
    }
    let capacity = sections.iter().map(Section::seat_count).sum();
    let venue = Venue {
        id,
        name,
        city: city.to_owned(),
        country: country.to_owned(),
        capacity,
        sections,
    };
    (venue, currency)
}

/// "A".."Z", then "AA".."AZ", "BA".. (bijective base 26, like spreadsheet columns).
fn row_label(index: usize) -> String {
    let mut n = index + 1;
    let mut label = Vec::new();
    while n > 0 {
        n -= 1;
        label.push(b'A' + (n % 26) as u8);
        n /= 26;
    }
    label.reverse();
    String::from_utf8(label).unwrap_or_default()
}

fn generate_performer(id: PerformerId, rng: &mut ChaCha8Rng) -> Performer {
    let act = act_of(id, rng);
    let (name, genre) = match act {
        Act::Music => {
            let name = match rng.random_range(0..3) {
                0 => format!(
                    "The {} {}",
                    title_case(pick(rng, ADJECTIVES)),
                    title_case(pick(rng, NOUNS))
                ),
                1 => format!("{} {}", pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)),
                _ => format!(
                    "{} {}",
                    title_case(pick(rng, ADJECTIVES)),
                    title_case(pick(rng, NOUNS))
                ),
            };
            (name, pick(rng, CONCERT_GENRES))
        }
        Act::Team => {
            let (city, _, _) = city_of(rng);
            (
                format!("{city} {}", pick(rng, TEAM_NOUNS)),
                pick(rng, SPORTS_GENRES),
            )
        }
        Act::Troupe => (
            format!(
                "{} {} Company",
                title_case(pick(rng, ADJECTIVES)),
                pick(rng, LAST_NAMES)
            ),
            pick(rng, THEATER_GENRES),
        ),
        Act::Comic => (
            format!("{} {}", pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)),
            pick(rng, COMEDY_GENRES),
        ),
    };
    let bio = pick(rng, BIO_TEMPLATES).replace("{g}", genre);
    Performer {
        id,
        name,
        genre: genre.to_owned(),
        bio,
    }
}

/// Performer indices by act, so an event draws performers of the right kind.
struct PerformerPools {
    by_act: [Vec<usize>; 4],
}

impl PerformerPools {
    fn new(performers: &[Performer]) -> Self {
        let mut by_act: [Vec<usize>; 4] = Default::default();
        for (i, p) in performers.iter().enumerate() {
            let act = if CONCERT_GENRES.contains(&p.genre.as_str()) {
                0
            } else if SPORTS_GENRES.contains(&p.genre.as_str()) {
                1
            } else if THEATER_GENRES.contains(&p.genre.as_str()) {
                2
            } else {
                3
            };
            by_act[act].push(i);
        }
        PerformerPools { by_act }
    }

    /// `count` distinct performers of `act`, or all of them if there are fewer.
    fn draw(&self, act: Act, count: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
        let pool = &self.by_act[ACTS.iter().position(|a| *a == act).unwrap_or(0)];
        pool.choose_multiple(rng, count.min(pool.len()))
            .copied()
            .collect()
    }
}

fn generate_event(
    id: EventId,
    rng: &mut ChaCha8Rng,
    venues: &[Venue],
    currencies: &[&str],
    performers: &[Performer],
    pools: &PerformerPools,
) -> Event {
    let venue_index = rng.random_range(0..venues.len());
    let venue = &venues[venue_index];
    let category = match rng.random_range(0..100) {
        0..40 => Category::Concert,
        40..60 => Category::Sports,
        60..75 => Category::Theater,
        75..90 => Category::Comedy,
        _ => Category::Festival,
    };
    let (act, count, tags) = match category {
        Category::Concert => (Act::Music, rng.random_range(1..=3), CONCERT_TAGS),
        Category::Sports => (Act::Team, 2, SPORTS_TAGS),
        Category::Theater => (Act::Troupe, rng.random_range(1..=2), THEATER_TAGS),
        Category::Comedy => (Act::Comic, rng.random_range(1..=3), COMEDY_TAGS),
        Category::Festival => (Act::Music, rng.random_range(3..=6), FESTIVAL_TAGS),
    };
    let cast: Vec<&Performer> = pools
        .draw(act, count, rng)
        .into_iter()
        .map(|i| &performers[i])
        .collect();
    let headliner = cast.first().map_or("Special Guests", |p| p.name.as_str());
    let days = rng.random_range(0..SPAN_DAYS);
    let minutes = rng.random_range(11..=22) * 60 + 15 * rng.random_range(0..4);
    let starts_at = epoch() + Duration::days(days) + Duration::minutes(minutes);
    let name = match category {
        Category::Concert => format!("{headliner}: {}", pick(rng, TOUR_WORDS)),
        Category::Sports => match cast.as_slice() {
            [home, away, ..] => format!("{} vs {}", home.name, away.name),
            _ => format!("{headliner} Exhibition Game"),
        },
        Category::Theater => format!("{} by {headliner}", pick(rng, SHOW_TITLES)),
        Category::Comedy => format!(
            "{headliner}: {} {}",
            title_case(pick(rng, ADJECTIVES)),
            title_case(pick(rng, NOUNS))
        ),
        Category::Festival => format!(
            "{} {} Festival {}",
            venue.city,
            pick(rng, FESTIVAL_WORDS),
            chrono::Datelike::year(&starts_at)
        ),
    };
    let names: Vec<&str> = cast.iter().map(|p| p.name.as_str()).collect();
    let genres: Vec<&str> = cast.iter().map(|p| p.genre.as_str()).collect();
    let description = format!(
        "{} with {} at {} in {}: {} at its best. {}",
        pick(rng, DESCRIPTION_OPENERS),
        names.join(", "),
        venue.name,
        venue.city,
        genres.first().copied().unwrap_or("live entertainment"),
        pick(rng, DESCRIPTION_CLOSERS),
    );
    let tag_count = rng.random_range(2..=3);
    let mut event_tags: Vec<String> = tags
        .choose_multiple(rng, tag_count)
        .map(|t| (*t).to_owned())
        .collect();
    if let Some(genre) = genres.first() {
        event_tags.push(genre.replace(' ', "-"));
    }
    let status = match rng.random_range(0..100) {
        0..85 => EventStatus::OnSale,
        85..95 => EventStatus::Scheduled,
        _ => EventStatus::Cancelled,
    };
    let prices = venue.sections.iter().map(|s| s.price_cents);
    let currency = currencies[venue_index];
    Event {
        id,
        name,
        description,
        category,
        venue_id: venue.id,
        performer_ids: cast.iter().map(|p| p.id).collect(),
        starts_at,
        status,
        tags: event_tags,
        min_price_cents: prices.clone().min().unwrap_or(0),
        max_price_cents: prices.max().unwrap_or(0),
        currency: currency.to_owned(),
    }
}

#[cfg(test)]
mod tests;
