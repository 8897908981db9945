-- before/after under every replica identity, and unchanged TOAST values.
SELECT 'init' FROM pg_create_logical_replication_slot('ri', 'walcast');

CREATE TABLE ri_default (id int PRIMARY KEY, a text, b int);
CREATE TABLE ri_full (id int PRIMARY KEY, a text, b int);
ALTER TABLE ri_full REPLICA IDENTITY FULL;
CREATE TABLE ri_index (id int NOT NULL, code text NOT NULL, b int);
CREATE UNIQUE INDEX ri_index_code ON ri_index (code);
ALTER TABLE ri_index REPLICA IDENTITY USING INDEX ri_index_code;
CREATE TABLE ri_nothing (id int PRIMARY KEY, a text);
ALTER TABLE ri_nothing REPLICA IDENTITY NOTHING;
CREATE TABLE ri_nokey (a text, b int);

INSERT INTO ri_default VALUES (1, 'x', 1);
INSERT INTO ri_full VALUES (1, 'x', 1);
INSERT INTO ri_index VALUES (1, 'k1', 1);
INSERT INTO ri_nothing VALUES (1, 'x');
INSERT INTO ri_nokey VALUES ('x', 1);
UPDATE ri_default SET b = 2;
UPDATE ri_full SET b = 2;
UPDATE ri_index SET b = 2;
UPDATE ri_nothing SET a = 'y';
UPDATE ri_nokey SET b = 2;
DELETE FROM ri_default;
DELETE FROM ri_full;
DELETE FROM ri_index;
DELETE FROM ri_nothing;
SELECT * FROM wc_rows('ri');

-- Keys: primary key, else the replica identity index, else null.
INSERT INTO ri_default VALUES (2, 'x', 1);
INSERT INTO ri_index VALUES (2, 'k2', 1);
INSERT INTO ri_nokey VALUES ('z', 3);
SELECT topic, key FROM wc_frames('ri') WHERE kind = 'E';

-- Key change under FULL: the delete carries the whole old row.
INSERT INTO ri_full VALUES (5, 'five', 5);
UPDATE ri_full SET id = 6 WHERE id = 5;
SELECT op, topic, key, value->'before' AS before, value->'after' AS after
FROM wc_frames('ri') WHERE kind = 'E';

-- Unchanged TOAST: the placeholder under DEFAULT, the real value under FULL.
CREATE TABLE toasty (id int PRIMARY KEY, big text, arr text[], bin bytea, n int);
ALTER TABLE toasty ALTER COLUMN big SET STORAGE EXTERNAL;
ALTER TABLE toasty ALTER COLUMN arr SET STORAGE EXTERNAL;
ALTER TABLE toasty ALTER COLUMN bin SET STORAGE EXTERNAL;
INSERT INTO toasty VALUES (1, repeat('x', 10000), ARRAY[repeat('y', 10000)],
                           convert_to(repeat('z', 10000), 'UTF8'), 1);
SELECT count(*) > 0 AS consumed FROM pg_logical_slot_get_changes('ri', NULL, NULL);
UPDATE toasty SET n = 2;
SELECT e->'after'->>'big' AS big, e->'after'->'arr' AS arr, e->'after'->>'bin' AS bin,
       e->'after'->'n' AS n
FROM wc_events('ri') AS e;
UPDATE toasty SET n = 3;
SELECT e->'after'->>'big' AS big
FROM wc_events('ri', 'unavailable.value.placeholder', 'UNCHANGED') AS e;
ALTER TABLE toasty REPLICA IDENTITY FULL;
UPDATE toasty SET n = 4;
SELECT length(e->'after'->>'big') AS big_len, length(e->'before'->>'big') AS before_len,
       length(e->'after'->'arr'->>0) AS arr_len, e->'after'->'n' AS n
FROM wc_events('ri') AS e;

SELECT 'stop' FROM pg_drop_replication_slot('ri');
DROP TABLE ri_default, ri_full, ri_index, ri_nothing, ri_nokey, toasty;
