-- walcast extension: SQL functions that share the output plugin's encoder.
\echo Use "CREATE EXTENSION walcast" to load this file. \quit

-- The rows of a table inside the CTID block range [block_from, block_to) as Debezium
-- op "r" events, byte-identical in "after" to streamed inserts of the same rows.
-- block_to NULL: open ended. options: name/value pairs, the plugin's options plus
-- snapshot.lsn (source.lsn, the slot's consistent point) and snapshot.marker.
CREATE FUNCTION snapshot_rows(rel regclass, block_from bigint DEFAULT 0,
                              block_to bigint DEFAULT NULL, options text[] DEFAULT '{}')
RETURNS SETOF text
AS 'MODULE_PATHNAME', 'walcast_snapshot_rows'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- Splits a table into CTID block ranges of about target_bytes each, counting TOAST
-- (bytes per heap block scaled by the table's total size). No COUNT(*), no index.
-- The last range is open ended (block_to NULL) because relpages can be stale.
CREATE FUNCTION plan_chunks(rel regclass, target_bytes bigint DEFAULT 64 * 1024 * 1024)
RETURNS TABLE (chunk integer, block_from bigint, block_to bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    block_size bigint := current_setting('block_size')::bigint;
    heap_blocks bigint;
    total_bytes bigint;
    blocks_per_chunk bigint;
    start_block bigint := 0;
    n integer := 0;
BEGIN
    -- Sizes of tables the role could not read are not its business either.
    IF NOT has_any_column_privilege(rel, 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for table %', rel::text
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF target_bytes <= 0 THEN
        RAISE EXCEPTION 'target_bytes must be positive, got %', target_bytes;
    END IF;
    heap_blocks := pg_relation_size(rel) / block_size;
    total_bytes := pg_table_size(rel);
    IF heap_blocks = 0 THEN
        RETURN QUERY SELECT 0, 0::bigint, NULL::bigint;
        RETURN;
    END IF;
    -- numeric: target_bytes * heap_blocks overflows bigint for large targets.
    blocks_per_chunk := least(heap_blocks, greatest(1,
        (target_bytes::numeric * heap_blocks / greatest(total_bytes, block_size))::bigint));
    WHILE start_block + blocks_per_chunk < heap_blocks LOOP
        chunk := n; block_from := start_block; block_to := start_block + blocks_per_chunk;
        RETURN NEXT;
        start_block := start_block + blocks_per_chunk;
        n := n + 1;
    END LOOP;
    chunk := n; block_from := start_block; block_to := NULL;
    RETURN NEXT;
END;
$$;

-- Health of the replication slots of this database: how far behind the consumer
-- is and how much WAL each slot keeps on disk.
CREATE FUNCTION slot_status(slot name DEFAULT NULL)
RETURNS TABLE (slot_name name, plugin name, active boolean, active_pid integer,
               confirmed_flush_lsn pg_lsn, restart_lsn pg_lsn,
               lag_bytes numeric, retained_wal_bytes numeric,
               wal_status text, safe_wal_size bigint)
LANGUAGE sql STABLE AS $$
    SELECT s.slot_name, s.plugin, s.active, s.active_pid, s.confirmed_flush_lsn, s.restart_lsn,
           pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn),
           pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn),
           s.wal_status, s.safe_wal_size
    FROM pg_replication_slots s
    WHERE s.slot_type = 'logical' AND (slot_status.slot IS NULL OR s.slot_name = slot_status.slot)
    ORDER BY s.slot_name
$$;

-- Initial snapshots run by the sidecar, one row per slot. Kept in the source database
-- so that a restarted sidecar (on any host) resumes where the last one stopped, and so
-- that dropping the slot can be detected. Changes to these tables are never decoded.
CREATE TABLE snapshot_runs (
    slot_name name PRIMARY KEY,
    consistent_point pg_lsn NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);

-- The chunk plan of each run and which chunks the sink has durably stored.
CREATE TABLE snapshot_chunks (
    slot_name name NOT NULL REFERENCES snapshot_runs ON DELETE CASCADE,
    rel oid NOT NULL,
    relname text NOT NULL,
    filenode oid NOT NULL,  -- a table rewritten since planning is read again whole
    chunk integer NOT NULL,
    block_from bigint NOT NULL,
    block_to bigint,
    rows bigint,
    finished_at timestamptz,
    PRIMARY KEY (slot_name, rel, chunk)
);

-- The tables whose rows a slot's sink received or was asked to receive (the initial
-- snapshot's, and incremental ones queued by the sidecar for snapshot.new.tables or
-- an incremental first load): a table the filters select but not listed here is new.
-- Reset with the slot's run (a new slot has delivered nothing).
CREATE TABLE snapshot_tables (
    slot_name name NOT NULL REFERENCES snapshot_runs ON DELETE CASCADE,
    table_name text NOT NULL,  -- schema.table, as in signals
    method text NOT NULL,      -- initial or incremental
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (slot_name, table_name)
);

-- Incremental snapshots asked for through the slot (walcast.execute_snapshot()), one row
-- per slot and table: recorded when the signal is read, and after each chunk the sink
-- confirmed, so that a restarted sidecar continues after the last confirmed chunk.
CREATE TABLE incremental_snapshots (
    slot_name name NOT NULL,
    table_name text NOT NULL,       -- schema.table, as the signal named it
    requested_lsn pg_lsn NOT NULL,  -- the signal's position: read again, the same request
    requested_at timestamptz NOT NULL DEFAULT now(),
    condition text,                 -- the signal's additional condition (NULL: whole table)
    chunks bigint NOT NULL DEFAULT 0,     -- chunks confirmed, in key order
    last_key text[],                      -- primary key of their last row (NULL: none yet)
    rows_read bigint NOT NULL DEFAULT 0,  -- rows those chunks read
    updated_at timestamptz,
    completed_at timestamptz,
    PRIMARY KEY (slot_name, table_name)
);

-- Nothing here is for every role: a walcast role is granted what it needs
-- (docs/security.md, walcast-roles.sql).
REVOKE ALL ON FUNCTION snapshot_rows(regclass, bigint, bigint, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION plan_chunks(regclass, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION slot_status(name) FROM PUBLIC;

-- Incremental snapshots (docs/incremental-snapshots.md). One row of a table, passed as
-- the table's whole-row value, as an op "r" event; the sidecar reads primary-key chunks
-- with `SELECT walcast.snapshot_row(t.tableoid, t, ...) FROM ONLY tab t WHERE ...`.
CREATE FUNCTION snapshot_row(rel oid, r record, options text[] DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'walcast_snapshot_row'
LANGUAGE C STABLE PARALLEL UNSAFE;

-- A primary-key range of a table, (after, through] in key order (an empty bound: open; at
-- most max_rows rows when max_rows > 0; with condition: only the rows it holds for): the
-- event template, the rows in the compact layout many to a value, then `K<tab>` and the
-- last key read as a JSON array of its columns' text (docs/framing.md). How the sidecar
-- reads incremental snapshot chunks (in a target list: the values stream to it).
CREATE FUNCTION snapshot_key_range(rel regclass, after text[], through text[],
                                   max_rows bigint DEFAULT 0, options text[] DEFAULT '{}',
                                   condition text DEFAULT NULL)
RETURNS SETOF text
AS 'MODULE_PATHNAME', 'walcast_snapshot_key_range'
LANGUAGE C STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

-- Signals for the sidecar streaming this database, in Debezium's signal table layout.
-- Its inserts reach the sidecar through the slot (W frames), never as change events.
-- Only its owner may write it: execute_snapshot() below is the way in for other roles.
CREATE TABLE signals (
    id text PRIMARY KEY,
    type text NOT NULL,
    data text
);
REVOKE ALL ON TABLE signals FROM PUBLIC;

-- Refuses (ERROR, saying why) a condition of an incremental snapshot that is more than
-- an expression over the table's own columns, constants, and built-in immutable
-- functions and operators; returns it as the sidecar's chunk query will use it. The
-- caller must be allowed to SELECT the table.
CREATE FUNCTION check_snapshot_condition(tbl regclass, filter text)
RETURNS text
AS 'MODULE_PATHNAME', 'walcast_check_snapshot_condition'
LANGUAGE C STABLE STRICT;

-- Asks the sidecar streaming this database to snapshot tables again while it streams:
-- an execute-snapshot signal written into walcast.signals (as the table's owner) that
-- reaches the sidecar through its slot when the caller commits. The caller must be
-- allowed to read every table it names (SELECT, as the snapshot will); conditions[i]
-- (or NULL) restricts the rows read of tables[i] and must pass
-- check_snapshot_condition(). Returns the signal's id.
CREATE FUNCTION execute_snapshot(tables text[], kind text DEFAULT 'incremental',
                                 conditions text[] DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'walcast_execute_snapshot'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION snapshot_row(oid, record, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION snapshot_key_range(regclass, text[], text[], bigint, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION execute_snapshot(text[], text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION check_snapshot_condition(regclass, text) FROM PUBLIC;
