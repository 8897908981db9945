-- Every row of the type mapping table with the default modes (Debezium's defaults).
-- data::json keeps the exact text of each value, so key order and number formatting are
-- pinned, and every line must parse as JSON. ty_after() also shows the raw "after" text.
SET datestyle = 'ISO, MDY';
SELECT 'init' FROM pg_create_logical_replication_slot('ty', 'walcast');

-- The "after" object of each change, as emitted (json keeps the bytes) and checked to parse.
CREATE FUNCTION ty_after(slot name, VARIADIC options text[] DEFAULT '{}')
RETURNS SETOF json LANGUAGE sql AS $$
    SELECT data::json->'after' FROM pg_logical_slot_get_changes(slot, NULL, NULL, VARIADIC options)
$$;
-- The raw bytes of "after" in the event line, without parsing.
CREATE FUNCTION ty_raw_after(slot name, VARIADIC options text[] DEFAULT '{}')
RETURNS SETOF text LANGUAGE sql AS $$
    SELECT (regexp_match(data, '"after":(.*),"source":'))[1]
    FROM pg_logical_slot_get_changes(slot, NULL, NULL, VARIADIC options)
$$;
-- Streamed and snapshot "after" texts of a table agree (same encoder for both paths).
CREATE FUNCTION ty_snapshot_matches(tbl regclass, streamed text[], options text[] DEFAULT '{}')
RETURNS boolean LANGUAGE sql AS $$
    SELECT array(SELECT x FROM unnest(streamed) x ORDER BY 1) =
           array(SELECT (regexp_match(r, '"after":(.*),"source":'))[1] AS x
                 FROM walcast.snapshot_rows(tbl, 0, NULL, options) r ORDER BY 1)
$$;

-- Integers, oid, floats (Java's Double/Float.toString text, NaN/Infinity as strings), bool.
CREATE TABLE ty_num (id int PRIMARY KEY, i2 smallint, i4 int, i8 bigint, o oid,
                     r real, d float8, b bool);
INSERT INTO ty_num VALUES
    (1, 32767, -2147483648, 9223372036854775807, 4294967295, 1.1, 1.1, true),
    (2, -32768, 0, -9223372036854775808, 0, 'NaN', 'Infinity', false),
    (3, 0, 1, 1, 1, '-Infinity', '-Infinity', NULL),
    (4, 0, 0, 0, 0, 100, 12345678.9, true),
    (5, 0, 0, 0, 0, 1e7, 1e10, true),
    (6, 0, 0, 0, 0, 0.001, 0.0001, true),
    (7, 0, 0, 0, 0, '-0', 0.1, true),
    (8, 0, 0, 0, 0, 3.4028235e38, 1.7976931348623157e308, true),
    -- Subnormals: Java prints two significant digits, the pair closest to the exact value.
    (9, 0, 0, 0, 0, 1.4e-45, 5e-324, true),
    (10, 0, 0, 0, 0, 2.8e-45, 1e-323, true),
    (11, 0, 0, 0, 0, 1e-40, 1e-310, true),
    -- Shorter than PostgreSQL's own shortest form: whole numbers, interval boundaries.
    (12, 0, 0, 0, 0, 3.936357e7, 2.878161013019145e16, true);
SELECT * FROM ty_raw_after('ty');

-- numeric (precise: Decimal bytes; unconstrained: VariableScaleDecimal), money.
CREATE TABLE ty_dec (id int PRIMARY KEY, n62 numeric(6,2), n numeric, n5 numeric(5), m money);
INSERT INTO ty_dec VALUES
    (1, 1234.11, 1234.1100, 12345, 1234.56),
    (2, -1234.11, 0.00001, -1, -0.01),
    (3, 0, 0.000, 0, 0),
    (4, 9999.99, 1200, 128, 92233720368547758.07),
    (5, -0.01, -32768, -128, -92233720368547758.08),
    (6, 0.5, 'NaN', 0, 0),
    (7, 0.5, 'Infinity', 0, 0),
    (8, 0.5, '-Infinity', 0, 0),
    (9, 0.5, 123456789012345678901234567890.123456789, 0, 0);
SELECT * FROM ty_raw_after('ty');

-- Precise decimals on both sides of the 18-digit int64 fast path, and at the sign-byte
-- edges: the base64 two's-complement bytes decode back to the unscaled value.
CREATE TABLE ty_dec_edge (id int PRIMARY KEY, v numeric(20,2), u numeric);
INSERT INTO ty_dec_edge VALUES
    (1, 9999999999999999.99, 999999999999999999), (2, -9999999999999999.99, -0.000000000000000001),
    (3, 10000000000000000.00, 1000000000000000000), (4, -1.28, -128), (5, 1.27, 127),
    (6, -1.29, -129), (7, 2.55, 255.000), (8, 99999999999999999.99, -99999999999999999999.5);
CREATE FUNCTION ty_unbytes(b bytea) RETURNS numeric LANGUAGE sql AS $$
    SELECT sum(get_byte(b, i)::numeric * 256::numeric ^ (length(b) - 1 - i))
           - CASE WHEN get_byte(b, 0) >= 128 THEN 256::numeric ^ length(b) ELSE 0 END
    FROM generate_series(0, length(b) - 1) i
$$;
SELECT (a->>'id')::int AS id, e.v, ty_unbytes(decode(a->>'v', 'base64')) / 100 = e.v AS v_roundtrip,
       a->'u'->'scale' AS u_scale,
       ty_unbytes(decode(a->'u'->>'value', 'base64')) / 10::numeric ^ (a->'u'->>'scale')::int = e.u
           AS u_roundtrip
FROM ty_after('ty') AS a JOIN ty_dec_edge e ON e.id = (a->>'id')::int ORDER BY 1;

-- Dates, times, timestamps, intervals: adaptive precision, ±infinity, BC, year > 9999.
CREATE TABLE ty_time (id int PRIMARY KEY, d date, t time, t3 time(3), tz timetz,
                      ts timestamp, ts3 timestamp(3), tstz timestamptz, tstz3 timestamptz(3),
                      tstz0 timestamptz(0), iv interval);
INSERT INTO ty_time VALUES
    (1, '2016-11-04', '11:51:30.123789', '11:51:30.123', '11:51:30.123789+02',
     '2016-11-04 13:51:30.123456', '2016-11-04 13:51:30.123', '2016-11-04 13:51:30.123456+02',
     '2016-11-04 13:51:30.12+02', '2016-11-04 13:51:30+02', '1 year 2 mons 3 days 04:05:06.78'),
    (2, 'infinity', '24:00:00', '00:00:00', '00:00:00-08', 'infinity', '-infinity',
     'infinity', '-infinity', 'infinity', '-1 days -02:03:04.5'),
    (3, '-infinity', '00:00:00.000001', '23:59:59.999', '23:59:59.5+00',
     '0044-03-15 12:00:00 BC', '0001-01-01 00:00:00 BC', '0044-03-15 12:00:00+00 BC',
     '10000-01-01 00:00:00+00', '1969-12-31 23:59:59+00', '0'),
    (4, '0044-03-15 BC', '12:00', '12:00', '12:00:00.5-03:30', '1969-12-31 23:59:59.999999',
     '1969-12-31 23:59:59.999', '1970-01-01 00:00:00+00', '1970-01-01 00:00:00.001+00',
     '2000-02-29 12:00:00+00', '1 mon'),
    (5, '1970-01-01', '00:00', '00:00', '24:00:00+00', '1970-01-01', '1970-01-01',
     '294276-12-31 23:59:59.999999+00', '4713-01-01 00:00:00+00 BC', '0001-01-01 00:00:00+00',
     '-178000000 years');
SELECT * FROM ty_raw_after('ty');

-- bytea (base64), bit(1)/varbit(1) as boolean, other bit strings as little-endian bytes.
CREATE TABLE ty_bin (id int PRIMARY KEY, b bytea, b1 bit(1), b8 bit(8), vb varbit,
                     vb1 varbit(1), b16 bit(16));
INSERT INTO ty_bin VALUES
    (1, '\xfbffbf00', B'1', B'10100000', B'101', B'1', B'0000000100000011'),
    (2, '\x', B'0', B'00000000', B'', B'0', B'0000000000000000'),
    (3, 'abc', B'1', B'00000001', B'1000000000000000000000000', B'1', B'1000000000000000');
SELECT * FROM ty_raw_after('ty');

-- Text-like types and types written as their text output.
CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS ltree;
CREATE TYPE ty_mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE ty_text (id int PRIMARY KEY, t text, vc varchar(10), c char(5), ct citext,
                      nm name, u uuid, j json, jb jsonb, ip inet, net cidr,
                      mac macaddr, mac8 macaddr8, lt ltree, r int4range, nr numrange,
                      e ty_mood, ch "char", tv tsvector, bx box);
INSERT INTO ty_text VALUES
    (1, E'h\u00e9llo "q" \\ \n\t\u0001 \U0001F600', 'abc', 'ab', 'CiText', 'name',
     'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{"b": 1,  "a":[1,2]}', '{"b": 1,  "a":[1,2]}',
     '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
     'Top.Science', '[1,10)', '(1.5,2.5]', 'happy', 'x', 'a fat cat', '((1,2),(3,4))'),
    (2, '', '', '', '', '', '00000000-0000-0000-0000-000000000000', 'null', '[]', '::1',
     '::/0', '00:00:00:00:00:00', '00:00:00:00:00:00:00:00', '', 'empty', '[,]', 'sad', ' ',
     '', '((0,0),(0,0))');
SELECT * FROM ty_after('ty');

-- hstore (json mode: a JSON document in a string, keys in Java HashMap order), point,
-- composite types, domains (the base type's mapping with the domain's typmod).
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE TYPE ty_pair AS (a int, b text);
CREATE DOMAIN ty_posint AS int CHECK (VALUE > 0);
CREATE DOMAIN ty_price AS numeric(6,2);
CREATE DOMAIN ty_stamp AS timestamptz(3);
CREATE DOMAIN ty_label AS text;
CREATE TABLE ty_struct (id int PRIMARY KEY, h hstore, p point, comp ty_pair, dpi ty_posint,
                        dpr ty_price, dts ty_stamp, dl ty_label);
INSERT INTO ty_struct VALUES
    (1, 'a=>1, b=>NULL, "key with \"quote\""=>"v\\w", zz=>z, aa=>"", "é"=>x', '(1,2)',
     ROW(1, 'x y'), 7, 1234.11, '2016-11-04 13:51:30.1+00', 'label'),
    (2, '', '(-1.5,1e10)', ROW(NULL, NULL), 1, -0.5, 'infinity', ''),
    (3, 'k0=>0, k1=>1, k2=>2, k3=>3, k4=>4, k5=>5, k6=>6, k7=>7, k8=>8, k9=>9, k10=>10, k11=>11, k12=>12',
     '(0,-0)', ROW(-2, E'q"\\'), 2147483647, 0, '2016-11-04 13:51:30+00', 'x');
SELECT * FROM ty_raw_after('ty');

-- Arrays: nested JSON arrays, NULL elements, empty arrays, element mapping and typmod.
CREATE TABLE ty_arr (id int PRIMARY KEY, ia int[], ta text[], na numeric(6,2)[], nu numeric[],
                     tsa timestamptz[], ba bool[], ua uuid[], ja jsonb[], bya bytea[],
                     da date[], dpa ty_posint[], fa float8[], ea ty_mood[], va varchar(3)[],
                     ha hstore[], ia3 int[]);
INSERT INTO ty_arr VALUES
    (1, '{{1,2},{3,NULL}}', '{a,NULL,"b c","\""}', '{1234.11,NULL,-0.01}', '{1.50,NaN}',
     '{"2016-11-04 13:51:30+02",infinity,-infinity}', '{t,f,NULL}',
     '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', ARRAY['{"a": 1}'::jsonb, '[]'], '{"\\x00ff",NULL}',
     '{2016-11-04,infinity,-infinity,0044-03-15 BC}', '{1,2}', '{1.5,NaN,-Infinity}', '{sad,happy}', '{abc}',
     ARRAY['a=>1'::hstore], '{{{1},{2}},{{3},{4}}}'),
    (2, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}',
     '[0:1]={7,8}'),
    (3, '{NULL}', '{NULL,NULL}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, '{{NULL,NULL},{NULL,1}}');
SELECT * FROM ty_raw_after('ty');

-- Strings are escaped as Kafka Connect's JSON writer (Jackson) escapes them: control
-- characters as \u00XX with uppercase digits, characters outside the BMP as a surrogate
-- pair, in values and field names; an hstore JSON document in a string keeps them raw
-- until the string escapes them.
CREATE TABLE ty_esc (id int PRIMARY KEY, "f😀" text, h hstore);
INSERT INTO ty_esc VALUES (1, E'a\x1fb😀c\x7f', hstore(E'k😀', E'\x1f'));
SELECT * FROM ty_raw_after('ty');
INSERT INTO ty_esc VALUES (2, NULL, hstore(E'k😀', E'\x1f'));
SELECT * FROM ty_raw_after('ty', 'hstore.handling.mode', 'map');
DROP TABLE ty_esc;

-- timetz array elements come through JDBC as java.sql.Time: whole seconds only.
CREATE TABLE ty_tza (id int PRIMARY KEY, tz timetz, tza timetz[]);
INSERT INTO ty_tza VALUES (1, '09:51:30.5+00', '{09:51:30.5+00,24:00:00+00,23:00:00-01,NULL}'),
                          (2, '24:00:00+00', NULL);
SELECT * FROM ty_raw_after('ty');
DROP TABLE ty_tza;

-- The snapshot function encodes the same rows identically.
INSERT INTO ty_num SELECT id + 100, i2, i4, i8, o, r, d, b FROM ty_num;
INSERT INTO ty_dec SELECT id + 100, n62, n, n5, m FROM ty_dec;
INSERT INTO ty_time SELECT id + 100, d, t, t3, tz, ts, ts3, tstz, tstz3, tstz0, iv FROM ty_time;
INSERT INTO ty_bin SELECT id + 100, b, b1, b8, vb, vb1, b16 FROM ty_bin;
INSERT INTO ty_text SELECT id + 100, t, vc, c, ct, nm, u, j, jb, ip, net, mac, mac8, lt, r, nr, e, ch, tv, bx
    FROM ty_text;
INSERT INTO ty_struct SELECT id + 100, h, p, comp, dpi, dpr, dts, dl FROM ty_struct;
INSERT INTO ty_arr SELECT id + 100, ia, ta, na, nu, tsa, ba, ua, ja, bya, da, dpa, fa, ea, va, ha, ia3
    FROM ty_arr;
CREATE TEMP TABLE ty_streamed AS
SELECT data::json->'source'->>'table' AS tbl, (regexp_match(data, '"after":(.*),"source":'))[1] AS after_text
FROM pg_logical_slot_get_changes('ty', NULL, NULL);
DELETE FROM ty_num WHERE id < 100;
DELETE FROM ty_dec WHERE id < 100;
DELETE FROM ty_time WHERE id < 100;
DELETE FROM ty_bin WHERE id < 100;
DELETE FROM ty_text WHERE id < 100;
DELETE FROM ty_struct WHERE id < 100;
DELETE FROM ty_arr WHERE id < 100;
SELECT tbl, count(*) AS rows,
       ty_snapshot_matches(tbl::regclass, array_agg(after_text)) AS snapshot_matches
FROM ty_streamed GROUP BY tbl ORDER BY tbl;
-- ty_time differs where Debezium's snapshot reads values through JDBC: dates at ±infinity
-- and BC dates (java.sql.Date). Nothing else differs.
SELECT s.id, s.a->'d' AS stream_d, r.a->'d' AS snapshot_d, s.a->'tz' AS stream_tz,
       r.a->'tz' AS snapshot_tz,
       (s.a::jsonb - 'd' - 'tz') = (r.a::jsonb - 'd' - 'tz') AS others_match
FROM (SELECT (after_text::json->>'id')::int AS id, after_text::json AS a
      FROM ty_streamed WHERE tbl = 'ty_time') s
JOIN (SELECT (r::json->'after'->>'id')::int AS id, r::json->'after' AS a
      FROM walcast.snapshot_rows('ty_time') r) r USING (id)
WHERE s.a->>'d' IS DISTINCT FROM r.a->>'d' OR s.a->>'tz' IS DISTINCT FROM r.a->>'tz'
   OR (s.a::jsonb - 'd' - 'tz') <> (r.a::jsonb - 'd' - 'tz')
ORDER BY 1;
-- ty_text differs in name columns only: Debezium's stream cannot read them (null, or a NOT
-- NULL column's default or fallback); its snapshot reads them.
SELECT s.id, s.a->'nm' AS stream_nm, r.a->'nm' AS snapshot_nm,
       (s.a::jsonb - 'nm') = (r.a::jsonb - 'nm') AS others_match
FROM (SELECT (after_text::json->>'id')::int AS id, after_text::json AS a
      FROM ty_streamed WHERE tbl = 'ty_text') s
JOIN (SELECT (r::json->'after'->>'id')::int AS id, r::json->'after' AS a
      FROM walcast.snapshot_rows('ty_text') r) r USING (id)
ORDER BY 1;
-- snapshot.as.streamed renders table rows as streamed changes (walcast verify uses it).
SELECT tbl, ty_snapshot_matches(tbl::regclass, array_agg(after_text),
                                ARRAY['snapshot.as.streamed', 'true']) AS as_streamed_matches
FROM ty_streamed WHERE tbl IN ('ty_time', 'ty_text') GROUP BY tbl ORDER BY tbl;

SELECT 'drop' FROM pg_drop_replication_slot('ty');
