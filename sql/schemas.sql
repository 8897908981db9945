-- Connect schemas (plugin option schemas): an R frame before a topic's first event and
-- after each change of its relation (format=frames), {"schema":..,"payload":..} values
-- (format=json), and the schemas in the snapshot function's output.
SET datestyle = 'ISO, MDY';
SELECT 'init' FROM pg_create_logical_replication_slot('sc', 'walcast');

-- Frames of the pending changes (not consumed), split at tabs.
CREATE FUNCTION sc_frames(VARIADIC options text[] DEFAULT '{}')
RETURNS TABLE (n bigint, f text[]) LANGUAGE sql AS $$
    SELECT row_number() OVER (), string_to_array(data, E'\t')
    FROM pg_logical_slot_peek_changes('sc', NULL, NULL, VARIADIC
             array_cat(ARRAY['format', 'frames', 'schemas', 'true'], options))
$$;
-- The column fields of a topic's value schema (its "after" struct), as written.
CREATE FUNCTION sc_columns(topic text, VARIADIC options text[] DEFAULT '{}')
RETURNS SETOF text LANGUAGE sql AS $$
    SELECT json_array_elements(f[4]::json->'fields'->1->'fields')::text
    FROM sc_frames(VARIADIC options) WHERE f[1] = 'R' AND f[2] = topic LIMIT 100
$$;
CREATE FUNCTION sc_consume() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM pg_logical_slot_get_changes('sc', NULL, NULL)
$$;

CREATE TYPE sc_mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE sc_t (
    id serial PRIMARY KEY,
    qty int NOT NULL DEFAULT 7,
    big bigint DEFAULT -3,
    small smallint,
    price numeric(8,2) DEFAULT 1.5,
    any_num numeric DEFAULT 4,
    ratio real,
    score float8 DEFAULT 2.5,
    flag boolean NOT NULL DEFAULT true,
    label varchar(20) DEFAULT 'none',
    code char(2),
    note text NOT NULL DEFAULT '',
    day date DEFAULT '2024-02-29',
    at3 timestamp(3) DEFAULT now(),
    at6 timestamp,
    atz timestamptz DEFAULT '2024-01-01 00:00:00+00',
    t0 time(0),
    t6 time,
    ttz timetz,
    span interval DEFAULT '1 day',
    cash money,
    data bytea,
    doc jsonb DEFAULT '{"a": 1}',
    js json,
    uid uuid,
    mood sc_mood DEFAULT 'ok',
    bit1 bit(1) DEFAULT B'1',
    bits bit(3),
    vbits varbit(8),
    ints int[],
    texts text[],
    nums numeric(5,1)[],
    stamps timestamptz[],
    moods sc_mood[],
    pos point,
    addr inet,
    x xml,
    o oid);
CREATE TABLE sc_nokey (v text);

INSERT INTO sc_t (small) VALUES (1);
INSERT INTO sc_t (small) VALUES (2);
INSERT INTO sc_nokey VALUES ('a');
SELECT 'm' FROM pg_logical_emit_message(true, 'app', 'hello');

-- Each topic is announced once, before its first event; a keyless table has no key schema.
SELECT f[1] AS kind, CASE WHEN f[1] IN ('R', 'E') THEN f[2] END AS op_or_topic, CASE WHEN f[1] = 'R' THEN f[3] END AS key_schema
FROM sc_frames() ORDER BY n;
-- The columns under the default modes: Connect type, optional from NOT NULL, semantic
-- names and parameters, and defaults of constant (or function: a placeholder) defaults.
SELECT * FROM sc_columns('walcast.public.sc_t');
-- The envelope around them.
SELECT json_array_elements(f[4]::json->'fields')->>'field' AS field,
       json_array_elements(f[4]::json->'fields')->>'name' AS name
FROM sc_frames() WHERE f[1] = 'R' AND f[2] = 'walcast.public.sc_t';
SELECT f[4]::json->>'name' AS name, f[4]::json->>'version' AS version,
       f[4]::json->'fields'->0->>'name' AS row_name,
       f[4]::json->'fields'->2 AS source
FROM sc_frames() WHERE f[1] = 'R' AND f[2] = 'walcast.public.sc_t';
SELECT f[4] AS message_schema FROM sc_frames() WHERE f[1] = 'R' AND f[2] = 'walcast.message';

-- The other modes change the columns' schemas as they change the values.
SELECT * FROM sc_columns('walcast.public.sc_t', 'decimal.handling.mode', 'string',
    'time.precision.mode', 'connect', 'binary.handling.mode', 'hex',
    'interval.handling.mode', 'string');
SELECT * FROM sc_columns('walcast.public.sc_t', 'decimal.handling.mode', 'double',
    'time.precision.mode', 'adaptive_time_microseconds', 'binary.handling.mode', 'base64');

