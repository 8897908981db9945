-- Incremental snapshots: snapshot_row() encodes a key range's rows as the stream
-- encodes inserts (source.snapshot "incremental", lsn/txId null); walcast.control
-- messages become W frames (not op "m" events); execute_snapshot() checks privileges.
SELECT 'init' FROM pg_create_logical_replication_slot('inc', 'walcast');
CREATE TABLE inc_t (id int PRIMARY KEY, t text, n numeric(8,3), f float8);
INSERT INTO inc_t SELECT g, 'row ' || g, g * 1.125, g / 3.0 FROM generate_series(1, 50) g;
CREATE TEMP TABLE streamed AS
SELECT (regexp_match(data, '"after":(\{.*?\}),"source"'))[1] AS after_text
FROM pg_logical_slot_get_changes('inc', NULL, NULL);
CREATE TEMP TABLE snap AS
SELECT (regexp_match(walcast.snapshot_row(x.tableoid, x), '"after":(\{.*?\}),"source"'))[1] AS after_text
FROM ONLY inc_t x WHERE id > 10 ORDER BY id LIMIT 20;
SELECT (SELECT count(*) FROM snap) AS snapshot,
       (SELECT count(*) FROM (SELECT after_text FROM snap EXCEPT SELECT after_text FROM streamed) d) AS differ;
-- An incremental row: marker, null lsn and txId, the low watermark's LSN in sequence.
SELECT r::json->>'op' AS op, r::json->'source'->>'snapshot' AS snapshot,
       r::json->'source'->'lsn' AS lsn, r::json->'source'->'txId' AS txid,
       r::json->'source'->>'sequence' AS sequence
FROM (SELECT walcast.snapshot_row(x.tableoid, x,
          ARRAY['snapshot.lsn', '0/16B3748', 'snapshot.marker', 'incremental']) AS r
      FROM ONLY inc_t x WHERE id = 1) s;
SELECT split_part(r, E'\t', 1) AS kind, split_part(r, E'\t', 2) AS op,
       split_part(r, E'\t', 3) AS topic, split_part(r, E'\t', 4) AS key
FROM (SELECT walcast.snapshot_row(x.tableoid, x, ARRAY['format', 'frames']) AS r
      FROM ONLY inc_t x WHERE id = 2) s;
-- The compact layout (`<key>\t<after>`): the row as snapshot_rows() packs it.
SELECT walcast.snapshot_row(x.tableoid, x, ARRAY['snapshot.compact', 'true']) AS compact
FROM ONLY inc_t x WHERE id = 3;
SELECT position(walcast.snapshot_row(x.tableoid, x, ARRAY['snapshot.compact', 'true']) || E'\n'
                IN (SELECT string_agg(r, '') FROM walcast.snapshot_rows('inc_t', 0, NULL,
                        ARRAY['snapshot.compact', 'true']) r)) > 0 AS same_as_snapshot_rows
FROM ONLY inc_t x WHERE id = 3;
-- snapshot_key_range(): the chunk's template, the rows of (after, through] in key order
-- many to a value (those snapshot_row() gives), then the last key read.
SELECT left(r, 2) AS kind,
       CASE WHEN r LIKE E'{%' THEN array_length(string_to_array(rtrim(r, E'\n'), E'\n'), 1) END AS n,
       CASE WHEN r LIKE E'K\t%' THEN r END AS last_key
FROM walcast.snapshot_key_range('inc_t', '{10}', '{30}', 0, ARRAY['snapshot.compact', 'true']) r;
SELECT (SELECT string_agg(walcast.snapshot_row(x.tableoid, x, ARRAY['snapshot.compact', 'true']) || E'\n', '' ORDER BY id)
        FROM ONLY inc_t x WHERE id > 10 AND id <= 30)
     = (SELECT string_agg(r, '') FROM walcast.snapshot_key_range('inc_t', '{10}', '{30}') r
        WHERE r LIKE '{%') AS same_rows;
