-- Partitioned tables: events name the leaf, or the root with publish.via.partition.root.
SELECT 'init' FROM pg_create_logical_replication_slot('pt', 'walcast');
CREATE TABLE meas (id int, region text, v int, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE meas_eu PARTITION OF meas FOR VALUES IN ('eu');
-- A leaf whose columns are in another order than the root's.
CREATE TABLE meas_us (v int, region text NOT NULL, id int NOT NULL);
ALTER TABLE meas ATTACH PARTITION meas_us FOR VALUES IN ('us');
CREATE FUNCTION pt_load() RETURNS void LANGUAGE sql AS $$
    INSERT INTO meas VALUES (1, 'eu', 10), (2, 'us', 20);
    UPDATE meas SET v = v + 1;
    DELETE FROM meas WHERE id = 2;
    DELETE FROM meas;
$$;
SELECT pt_load();
SELECT op, topic, key, value->'after' AS after FROM wc_frames('pt') WHERE kind = 'E';
SELECT pt_load();
SELECT op, topic, key, value->'after' AS after, value->'source'->>'table' AS tbl
FROM wc_frames('pt', 'publish.via.partition.root', 'true') WHERE kind = 'E';
SELECT count(*) FROM walcast.snapshot_rows('meas');
INSERT INTO meas VALUES (3, 'us', 30);
SELECT r::json->'after' AS after, r::json->'source'->>'table' AS tbl
FROM walcast.snapshot_rows('meas_us', 0, NULL, ARRAY['publish.via.partition.root', 'true']) AS r;
SELECT 'stop' FROM pg_drop_replication_slot('pt');
DROP TABLE meas;
DROP FUNCTION pt_load();
