-- The conformance workload, part 2: the streamed changes, run once every consumer's slot
-- exists. Each statement list between BEGIN and COMMIT is one transaction.
SET datestyle = 'ISO, MDY';

-- Every snapshot row again as a streamed insert (the same values through the stream path).
BEGIN;
INSERT INTO dz_num SELECT id + 100, i2, i4, i8, o, r, d, b FROM dz_num WHERE id < 100;
INSERT INTO dz_dec SELECT id + 100, n62, n, n5, n20, n38, m FROM dz_dec WHERE id < 100;
INSERT INTO dz_dec_special SELECT id + 100, n, n62, na, n62a FROM dz_dec_special WHERE id < 100;
INSERT INTO dz_time SELECT id + 100, d, t, t0, t3, t6, tz, tz3, ts, ts0, ts3, ts4, tstz, tstz0,
    tstz3, iv, iv_ym FROM dz_time WHERE id < 100;
INSERT INTO dz_bin SELECT id + 100, b, b1, b8, b16, b3, vb, vb1, vb20 FROM dz_bin WHERE id < 100;
COMMIT;
BEGIN;
INSERT INTO dz_text SELECT id + 100, t, vc, vcu, c, c1, ct, nm, u, j, jb, ip, ip6, net, mac,
    mac8, lt, r4, r8, nr, tsr, tstzr, dr, e FROM dz_text WHERE id < 100;
INSERT INTO dz_struct SELECT id + 100, h, p, dpi, dpr, dts, dl, dd, db FROM dz_struct
    WHERE id < 100;
INSERT INTO dz_arr SELECT id + 100, ia, i8a, ta, vca, na, nu, fa, ra, ba, ua, ja, jsa, bya, da,
    tsa, tstza, ta6, ia_iv, dpa, ea, ha, ipa, cta, ma, tza, ca, tsa2 FROM dz_arr WHERE id < 100;
COMMIT;

INSERT INTO dz_unknown SELECT id + 100, comp, bx, tv FROM dz_unknown WHERE id < 100;
INSERT INTO dz_multidim SELECT id + 100, ia, ta FROM dz_multidim WHERE id < 100;

-- Updates: values changed, set to NULL, set back.
UPDATE dz_num SET i4 = i4 + 1, d = 'NaN', r = '-Infinity' WHERE id = 101;
UPDATE dz_dec SET n = 0.1, m = NULL WHERE id = 101;
UPDATE dz_time SET ts = '-infinity', d = '2016-02-29' WHERE id = 101;
UPDATE dz_text SET t = NULL, jb = '{"z": [true, false, null]}' WHERE id = 101;
UPDATE dz_arr SET da = '{-infinity}', ia = '{3,4}' WHERE id = 102;

-- Unchanged TOASTed values: only n changes, the large columns are not in the WAL.
UPDATE dz_toast SET n = n + 1 WHERE id = 1;
UPDATE dz_toast_full SET n = n + 1 WHERE id = 1;
-- A TOASTed value that does change, and a delete of a row with TOASTed values.
UPDATE dz_toast SET t = repeat('u', 6000) WHERE id = 1;
INSERT INTO dz_toast SELECT 2, n, t, b, jb, ta, ia, h, vc, ct FROM dz_toast WHERE id = 1;
DELETE FROM dz_toast WHERE id = 2;

