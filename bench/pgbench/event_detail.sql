-- event_detail's database floor: PgStore::detail_inner's statements. The store runs the
-- event row, then the venue and its sections (pipelined on one connection), the
-- performers and the section counts (each on a pooled connection of its own) at once:
-- two round trips deep. Here: the event row, then the other four in one pipeline.
\set id random(1, :events)
SELECT e.id, e.name, e.description, e.category, e.venue_id,
       e.starts_at, e.status, e.tags, e.min_price_cents, e.max_price_cents, e.currency,
       ARRAY(SELECT p.performer_id FROM event_performers p WHERE p.event_id = e.id
             ORDER BY p.position) AS performer_ids,
       (e.status = 'on_sale' AND (SELECT count(*) FROM seat_claims c WHERE c.event_id = e.id
             AND (c.status = 'sold' OR c.expires_at > now())) >= v.capacity) AS sold_out
FROM events e JOIN venues v ON v.id = e.venue_id
WHERE e.id = :id \gset d_
\startpipeline
SELECT id, name, city, country, capacity FROM venues WHERE id = :d_venue_id;
SELECT section_id, name, price_cents, row_labels, row_seats FROM venue_sections
WHERE venue_id = :d_venue_id ORDER BY section_id;
SELECT p.id, p.name, p.genre, p.bio FROM event_performers ep
JOIN performers p ON p.id = ep.performer_id
WHERE ep.event_id = :id ORDER BY ep.position;
SELECT section_id, count(*) FROM seat_claims WHERE event_id = :id
AND (status = 'sold' OR expires_at > now()) GROUP BY section_id;
\endpipeline
