-- table.include.list / table.exclude.list / column.exclude.list, and bad options.
SELECT 'init' FROM pg_create_logical_replication_slot('fl', 'walcast');
CREATE SCHEMA fa;
CREATE SCHEMA fb;
CREATE TABLE fa.t1 (id int PRIMARY KEY, secret text, v int);
CREATE TABLE fa.t2 (id int PRIMARY KEY);
CREATE TABLE fb.t1 (id int PRIMARY KEY);
CREATE FUNCTION fl_load() RETURNS void LANGUAGE sql AS $$
    INSERT INTO fa.t1 VALUES (1, 's', 1);
    INSERT INTO fa.t2 VALUES (1);
    INSERT INTO fb.t1 VALUES (1);
    DELETE FROM fa.t1; DELETE FROM fa.t2; DELETE FROM fb.t1;
$$;

SELECT fl_load();
SELECT DISTINCT e->'source'->>'schema' AS s, e->'source'->>'table' AS t
FROM wc_events('fl', 'table.include.list', 'fa\..*') AS e ORDER BY 1, 2;
SELECT fl_load();
SELECT DISTINCT e->'source'->>'schema' AS s, e->'source'->>'table' AS t
FROM wc_events('fl', 'table.exclude.list', 'fa\.t2, fb\..*') AS e ORDER BY 1, 2;
-- Lists match whole names: "fa.t" does not match fa.t1.
SELECT fl_load();
SELECT count(*) FROM wc_events('fl', 'table.include.list', 'fa.t');
SELECT fl_load();
SELECT e->'after' AS after FROM wc_events('fl', 'table.include.list', 'fa.t1',
    'column.exclude.list', 'fa\.t1\.secret') AS e WHERE e->>'op' = 'c';

-- A transaction whose changes are all filtered out leaves no frames at all.
SELECT fl_load();
SELECT kind, count(*) FROM wc_frames('fl', 'table.include.list', 'nothing\.matches')
GROUP BY kind ORDER BY kind;

-- Bad options name the option and the accepted values.
SELECT * FROM pg_logical_slot_peek_changes('fl', NULL, NULL, 'no.such.option', 'x');
SELECT * FROM pg_logical_slot_peek_changes('fl', NULL, NULL, 'decimal.handling.mode', 'exact');
SELECT * FROM pg_logical_slot_peek_changes('fl', NULL, NULL, 'binary.handling.mode', 'b64');
SELECT * FROM pg_logical_slot_peek_changes('fl', NULL, NULL, 'time.precision.mode', 'nano');
SELECT * FROM pg_logical_slot_peek_changes('fl', NULL, NULL, 'interval.handling.mode', 'iso');
SELECT * FROM pg_logical_slot_peek_changes('fl', NULL, NULL, 'hstore.handling.mode', 'text');
SELECT * FROM pg_logical_slot_peek_changes('fl', NULL, NULL, 'format', 'xml');
SELECT * FROM pg_logical_slot_peek_changes('fl', NULL, NULL, 'skipped.operations', 'c,x');
SELECT * FROM pg_logical_slot_peek_changes('fl', NULL, NULL, 'provide.transaction.metadata', 'maybe');
SELECT * FROM pg_logical_slot_peek_changes('fl', NULL, NULL, 'table.include.list', '(unclosed');
SELECT * FROM pg_logical_slot_peek_changes('fl', NULL, NULL, 'topic.prefix', NULL);
SELECT * FROM walcast.snapshot_rows('fa.t1', 0, NULL, ARRAY['bogus', 'x']);
SELECT * FROM walcast.snapshot_rows('fa.t1', 0, NULL, ARRAY['format']);

SELECT 'stop' FROM pg_drop_replication_slot('fl');
DROP SCHEMA fa, fb CASCADE;
DROP FUNCTION fl_load();
