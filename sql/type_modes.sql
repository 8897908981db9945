-- The type modes: decimal.handling.mode, time.precision.mode, binary.handling.mode,
-- interval.handling.mode, hstore.handling.mode, and unavailable.value.placeholder in each
-- type's shape. The same WAL is decoded under several option sets with peek, and the
-- snapshot function must agree with the stream under the same options.
SET datestyle = 'ISO, MDY';
SELECT 'init' FROM pg_create_logical_replication_slot('tm', 'walcast');

-- "after" of each pending change under the given options (not consumed), as emitted.
CREATE FUNCTION tm_after(VARIADIC options text[] DEFAULT '{}')
RETURNS SETOF json LANGUAGE sql AS $$
    SELECT data::json->'after' FROM pg_logical_slot_peek_changes('tm', NULL, NULL, VARIADIC options)
$$;
-- Streamed (pending changes) and snapshot "after" texts agree under the given options.
CREATE FUNCTION tm_snapshot_matches(tbl regclass, VARIADIC options text[])
RETURNS boolean LANGUAGE sql AS $$
    SELECT array(SELECT (regexp_match(data, '"after":(.*),"source":'))[1] AS x
                 FROM pg_logical_slot_peek_changes('tm', NULL, NULL, VARIADIC options) ORDER BY 1) =
           array(SELECT (regexp_match(r, '"after":(.*),"source":'))[1] AS x
                 FROM walcast.snapshot_rows(tbl, 0, NULL, options) r ORDER BY 1)
$$;
CREATE FUNCTION tm_consume() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM pg_logical_slot_get_changes('tm', NULL, NULL)
$$;

-- decimal.handling.mode
CREATE TABLE tm_dec (id int PRIMARY KEY, n62 numeric(6,2), n numeric, n5 numeric(5), m money);
INSERT INTO tm_dec VALUES
    (1, 1234.11, 1234.1100, 12345, 1234.56),
    (2, -1234.11, 0.00001, -1, -0.01),
    (3, 0, 0.0000001, 0, 1000),
    (4, 0.01, 0.00000000, 99999, 12345678.90),
    (5, 0, 'NaN', 0, 0),
    (6, 0, 'Infinity', 0, 0),
    (7, 0, '-Infinity', 0, 0),
    (8, 9999.99, 1e20, -99999, -92233720368547758.08);
SELECT * FROM tm_after('decimal.handling.mode', 'precise');
SELECT * FROM tm_after('decimal.handling.mode', 'string');
SELECT * FROM tm_after('decimal.handling.mode', 'double');
SELECT tm_snapshot_matches('tm_dec', 'decimal.handling.mode', 'string') AS string_matches,
       tm_snapshot_matches('tm_dec', 'decimal.handling.mode', 'double') AS double_matches;
SELECT tm_consume();

-- time.precision.mode
CREATE TABLE tm_time (id int PRIMARY KEY, d date, t time, t3 time(3), t6 time(6), ts timestamp,
                      ts0 timestamp(0), ts3 timestamp(3), ts4 timestamp(4), tstz timestamptz,
                      tz timetz);
INSERT INTO tm_time VALUES
    (1, '2016-11-04', '11:51:30.123789', '11:51:30.123', '11:51:30.123789',
     '2016-11-04 13:51:30.123456', '2016-11-04 13:51:30', '2016-11-04 13:51:30.123',
     '2016-11-04 13:51:30.1234', '2016-11-04 13:51:30.123456+02', '11:51:30.123789+02'),
    (2, 'infinity', '00:00:00.000999', '00:00:00.001', '23:59:59.999999', 'infinity', '-infinity',
     'infinity', '-infinity', '-infinity', '00:00:00+00'),
    (3, '1969-12-31', '00:00', '00:00', '00:00', '1969-12-31 23:59:59.999999',
     '1969-12-31 23:59:59', '1969-12-31 23:59:59.999', '1969-12-31 23:59:59.9999',
     '1969-12-31 23:59:59.999999+00', '23:00:00-01');
SELECT * FROM tm_after('time.precision.mode', 'adaptive');
SELECT * FROM tm_after('time.precision.mode', 'adaptive_time_microseconds');
SELECT * FROM tm_after('time.precision.mode', 'connect');
-- Row 2 holds dates at infinity, which Debezium's snapshot reads through JDBC differently.
SELECT tm_snapshot_matches('tm_time', 'time.precision.mode', 'connect') AS connect_matches;
SELECT r::json->'after'->'id' AS id, r::json->'after'->'d' AS snapshot_d
FROM walcast.snapshot_rows('tm_time', 0, NULL, ARRAY['time.precision.mode', 'connect']) AS r
ORDER BY 1::text;
SELECT tm_consume();

-- interval.handling.mode
CREATE TABLE tm_iv (id int PRIMARY KEY, iv interval);
INSERT INTO tm_iv VALUES
    (1, '1 year 2 mons 3 days 04:05:06.78'), (2, '0'), (3, '-1 days -02:03:04.5'),
    (4, '1 year -1 mons'), (5, '100 hours 0.000001 seconds'), (6, '-0.5 seconds'),
    (7, '1 day 60 seconds'), (8, '14 mons');