-- A tail (max_rows after a key), a condition, an empty range.
SELECT r FROM walcast.snapshot_key_range('inc_t', '{45}', NULL, 3) r WHERE r LIKE E'K\t%';
SELECT r FROM walcast.snapshot_key_range('inc_t', NULL, NULL, 2, '{}', 'id % 10 = 0') r
WHERE r LIKE E'K\t%';
SELECT count(*) FROM walcast.snapshot_key_range('inc_t', '{50}', NULL);
-- Refused: a condition that reads another relation, bounds that do not fit the key.
SELECT * FROM walcast.snapshot_key_range('inc_t', NULL, NULL, 2, '{}', 'id > (SELECT 1)');
SELECT * FROM walcast.snapshot_key_range('inc_t', '{1,2}', NULL);
-- Values of two calls in one query (lockstep in a target list) are each call's own; a
-- call stopped early (LIMIT) or failed leaves the next call's values whole.
SELECT (SELECT string_agg(a, '') FROM (SELECT walcast.snapshot_key_range('inc_t', '{10}', '{30}') a,
                                              walcast.snapshot_key_range('inc_t', '{30}', '{50}') b) s
        WHERE a LIKE '{%')
     = (SELECT string_agg(r, '') FROM walcast.snapshot_key_range('inc_t', '{10}', '{30}') r
        WHERE r LIKE '{%') AS lockstep_values_whole;
BEGIN;
SELECT left(walcast.snapshot_key_range('inc_t', '{10}', '{30}'), 2) LIMIT 1;
SAVEPOINT before_error;
SELECT * FROM walcast.snapshot_key_range('inc_t', '{1,2}', NULL);
ROLLBACK TO SAVEPOINT before_error;
SELECT r FROM walcast.snapshot_key_range('inc_t', '{45}', NULL, 3) r WHERE r LIKE E'K\t%';
SELECT (SELECT string_agg(walcast.snapshot_row(x.tableoid, x, ARRAY['snapshot.compact', 'true']) || E'\n', '' ORDER BY id)
        FROM ONLY inc_t x WHERE id > 20 AND id <= 40)
     = (SELECT string_agg(r, '') FROM walcast.snapshot_key_range('inc_t', '{20}', '{40}') r
        WHERE r LIKE '{%') AS same_rows_after_stop_and_error;
