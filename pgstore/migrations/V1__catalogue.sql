-- The catalogue: read-mostly, loaded with COPY. Search words are the domain tokeniser's
-- (stop words dropped, lower-cased) stored per weight class; the tsvector is generated
-- from them with the 'simple' configuration, so the database matches exactly the words
-- the in-memory index matches.
CREATE TABLE venues (
    id        bigint PRIMARY KEY,
    name      text    NOT NULL,
    city      text    NOT NULL,
    city_key  text    NOT NULL, -- the city lower-cased by the domain, for the city filter
    country   text    NOT NULL,
    capacity  integer NOT NULL CHECK (capacity >= 0)
);
CREATE INDEX venues_city_key ON venues (city_key);

-- Seat layout: seat ids count through sections in order, then rows, then seat numbers.
CREATE TABLE venue_sections (
    venue_id    bigint  NOT NULL REFERENCES venues (id),
    section_id  integer NOT NULL,
    name        text    NOT NULL,
    price_cents bigint  NOT NULL,
    first_seat  integer NOT NULL,
    seat_count  integer NOT NULL,
    row_labels  text[]  NOT NULL,
    row_seats   integer[] NOT NULL,
    PRIMARY KEY (venue_id, section_id)
);

CREATE TABLE performers (
    id    bigint PRIMARY KEY,
    name  text NOT NULL,
    genre text NOT NULL,
    bio   text NOT NULL
);

CREATE TABLE events (
    id              bigint PRIMARY KEY,
    name            text        NOT NULL,
    description     text        NOT NULL,
    category        text        NOT NULL,
    venue_id        bigint      NOT NULL REFERENCES venues (id),
    starts_at       timestamptz NOT NULL,
    status          text        NOT NULL CHECK (status IN ('scheduled', 'on_sale', 'cancelled')),
    tags            text[]      NOT NULL,
    min_price_cents bigint      NOT NULL,
    max_price_cents bigint      NOT NULL,
    currency        text        NOT NULL,
    search_a        text        NOT NULL, -- name words
    search_b        text        NOT NULL, -- performer and tag words
    search_d        text        NOT NULL, -- description and city words
    search          tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, search_a), 'A')
        || setweight(to_tsvector('simple'::regconfig, search_b), 'B')
        || setweight(to_tsvector('simple'::regconfig, search_d), 'D')
    ) STORED
);
CREATE INDEX events_listing ON events (starts_at, id);
CREATE INDEX events_category_listing ON events (category, starts_at, id);
CREATE INDEX events_venue ON events (venue_id, starts_at, id);
CREATE INDEX events_search ON events USING gin (search);

CREATE TABLE event_performers (
    event_id     bigint  NOT NULL REFERENCES events (id),
    position     integer NOT NULL,
    performer_id bigint  NOT NULL REFERENCES performers (id),
    PRIMARY KEY (event_id, position)
);
