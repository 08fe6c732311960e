-- hold_cancel's database floor: PgStore::hold_inner, then PgStore::transition (the
-- cancel), statement for statement and round trip for round trip (BEGIN and COMMIT are
-- round trips in tokio-postgres too; the store's pipelined pairs are pipelines here).
-- Client i holds two seats of the harness's worker i's event (:hold_events[i+1]), seats
-- 2n mod 62 and the next, then cancels them, as the workers do.
-- What differs, and why it costs nothing: the section recorded in each claim is 0, the
-- total is 0 and the section counts written back are the ones read (a hold then its
-- cancel leave them as they were); the store computes these in Rust between statements.
-- The store's clock parameter is now(); statuses are parameters, as in the store.
\if :ev = 0
SELECT (:hold_events::bigint[])[:client_id + 1] AS ev \gset
\endif
\set first (2 * :n) % 62
\set second :first + 1
\set n :n + 1
SELECT e.status, e.currency, v.capacity,
       array_agg(s.price_cents ORDER BY s.section_id) AS prices,
       array_agg(s.first_seat ORDER BY s.section_id) AS starts
FROM events e JOIN venues v ON v.id = e.venue_id
JOIN venue_sections s ON s.venue_id = v.id
WHERE e.id = :ev GROUP BY e.id, v.capacity \gset f_
BEGIN;
SELECT next_booking, version, available FROM event_inventory
WHERE event_id = :ev FOR UPDATE \gset
\set booking (:ev << 32) | :next_booking
\set v1 :version + 1
\startpipeline
INSERT INTO seat_claims AS c
    (event_id, seat_id, section_id, booking_id, status, expires_at)
SELECT :ev, s.seat, s.section, :booking, 'held', now() + interval '600 seconds'
FROM unnest(ARRAY[:first, :second]::int4[], ARRAY[0, 0]::int4[]) AS s(seat, section)
ORDER BY s.seat
ON CONFLICT (event_id, seat_id) DO UPDATE
    SET section_id = excluded.section_id, booking_id = excluded.booking_id,
        status = 'held', expires_at = excluded.expires_at
    WHERE c.status = 'held' AND c.expires_at <= now()
RETURNING seat_id;
WITH expired AS (
    UPDATE bookings SET status = 'expired', version = version + 1
    WHERE event_id = :ev AND status = 'held' AND expires_at <= now()
    RETURNING id, seat_ids, expires_at),
released AS (
    DELETE FROM seat_claims c USING expired x
    WHERE c.event_id = :ev AND c.booking_id = x.id)
SELECT seat_ids FROM expired ORDER BY expires_at, id;
\endpipeline
\startpipeline
WITH booked AS (
    INSERT INTO bookings (event_id, id, seat_ids, customer_name, customer_email,
        status, total_cents, currency, created_at, expires_at, version)
    VALUES (:ev, :booking, ARRAY[:first, :second]::int4[], 'Bench Client',
        'client@bench.example', 'held', 0, :f_currency, now(),
        now() + interval '600 seconds', 1)),
keyed AS (
    INSERT INTO idempotency_keys (event_id, key, booking_id, request_hash)
    SELECT :ev, NULL::text, :booking, NULL::bytea WHERE NULL::text IS NOT NULL)
UPDATE event_inventory
SET version = :v1, available = :available::int4[], next_booking = next_booking + 1
WHERE event_id = :ev;
INSERT INTO availability_outbox
    (event_id, version, available, seat_ids, seat_states, committed_at)
VALUES (:ev, :v1, :available::int4[], ARRAY[:first, :second]::int4[],
    ARRAY['held', 'held'], now());
\endpipeline
COMMIT;
BEGIN;
SELECT i.version, i.available, ARRAY(
    SELECT s.first_seat FROM events e
    JOIN venue_sections s ON s.venue_id = e.venue_id
    WHERE e.id = i.event_id ORDER BY s.section_id) AS starts
FROM event_inventory i WHERE i.event_id = :ev FOR UPDATE \gset
SELECT id, event_id, seat_ids, customer_name, customer_email, status, total_cents,
       currency, created_at, expires_at, version
FROM bookings WHERE event_id = :ev AND id = :booking \gset b_
\set v2 :version + 1
\startpipeline
WITH b AS (
    UPDATE bookings SET status = :to_status, version = version + 1
    WHERE event_id = :ev AND id = :booking AND version = :b_version AND status = :b_status
      AND (status = 'confirmed' OR expires_at > now())
    RETURNING id, event_id, seat_ids, customer_name, customer_email, status, total_cents,
              currency, created_at, expires_at, version),
claims AS (
    UPDATE seat_claims SET status = 'sold'
    WHERE :to_status = 'confirmed' AND event_id = :ev
      AND booking_id IN (SELECT id FROM b)),
released AS (
    DELETE FROM seat_claims
    WHERE :to_status = 'cancelled' AND event_id = :ev
      AND booking_id IN (SELECT id FROM b)),
inventory AS (
    UPDATE event_inventory SET version = :v2, available = :available::int4[]
    WHERE event_id = :ev AND EXISTS (SELECT 1 FROM b))
SELECT * FROM b;
INSERT INTO availability_outbox
    (event_id, version, available, seat_ids, seat_states, committed_at)
VALUES (:ev, :v2, :available::int4[], ARRAY[:first, :second]::int4[],
    ARRAY['available', 'available'], now());
\endpipeline
COMMIT;
