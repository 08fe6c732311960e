-- search_events' database floor: PgStore::search_inner's statement with no filter and a
-- page of 20, for one of the harness's search words drawn uniformly (:words is the
-- plan's word list as a text[] literal, :nwords its length).
\set k random(1, :nwords)
SELECT e.id, e.name, e.description, e.category, e.venue_id,
       e.starts_at, e.status, e.tags, e.min_price_cents, e.max_price_cents, e.currency,
       ARRAY(SELECT p.performer_id FROM event_performers p WHERE p.event_id = e.id
             ORDER BY p.position) AS performer_ids,
       (e.status = 'on_sale' AND (SELECT count(*) FROM seat_claims c WHERE c.event_id = e.id
             AND (c.status = 'sold' OR c.expires_at > now())) >= v.capacity) AS sold_out, ts_rank(e.search, q.q) AS score
FROM events e JOIN venues v ON v.id = e.venue_id,
     plainto_tsquery('simple'::regconfig, (:words::text[])[:k]) AS q(q)
WHERE true AND e.search @@ q.q ORDER BY score DESC, e.id LIMIT 20;
