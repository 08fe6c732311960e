-- contended_hold's database floor: PgStore::hold_inner on two random seats of the 32
-- every client fights over (event :cev, fresh for the run), as the harness's workers
-- do. A claim that comes back short is rolled back (SEATS_UNAVAILABLE); a full one is
-- finished and committed. What differs: pgbench cannot read a pipelined result, so the
-- number of seats claimed is read back by one more small statement; this floor is one
-- loopback round trip slower than the store's own path, never faster. Sections and
-- counts are written as in hold_cancel.sql.
\set a random(0, 31)
\set b (:a + random(1, 31)) % 32
\set lo least(:a, :b)
\set hi greatest(:a, :b)
SELECT e.status, e.currency, v.capacity,
       array_agg(s.price_cents ORDER BY s.section_id) AS prices,
       array_agg(s.first_seat ORDER BY s.section_id) AS starts
FROM events e JOIN venues v ON v.id = e.venue_id
JOIN venue_sections s ON s.venue_id = v.id
WHERE e.id = :cev GROUP BY e.id, v.capacity \gset f_
BEGIN;
SELECT next_booking, version, available FROM event_inventory
WHERE event_id = :cev FOR UPDATE \gset
\set booking (:cev << 32) | :next_booking
\set v1 :version + 1
\startpipeline
INSERT INTO seat_claims AS c
    (event_id, seat_id, section_id, booking_id, status, expires_at)
SELECT :cev, s.seat, s.section, :booking, 'held', now() + interval '600 seconds'
FROM unnest(ARRAY[:lo, :hi]::int4[], ARRAY[0, 0]::int4[]) AS s(seat, section)
ORDER BY s.seat
ON CONFLICT (event_id, seat_id) DO UPDATE
    SET section_id = excluded.section_id, booking_id = excluded.booking_id,
        status = 'held', expires_at = excluded.expires_at
    WHERE c.status = 'held' AND c.expires_at <= now()
RETURNING seat_id;
WITH expired AS (
    UPDATE bookings SET status = 'expired', version = version + 1
    WHERE event_id = :cev AND status = 'held' AND expires_at <= now()
    RETURNING id, seat_ids, expires_at),
released AS (
    DELETE FROM seat_claims c USING expired x
    WHERE c.event_id = :cev AND c.booking_id = x.id)
SELECT seat_ids FROM expired ORDER BY expires_at, id;
\endpipeline
SELECT count(*) AS got FROM seat_claims
WHERE event_id = :cev AND booking_id = :booking \gset
\if :got = 2
\startpipeline
WITH booked AS (
    INSERT INTO bookings (event_id, id, seat_ids, customer_name, customer_email,
        status, total_cents, currency, created_at, expires_at, version)
    VALUES (:cev, :booking, ARRAY[:lo, :hi]::int4[], 'Bench Client',
        'client@bench.example', 'held', 0, :f_currency, now(),
        now() + interval '600 seconds', 1)),
keyed AS (
    INSERT INTO idempotency_keys (event_id, key, booking_id, request_hash)
    SELECT :cev, NULL::text, :booking, NULL::bytea WHERE NULL::text IS NOT NULL)
UPDATE event_inventory
SET version = :v1, available = :available::int4[], next_booking = next_booking + 1
WHERE event_id = :cev;
INSERT INTO availability_outbox
    (event_id, version, available, seat_ids, seat_states, committed_at)
VALUES (:cev, :v1, :available::int4[], ARRAY[:lo, :hi]::int4[],
    ARRAY['held', 'held'], now());
\endpipeline
COMMIT;
\else
ROLLBACK;
\endif
