-- Names in events and topics follow renames of schemas and partition roots, and two
-- tables never share a topic silently.
SELECT 'init' FROM pg_create_logical_replication_slot('nm', 'walcast');
CREATE SCHEMA nm_s1;
CREATE TABLE nm_s1.t (id int PRIMARY KEY);
INSERT INTO nm_s1.t VALUES (1);
ALTER SCHEMA nm_s1 RENAME TO nm_s2;
INSERT INTO nm_s2.t VALUES (2);
SELECT topic, value->'source'->>'schema' AS schema, value->'after' AS after
FROM wc_frames('nm') WHERE kind = 'E';

-- A partition published via its root carries the root's current name.
CREATE TABLE nm_root (id int, part int, PRIMARY KEY (id, part)) PARTITION BY LIST (part);
CREATE TABLE nm_leaf PARTITION OF nm_root FOR VALUES IN (1);
INSERT INTO nm_root VALUES (1, 1);
ALTER TABLE nm_root RENAME TO nm_root_renamed;
INSERT INTO nm_root_renamed VALUES (2, 1);
ALTER SCHEMA nm_s2 RENAME TO nm_s3;
ALTER TABLE nm_root_renamed SET SCHEMA nm_s3;
INSERT INTO nm_s3.nm_root_renamed VALUES (3, 1);
SELECT topic, value->'source'->>'schema' AS schema, value->'source'->>'table' AS tbl,
       value->'after'->'id' AS id
FROM wc_frames('nm', 'publish.via.partition.root', 'true') WHERE kind = 'E';

\set SHOW_CONTEXT never
-- Distinct tables whose names map to one topic: refused, naming both. Their
-- schema.table names are alike too, so table.exclude.list leaves out both.
CREATE SCHEMA nm_a;
CREATE SCHEMA "nm_a.b";
CREATE TABLE nm_a."b.c" (id int);
CREATE TABLE "nm_a.b".c (id int);
INSERT INTO nm_a."b.c" VALUES (1);
INSERT INTO "nm_a.b".c VALUES (2);
SELECT count(*) FROM pg_logical_slot_peek_changes('nm', NULL, NULL);
SELECT topic, value->'source'->>'schema' AS schema, value->'source'->>'table' AS tbl
FROM wc_frames('nm', 'table.exclude.list', 'nm_a\.b\.c') WHERE kind = 'E';
CREATE TABLE "nm x y" (id int);
CREATE TABLE nm_x_y (id int);
INSERT INTO nm_x_y VALUES (1);
INSERT INTO "nm x y" VALUES (2);
SELECT count(*) FROM pg_logical_slot_peek_changes('nm', NULL, NULL, 'format', 'frames');
-- Here schema.table names differ: excluding one lets the stream go on.
SELECT topic, value->'after' AS after
FROM wc_frames('nm', 'table.exclude.list', 'public\.nm x y') WHERE kind = 'E';
-- Not a collision: a table renamed away frees its topic for a new table of the old name.
CREATE TABLE nm_old (id int);
INSERT INTO nm_old VALUES (1);
ALTER TABLE nm_old RENAME TO nm_new;
CREATE TABLE nm_old (id int);
INSERT INTO nm_old VALUES (2);
INSERT INTO nm_new VALUES (3);
SELECT topic, value->'after' AS after FROM wc_frames('nm') WHERE kind = 'E';
SELECT 'stop' FROM pg_drop_replication_slot('nm');
DROP SCHEMA nm_s3, nm_a, "nm_a.b" CASCADE;
DROP TABLE "nm x y", nm_x_y, nm_old, nm_new;
