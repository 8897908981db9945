-- The conformance workload, part 1: tables and the rows both snapshots read.
-- Every table gets rows with ids below 100 here; changes.sql copies them to id + 100
-- (streamed inserts of the same values), then updates and deletes.
-- Runs in an empty database; test/integration/test_debezium_conformance.py executes it.
SET datestyle = 'ISO, MDY';
CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS ltree;
CREATE EXTENSION IF NOT EXISTS hstore;

-- Integers, oid, floats (NaN, ±Infinity, the smallest subnormal, -0), boolean.
CREATE TABLE dz_num (id int PRIMARY KEY, i2 smallint, i4 int, i8 bigint, o oid,
                     r real, d float8, b bool, s2 smallserial, s8 bigserial);
INSERT INTO dz_num (id, i2, i4, i8, o, r, d, b) VALUES
    (1, 32767, -2147483648, 9223372036854775807, 4294967295, 1.1, 1.1, true),
    (2, -32768, 0, -9223372036854775808, 0, 'NaN', 'NaN', false),
    (3, 0, 1, 1, 1, 'Infinity', 'Infinity', NULL),
    (4, 0, 0, 0, 0, '-Infinity', '-Infinity', true),
    (5, 0, 0, 0, 0, 1e7, 1e10, true),
    (6, 0, 0, 0, 0, 0.001, 0.0001, true),
    (7, 0, 0, 0, 0, '-0', '-0', true),
    (8, 0, 0, 0, 0, 3.4028235e38, 1.7976931348623157e308, true),
    (9, 0, 0, 0, 0, 1.4e-45, 5e-324, true),
    (10, NULL, NULL, NULL, NULL, 12345678.9, 12345678.9, NULL),
    -- Java's Double/Float.toString: shortest digits, exponent from 1e7 and below 1e-3.
    (11, 0, 0, 0, 0, 0.1, 0.30000000000000004, true),
    (12, 0, 0, 0, 0, 16777217, 9007199254740993, true),
    (13, 0, 0, 0, 0, 1.17549435e-38, 2.2250738585072014e-308, true),
    (14, 0, 0, 0, 0, 3e-44, 1.1e-310, true),
    (15, 0, 0, 0, 0, 9999999, 9999999, true),
    (16, 0, 0, 0, 0, 0.001, 0.001, true),
    (17, 0, 0, 0, 0, 0.00099999, 0.00099999, true),
    (18, 0, 0, 0, 0, 1e-10, 2e23, true),
    (19, 0, 0, 0, 0, 4.35, 1e23, true),
    (20, 0, 0, 0, 0, 123456.79, 8.41e21, true),
    (21, 0, 0, 0, 0, 0.33333334, 0.3333333333333333, true),
    (22, 0, 0, 0, 0, 1e38, 9.223372036854776e18, true);

