-- Insert, update, delete, key change, truncate and messages in Debezium form.
SELECT 'init' FROM pg_create_logical_replication_slot('ev', 'walcast');

CREATE TABLE ev_t (id int PRIMARY KEY, name text, qty int);
INSERT INTO ev_t VALUES (1, 'one', 10), (2, 'two', 20);
UPDATE ev_t SET qty = 11 WHERE id = 1;
UPDATE ev_t SET id = 3 WHERE id = 2;           -- key change: delete + create
DELETE FROM ev_t WHERE id = 1;
-- A non-transactional message is not flushed by itself: the next commit flushes it.
SELECT 'm' FROM pg_logical_emit_message(false, 'app', 'outside');
TRUNCATE ev_t;                                 -- skipped by default, as Debezium
SELECT 'm' FROM pg_logical_emit_message(true, 'app', 'in a transaction');

SELECT * FROM wc_rows('ev');

-- Field order of the envelope and of source is part of the contract.
INSERT INTO ev_t VALUES (5, 'five', 50);
SELECT json_object_keys(e) FROM wc_events('ev') AS e;
INSERT INTO ev_t VALUES (6, 'six', 60);
SELECT json_object_keys(e->'source') FROM wc_events('ev') AS e;

-- Constant source fields; txId and lsn are numbers; sequence is a JSON array in a string
-- whose first element is the commit LSN, shared by the whole transaction.
BEGIN;
INSERT INTO ev_t VALUES (7, 'seven', 70);
INSERT INTO ev_t VALUES (8, 'eight', 80);
COMMIT;
SELECT e->'source'->>'version' AS version, e->'source'->>'connector' AS connector,
       e->'source'->>'name' AS name, e->'source'->>'snapshot' AS snapshot,
       e->'source'->>'db' AS db, json_typeof(e->'source'->'txId') AS txid,
       json_typeof(e->'source'->'lsn') AS lsn, e->'source'->'xmin' AS xmin,
       (e->'source'->>'sequence')::json->>1 = e->'source'->>'lsn' AS seq_has_change_lsn,
       e->'transaction' AS transaction
FROM wc_events('ev') AS e;

BEGIN;
INSERT INTO ev_t VALUES (9, 'nine', 90);
INSERT INTO ev_t VALUES (10, 'ten', 100);
COMMIT;
SELECT count(DISTINCT (e->'source'->>'sequence')::json->>0) AS commit_lsns,
       count(DISTINCT e->'source'->>'lsn') AS change_lsns,
       bool_and(((e->'source'->>'sequence')::json->>0)::numeric >
                (e->'source'->>'lsn')::numeric) AS commit_after_change,
       bool_and((e->>'ts_ms')::bigint >= (e->'source'->>'ts_ms')::bigint) AS produced_after_commit,
       bool_and((e->>'ts_us')::bigint / 1000 = (e->>'ts_ms')::bigint) AS us_matches_ms,
       bool_and((e->'source'->>'ts_ns')::bigint = (e->'source'->>'ts_us')::bigint * 1000) AS ns_matches_us
FROM wc_events('ev') AS e;

-- Truncate when asked for; messages carry prefix and base64 content.
TRUNCATE ev_t;
SELECT 'm' FROM pg_logical_emit_message(true, 'app', 'hello');
SELECT e->>'op' AS op, e->'source'->>'table' AS tbl, e->'before' AS before, e->'after' AS after,
       e->'message' AS message
FROM wc_events('ev', 'skipped.operations', 'none') AS e;

-- skipped.operations drops what it names.
INSERT INTO ev_t VALUES (1, 'a', 1);
UPDATE ev_t SET qty = 2;
DELETE FROM ev_t;
SELECT * FROM wc_rows('ev', 'skipped.operations', 'c,d');

-- Transaction metadata: BEGIN/END records around the events and a transaction block.
BEGIN;
INSERT INTO ev_t VALUES (20, 'x', 1), (21, 'y', 2);
SELECT 'm' FROM pg_logical_emit_message(true, 'app', 'm');
COMMIT;
-- A non-transactional message belongs to no transaction: no records, a null block.
SELECT 'm' FROM pg_logical_emit_message(false, 'app', 'alone');
INSERT INTO ev_t VALUES (22, 'z', 3);  -- flushes the message
SELECT coalesce(e->>'status', e->>'op') AS what, e->'event_count' AS event_count,
       e->'data_collections' AS data_collections,
       e->'transaction'->'total_order' AS total_order,
       e->'transaction'->'data_collection_order' AS dc_order,
       coalesce(e->>'id', e->'transaction'->>'id') ~ '^[0-9]+:[0-9]+$' AS id_shape
FROM wc_events('ev', 'provide.transaction.metadata', 'true') AS e;

-- Debezium's ids are "<xid>:<LSN>" at each record's own position: BEGIN the transaction's
-- first LSN, each event its own LSN, END the end of the commit record. data_collections
-- come in the order of Debezium's HashMap (here alpha, zeta, mid, ev_t, ev_b), messages
-- count as their own collection, and a non-transactional message has no transaction.
CREATE TABLE ev_zeta (id int PRIMARY KEY);
CREATE TABLE ev_alpha (id int PRIMARY KEY);
CREATE TABLE ev_mid (id int PRIMARY KEY);
CREATE TABLE ev_b (id int PRIMARY KEY);
BEGIN;
INSERT INTO ev_t VALUES (40, 'x', 1);
INSERT INTO ev_zeta VALUES (1);
INSERT INTO ev_alpha VALUES (1);
SELECT 'm' FROM pg_logical_emit_message(true, 'app', 'm1');
INSERT INTO ev_mid VALUES (1);
INSERT INTO ev_b VALUES (1);
INSERT INTO ev_alpha VALUES (2);
SELECT 'm' FROM pg_logical_emit_message(true, 'app', 'm2');
COMMIT;
WITH ev AS (
    SELECT row_number() OVER () AS n, e FROM wc_events('ev', 'provide.transaction.metadata', 'true') AS e)
