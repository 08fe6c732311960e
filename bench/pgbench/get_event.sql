-- get_event's database floor: the one statement PgStore::event_row runs (pgstore/src/
-- backend.rs, columns from rows.rs EVENT_COLUMNS), for an event drawn uniformly from
-- 1..:events as the harness's workers draw them. The store's clock parameter is now().
-- Run by `quartet bench --store postgres` with pgbench -M prepared (bench/src/pgfloor.rs).
\set id random(1, :events)
SELECT e.id, e.name, e.description, e.category, e.venue_id,
       e.starts_at, e.status, e.tags, e.min_price_cents, e.max_price_cents, e.currency,
       ARRAY(SELECT p.performer_id FROM event_performers p WHERE p.event_id = e.id
             ORDER BY p.position) AS performer_ids,
       (e.status = 'on_sale' AND (SELECT count(*) FROM seat_claims c WHERE c.event_id = e.id
             AND (c.status = 'sold' OR c.expires_at > now())) >= v.capacity) AS sold_out
FROM events e JOIN venues v ON v.id = e.venue_id
WHERE e.id = :id;