-- format=json: every value carries its schema; the payload is the schemaless event.
SELECT s.data::json->'schema'->>'name' AS schema_name,
       (s.data::json->'payload'->'after')::text = (p.data::json->'after')::text AS same_after,
       (s.data::json->'payload'->'source')::text = (p.data::json->'source')::text AS same_source,
       s.data::json->'schema' ->> 'name' = (SELECT f[4]::json->>'name' FROM sc_frames()
           WHERE f[1] = 'R' AND f[2] = 'walcast.' || (p.data::json->'source'->>'schema') || '.'
               || coalesce(nullif(p.data::json->'source'->>'table', ''), 'message')
               OR (f[1] = 'R' AND f[2] = 'walcast.message' AND p.data::json->>'op' = 'm')
           LIMIT 1) AS same_schema_as_frame
FROM pg_logical_slot_peek_changes('sc', NULL, NULL, 'schemas', 'true')
         WITH ORDINALITY AS s(lsn, xid, data, n)
JOIN pg_logical_slot_peek_changes('sc', NULL, NULL) WITH ORDINALITY AS p(lsn, xid, data, n)
     USING (n)
ORDER BY n;
-- Transaction BEGIN/END lines carry Debezium's transaction metadata schema.
SELECT data::json->'schema'->>'name' AS name, data::json->'payload'->>'status' AS status
FROM pg_logical_slot_peek_changes('sc', NULL, NULL, 'schemas', 'true',
         'provide.transaction.metadata', 'true')
WHERE data::json->'payload'->>'status' IS NOT NULL LIMIT 2;
SELECT sc_consume();

-- A relation changed inside a transaction is announced again, with its new shape,
-- before its next event; an unchanged one is not.
BEGIN;
INSERT INTO sc_nokey VALUES ('b');
ALTER TABLE sc_nokey ADD COLUMN w int NOT NULL DEFAULT 5;
INSERT INTO sc_nokey VALUES ('c');
INSERT INTO sc_nokey VALUES ('d');
COMMIT;
SELECT f[1] AS kind, CASE WHEN f[1] IN ('R', 'E') THEN f[2] END AS op_or_topic,
       CASE WHEN f[1] = 'R' THEN (SELECT string_agg(c->>'field' || coalesce('=' || (c->>'default'), ''), ',')
           FROM json_array_elements(f[4]::json->'fields'->1->'fields') c) END AS columns
FROM sc_frames() ORDER BY n;
-- Truncates use the table's schemas too.
TRUNCATE sc_nokey;
SELECT f[1] AS kind, CASE WHEN f[1] IN ('R', 'E') THEN f[2] END AS op_or_topic FROM sc_frames('skipped.operations', 'none') ORDER BY n;
SELECT sc_consume();

-- Snapshot rows: with frames the R frame comes first; the compact template carries the
-- two schemas after head and tail.
SELECT split_part(r, E'\t', 1) AS kind, split_part(r, E'\t', 2) AS topic
FROM walcast.snapshot_rows('sc_t', 0, NULL, ARRAY['format', 'frames', 'schemas', 'true']) r;
SELECT array_length(string_to_array(r, E'\t'), 1) AS fields,
       split_part(r, E'\t', 5)::json->>'name' AS key_name,
       split_part(r, E'\t', 6)::json->>'name' AS value_name
FROM walcast.snapshot_rows('sc_t', 0, NULL, ARRAY['snapshot.compact', 'true', 'schemas', 'true']) r
LIMIT 1;
SELECT split_part(r, E'\t', 5) = '' AS keyless
FROM walcast.snapshot_rows('sc_nokey', 0, NULL, ARRAY['snapshot.compact', 'true', 'schemas', 'true']) r
LIMIT 1;
-- A table left out of the stream still has its schemas when read directly.
SELECT r::json->'schema'->>'name' AS name
FROM walcast.snapshot_rows('sc_t', 0, NULL,
         ARRAY['schemas', 'true', 'table.exclude.list', 'public\.sc_t']) r LIMIT 1;
-- format=json snapshot rows are wrapped like streamed events.
SELECT r::json->'schema'->>'name' AS name, r::json->'payload'->'after'->>'small' AS small
FROM walcast.snapshot_rows('sc_t', 0, NULL, ARRAY['schemas', 'true']) r;

-- Defaults: constants as Debezium parses them; function calls and CURRENT_* stand for
-- Debezium's placeholder; other expressions, NULL, domains and arrays give none.
CREATE DOMAIN sc_count AS int DEFAULT 3;
CREATE TABLE sc_defaults (
    id int PRIMARY KEY,
    sum_of int DEFAULT (1 + 2),
    neg int DEFAULT -1,
    nothing int DEFAULT NULL,
    today date DEFAULT CURRENT_DATE,
    tomorrow date DEFAULT CURRENT_DATE + 1,
    stamp timestamptz DEFAULT now(),
    uid uuid DEFAULT gen_random_uuid(),
    counted sc_count,
    ints int[] DEFAULT '{1,2}',
    quoted text DEFAULT 'it''s',
    label text DEFAULT 'a' || 'b');
INSERT INTO sc_defaults (id) VALUES (1);
SELECT c->>'field' AS field, c->'default' AS "default"
FROM sc_frames() AS f, json_array_elements(f[4]::json->'fields'->1->'fields') AS c
WHERE f[1] = 'R' AND f[2] = 'walcast.public.sc_defaults';
SELECT sc_consume();

SELECT 'stop' FROM pg_drop_replication_slot('sc');
