-- before/after under every replica identity, and unchanged TOAST values.
SELECT 'init' FROM pg_create_logical_replication_slot('ri', 'walcast');

CREATE TABLE ri_default (id int PRIMARY KEY, a text, b int);
CREATE TABLE ri_full (id int PRIMARY KEY, a text, b int);
ALTER TABLE ri_full REPLICA IDENTITY FULL;
CREATE TABLE ri_index (id int NOT NULL, code text NOT NULL, b int);
CREATE UNIQUE INDEX ri_index_code ON ri_index (code);
ALTER TABLE ri_index REPLICA IDENTITY USING INDEX ri_index_code;
CREATE TABLE ri_nothing (id int PRIMARY KEY, a text);
ALTER TABLE ri_nothing REPLICA IDENTITY NOTHING;
CREATE TABLE ri_nokey (a text, b int);

INSERT INTO ri_default VALUES (1, 'x', 1);
INSERT INTO ri_full VALUES (1, 'x', 1);
INSERT INTO ri_index VALUES (1, 'k1', 1);
INSERT INTO ri_nothing VALUES (1, 'x');
INSERT INTO ri_nokey VALUES ('x', 1);
UPDATE ri_default SET b = 2;
UPDATE ri_full SET b = 2;
UPDATE ri_index SET b = 2;
UPDATE ri_nothing SET a = 'y';
UPDATE ri_nokey SET b = 2;
DELETE FROM ri_default;
DELETE FROM ri_full;
DELETE FROM ri_index;
DELETE FROM ri_nothing;
SELECT * FROM wc_rows('ri');

-- Keys: primary key, else the replica identity index, else null.
INSERT INTO ri_default VALUES (2, 'x', 1);
INSERT INTO ri_index VALUES (2, 'k2', 1);
INSERT INTO ri_nokey VALUES ('z', 3);
SELECT topic, key FROM wc_frames('ri') WHERE kind = 'E';

-- Key change under FULL: the delete carries the whole old row.
INSERT INTO ri_full VALUES (5, 'five', 5);
UPDATE ri_full SET id = 6 WHERE id = 5;
SELECT op, topic, key, value->'before' AS before, value->'after' AS after
FROM wc_frames('ri') WHERE kind = 'E';

-- Unchanged TOAST: the placeholder under DEFAULT, the real value under FULL.
CREATE TABLE toasty (id int PRIMARY KEY, big text, arr text[], bin bytea, n int);
ALTER TABLE toasty ALTER COLUMN big SET STORAGE EXTERNAL;
ALTER TABLE toasty ALTER COLUMN arr SET STORAGE EXTERNAL;
ALTER TABLE toasty ALTER COLUMN bin SET STORAGE EXTERNAL;
INSERT INTO toasty VALUES (1, repeat('x', 10000), ARRAY[repeat('y', 10000)],
                           convert_to(repeat('z', 10000), 'UTF8'), 1);
SELECT count(*) > 0 AS consumed FROM pg_logical_slot_get_changes('ri', NULL, NULL);
UPDATE toasty SET n = 2;
SELECT e->'after'->>'big' AS big, e->'after'->'arr' AS arr, e->'after'->>'bin' AS bin,
       e->'after'->'n' AS n
FROM wc_events('ri') AS e;
UPDATE toasty SET n = 3;
SELECT e->'after'->>'big' AS big
FROM wc_events('ri', 'unavailable.value.placeholder', 'UNCHANGED') AS e;
ALTER TABLE toasty REPLICA IDENTITY FULL;
UPDATE toasty SET n = 4;
SELECT length(e->'after'->>'big') AS big_len, length(e->'before'->>'big') AS before_len,
       length(e->'after'->'arr'->>0) AS arr_len, e->'after'->'n' AS n
FROM wc_events('ri') AS e;

-- A DEFAULT-identity delete logs only the key: Debezium fills the other NOT NULL columns
-- with the column's DEFAULT as it parses it (literals; a function call or CURRENT_* gives
-- the type's placeholder), else its converters' fallback; a NULL of a column with a
-- default is written as the default (Kafka Connect's replace.null.with.default).
CREATE TYPE ri_mood AS ENUM ('sad', 'ok');
CREATE TABLE ri_fill (id int PRIMARY KEY, i int NOT NULL, t text NOT NULL,
                      d date NOT NULL DEFAULT '2020-01-01', n numeric(6,2) NOT NULL,
                      b bool NOT NULL, ts timestamptz NOT NULL, f float8 NOT NULL,
                      by bytea NOT NULL, u uuid NOT NULL, ia int[] NOT NULL, nu numeric NOT NULL,
                      iv interval NOT NULL, tm time NOT NULL, j jsonb NOT NULL,
                      e ri_mood NOT NULL, tz timetz NOT NULL, m money NOT NULL,
                      s serial NOT NULL, now_ts timestamptz NOT NULL DEFAULT now(),
                      neg int NOT NULL DEFAULT -5, e2 ri_mood NOT NULL DEFAULT 'ok',
                      iv2 interval NOT NULL DEFAULT '1 day 02:00:00', bt bit(1) NOT NULL DEFAULT B'1',
                      nu2 numeric NOT NULL DEFAULT 5,
                      opt text, dflt text DEFAULT 'the default', dflt_i int DEFAULT 42);
INSERT INTO ri_fill VALUES (1, 1, 'one', '2016-11-04', 1.5, true, '2016-11-04 13:51:30+00', 1.5,
                            '\x01', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1}', 1.5, '1 day',
                            '12:00', '{}', 'ok', '12:00+00', 1, DEFAULT, DEFAULT, DEFAULT,
                            DEFAULT, DEFAULT, DEFAULT, DEFAULT, NULL, NULL, NULL);
DELETE FROM ri_fill;
SELECT data::json->'before' AS before_string_modes
FROM pg_logical_slot_peek_changes('ri', NULL, NULL, 'decimal.handling.mode', 'string',
                                  'interval.handling.mode', 'string')
WHERE data::json->>'op' = 'd';
-- Without JsonConverter's replace.null.with.default only NOT NULL columns take defaults.
SELECT data::json->'before'->'opt' AS opt, data::json->'before'->'dflt' AS dflt,
       data::json->'before'->'dflt_i' AS dflt_i, data::json->'before'->'neg' AS neg
FROM pg_logical_slot_peek_changes('ri', NULL, NULL,
                                  'value.converter.replace.null.with.default', 'false')
WHERE data::json->>'op' = 'd';
SELECT json_object_keys(e->'before') AS col, e->'before'->json_object_keys(e->'before') AS before
FROM wc_events('ri') AS e WHERE e->>'op' = 'd';

SELECT 'stop' FROM pg_drop_replication_slot('ri');
DROP TABLE ri_default, ri_full, ri_index, ri_nothing, ri_nokey, toasty, ri_fill;
DROP TYPE ri_mood;
