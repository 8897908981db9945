-- Debezium's schema.include.list / schema.exclude.list, column.include.list and
-- message.key.columns, streamed and in snapshot rows.
SELECT 'init' FROM pg_create_logical_replication_slot('dz', 'walcast');
CREATE SCHEMA dza;
CREATE SCHEMA dzb;
CREATE TABLE dza.t1 (id int PRIMARY KEY, secret text, v int);
CREATE TABLE dza.t2 (id int PRIMARY KEY, w int);
CREATE TABLE dzb.t1 (id int PRIMARY KEY, v int);
CREATE TABLE dzb.nokey (a int, b int);
CREATE FUNCTION dz_load() RETURNS void LANGUAGE sql AS $$
    INSERT INTO dza.t1 VALUES (1, 's', 10);
    INSERT INTO dza.t2 VALUES (2, 20);
    INSERT INTO dzb.t1 VALUES (3, 30);
    INSERT INTO dzb.nokey VALUES (4, 40);
$$;

-- Schema lists match whole schema names.
SELECT dz_load();
SELECT DISTINCT e->'source'->>'schema' AS s, e->'source'->>'table' AS t
FROM wc_events('dz', 'schema.include.list', 'dza') AS e ORDER BY 1, 2;
TRUNCATE dza.t1, dza.t2, dzb.t1, dzb.nokey;
SELECT dz_load();
SELECT DISTINCT e->'source'->>'schema' AS s, e->'source'->>'table' AS t
FROM wc_events('dz', 'schema.exclude.list', 'dza') AS e ORDER BY 1, 2;
TRUNCATE dza.t1, dza.t2, dzb.t1, dzb.nokey;
SELECT dz_load();
SELECT count(*) FROM wc_events('dz', 'schema.include.list', 'dz');
-- With table lists: both filters apply.
TRUNCATE dza.t1, dza.t2, dzb.t1, dzb.nokey;
SELECT dz_load();
SELECT DISTINCT e->'source'->>'schema' AS s, e->'source'->>'table' AS t
FROM wc_events('dz', 'schema.include.list', 'dza', 'table.exclude.list', '.*\.t2') AS e ORDER BY 1, 2;

-- column.include.list keeps only the matching columns of every table (key unchanged).
TRUNCATE dza.t1, dza.t2, dzb.t1, dzb.nokey;
SELECT dz_load();
SELECT topic, key, value->'after' AS after
FROM wc_frames('dz', 'column.include.list', 'dza\.t1\.(id|v), dzb\..*\.v') WHERE kind = 'E'
ORDER BY topic;
-- ... and column.exclude.list still applies to what it includes.
TRUNCATE dza.t1, dza.t2, dzb.t1, dzb.nokey;
SELECT dz_load();
SELECT value->'after' AS after
FROM wc_frames('dz', 'schema.include.list', 'dza', 'column.include.list', 'dza\.t1\..*',
               'column.exclude.list', '.*\.secret') WHERE kind = 'E' AND topic = 'walcast.dza.t1';

-- message.key.columns: the named columns, in their order, are the key of matching
-- tables (first matching entry wins); a table without a primary key gets one.
TRUNCATE dza.t1, dza.t2, dzb.t1, dzb.nokey;
SELECT dz_load();
SELECT topic, key
FROM wc_frames('dz', 'message.key.columns', 'dza\.t1:v,id; dzb\.(.*):b ; dz.\..*:id')
WHERE kind = 'E' ORDER BY topic;
-- Columns that do not exist are left out; none at all: the primary key.
TRUNCATE dza.t1, dza.t2, dzb.t1, dzb.nokey;
SELECT dz_load();
SELECT topic, key
FROM wc_frames('dz', 'message.key.columns', 'dza\.t1:gone,v;dza\.t2:gone') WHERE kind = 'E'
  AND topic LIKE 'walcast.dza.%' ORDER BY topic;
-- A key column change is a delete and a create, as with a primary key.
ALTER TABLE dza.t1 REPLICA IDENTITY FULL;
UPDATE dza.t1 SET v = 11 WHERE id = 1;
UPDATE dza.t1 SET secret = 'x' WHERE id = 1;
SELECT op, key FROM wc_frames('dz', 'message.key.columns', 'dza\.t1:v', 'table.include.list', 'dza\.t1')
WHERE kind = 'E';

-- Snapshot rows follow the same options.
SELECT split_part(r, E'\t', 4) AS key, split_part(r, E'\t', 5)::json->'after' AS after
FROM walcast.snapshot_rows('dza.t1', 0, NULL,
     ARRAY['format', 'frames', 'column.include.list', 'dza\.t1\.(id|v)',
           'message.key.columns', 'dza\.t1:v']) AS r;
SELECT split_part(r, E'\t', 4) AS key
FROM walcast.snapshot_rows('dzb.nokey', 0, NULL,
     ARRAY['format', 'frames', 'message.key.columns', 'dzb\.nokey:b,a']) AS r;

-- Bad entries name the option and the syntax.
SELECT * FROM pg_logical_slot_peek_changes('dz', NULL, NULL, 'message.key.columns', 'dza.t1');
SELECT * FROM pg_logical_slot_peek_changes('dz', NULL, NULL, 'message.key.columns', ':id');
SELECT * FROM pg_logical_slot_peek_changes('dz', NULL, NULL, 'message.key.columns', 'dza.t1: ,');
SELECT * FROM pg_logical_slot_peek_changes('dz', NULL, NULL, 'message.key.columns', '(dza:id');
SELECT * FROM pg_logical_slot_peek_changes('dz', NULL, NULL, 'schema.include.list', '(unclosed');

SELECT 'stop' FROM pg_drop_replication_slot('dz');
SET client_min_messages = warning;
DROP SCHEMA dza, dzb CASCADE;
RESET client_min_messages;
DROP FUNCTION dz_load();
