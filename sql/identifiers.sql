-- Awkward identifiers: quotes, dots, spaces and unicode in schema, table and column names.
SELECT 'init' FROM pg_create_logical_replication_slot('idn', 'walcast');
CREATE SCHEMA "My Schema.v1";
CREATE TABLE "My Schema.v1"."Ta""ble ünï" ("Id" int PRIMARY KEY, "col.with dots" text, "naïve ""q""" int);
INSERT INTO "My Schema.v1"."Ta""ble ünï" VALUES (1, 'x', 2);
SELECT topic, key, value->'after' AS after, value->'source'->>'schema' AS schema,
       value->'source'->>'table' AS tbl
FROM wc_frames('idn', 'topic.prefix', 'srv/1') WHERE kind = 'E';
SELECT 'stop' FROM pg_drop_replication_slot('idn');
DROP SCHEMA "My Schema.v1" CASCADE;