SELECT * FROM tm_after('interval.handling.mode', 'numeric');
SELECT * FROM tm_after('interval.handling.mode', 'string');
SELECT tm_snapshot_matches('tm_iv', 'interval.handling.mode', 'string') AS string_matches;
SELECT tm_consume();

-- binary.handling.mode
CREATE TABLE tm_bin (id int PRIMARY KEY, b bytea, ba bytea[]);
INSERT INTO tm_bin VALUES (1, '\xfbffbf00', '{"\\xfbff",NULL}'), (2, '\x', '{}'), (3, 'a', '{"\\x61"}');
SELECT * FROM tm_after('binary.handling.mode', 'bytes');
SELECT * FROM tm_after('binary.handling.mode', 'base64');
SELECT * FROM tm_after('binary.handling.mode', 'base64-url-safe');
SELECT * FROM tm_after('binary.handling.mode', 'hex');
SELECT tm_snapshot_matches('tm_bin', 'binary.handling.mode', 'hex') AS hex_matches;
SELECT tm_consume();

-- hstore.handling.mode: json (a JSON document in a string) or map (an embedded object).
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE TABLE tm_hs (id int PRIMARY KEY, h hstore, ha hstore[]);
INSERT INTO tm_hs VALUES (1, 'a=>1, b=>NULL, "q\"k"=>"x\\y"', ARRAY['k=>v'::hstore, NULL]),
                         (2, '', '{}');
SELECT * FROM tm_after('hstore.handling.mode', 'json');
SELECT * FROM tm_after('hstore.handling.mode', 'map');
SELECT tm_snapshot_matches('tm_hs', 'hstore.handling.mode', 'map') AS map_matches;
SELECT tm_consume();

-- Unchanged TOAST values (not in WAL) as unavailable.value.placeholder in the column's
-- shape; an unrelated update leaves them out of the new tuple.
CREATE TABLE tm_toast (id int PRIMARY KEY, n int, t text, b bytea, j jsonb, h hstore,
                       ta text[], ia int[], la bigint[], fa float8[], boa bool[], na numeric[],
                       ua uuid[], tsa timestamptz[], ba bytea[]);
ALTER TABLE tm_toast ALTER t SET STORAGE EXTERNAL, ALTER b SET STORAGE EXTERNAL,
    ALTER j SET STORAGE EXTERNAL, ALTER h SET STORAGE EXTERNAL, ALTER ta SET STORAGE EXTERNAL,
    ALTER ia SET STORAGE EXTERNAL, ALTER la SET STORAGE EXTERNAL, ALTER fa SET STORAGE EXTERNAL,
    ALTER boa SET STORAGE EXTERNAL, ALTER na SET STORAGE EXTERNAL, ALTER ua SET STORAGE EXTERNAL,
    ALTER tsa SET STORAGE EXTERNAL, ALTER ba SET STORAGE EXTERNAL;
INSERT INTO tm_toast
SELECT 1, 0, repeat('x', 5000), convert_to(repeat('y', 5000), 'UTF8'),
       jsonb_build_object('k', repeat('z', 5000)), hstore('k', repeat('h', 5000)),
       array_fill('t'::text, ARRAY[3000]), array_fill(1, ARRAY[3000]), array_fill(2::bigint, ARRAY[3000]),
       array_fill(1.5::float8, ARRAY[3000]), array_fill(true, ARRAY[3000]),
       array_fill(1.5::numeric, ARRAY[3000]),
       array_fill('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, ARRAY[3000]),
       array_fill('2016-11-04 13:51:30+00'::timestamptz, ARRAY[3000]),
       array_fill('\x00'::bytea, ARRAY[3000]);
SELECT tm_consume();
UPDATE tm_toast SET n = 1 WHERE id = 1;
SELECT json_object_keys(a) AS col, a->json_object_keys(a) AS value
FROM tm_after() AS a;
SELECT a->'b' AS b_base64, a->'ba' AS ba_base64 FROM tm_after('binary.handling.mode', 'base64') AS a;
SELECT a->'b' AS b_hex, a->'ba' AS ba_hex FROM tm_after('binary.handling.mode', 'hex') AS a;
SELECT a->'h' AS h_map FROM tm_after('hstore.handling.mode', 'map') AS a;
SELECT a->'t' AS t, a->'ia' AS ia
FROM tm_after('unavailable.value.placeholder', 'gone') AS a;
SELECT tm_consume();
-- REPLICA IDENTITY FULL logs the old row: the real values are used, no placeholder.
ALTER TABLE tm_toast REPLICA IDENTITY FULL;
UPDATE tm_toast SET n = 2 WHERE id = 1;
SELECT length(a->>'t') AS t_len, json_array_length(a->'ia') AS ia_len,
       a->>'t' = repeat('x', 5000) AS t_real
FROM tm_after() AS a;
SELECT tm_consume();

SELECT 'drop' FROM pg_drop_replication_slot('tm');
