-- event.max.bytes, and the 1 GB PostgreSQL can send as one message: an event over the
-- limit is an ERROR (program_limit_exceeded) naming its table, LSN and column.
CREATE FUNCTION lim_try(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    msg text; detail text; hint text; code text;
BEGIN
    EXECUTE query;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT, code = RETURNED_SQLSTATE;
    RETURN code || ': ' || regexp_replace(msg, 'LSN [0-9A-F]+/[0-9A-F]+', 'LSN <lsn>') ||
           E'\n' || coalesce(detail, '') || E'\n' || coalesce(hint, '');
END $$;
-- The LSN named by an error.
CREATE FUNCTION lim_lsn(query text) RETURNS pg_lsn LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN NULL;
EXCEPTION WHEN program_limit_exceeded THEN
    RETURN (regexp_match(SQLERRM, 'LSN ([0-9A-F]+/[0-9A-F]+)'))[1]::pg_lsn;
END $$;

SELECT 'init' FROM pg_create_logical_replication_slot('lim', 'walcast');
CREATE TABLE lim_t (id int PRIMARY KEY, big text, doc jsonb);
SELECT pg_current_wal_lsn() AS before_insert \gset
INSERT INTO lim_t VALUES (1, repeat('x', 5000), '{}');
SELECT pg_current_wal_lsn() AS after_insert \gset
-- Refused before the 5000 bytes are encoded: text is at least as long in JSON.
SELECT lim_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('lim', NULL, NULL,
                  'event.max.bytes', '1000')$$);
SELECT lim_lsn($$SELECT count(*) FROM pg_logical_slot_peek_changes('lim', NULL, NULL,
                  'event.max.bytes', '1000')$$) BETWEEN :'before_insert' AND :'after_insert' AS lsn_of_the_insert;
-- Frames too; and leaving the column out lets the stream go on.
SELECT lim_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('lim', NULL, NULL,
                  'format', 'frames', 'event.max.bytes', '1000')$$);
SELECT lim_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('lim', NULL, NULL,
                  'event.max.bytes', '1000', 'column.exclude.list', 'public.lim_t.big')$$);
SELECT length(data) > 5000 AS whole FROM pg_logical_slot_get_changes('lim', NULL, NULL);
-- jsonb can print shorter than it is stored: checked once encoded.
INSERT INTO lim_t VALUES (2, '', (SELECT jsonb_object_agg(g::text, g) FROM generate_series(1, 300) g));
SELECT lim_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('lim', NULL, NULL,
                  'event.max.bytes', '2000')$$);
SELECT count(*) FROM pg_logical_slot_get_changes('lim', NULL, NULL, 'event.max.bytes', '20000');
-- Escapes count: 1000 control characters are 6000 bytes of JSON, sized exactly before
-- they are encoded; bytea by its binary.handling.mode.
INSERT INTO lim_t VALUES (3, repeat(chr(1), 1000), '{}');
CREATE TABLE lim_b (id int PRIMARY KEY, b bytea);
INSERT INTO lim_b VALUES (1, convert_to(repeat('b', 3000), 'UTF8'));
SELECT lim_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('lim', NULL, NULL,
                  'event.max.bytes', '3000')$$);
SELECT lim_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('lim', NULL, NULL,
                  'event.max.bytes', '5000', 'table.include.list', 'public.lim_b')$$);
SELECT lim_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('lim', NULL, NULL,
                  'event.max.bytes', '5000', 'table.include.list', 'public.lim_b',
                  'binary.handling.mode', 'hex')$$);
SELECT count(*) FROM pg_logical_slot_get_changes('lim', NULL, NULL, 'event.max.bytes', '7000');
-- Logical messages, in and outside a transaction.
SELECT 'msg' FROM pg_logical_emit_message(false, 'big', repeat('m', 3000));
SELECT 'msg' FROM pg_logical_emit_message(true, 'big', repeat('m', 3000));
SELECT lim_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('lim', NULL, NULL,
                  'event.max.bytes', '1000')$$);
SELECT count(*) FROM pg_logical_slot_get_changes('lim', NULL, NULL, 'event.max.bytes', '5000');
-- Snapshot rows, per row also in the compact layout.
SELECT lim_try($$SELECT count(*) FROM walcast.snapshot_rows('lim_t', 0, NULL,
                  ARRAY['event.max.bytes', '1000'])$$);
SELECT lim_try($$SELECT count(*) FROM walcast.snapshot_rows('lim_t', 0, NULL,
                  ARRAY['event.max.bytes', '1000', 'snapshot.compact', 'true'])$$);
SELECT count(*) FROM walcast.snapshot_rows('lim_t', 0, NULL, ARRAY['event.max.bytes', '8000']);
-- Values outside 0 .. 1 GB - 1.
SELECT lim_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('lim', NULL, NULL,
                  'event.max.bytes', '-1')$$);
SELECT lim_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('lim', NULL, NULL,
                  'event.max.bytes', '1073741823')$$);
SELECT lim_try($$SELECT count(*) FROM pg_logical_slot_peek_changes('lim', NULL, NULL,
                  'event.max.bytes', '1kB')$$);
SELECT 'stop' FROM pg_drop_replication_slot('lim');
DROP TABLE lim_t, lim_b;
DROP FUNCTION lim_try(text), lim_lsn(text);
