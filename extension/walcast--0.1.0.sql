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

-- Incremental snapshots asked for through the slot (walcast.execute_snapshot()), one row
-- per slot and table: recorded when the signal is read, and after each chunk the sink
-- confirmed, so that a restarted sidecar continues after the last confirmed chunk.
CREATE TABLE incremental_snapshots (
    slot_name name NOT NULL,
    table_name text NOT NULL,       -- schema.table, as the signal named it
    requested_lsn pg_lsn NOT NULL,  -- the signal's position: read again, the same request
    requested_at timestamptz NOT NULL DEFAULT now(),
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

-- Asks the sidecar streaming this database to snapshot tables again, incrementally,
-- while it streams: a transactional logical message (prefix walcast.control) that
-- reaches the sidecar through its slot when the caller commits. The caller must be
-- allowed to read every table it names (SELECT, as the snapshot will).
CREATE FUNCTION execute_snapshot(tables text[], kind text DEFAULT 'incremental')
RETURNS pg_lsn
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t text;
    rel regclass;
    names jsonb := '[]'::jsonb;
BEGIN
    IF kind IS DISTINCT FROM 'incremental' THEN
        RAISE EXCEPTION 'walcast supports snapshot kind ''incremental'' only, not %', kind
            USING ERRCODE = 'feature_not_supported';
    END IF;
    IF tables IS NULL OR cardinality(tables) = 0 THEN
        RAISE EXCEPTION 'execute_snapshot needs at least one table'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH t IN ARRAY tables LOOP
        rel := t::regclass;  -- resolves as a query naming the table would (search_path)
        IF NOT has_table_privilege(rel, 'SELECT') THEN
            RAISE EXCEPTION 'permission denied for table %', rel::text
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        names := names || to_jsonb(format('%s.%s',
            (SELECT nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid
              WHERE c.oid = rel),
            (SELECT relname FROM pg_class WHERE oid = rel)));
    END LOOP;
    RETURN pg_logical_emit_message(true, 'walcast.control',
        jsonb_build_object('signal', 'execute-snapshot', 'type', kind,
                           'data-collections', names)::text);
END;
$$;

REVOKE ALL ON FUNCTION snapshot_row(oid, record, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION execute_snapshot(text[], text) FROM PUBLIC;
