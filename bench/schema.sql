-- Schema for bench/plugin_decode.sh; created before the benchmark's source slot.
\set ON_ERROR_STOP on
CREATE TABLE bench_big (
    id bigint PRIMARY KEY,
    qty int,
    account bigint,
    name text,
    amount numeric(12,2),
    created_at timestamptz,
    flagged bool,
    ref uuid,
    attrs jsonb,
    score double precision
);
CREATE TABLE bench_small (LIKE bench_big INCLUDING ALL);

-- pgoutput needs a publication; FOR ALL TABLES so it sees what the others see.
CREATE PUBLICATION bench_pub FOR ALL TABLES;

-- Transaction k inserts ids 7k+1..7k+7, updates five rows of transaction k-1 and
-- deletes three rows of transaction k-2: 15 row changes per transaction.
CREATE PROCEDURE bench_small_load(ntx int) LANGUAGE plpgsql AS $$
DECLARE
    base bigint;
BEGIN
    FOR k IN 0 .. ntx - 1 LOOP
        base := k * 7;
        INSERT INTO bench_small
        SELECT base + g,
               ((base + g) % 1000)::int,
               (base + g) * 31,
               'event ' || (base + g) || ' ' || substr(md5((base + g)::text), 1, 12),
               ((base + g) % 100000) / 100.0,
               now(),
               g % 2 = 0,
               md5((base + g)::text)::uuid,
               jsonb_build_object('seq', base + g, 'src', 'small'),
               (base + g) / 3.0
        FROM generate_series(1::bigint, 7) g;
        UPDATE bench_small
           SET qty = qty + 1, amount = amount + 1.50, created_at = now(),
               attrs = attrs || '{"updated": true}', score = score * 2
         WHERE id BETWEEN base - 6 AND base - 2;
        DELETE FROM bench_small WHERE id BETWEEN base - 13 AND base - 11;
        COMMIT;
    END LOOP;
END $$;
