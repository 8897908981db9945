-- A transaction that spills to disk, and interleaved concurrent transactions.
SELECT 'init' FROM pg_create_logical_replication_slot('tx', 'walcast');
CREATE TABLE tx_t (id int PRIMARY KEY, pad text);
SET logical_decoding_work_mem = '64kB';
INSERT INTO tx_t SELECT g, repeat('p', 200) FROM generate_series(1, 20000) g;
SELECT count(*) AS events, count(DISTINCT e->'after'->>'id') AS distinct_ids,
       min((e->'after'->>'id')::int) AS first, max((e->'after'->>'id')::int) AS last,
       count(DISTINCT e->'source'->>'txId') AS txns
FROM wc_events('tx') AS e;
SELECT spill_txns > 0 AS spilled FROM pg_stat_replication_slots WHERE slot_name = 'tx';
RESET logical_decoding_work_mem;
DELETE FROM tx_t;
SELECT count(*) FROM pg_logical_slot_get_changes('tx', NULL, NULL);

-- Interleaved: A starts first, B commits first; events come in commit order, unmixed.
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_connect('other', 'dbname=' || current_database() || ' host=' ||
                      coalesce(current_setting('listen_addresses'), '127.0.0.1') ||
                      ' port=' || current_setting('port') || ' user=' || current_user);
SELECT dblink_exec('other', 'BEGIN');
SELECT dblink_exec('other', 'INSERT INTO tx_t VALUES (100, ''A1'')');
BEGIN;
INSERT INTO tx_t VALUES (200, 'B1');
SELECT dblink_exec('other', 'INSERT INTO tx_t VALUES (101, ''A2'')');
INSERT INTO tx_t VALUES (201, 'B2');
COMMIT;
SELECT dblink_exec('other', 'INSERT INTO tx_t VALUES (102, ''A3'')');
SELECT dblink_exec('other', 'COMMIT');
SELECT dblink_disconnect('other');
SELECT kind, op, value->'after'->>'pad' AS pad FROM wc_frames('tx');
SELECT 'stop' FROM pg_drop_replication_slot('tx');
DROP TABLE tx_t;
