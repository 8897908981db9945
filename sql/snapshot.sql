-- snapshot_rows(): op "r" events from a CTID block range, byte-identical in "after"
-- to the streamed insert of the same row; chunk planning; slot status.
SELECT 'init' FROM pg_create_logical_replication_slot('sn', 'walcast');
CREATE TABLE sn_t (id int PRIMARY KEY, t text, n numeric(8,3), ts timestamptz, j jsonb, f float8);
INSERT INTO sn_t SELECT g, 'row ' || g, g * 1.125, '2024-01-02 03:04:05.678+00'::timestamptz + g * interval '1 hour',
                        jsonb_build_object('g', g), g / 3.0
FROM generate_series(1, 2000) g;
-- Streamed "after" objects and snapshot "after" objects, compared as text.
CREATE TEMP TABLE streamed AS
SELECT (regexp_match(data, '"after":(\{.*?\}),"source"'))[1] AS after_text
FROM pg_logical_slot_get_changes('sn', NULL, NULL);
CREATE TEMP TABLE snap AS
SELECT (regexp_match(r, '"after":(\{.*?\}),"source"'))[1] AS after_text
FROM walcast.snapshot_rows('sn_t') AS r;
SELECT (SELECT count(*) FROM streamed) AS streamed, (SELECT count(*) FROM snap) AS snapshot,
       (SELECT count(*) FROM (SELECT after_text FROM streamed EXCEPT SELECT after_text FROM snap) d) AS differ;

-- Source of snapshot rows: snapshot marker, consistent point as lsn, txId the snapshot's
-- xmax (epoch-qualified, as pg_current_xact_id would give), no replication origin.
SELECT r::json->>'op' AS op, r::json->'source'->>'snapshot' AS snapshot,
       r::json->'source'->'lsn' AS lsn,
       r::json->'source'->>'txId' = pg_snapshot_xmax(pg_current_snapshot())::text AS txid_is_xmax,
       r::json->'source'->>'sequence' AS sequence,
       r::json->'source'->'origin' AS origin, r::json->'source'->'origin_lsn' AS origin_lsn
FROM walcast.snapshot_rows('sn_t', 0, 1, ARRAY['snapshot.lsn', '0/16B3748', 'snapshot.marker', 'last']) AS r
LIMIT 1;
-- Incremental snapshot rows carry no txId and no lsn (sequence keeps the LSN), as Debezium's.
SELECT r::json->'source'->'txId' AS txid, r::json->'source'->'lsn' AS lsn,
       r::json->'source'->>'sequence' AS sequence
FROM walcast.snapshot_rows('sn_t', 0, 1,
                           ARRAY['snapshot.lsn', '0/16B3748', 'snapshot.marker', 'incremental']) AS r
LIMIT 1;
SELECT split_part(r, E'\t', 1) AS kind, split_part(r, E'\t', 2) AS op,
       split_part(r, E'\t', 3) AS topic, split_part(r, E'\t', 4) AS key
FROM walcast.snapshot_rows('sn_t', 0, 1, ARRAY['format', 'frames']) AS r LIMIT 2;

-- snapshot.compact: a template frame, then `key<TAB>after` rows, newline-separated and many
-- to a value. Template head + after + template tail is the full event (envelope times
-- aside, which the reader stamps).
WITH compact AS (
    SELECT r, row_number() OVER () AS n
    FROM walcast.snapshot_rows('sn_t', 0, 1, ARRAY['snapshot.compact', 'true']) AS r),
tmpl AS (SELECT string_to_array(r, E'\t') AS t FROM compact WHERE n = 1),
lines AS (
    SELECT line FROM compact, regexp_split_to_table(rtrim(r, E'\n'), E'\n') AS line WHERE n > 1),
assembled AS (
    SELECT split_part(line, E'\t', 1) AS key, t[3] || split_part(line, E'\t', 2) || t[4] AS value
    FROM lines, tmpl),
full_events AS (
    SELECT split_part(r, E'\t', 4) AS key,
           regexp_replace(split_part(r, E'\t', 5), ',"ts_ms":\d+,"ts_us":\d+,"ts_ns":\d+\}$', '') AS value
    FROM walcast.snapshot_rows('sn_t', 0, 1, ARRAY['format', 'frames']) AS r)
SELECT (SELECT t[1] || ' ' || t[2] FROM tmpl) AS template, (SELECT count(*) FROM assembled) AS rows,
       (SELECT count(*) FROM full_events) AS full_rows,
       (SELECT count(*) FROM (
           SELECT key, regexp_replace(value, '"ts_(ms|us|ns)":\d+', '', 'g') FROM assembled
           EXCEPT
           SELECT key, regexp_replace(value, '"ts_(ms|us|ns)":\d+', '', 'g') FROM full_events) d) AS differ;
SELECT count(*) - 1 AS row_values, sum(array_length(string_to_array(rtrim(r, E'\n'), E'\n'), 1))
           FILTER (WHERE r NOT LIKE E'S\t%') AS rows
