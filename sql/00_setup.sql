-- Shared helpers for the walcast regression suite. Every event line is cast to json,
-- so a line that is not valid JSON fails the suite.
CREATE EXTENSION walcast;

-- Debezium lines (format=json) of a slot, parsed.
CREATE FUNCTION wc_events(slot name, VARIADIC options text[] DEFAULT '{}')
RETURNS SETOF json LANGUAGE sql AS $$
    SELECT data::json FROM pg_logical_slot_get_changes(slot, NULL, NULL, VARIADIC options)
$$;

-- The stable part of an event: op, table, before, after (source timestamps vary).
CREATE FUNCTION wc_rows(slot name, VARIADIC options text[] DEFAULT '{}')
RETURNS TABLE (op text, tbl text, before json, after json) LANGUAGE sql AS $$
    SELECT e->>'op', e->'source'->>'table', e->'before', e->'after'
    FROM wc_events(slot, VARIADIC options) AS e
$$;

-- Frames (format=frames): kind, then the tab-separated fields; JSON fields parsed.
CREATE FUNCTION wc_frames(slot name, VARIADIC options text[] DEFAULT '{}')
RETURNS TABLE (kind text, op text, topic text, key json, value json) LANGUAGE sql AS $$
    SELECT f[1],
           CASE WHEN f[1] = 'E' THEN f[2] END,
           CASE WHEN f[1] = 'E' THEN f[3] END,
           CASE WHEN f[1] = 'E' THEN nullif(f[4], '')::json END,
           CASE f[1] WHEN 'E' THEN array_to_string(f[5:], E'\t')::json
                     WHEN 'B' THEN nullif(f[5], '')::json
                     WHEN 'C' THEN nullif(f[3], '')::json END
    FROM pg_logical_slot_get_changes(slot, NULL, NULL, VARIADIC
             array_cat(ARRAY['format', 'frames'], options)) AS c,
         LATERAL string_to_array(c.data, E'\t') AS f
$$;
