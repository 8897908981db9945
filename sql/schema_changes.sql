-- Each event reflects the table's schema at its WAL position, not at decoding time.
SELECT 'init' FROM pg_create_logical_replication_slot('sc', 'walcast');
CREATE TABLE sc_t (id int PRIMARY KEY, a text, b int);
INSERT INTO sc_t VALUES (1, 'a', 1);
ALTER TABLE sc_t DROP COLUMN b;
INSERT INTO sc_t VALUES (2, 'b');
ALTER TABLE sc_t ADD COLUMN c numeric(5,1) DEFAULT 1.5;
INSERT INTO sc_t VALUES (3, 'c', 2.5);
ALTER TABLE sc_t ALTER COLUMN a TYPE int USING length(a);
INSERT INTO sc_t VALUES (4, 7, 3.5);
ALTER TABLE sc_t RENAME TO sc_renamed;
INSERT INTO sc_renamed VALUES (5, 8, 4.5);
SELECT op, tbl, after FROM wc_rows('sc', 'decimal.handling.mode', 'string');
-- Generated columns are stored, so they appear like any other column.
CREATE TABLE gen_t (id int PRIMARY KEY, x int, doubled int GENERATED ALWAYS AS (x * 2) STORED);
INSERT INTO gen_t (id, x) VALUES (1, 21);
SELECT op, tbl, after FROM wc_rows('sc');
SELECT r::json->'after' AS after FROM walcast.snapshot_rows('gen_t') AS r;
SELECT 'stop' FROM pg_drop_replication_slot('sc');
DROP TABLE sc_renamed, gen_t;
