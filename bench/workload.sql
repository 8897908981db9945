-- Benchmark workload for bench/plugin_decode.sh.
-- Psql variables: rows (size of the one big transaction), txns (number of small
-- transactions, 15 row changes each: 7 inserts, 5 updates, 3 deletes).
-- The schema (tables, publication, procedure) is created by schema.sql before the slot,
-- so everything here is decoded.
\set ON_ERROR_STOP on

-- One big transaction: :rows inserts with a realistic mix of types.
INSERT INTO bench_big
SELECT g,
       (g % 100000)::int,
       g * 1000003,
       'customer ' || g || ' ' || substr(md5(g::text), 1, 16),
       ((g * 7919) % 10000000) / 100.0,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second',
       g % 3 = 0,
       md5(g::text)::uuid,
       jsonb_build_object('id', g, 'kind', 'order', 'tags', jsonb_build_array('a', 'b'), 'active', g % 2 = 0),
       g * 1.25
FROM generate_series(1::bigint, :rows) g;

-- Tens of thousands of small transactions.
CALL bench_small_load(:txns);