COMMIT;
-- snapshot_rows() with snapshot.condition (a blocking snapshot's additional-condition):
-- only the rows that satisfy it, checked as a key range's condition is; the option is
-- snapshot_rows()'s only.
SELECT (SELECT string_agg(r, '') FROM walcast.snapshot_rows('inc_t', 0, NULL,
            ARRAY['snapshot.compact', 'true', 'snapshot.condition', 'id % 10 = 0 OR t = ''row 7''']) r
        WHERE r NOT LIKE E'S\t%')
     = (SELECT string_agg(walcast.snapshot_row(x.tableoid, x, ARRAY['snapshot.compact', 'true']) || E'\n', '' ORDER BY ctid)
        FROM ONLY inc_t x WHERE id % 10 = 0 OR t = 'row 7') AS same_rows_as_where;
SELECT count(*) FROM walcast.snapshot_rows('inc_t', 0, NULL, ARRAY['snapshot.condition', 'id <= 3']);
SELECT count(*) FROM walcast.snapshot_rows('inc_t', 0, NULL, ARRAY['snapshot.condition', 'id > (SELECT 1)']);
SELECT count(*) FROM walcast.snapshot_rows('inc_t', 0, NULL, ARRAY['snapshot.condition', 'now() > ''2020-01-01''']);
SELECT * FROM walcast.snapshot_key_range('inc_t', NULL, NULL, 0, ARRAY['snapshot.condition', 'true']);
-- A dropped column keeps the others in place; a composite key compares as a row.
CREATE TABLE inc_d (a int, gone int, b text, v numeric, PRIMARY KEY (a, b));
ALTER TABLE inc_d DROP COLUMN gone;
INSERT INTO inc_d VALUES (1, 'x', 1.5), (1, 'y', 2.5), (2, 'a"', 3.5);
SELECT r FROM walcast.snapshot_key_range('inc_d', '{1,x}', NULL, 0, ARRAY['snapshot.compact', 'true']) r
WHERE r NOT LIKE E'S\t%';
DROP TABLE inc_d;
-- Only the table's own row type.
SELECT walcast.snapshot_row('inc_t'::regclass, ROW(1, 'x'));
-- Control messages: W frames with format=frames, nothing with format=json; other
-- prefixes stay op "m" events.
SELECT 'lsn' FROM pg_logical_emit_message(true, 'walcast.control', '{"watermark":"low"}');
SELECT 'lsn' FROM pg_logical_emit_message(true, 'user.prefix', 'hello');
SELECT regexp_replace(data, '^([A-Z])\t[0-9]+\t', '\1 <lsn> ') AS frame
FROM pg_logical_slot_peek_changes('inc', NULL, NULL, 'format', 'frames')
WHERE data NOT LIKE 'E%' AND data NOT LIKE 'B%' AND data NOT LIKE 'C%';
SELECT count(*) FILTER (WHERE data LIKE '%walcast.control%') AS control_events,
       count(*) FILTER (WHERE data LIKE '%"op":"m"%') AS message_events
FROM pg_logical_slot_get_changes('inc', NULL, NULL);
-- Control messages: tabs are written as spaces (a message cannot pose as a signal row).
SELECT 'lsn' FROM pg_logical_emit_message(true, 'walcast.control', E'signal\t{"x":1}');
SELECT regexp_replace(data, '^W\t[0-9]+\t', 'W <lsn> ') AS frame
FROM pg_logical_slot_get_changes('inc', NULL, NULL, 'format', 'frames') WHERE data LIKE 'W%';
-- execute_snapshot(): a row of walcast.signals (written and deleted at once), decoded as
-- a signal frame; names schema-qualified, as regexes matching themselves only.
SELECT length(walcast.execute_snapshot(ARRAY['inc_t'])) AS id_length;
SELECT count(*) AS rows_left FROM walcast.signals;
SELECT regexp_replace(data, '^W\t[0-9]+\tsignal\t\{"id":"[-0-9a-f]+"', 'W <lsn> signal {"id":<uuid>') AS frame
FROM pg_logical_slot_get_changes('inc', NULL, NULL, 'format', 'frames') WHERE data LIKE 'W%';
SELECT 'id' FROM walcast.execute_snapshot(ARRAY['public.inc_t'], 'blocking', ARRAY['id > 40']);
SELECT substr(data, strpos(data, '"data"')) AS signal
FROM pg_logical_slot_get_changes('inc', NULL, NULL, 'format', 'frames') WHERE data LIKE 'W%';
SELECT walcast.execute_snapshot(ARRAY['inc_t'], 'sideways');
SELECT walcast.execute_snapshot(ARRAY['no_such_table']);
SELECT walcast.execute_snapshot(ARRAY[]::text[]);
SELECT walcast.execute_snapshot(ARRAY['inc_t'], 'incremental', ARRAY['id > 1', 'id < 2']);
SELECT walcast.execute_snapshot(ARRAY['inc_t'], 'incremental', ARRAY['id > (SELECT 1)']);
-- Without format=frames (pg_recvlogical), signal rows produce nothing; they are never
-- change events.
SELECT 'id' FROM walcast.execute_snapshot(ARRAY['inc_t']);
SELECT count(*) AS events FROM pg_logical_slot_get_changes('inc', NULL, NULL);
-- signal.data.collection: the user's own signal table (Debezium's layout, any text-like
-- types); its inserts become signal frames whatever the table filters say, its updates
-- and deletes nothing.
CREATE TABLE inc_signals (id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, data jsonb);
INSERT INTO inc_signals VALUES ('s1', 'log', '{"message": "hello\tthere"}');
INSERT INTO inc_signals VALUES ('s2', 'pause-snapshot', NULL);
UPDATE inc_signals SET type = 'x';
DELETE FROM inc_signals;
SELECT regexp_replace(data, '^([A-Z])\t[0-9]+\t', '\1 <lsn> ') AS frame
FROM pg_logical_slot_get_changes('inc', NULL, NULL, 'format', 'frames',
                                 'signal.data.collection', 'public.inc_signals',
                                 'table.include.list', 'public.inc_t')
WHERE data NOT LIKE 'B%' AND data NOT LIKE 'C%';
-- Renamed, it is no longer the signal table (the relation cache follows the catalog).
ALTER TABLE inc_signals RENAME TO inc_signals_old;
INSERT INTO inc_signals_old VALUES ('s3', 'log', '{}');
SELECT left(data, 1) AS kind, data LIKE '%"op":"c"%' AS is_event
FROM pg_logical_slot_get_changes('inc', NULL, NULL, 'format', 'frames',
                                 'signal.data.collection', 'public.inc_signals')
