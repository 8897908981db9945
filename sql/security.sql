-- Privileges of the extension's functions: nothing for PUBLIC, and snapshot_rows()
-- reads only what `SELECT * FROM` the table would show the calling role.
CREATE ROLE regress_walcast_nobody;
CREATE ROLE regress_walcast_reader;
CREATE SCHEMA sec_hidden;
CREATE TABLE sec_hidden.t (id int PRIMARY KEY, secret text);
INSERT INTO sec_hidden.t VALUES (1, 'hidden');
CREATE TABLE sec_open (id int PRIMARY KEY, note text, secret text);
INSERT INTO sec_open VALUES (1, 'visible', 's1'), (2, 'visible too', 's2');
CREATE TABLE sec_rls (id int PRIMARY KEY, owner name);
INSERT INTO sec_rls VALUES (1, 'regress_walcast_reader'), (2, 'someone else');
ALTER TABLE sec_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON sec_rls USING (owner = current_user);
CREATE VIEW sec_view AS SELECT * FROM sec_open;
CREATE TABLE sec_cols (id int PRIMARY KEY, note text, secret text);
INSERT INTO sec_cols VALUES (1, 'n', 's');
SELECT 'sec_hidden.t'::regclass::oid AS hidden_oid,
       'pg_authid'::regclass::oid AS authid_oid \gset

-- Functions are not executable by PUBLIC.
SELECT p.proname, has_function_privilege('regress_walcast_nobody', p.oid, 'EXECUTE') AS public_can_execute
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'walcast' ORDER BY 1;

-- A role without any grant does not even reach the functions.
SET ROLE regress_walcast_nobody;
SELECT walcast.snapshot_rows(:authid_oid);
RESET ROLE;
-- A role with USAGE on the schema walcast but no EXECUTE.
GRANT USAGE ON SCHEMA walcast TO regress_walcast_nobody;
GRANT SELECT ON sec_open TO regress_walcast_nobody;
SET ROLE regress_walcast_nobody;
SELECT walcast.snapshot_rows('sec_open');
SELECT * FROM walcast.plan_chunks('sec_open');
SELECT * FROM walcast.slot_status();
RESET ROLE;

-- A role that may execute the functions still reads only what it may SELECT.
GRANT USAGE ON SCHEMA walcast TO regress_walcast_reader;
GRANT EXECUTE ON FUNCTION walcast.snapshot_rows(regclass, bigint, bigint, text[]),
                          walcast.snapshot_key_range(regclass, text[], text[], bigint, text[], text),
                          walcast.plan_chunks(regclass, bigint) TO regress_walcast_reader;
GRANT SELECT ON sec_hidden.t, sec_rls, sec_view TO regress_walcast_reader;
GRANT SELECT (id, note) ON sec_cols TO regress_walcast_reader;
SET ROLE regress_walcast_reader;
-- No SELECT on the table.
SELECT walcast.snapshot_rows('sec_open');
SELECT * FROM walcast.snapshot_key_range('sec_open', NULL, NULL);
SELECT * FROM walcast.plan_chunks('sec_open');
-- SELECT on the table, but no USAGE on its schema: by OID it is refused all the same.
SELECT walcast.snapshot_rows(:hidden_oid);
-- Row-level security hides rows from this role: the whole table is refused.
SELECT walcast.snapshot_rows('sec_rls');
SELECT * FROM walcast.snapshot_key_range('sec_rls', NULL, NULL);
-- System catalogs are never read, whatever the role.
SELECT walcast.snapshot_rows(:authid_oid);
-- Not a table.
SELECT walcast.snapshot_rows('sec_view');
-- Column privileges: all emitted columns must be readable; excluding the others works.
SELECT walcast.snapshot_rows('sec_cols');
SELECT * FROM walcast.snapshot_key_range('sec_cols', NULL, NULL);
SELECT r::json->'after' AS after
FROM walcast.snapshot_rows('sec_cols', options => ARRAY['column.exclude.list', 'public.sec_cols.secret']) AS r;
SELECT walcast.slot_status();
RESET ROLE;

-- Granted SELECT (and USAGE): the rows come back.
GRANT SELECT ON sec_open TO regress_walcast_reader;
GRANT USAGE ON SCHEMA sec_hidden TO regress_walcast_reader;
SET ROLE regress_walcast_reader;
SELECT r::json->'after' AS after FROM walcast.snapshot_rows('sec_open') AS r ORDER BY 1::text;
SELECT r::json->'after' AS after FROM walcast.snapshot_rows(:hidden_oid) AS r;
SELECT count(*) AS chunks FROM walcast.plan_chunks('sec_open');
SELECT r FROM walcast.snapshot_key_range('sec_open', NULL, NULL) r WHERE r LIKE E'K\t%';
RESET ROLE;

-- Even a superuser gets no catalog rows.
SELECT walcast.snapshot_rows(:authid_oid);
-- The owner of an RLS table, to whom its policies do not apply, reads all rows; unless
-- they are forced on the owner too.
ALTER TABLE sec_rls OWNER TO regress_walcast_reader;
SET ROLE regress_walcast_reader;
SELECT r::json->'after' AS after FROM walcast.snapshot_rows('sec_rls') AS r ORDER BY 1::text;
ALTER TABLE sec_rls FORCE ROW LEVEL SECURITY;
SELECT walcast.snapshot_rows('sec_rls');
RESET ROLE;

DROP SCHEMA sec_hidden CASCADE;
DROP TABLE sec_open, sec_rls, sec_cols CASCADE;
REVOKE ALL ON SCHEMA walcast FROM regress_walcast_nobody, regress_walcast_reader;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA walcast FROM regress_walcast_nobody, regress_walcast_reader;
DROP ROLE regress_walcast_nobody;
DROP ROLE regress_walcast_reader;