-- Replica identities: updates, key changes and deletes.
UPDATE dz_id_default SET t = 'uno' WHERE id = 1;
UPDATE dz_id_default SET id = 3 WHERE id = 2;
DELETE FROM dz_id_default WHERE id = 1;
INSERT INTO dz_id_default (id, i, t, n, b, ts, f, by, u, ia, nu, iv, tm, j, e) VALUES
    (4, 4, 'four', 4.5, true, '2016-11-04 13:51:30+00', 4.5, '\x04',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a14', '{4}', 4.5, '4 days', '14:00', '{"a":4}', 'happy');
INSERT INTO dz_id_default (id, i, t, n, b, ts, f, by, u, ia, nu, iv, tm, j, e, dflt, dflt_i)
VALUES (5, 5, 'five', 5.5, true, '2016-11-04 13:51:30+00', 5.5, '\x05',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a15', '{5}', 5.5, '5 days', '15:00', '{}', 'ok',
        NULL, NULL);
DELETE FROM dz_id_default WHERE id = 5;
UPDATE dz_id_full SET v = 'a2' WHERE id = 1;
UPDATE dz_id_full SET id = 3 WHERE id = 2;
DELETE FROM dz_id_full WHERE id = 1;
INSERT INTO dz_id_nothing VALUES (2, 'b');
UPDATE dz_id_index SET v = 'x2' WHERE code = 'a';
UPDATE dz_id_index SET code = 'c' WHERE code = 'b';
DELETE FROM dz_id_index WHERE code = 'a';
INSERT INTO dz_nokey VALUES ('c', 3);
UPDATE dz_nokey SET n = 10 WHERE v = 'a';
DELETE FROM dz_nokey WHERE v = 'b';
UPDATE dz_compkey SET v = 'x2' WHERE a = 1;
UPDATE dz_compkey SET b = 'm' WHERE a = 2;
DELETE FROM dz_compkey WHERE a = 1;
DELETE FROM dz_num WHERE id = 102;
DELETE FROM dz_time WHERE id = 102;
DELETE FROM dz_arr WHERE id = 101;

-- Truncate (one table alone, then two in one statement).
TRUNCATE dz_trunc;
INSERT INTO dz_trunc VALUES (2, 'b');
TRUNCATE dz_trunc, dz_id_nothing;

-- Logical messages: transactional (inside a transaction with a row change) and not.
BEGIN;
INSERT INTO dz_trunc VALUES (3, 'c');
SELECT pg_logical_emit_message(true, 'dz-prefix', 'transactional content');
COMMIT;
SELECT pg_logical_emit_message(false, 'dz-prefix', convert_to(E'bytes \\001 é', 'UTF8'));
SELECT pg_logical_emit_message(false, '', '');
-- Bytes whose base64 has '+' and '/' (base64-url-safe differs).
SELECT pg_logical_emit_message(false, 'dz-bytes', '\xfbffbf00'::bytea);

-- Identifiers needing topic mapping.
INSERT INTO "Odd Schema"."Tbl with space-and.dot" VALUES (2, 'b', 2);
UPDATE "Odd Schema"."Tbl with space-and.dot" SET "Col Name" = 'c' WHERE id = 1;
INSERT INTO "public"."tbl_é😀" VALUES (2, 'b');
INSERT INTO "public"."UPPER" VALUES (2);

-- Typed keys: insert, update of a non-key column, key change, delete.
INSERT INTO dz_typedkey SELECT n + 100, nu, ts, d, b, u, t, v FROM dz_typedkey;
UPDATE dz_typedkey SET v = 10 WHERE n = 1.5;
UPDATE dz_typedkey SET ts = '2020-02-29 00:00:00+00' WHERE n = -2;
DELETE FROM dz_typedkey WHERE n = 101.5;

-- Schema changes between changes: a column added (with a default), one dropped.
ALTER TABLE dz_compkey ADD COLUMN added numeric(5,1) DEFAULT 1.5;
INSERT INTO dz_compkey (a, v, b) VALUES (3, 'z', 'k');
UPDATE dz_compkey SET added = NULL WHERE a = 3;
ALTER TABLE dz_compkey DROP COLUMN v;
INSERT INTO dz_compkey (a, b, added) VALUES (4, 'k', 2.5);

-- A transaction with several tables (transaction metadata: per-collection counts).
BEGIN;
INSERT INTO dz_num (id, i2) VALUES (200, 1);
INSERT INTO dz_trunc VALUES (4, 'd');
INSERT INTO dz_num (id, i2) VALUES (201, 2);
COMMIT;

-- Then test/integration/debezium_conformance.py runs changes-xml.sql (when the server
-- has xml) and inserts into dz_zz_done, the last change every consumer waits for.