SELECT n, coalesce(e->>'status', e->>'op') AS what,
       coalesce(e->>'id', e->'transaction'->>'id') ~ '^[0-9]+:[0-9]+$' AS id_shape,
       split_part(e->'transaction'->>'id', ':', 2) = e->'source'->>'lsn' AS block_id_is_lsn,
       split_part(e->>'id', ':', 2) = (SELECT x.e->'source'->>'lsn' FROM ev x WHERE x.n = 2)
           AS begin_id_is_first_lsn,
       split_part(e->>'id', ':', 2)::numeric >
           (SELECT max((x.e->'source'->>'lsn')::numeric) FROM ev x WHERE x.e->'source' IS NOT NULL)
           AS end_id_after_events,
       e->'transaction'->'data_collection_order' AS dc_order,
       e->'data_collections' AS data_collections
FROM ev ORDER BY n;
SELECT 'm' FROM pg_logical_emit_message(false, 'app', 'outside');
INSERT INTO ev_t VALUES (41, 'y', 1);
SELECT coalesce(e->>'status', e->>'op') AS what, json_typeof(e->'transaction') AS transaction
FROM wc_events('ev', 'provide.transaction.metadata', 'true') AS e;
-- Debezium's HashMap of counts keeps its size across transactions (clear() never shrinks
-- it): after a transaction with 13 tables the order is that of a 32-entry table
-- (Java: ev_alpha, ev_mid, ev_t, ev_zeta, ev_b).
DO $$ BEGIN FOR i IN 1..13 LOOP EXECUTE format('CREATE TABLE ev_g%s (id int PRIMARY KEY)', i); END LOOP; END $$;
DO $$ BEGIN FOR i IN 1..13 LOOP EXECUTE format('INSERT INTO ev_g%s VALUES (1)', i); END LOOP; END $$;
BEGIN;
INSERT INTO ev_t VALUES (42, 'x', 1);
INSERT INTO ev_zeta VALUES (2);
INSERT INTO ev_alpha VALUES (3);
INSERT INTO ev_mid VALUES (2);
INSERT INTO ev_b VALUES (2);
COMMIT;
SELECT e->'data_collections' AS data_collections
FROM wc_events('ev', 'provide.transaction.metadata', 'true') AS e WHERE e->>'status' = 'END';
DO $$ BEGIN FOR i IN 1..13 LOOP EXECUTE format('DROP TABLE ev_g%s', i); END LOOP; END $$;
DROP TABLE ev_zeta, ev_alpha, ev_mid, ev_b;

-- Message prefix filters.
SELECT 'm' FROM pg_logical_emit_message(true, 'keep.me', 'a');
SELECT 'm' FROM pg_logical_emit_message(true, 'drop.me', 'b');
SELECT e->'message'->>'prefix' AS prefix
FROM wc_events('ev', 'message.prefix.include.list', 'keep\..*') AS e;

-- Message content follows binary.handling.mode, as Debezium's message monitor.
SELECT 'm' FROM pg_logical_emit_message(true, 'bin', '\x00ff10'::bytea);
SELECT 'm' FROM pg_logical_emit_message(true, 'bin', '\xfbff'::bytea);
SELECT mode, e->'message'->'content' AS content
FROM (VALUES ('bytes'), ('base64'), ('base64-url-safe'), ('hex')) AS m(mode),
     LATERAL (SELECT data::json AS e
              FROM pg_logical_slot_peek_changes('ev', NULL, NULL,
                                                'binary.handling.mode', m.mode)) AS x;
SELECT count(*) FROM pg_logical_slot_get_changes('ev', NULL, NULL);

-- source.origin and source.origin_lsn: the replication origin a transaction was replayed
-- from (as logical replication does), null otherwise.
SELECT 'o' FROM pg_replication_origin_create('upstream');
SELECT 'o' FROM pg_replication_origin_session_setup('upstream');
BEGIN;
SELECT 'o' FROM pg_replication_origin_xact_setup('0/AB', now());
INSERT INTO ev_t VALUES (30, 'from upstream', 1);
COMMIT;
SELECT 'o' FROM pg_replication_origin_session_reset();
-- A non-transactional message carries the commit time and origin of the transaction
-- decoded before it, as Debezium's do.
SELECT 'm' FROM pg_logical_emit_message(false, 'after', 'x');
INSERT INTO ev_t VALUES (31, 'local', 1);
SELECT e->>'op' AS op, coalesce(e->'after'->>'name', e->'message'->>'prefix') AS what,
       e->'source'->'origin' AS origin, e->'source'->'origin_lsn' AS origin_lsn,
       e->'source'->>'ts_us' = first_value(e->'source'->>'ts_us') OVER () AS first_ts
FROM wc_events('ev') AS e;
SELECT 'o' FROM pg_replication_origin_drop('upstream');

SELECT 'stop' FROM pg_drop_replication_slot('ev');
DROP TABLE ev_t;
