-- Live availability across replicas (issue 15): a transactional outbox.
--
-- `event_inventory.available` keeps each section's available count (in section order) as
-- of the row's `version`, written under the row lock by every hold, confirm, cancel and
-- expiry, so each outbox row can carry the counts after its change without a count over
-- the claims. Backfilled here from the claims for schemas migrated before it existed.
ALTER TABLE event_inventory ADD COLUMN available integer[];
UPDATE event_inventory i SET available = ARRAY(
    SELECT s.seat_count - (SELECT count(*) FROM seat_claims c
                           WHERE c.event_id = i.event_id AND c.section_id = s.section_id)::integer
    FROM events e JOIN venue_sections s ON s.venue_id = e.venue_id
    WHERE e.id = i.event_id
    ORDER BY s.section_id);
ALTER TABLE event_inventory ALTER COLUMN available SET NOT NULL;

-- One row per inventory version of an event, inserted in the same transaction as the
-- change (under the event's inventory row lock, so one event's rows commit in version
-- order). Readers read "after version V of event E", never "after seq S": `seq` values
-- are handed out before commit and can commit out of order across events; it is kept
-- only to show the global insertion order when debugging.
CREATE TABLE availability_outbox (
    event_id     bigint      NOT NULL,
    version      bigint      NOT NULL,  -- the inventory version this change produced
    seq          bigint      GENERATED ALWAYS AS IDENTITY,
    available    integer[]   NOT NULL,  -- every section's available count after it
    seat_ids     integer[]   NOT NULL,  -- the seats it changed ...
    seat_states  text[]      NOT NULL,  -- ... and their new states ('available', 'held', 'sold')
    committed_at timestamptz NOT NULL,  -- the writer's clock at the change
    written_at   timestamptz NOT NULL DEFAULT now(), -- the database's clock, for pruning
    PRIMARY KEY (event_id, version),
    CHECK (cardinality(seat_ids) = cardinality(seat_states))
);

-- The wake-up: NOTIFY in the inserting transaction, so it is delivered at commit and
-- never for a rolled-back change. The channel is per schema ('qav_' and the schema's
-- first 59 bytes, an identifier's 63 at most); the payload is 'event_id:version'. A lost
-- notification only delays delivery: listeners also read the table on reconnect and on a
-- periodic poll.
CREATE FUNCTION availability_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('qav_' || left(TG_TABLE_SCHEMA, 59),
                      NEW.event_id::text || ':' || NEW.version::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER availability_outbox_notify AFTER INSERT ON availability_outbox
    FOR EACH ROW EXECUTE FUNCTION availability_outbox_notify();
