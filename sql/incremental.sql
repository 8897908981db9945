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
-- execute_snapshot(): a control message naming the tables, schema-qualified.
SELECT 'lsn' FROM walcast.execute_snapshot(ARRAY['inc_t']);
SELECT substr(data, strpos(data, '{')) AS signal
FROM pg_logical_slot_get_changes('inc', NULL, NULL, 'format', 'frames') WHERE data LIKE 'W%';
SELECT 'lsn' FROM walcast.execute_snapshot(ARRAY['inc_t'], 'blocking');
SELECT substr(data, strpos(data, '{')) AS signal
FROM pg_logical_slot_get_changes('inc', NULL, NULL, 'format', 'frames') WHERE data LIKE 'W%';
SELECT walcast.execute_snapshot(ARRAY['inc_t'], 'parallel');
SELECT walcast.execute_snapshot(ARRAY['no_such_table']);
-- Privileges: not executable by PUBLIC; a granted role still needs SELECT on the table.
CREATE ROLE inc_user;
GRANT USAGE ON SCHEMA walcast TO inc_user;
SET ROLE inc_user;
SELECT walcast.execute_snapshot(ARRAY['inc_t']);
SELECT walcast.snapshot_row(x.tableoid, x) FROM ONLY inc_t x LIMIT 1;
RESET ROLE;
GRANT EXECUTE ON FUNCTION walcast.execute_snapshot(text[], text) TO inc_user;
SET ROLE inc_user;
SELECT walcast.execute_snapshot(ARRAY['inc_t']);
RESET ROLE;
GRANT SELECT ON inc_t TO inc_user;
SET ROLE inc_user;
SELECT 'lsn' FROM walcast.execute_snapshot(ARRAY['inc_t']);
RESET ROLE;
SELECT 'drop' FROM pg_drop_replication_slot('inc');
REVOKE ALL ON inc_t FROM inc_user;
REVOKE ALL ON SCHEMA walcast FROM inc_user;
REVOKE ALL ON FUNCTION walcast.execute_snapshot(text[], text) FROM inc_user;
DROP ROLE inc_user;
DROP TABLE inc_t;
