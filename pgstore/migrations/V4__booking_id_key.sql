-- The key of the booking-id permutation (domain::booking_ids): one row, made once per
-- schema, so every replica turns the same booking number into the same public id.
-- gen_random_uuid() is built in since PostgreSQL 13 and reads the server's strong
-- random source; two of them give 32 bytes (244 of them random).
CREATE TABLE booking_id_key (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    key      bytea   NOT NULL CHECK (length(key) = 32)
);

INSERT INTO booking_id_key (key)
VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