-- numeric constrained and unconstrained, money with its extremes (finite values only:
-- Debezium's precise mode cannot carry NaN, see dz_dec_special).
CREATE TABLE dz_dec (id int PRIMARY KEY, n62 numeric(6,2), n numeric, n5 numeric(5),
                     n20 numeric(20,2), n38 numeric(38,10), m money);
INSERT INTO dz_dec VALUES
    (1, 1234.11, 1234.1100, 12345, 9999999999999999.99, 1.5, 1234.56),
    (2, -1234.11, 0.00001, -1, -9999999999999999.99, -0.0000000001, -0.01),
    (3, 0, 0.000, 0, 0, 0, 0),
    (4, 9999.99, 1200, 128, 10000000000000000.00, 1234567890123456789012345678.0123456789,
     92233720368547758.07),
    (5, -0.01, -32768, -128, -1.28, 1, -92233720368547758.08),
    (6, 0.5, 123456789012345678901234567890.123456789, 0, 2.55, 0.5, 0.1),
    (7, 0.5, 0.00000000000000000001, 0, 1.27, 0.5, 12345678.90),
    (8, 0.5, 1e20, 0, 1.27, 0.5, -0.05),
    (9, 0.5, -0.000000000000000001, 0, 1.27, 0.5, 1000),
    (10, NULL, NULL, NULL, NULL, NULL, NULL);

-- numeric NaN and ±Infinity, alone and inside arrays (not captured in precise mode).
CREATE TABLE dz_dec_special (id int PRIMARY KEY, n numeric, n62 numeric(6,2), na numeric[],
                             n62a numeric(6,2)[]);
INSERT INTO dz_dec_special VALUES
    (1, 'NaN', 'NaN', '{1.5,NaN,Infinity,-Infinity,NULL}', '{1.50,NaN}'),
    (2, 'Infinity', 1.5, '{}', '{}'),
    (3, '-Infinity', -1.5, '{0}', '{0.01}');

-- Dates, times, timestamps, intervals: adaptive precision, ±infinity, BC, the edges.
CREATE TABLE dz_time (id int PRIMARY KEY, d date, t time, t0 time(0), t3 time(3), t6 time(6),
                      tz timetz, tz3 timetz(3), ts timestamp, ts0 timestamp(0), ts3 timestamp(3),
                      ts4 timestamp(4), tstz timestamptz, tstz0 timestamptz(0),
                      tstz3 timestamptz(3), iv interval, iv_ym interval year to month);
INSERT INTO dz_time VALUES
    (1, '2016-11-04', '11:51:30.123789', '11:51:30', '11:51:30.123', '11:51:30.123789',
     '11:51:30.123789+02', '11:51:30.123+02', '2016-11-04 13:51:30.123456',
     '2016-11-04 13:51:30', '2016-11-04 13:51:30.123', '2016-11-04 13:51:30.1234',
     '2016-11-04 13:51:30.123456+02', '2016-11-04 13:51:30+02', '2016-11-04 13:51:30.12+02',
     '1 year 2 mons 3 days 04:05:06.78', '1 year 2 mons'),
    (2, 'infinity', '24:00:00', '00:00:00', '00:00:00', '00:00:00.000001', '00:00:00-08',
     '00:00:00+00', 'infinity', 'infinity', '-infinity', 'infinity', 'infinity', '-infinity',
     'infinity', '-1 days -02:03:04.5', '-14 mons'),
    (3, '-infinity', '00:00:00.000999', '23:59:59', '23:59:59.999', '23:59:59.999999',
     '23:59:59.5+00', '12:00:00.5-03:30', '1969-12-31 23:59:59.999999', '1969-12-31 23:59:59',
     '1969-12-31 23:59:59.999', '1969-12-31 23:59:59.9999', '1969-12-31 23:59:59.999999+00',
     '1970-01-01 00:00:00+00', '1970-01-01 00:00:00.001+00', '0', '0'),
    (4, '0044-03-15 BC', '12:00', '12:00', '12:00', '12:00', '24:00:00+00', '00:00:00-14',
     '0044-03-15 12:00:00 BC', '0001-01-01 00:00:00', '2000-02-29 12:00:00',
     '1900-01-01 00:00:00', '0044-03-15 12:00:00+00 BC', '2000-02-29 12:00:00+00',
     '10000-01-01 00:00:00+00', '1 mon', '1 year'),
    (5, '1970-01-01', '00:00', '00:00', '00:00', '00:00', '00:00:00+14', '23:59:59.999+00',
     '1970-01-01', '1970-01-01', '1970-01-01', '1970-01-01', '294276-12-31 23:59:59.999999+00',
     '0001-01-01 00:00:00+00', '1969-07-20 20:17:40.5+00', '100 hours 0.000001 seconds',
     '-1 year'),
    (6, '9999-12-31', '01:02:03.5', '01:02:03', '01:02:03.5', '01:02:03.5', '01:02:03.5+05:30',
     '01:02:03.5-05:30', '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59',
     '9999-12-31 23:59:59.999', '9999-12-31 23:59:59.9999', '2038-01-19 03:14:08+00',
     '2038-01-19 03:14:08+00', '2038-01-19 03:14:08.999+00', '-0.5 seconds', '0'),
    (7, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL);

-- bytea, bit(1)/varbit(1) (boolean), other bit strings (little-endian bytes).
CREATE TABLE dz_bin (id int PRIMARY KEY, b bytea, b1 bit(1), b8 bit(8), b16 bit(16),
                     b3 bit(3), vb varbit, vb1 varbit(1), vb20 varbit(20));
INSERT INTO dz_bin VALUES
    (1, '\xfbffbf00', B'1', B'10100000', B'0000000100000011', B'101', B'101', B'1', B'1'),
    (2, '\x', B'0', B'00000000', B'0000000000000000', B'000', B'', B'0', B''),
    (3, 'abc', B'1', B'00000001', B'1000000000000000', B'001',
     B'1000000000000000000000000', B'1', B'11111111111111111111'),
    (4, '\x00', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (5, NULL, B'0', B'11111111', B'1111111111111111', B'111', B'0', B'0', B'0');

-- Text-like types and types Debezium writes as strings.
CREATE TYPE dz_mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE dz_text (id int PRIMARY KEY, t text, vc varchar(10), vcu varchar, c char(5), c1 char,
                      ct citext, nm name, u uuid, j json, jb jsonb, ip inet, ip6 inet,
                      net cidr, mac macaddr, mac8 macaddr8, lt ltree, r4 int4range, r8 int8range,
                      nr numrange, tsr tsrange, tstzr tstzrange, dr daterange, e dz_mood);
INSERT INTO dz_text VALUES
    (1, E'h\u00e9llo "q" \\ \n\t\u0001 \U0001F600 \u2028', 'abc', 'unbounded', 'ab', 'x',
     'CiText', 'name', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{"b": 1,  "a":[1,2]}',
     '{"b": 1,  "a":[1,2], "c": {"d": null}}', '192.168.0.1/24',
     '2001:db8::1/64', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
     'Top.Science.Astronomy', '[1,10)', '[-9223372036854775808,0)', '(1.5,2.5]',
     '["2016-11-04 13:51:30","2016-11-05 00:00:00")', '["2016-11-04 13:51:30+02",infinity)',
     '[2016-11-04,2016-12-01)', 'happy'),
    (2, '', '', '', '', ' ', '', '', '00000000-0000-0000-0000-000000000000', 'null', '[]',
     '::1', '::ffff:1.2.3.4', '::/0', '00:00:00:00:00:00', '00:00:00:00:00:00:00:00', '',
     'empty', 'empty', '[,]', '(,)', 'empty', '(,)', 'sad'),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- hstore, point, domains over several base types.
CREATE DOMAIN dz_posint AS int CHECK (VALUE > 0);
CREATE DOMAIN dz_price AS numeric(6,2);
CREATE DOMAIN dz_stamp AS timestamptz(3);
CREATE DOMAIN dz_label AS varchar(20);
CREATE DOMAIN dz_day AS date;
CREATE DOMAIN dz_blob AS bytea;
CREATE TABLE dz_struct (id int PRIMARY KEY, h hstore, p point, dpi dz_posint, dpr dz_price,
                        dts dz_stamp, dl dz_label, dd dz_day, db dz_blob);
INSERT INTO dz_struct VALUES
    (1, 'a=>1, b=>NULL, "key with \"quote\""=>"v\\w", zz=>z, aa=>"", "é"=>x', '(1,2)',
     7, 1234.11, '2016-11-04 13:51:30.1+00', 'label', '2016-11-04', '\x0102'),
    (2, '', '(-1.5,1e10)', 1, -0.5, 'infinity', '', 'infinity', '\x'),
    (3, 'k0=>0, k1=>1, k2=>2, k3=>3, k4=>4, k5=>5, k6=>6, k7=>7, k8=>8, k9=>9, k10=>10, k11=>11, k12=>12',
     '(0,-0)', 2147483647, 0, '2016-11-04 13:51:30+00', 'x', '-infinity', '\xff'),
    (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- Arrays: NULL elements, empty arrays, element mappings and type modifiers, infinity dates.
CREATE TABLE dz_arr (id int PRIMARY KEY, ia int[], i8a bigint[], ta text[], vca varchar(3)[],
                     na numeric(6,2)[], nu numeric[], fa float8[], ra real[], ba bool[],
                     ua uuid[], ja jsonb[], jsa json[], bya bytea[], da date[],
                     tsa timestamp[], tstza timestamptz[], ta6 time[], ia_iv interval[],
                     dpa dz_posint[], ea dz_mood[], ha hstore[], ipa inet[], cta citext[],
                     ma money[], tza timetz[], ca char(3)[], tsa2 timestamp(3)[]);
INSERT INTO dz_arr VALUES
    (1, '{1,2,NULL}', '{9223372036854775807}', '{a,NULL,"b c","\""}', '{abc}',
     '{1234.11,NULL,-0.01}', '{1.50,-3,0.001}', '{1.5,NaN,-Infinity,5e-324}', '{1.5,Infinity}',
     '{t,f,NULL}', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', ARRAY['{"a": 1}'::jsonb, '[]'],
     ARRAY['{"a":  1}'::json], '{"\\x00ff",NULL}', '{2016-11-04,infinity,-infinity,NULL}',
     '{"2016-11-04 13:51:30.5",infinity}', '{"2016-11-04 13:51:30+02",infinity,-infinity}',
     '{12:00:00.5,NULL}', '{"1 day","-1 mon"}', '{1,2}', '{sad,happy,NULL}',
     ARRAY['a=>1'::hstore, NULL], '{127.0.0.1,::1}', '{A,b}', '{1.50,-2}',
     '{11:51:30.5+02,24:00:00+00}', '{a,"b  ",NULL}', '{"2016-11-04 13:51:30.123",-infinity}'),
    (2, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}',
     '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'),
    (3, '{NULL}', '{NULL}', '{NULL,NULL}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- Unchanged TOASTed values (REPLICA IDENTITY DEFAULT: not in WAL on update).
CREATE TABLE dz_toast (id int PRIMARY KEY, n int, t text, b bytea, jb jsonb, ta text[],
                       ia int[], h hstore, vc varchar(100000), ct citext);
ALTER TABLE dz_toast ALTER COLUMN t SET STORAGE EXTERNAL, ALTER COLUMN b SET STORAGE EXTERNAL,
    ALTER COLUMN jb SET STORAGE EXTERNAL, ALTER COLUMN ta SET STORAGE EXTERNAL,
    ALTER COLUMN ia SET STORAGE EXTERNAL, ALTER COLUMN h SET STORAGE EXTERNAL,
    ALTER COLUMN vc SET STORAGE EXTERNAL,
    ALTER COLUMN ct SET STORAGE EXTERNAL;
INSERT INTO dz_toast
SELECT 1, 0, repeat('t', 5000), convert_to(repeat('b', 5000), 'UTF8'),
       jsonb_build_object('k', repeat('j', 5000)), ARRAY[repeat('a', 5000)],
       array_fill(7, ARRAY[2000]), hstore('k', repeat('h', 5000)),
       repeat('v', 5000), repeat('C', 5000);
-- The same under REPLICA IDENTITY FULL: the old row carries the real values.
CREATE TABLE dz_toast_full (LIKE dz_toast INCLUDING ALL);
ALTER TABLE dz_toast_full REPLICA IDENTITY FULL;
INSERT INTO dz_toast_full SELECT * FROM dz_toast;

-- Replica identities. DEFAULT with NOT NULL non-key columns of many types and defaults:
-- a delete's "before" holds only the key.
CREATE TABLE dz_id_default (id int PRIMARY KEY, i int NOT NULL, t text NOT NULL,
                            d date NOT NULL DEFAULT '2020-01-01', n numeric(6,2) NOT NULL,
                            b bool NOT NULL, ts timestamptz NOT NULL, f float8 NOT NULL,
                            by bytea NOT NULL, u uuid NOT NULL, ia int[] NOT NULL,
                            nu numeric NOT NULL, iv interval NOT NULL, tm time NOT NULL,
                            j jsonb NOT NULL, e dz_mood NOT NULL, opt text,
                            dflt text DEFAULT 'the default', dflt_i int DEFAULT 42);
INSERT INTO dz_id_default VALUES
    (1, 1, 'one', '2016-11-04', 1.5, true, '2016-11-04 13:51:30+00', 1.5, '\x01',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1}', 1.5, '1 day', '12:00', '{}', 'ok', 'o',
     NULL, NULL),
    (2, 2, 'two', '2016-11-05', 2.5, false, '2016-11-05 13:51:30+00', 2.5, '\x02',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', '{2}', 2.5, '2 days', '13:00', '[]', 'sad', NULL,
     'set', 7);
CREATE TABLE dz_id_full (id int PRIMARY KEY, v text, n numeric(6,2), d date);
ALTER TABLE dz_id_full REPLICA IDENTITY FULL;
INSERT INTO dz_id_full VALUES (1, 'a', 1.5, '2016-11-04'), (2, 'b', NULL, NULL);
CREATE TABLE dz_id_nothing (id int PRIMARY KEY, v text);
ALTER TABLE dz_id_nothing REPLICA IDENTITY NOTHING;
INSERT INTO dz_id_nothing VALUES (1, 'a');
CREATE TABLE dz_id_index (id int, code text NOT NULL, v text);
CREATE UNIQUE INDEX dz_id_index_code ON dz_id_index (code);
ALTER TABLE dz_id_index REPLICA IDENTITY USING INDEX dz_id_index_code;
INSERT INTO dz_id_index VALUES (1, 'a', 'x'), (2, 'b', 'y');
-- No primary key, REPLICA IDENTITY FULL: keyless events.
CREATE TABLE dz_nokey (v text, n int);
ALTER TABLE dz_nokey REPLICA IDENTITY FULL;
INSERT INTO dz_nokey VALUES ('a', 1), ('b', NULL);
-- A composite primary key, reordered against the column order.
CREATE TABLE dz_compkey (a int, v text, b text, PRIMARY KEY (b, a));
INSERT INTO dz_compkey VALUES (1, 'x', 'k'), (2, 'y', 'k');
-- Truncated in the stream.
CREATE TABLE dz_trunc (id int PRIMARY KEY, v text);
INSERT INTO dz_trunc VALUES (1, 'a');

-- Identifiers that topic names must map: characters outside [A-Za-z0-9._-], non-ASCII,
-- outside the Basic Multilingual Plane, upper case, and a non-public schema.
CREATE SCHEMA "Odd Schema";
CREATE TABLE "Odd Schema"."Tbl with space-and.dot" (id int PRIMARY KEY, "Col Name" text,
                                                     "ü" int);
INSERT INTO "Odd Schema"."Tbl with space-and.dot" VALUES (1, 'a', 1);
CREATE TABLE "public"."tbl_é😀" (id int PRIMARY KEY, "😀" text);
INSERT INTO "public"."tbl_é😀" VALUES (1, 'a');
CREATE TABLE "public"."UPPER" (id int PRIMARY KEY);
INSERT INTO "public"."UPPER" VALUES (1);

-- Types Debezium has no mapping for (composite, geometric other than point, text search),
-- and multi-dimensional arrays.
CREATE TYPE dz_pair AS (a int, b text);
CREATE TABLE dz_unknown (id int PRIMARY KEY, comp dz_pair, bx box, tv tsvector);
INSERT INTO dz_unknown VALUES (1, ROW(1, 'x y'), '((1,2),(3,4))', 'a fat cat');
CREATE TABLE dz_multidim (id int PRIMARY KEY, ia int[], ta text[]);
INSERT INTO dz_multidim VALUES (1, '{{1,2},{3,NULL}}', '{{a,b},{c,d}}');

-- Keys of several types (the key's JSON decides the Kafka partition).
CREATE TABLE dz_typedkey (n numeric(10,2), nu numeric, ts timestamptz, d date, b bytea, u uuid,
                          t text, v int, PRIMARY KEY (n, nu, ts, d, b, u, t));
INSERT INTO dz_typedkey VALUES
    (1.5, 0.001, '2016-11-04 13:51:30.123456+02', '2016-11-04', '\x00ff',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'k', 1),
    (-2, 1e20, 'infinity', '-infinity', '\x', '00000000-0000-0000-0000-000000000000', '', 2);

-- Streamed last: every consumer stops once it has seen this table's insert.
CREATE TABLE dz_zz_done (id int PRIMARY KEY);
