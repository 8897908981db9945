-- Awkward identifiers: quotes, dots, spaces and unicode in schema, table and column names.
SELECT 'init' FROM pg_create_logical_replication_slot('idn', 'walcast');
CREATE SCHEMA "My Schema.v1";
CREATE TABLE "My Schema.v1"."Ta""ble ünï" ("Id" int PRIMARY KEY, "col.with dots" text, "naïve ""q""" int);
INSERT INTO "My Schema.v1"."Ta""ble ünï" VALUES (1, 'x', 2);
SELECT topic, key, value->'after' AS after, value->'source'->>'schema' AS schema,
       value->'source'->>'table' AS tbl
FROM wc_frames('idn', 'topic.prefix', 'srv/1') WHERE kind = 'E';
-- Outside the BMP a character is two UTF-16 code units, as Java counts: two '_'. The cap of
-- 249 applies to the whole topic, counted the same way.
CREATE TABLE "tbl_😀" (id int PRIMARY KEY);
CREATE TABLE "t_😀😀😀" (id int PRIMARY KEY);
INSERT INTO "tbl_😀" VALUES (1);
INSERT INTO "t_😀😀😀" VALUES (1);
SELECT topic FROM wc_frames('idn') WHERE kind = 'E';
INSERT INTO "t_😀😀😀" VALUES (2);
SELECT length(topic) AS topic_length, right(topic, 12) AS topic_end
FROM wc_frames('idn', 'topic.prefix', repeat('p', 240)) WHERE kind = 'E';
DROP TABLE "tbl_😀", "t_😀😀😀";
SELECT 'stop' FROM pg_drop_replication_slot('idn');
DROP SCHEMA "My Schema.v1" CASCADE;
