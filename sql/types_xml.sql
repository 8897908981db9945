-- xml is written as its text output, streamed and in snapshots. A server built without
-- libxml (PyPI's PostgreSQL 18) refuses xml input: expected/types_xml_1.out, as in
-- PostgreSQL's own xml test.
SELECT 'init' FROM pg_create_logical_replication_slot('ty_xml', 'walcast');
CREATE TABLE ty_xml (id int PRIMARY KEY, x xml);
INSERT INTO ty_xml VALUES (1, '<a>1</a>'), (2, ''), (3, '<b c="&quot;"/>'), (4, NULL);
SELECT data::json->'after' AS after
FROM pg_logical_slot_get_changes('ty_xml', NULL, NULL) WHERE data LIKE '%"op":"c"%';
SELECT r::json->'after' AS snapshot_after FROM walcast.snapshot_rows('ty_xml') r ORDER BY r;
SELECT 'drop' FROM pg_drop_replication_slot('ty_xml');
DROP TABLE ty_xml;