FROM walcast.snapshot_rows('sn_t', 0, NULL, ARRAY['snapshot.compact', 'true']) AS r;
SELECT count(*) AS compact_empty_range
FROM walcast.snapshot_rows('sn_t', 3, 3, ARRAY['snapshot.compact', 'true']);
-- In a target list every value is rebuilt in the one buffer of the call: what consumes
-- the values (an aggregate here) keeps each as it was returned.
SELECT (SELECT string_agg(r, '') FROM (SELECT walcast.snapshot_rows('sn_t', 0, NULL,
            ARRAY['snapshot.compact', 'true']) AS r) s WHERE r NOT LIKE E'S\t%')
     = (SELECT string_agg(r, '') FROM walcast.snapshot_rows('sn_t', 0, NULL,
            ARRAY['snapshot.compact', 'true']) AS r WHERE r NOT LIKE E'S\t%') AS values_kept_whole;
-- Value per call: a reader that stops early ends the scan cleanly (no leak warnings).
SELECT left(walcast.snapshot_rows('sn_t'), 1) AS first LIMIT 1;

-- Chunks tile the table: every row is read exactly once.
SELECT count(*) > 1 AS several_chunks, bool_and(block_to IS NULL) FILTER (WHERE chunk = max_chunk) AS last_open
FROM (SELECT *, max(chunk) OVER () AS max_chunk FROM walcast.plan_chunks('sn_t', 16384)) c;
SELECT sum(rows) AS rows_read FROM (
    SELECT (SELECT count(*) FROM walcast.snapshot_rows('sn_t', c.block_from, c.block_to)) AS rows
    FROM walcast.plan_chunks('sn_t', 16384) c) per_chunk;
SELECT count(*) FROM walcast.snapshot_rows('sn_t', 3, 3);
SELECT * FROM walcast.plan_chunks('sn_t', 0);
SELECT * FROM walcast.snapshot_rows('sn_t', 5, 2);
CREATE TABLE sn_empty (id int);
SELECT * FROM walcast.plan_chunks('sn_empty');
SELECT count(*) FROM walcast.snapshot_rows('sn_empty');

SELECT slot_name, plugin, active, lag_bytes >= 0 AS lag_known, retained_wal_bytes >= 0 AS retained_known,
       wal_status
FROM walcast.slot_status('sn');
-- A table rewritten after the snapshot was planned fails loudly instead of reading wrong data.
CREATE TABLE sn_rw (id int PRIMARY KEY);
INSERT INTO sn_rw VALUES (1);
SELECT pg_relation_filenode('sn_rw') AS planned \gset
SELECT count(*) FROM walcast.snapshot_rows('sn_rw', 0, NULL, ARRAY['snapshot.expect.filenode', :'planned']);
VACUUM FULL sn_rw;
\set VERBOSITY terse
SELECT count(*) FROM walcast.snapshot_rows('sn_rw', 0, NULL, ARRAY['snapshot.expect.filenode', :'planned']);
\set VERBOSITY default

-- walcast's own bookkeeping is never decoded.
SELECT count(*) > 0 AS consumed FROM pg_logical_slot_get_changes('sn', NULL, NULL);
INSERT INTO walcast.snapshot_runs VALUES ('sn', '0/1');
DELETE FROM walcast.snapshot_runs;
SELECT count(*) AS own_events FROM wc_events('sn');

-- Values stored out of line (TOAST) are read in full: the placeholder stands only for
-- unchanged TOAST values that a streamed update does not carry.
CREATE TABLE sn_toast (id int PRIMARY KEY, t text);
INSERT INTO sn_toast
SELECT g, (SELECT string_agg(md5((g * 10000 + i)::text), '') FROM generate_series(1, 1000) i)
FROM generate_series(1, 3) g;
SELECT pg_relation_size(reltoastrelid) > 0 AS toasted FROM pg_class WHERE relname = 'sn_toast';
SELECT (r::json->'after'->>'id')::int AS id, length(r::json->'after'->>'t') AS len,
       r::json->'after'->>'t' = (SELECT t FROM sn_toast s WHERE s.id = (r::json->'after'->>'id')::int)
           AS same
FROM walcast.snapshot_rows('sn_toast') AS r ORDER BY 1;
SELECT count(*) AS rows, bool_and(split_part(line, E'\t', 2)::json->>'t' = s.t) AS same
FROM walcast.snapshot_rows('sn_toast', 0, NULL, ARRAY['snapshot.compact', 'true']) AS r,
     regexp_split_to_table(rtrim(r, E'\n'), E'\n') AS line
     JOIN sn_toast s ON s.id = (split_part(line, E'\t', 1)::json->>'id')::int
WHERE r NOT LIKE E'S\t%';

SELECT 'stop' FROM pg_drop_replication_slot('sn');
DROP TABLE sn_t, sn_empty, sn_rw, sn_toast;
