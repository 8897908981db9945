-- Least-privilege roles for walcast (docs/security.md explains each grant).
-- Run as a superuser (or the database owner with CREATEROLE) in the source database,
-- after CREATE EXTENSION walcast:
--
--   psql -d <source db> -v source_schemas=public,sales -f walcast-roles.sql
--
-- Variables (all optional):
--   stream_role      streams a slot only (snapshot.mode=no_data)       walcast_stream
--   snapshot_role    streams and runs the initial snapshot (the default) walcast_snapshot
--   source_schemas   comma-separated schemas whose tables are snapshot   public
-- Roles are created with LOGIN and no password: set one (or use another
-- authentication method) before use. Re-running the script is harmless.
\set ON_ERROR_STOP on
\if :{?stream_role}
\else
\set stream_role walcast_stream
\endif
\if :{?snapshot_role}
\else
\set snapshot_role walcast_snapshot
\endif
\if :{?source_schemas}
\else
\set source_schemas public
\endif

-- (a) Streaming: a logical replication connection, creating and dropping its slot.
-- (b) Snapshot: the same, plus reading the source tables through walcast's functions
--     and keeping the snapshot's progress in walcast.snapshot_runs / snapshot_chunks
--     (incremental snapshots: walcast.incremental_snapshots).
SELECT format('CREATE ROLE %I LOGIN REPLICATION', r)
FROM unnest(ARRAY[:'stream_role', :'snapshot_role']) AS r
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) \gexec
SELECT format('ALTER ROLE %I LOGIN REPLICATION', r)
FROM unnest(ARRAY[:'stream_role', :'snapshot_role']) AS r \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), r)
FROM unnest(ARRAY[:'stream_role', :'snapshot_role']) AS r \gexec

GRANT USAGE ON SCHEMA walcast TO :"snapshot_role";
GRANT EXECUTE ON FUNCTION walcast.snapshot_rows(regclass, bigint, bigint, text[]),
                          walcast.plan_chunks(regclass, bigint),
                          walcast.snapshot_row(oid, record, text[]),
                          walcast.snapshot_key_range(regclass, text[], text[], bigint, text[], text),
                          walcast.check_snapshot_condition(regclass, text),
                          walcast.execute_snapshot(text[], text, text[])
    TO :"snapshot_role";
GRANT SELECT, INSERT, UPDATE, DELETE
    ON walcast.snapshot_runs, walcast.snapshot_chunks, walcast.snapshot_tables,
       walcast.incremental_snapshots
    TO :"snapshot_role";

-- The tables themselves: what `SELECT * FROM` each needs, now and for tables created
-- later by the role running this script.
SELECT format('GRANT USAGE ON SCHEMA %I TO %I', s, :'snapshot_role'),
       format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', s, :'snapshot_role'),
       format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO %I', s,
              :'snapshot_role')
FROM unnest(string_to_array(:'source_schemas', ',')) AS s \gexec