WHERE data NOT LIKE 'B%' AND data NOT LIKE 'C%';
DROP TABLE inc_signals_old;
-- Conditions: accepted ones come back as the chunk query will use them.
CREATE TABLE inc_other (id int PRIMARY KEY, x int);
CREATE FUNCTION inc_user_fn(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1';
SELECT walcast.check_snapshot_condition('inc_t', 'id > 40 AND t LIKE ''row%''');
SELECT walcast.check_snapshot_condition('inc_t', 'id IN (1, 2, 3) OR lower(t) = ''x''');
SELECT walcast.check_snapshot_condition('inc_t', 'n::text = ''1.125'' AND f IS NOT NULL');
SELECT walcast.check_snapshot_condition('inc_t', 'true) OR (true');
-- A user's upper(varchar), a better match than the built-in upper(text), is not what
-- the condition calls: the text returned names the built-in whatever the search path.
CREATE FUNCTION public.upper(varchar) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT ''x''';
SELECT walcast.check_snapshot_condition('inc_t', 'upper(t::varchar) = ''ROW 1''');
DROP FUNCTION public.upper(varchar);
-- Refused: subquery, another table, volatile and stable functions, a user function,
-- a syntax error, a column of another table, extra clauses and statements. Names resolve
-- in pg_catalog only: a user's objects are found only when qualified, and then refused.
SELECT walcast.check_snapshot_condition('inc_t', 'id IN (SELECT id FROM public.inc_other)');
SELECT walcast.check_snapshot_condition('inc_t', 'EXISTS (SELECT 1)');
SELECT walcast.check_snapshot_condition('inc_t', 'id > random()');
SELECT walcast.check_snapshot_condition('inc_t', 'now() > ''2020-01-01''');
SELECT walcast.check_snapshot_condition('inc_t', 'public.inc_user_fn(id) > 3');
SELECT walcast.check_snapshot_condition('inc_t', 'inc_user_fn(id) > 3');
SELECT walcast.check_snapshot_condition('inc_t', 'id >');
SELECT walcast.check_snapshot_condition('inc_t', 'inc_other.x > 3');
SELECT walcast.check_snapshot_condition('inc_t', 'id > 1) UNION SELECT FROM inc_other WHERE (true');
SELECT walcast.check_snapshot_condition('inc_t', 'id > 1) ORDER BY (1');
SELECT walcast.check_snapshot_condition('inc_t', 'true); DROP TABLE inc_other; SELECT (1');
SELECT walcast.check_snapshot_condition('inc_t', 'true --');
SELECT walcast.check_snapshot_condition('inc_t', 't::date > ''2020-01-01''');
SELECT walcast.check_snapshot_condition('inc_t', 'ctid > ''(0,1)''');
SELECT walcast.check_snapshot_condition('inc_t', 'current_user = ''x''');
SELECT walcast.check_snapshot_condition('inc_t', 'pg_read_file(''/etc/passwd'') IS NULL');
-- Privileges: not executable by PUBLIC; a granted role still needs SELECT on the table.
CREATE ROLE inc_user;
GRANT USAGE ON SCHEMA walcast TO inc_user;
SET ROLE inc_user;
SELECT walcast.execute_snapshot(ARRAY['inc_t']);
SELECT walcast.snapshot_row(x.tableoid, x) FROM ONLY inc_t x LIMIT 1;
SELECT walcast.check_snapshot_condition('inc_t', 'id > 1');
INSERT INTO walcast.signals VALUES ('forged', 'execute-snapshot', '{}');
RESET ROLE;
GRANT EXECUTE ON FUNCTION walcast.execute_snapshot(text[], text, text[]) TO inc_user;
GRANT EXECUTE ON FUNCTION walcast.check_snapshot_condition(regclass, text) TO inc_user;
SET ROLE inc_user;
SELECT walcast.execute_snapshot(ARRAY['inc_t']);
SELECT walcast.check_snapshot_condition('inc_t', 'id > 1');
RESET ROLE;
GRANT SELECT ON inc_t TO inc_user;
SET ROLE inc_user;
-- Granted the function and SELECT: the signal is written as walcast.signals' owner,
-- though the role itself still may not write that table.
SELECT 'id' FROM walcast.execute_snapshot(ARRAY['inc_t'], 'incremental', ARRAY['id > 1']);
SELECT walcast.check_snapshot_condition('inc_t', 'id > 1');
INSERT INTO walcast.signals VALUES ('forged', 'execute-snapshot', '{}');
RESET ROLE;
SELECT count(*) AS signal_frames
FROM pg_logical_slot_get_changes('inc', NULL, NULL, 'format', 'frames') WHERE data LIKE 'W%';
SELECT 'drop' FROM pg_drop_replication_slot('inc');
REVOKE ALL ON inc_t FROM inc_user;
REVOKE ALL ON SCHEMA walcast FROM inc_user;
REVOKE ALL ON FUNCTION walcast.execute_snapshot(text[], text, text[]) FROM inc_user;
REVOKE ALL ON FUNCTION walcast.check_snapshot_condition(regclass, text) FROM inc_user;
DROP ROLE inc_user;
DROP TABLE inc_t, inc_other;
DROP FUNCTION inc_user_fn(int);
