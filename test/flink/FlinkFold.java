import java.io.BufferedReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.flink.api.common.functions.util.ListCollector;
import org.apache.flink.formats.common.TimestampFormat;
import org.apache.flink.formats.json.debezium.DebeziumJsonDeserializationSchema;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.types.RowKind;

/**
 * Decodes walcast's events of the `items` table (docs/sinks/flink.md) with Flink's own
 * debezium-json format (DebeziumJsonDeserializationSchema, what a Flink SQL table with
 * 'format' = 'debezium-json' runs) and folds the changelog it produces into a table.
 *
 * Usage: FlinkFold <events> <out>
 *   <events>  one Kafka record value per line, an empty line for a tombstone
 *   <out>     the folded table, one JSON array per row (columns of sink_load.COLUMNS)
 *
 * A retraction (UPDATE_BEFORE, DELETE) must carry exactly the row the fold holds for its
 * key: that is what REPLICA IDENTITY FULL gives Flink. Exit 2 when the format rejects an
 * event (its message on stderr), 3 when a retraction does not match.
 */
public final class FlinkFold {
    // The physical schema of the doc's CREATE TABLE: temporal columns in walcast's
    // numeric units are INT/BIGINT (flink-json reads DATE/TIME/TIMESTAMP only from text).
    static final DataType PHYSICAL = DataTypes.ROW(
            DataTypes.FIELD("id", DataTypes.INT().notNull()),
            DataTypes.FIELD("sku", DataTypes.STRING()),
            DataTypes.FIELD("price", DataTypes.DECIMAL(12, 2)),
            DataTypes.FIELD("weight", DataTypes.DECIMAL(30, 8)),
            DataTypes.FIELD("born", DataTypes.INT()),
            DataTypes.FIELD("seen", DataTypes.BIGINT()),
            DataTypes.FIELD("seen_ms", DataTypes.BIGINT()),
            DataTypes.FIELD("paid_at", DataTypes.TIMESTAMP_LTZ(6)),
            DataTypes.FIELD("opens", DataTypes.BIGINT()),
            DataTypes.FIELD("note", DataTypes.STRING()));

    static final DateTimeFormatter MICROS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS").withZone(ZoneOffset.UTC);
    static final DateTimeFormatter MILLIS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

    public static void main(String[] args) throws Exception {
        RowType rowType = (RowType) PHYSICAL.getLogicalType();
        DebeziumJsonDeserializationSchema format = new DebeziumJsonDeserializationSchema(
                PHYSICAL, Collections.emptyList(), InternalTypeInfo.of(rowType),
                false /* debezium-json.schema-include */, false /* ignore-parse-errors */,
                TimestampFormat.ISO_8601);
        format.open(null);

        Map<Integer, List<Object>> table = new TreeMap<>();
        int events = 0;
        try (BufferedReader in = Files.newBufferedReader(Paths.get(args[0]), StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                events++;
                List<RowData> out = new ArrayList<>();
                try {
                    format.deserialize(line.getBytes(StandardCharsets.UTF_8), new ListCollector<>(out));
                } catch (Exception e) {
                    Throwable root = e;
                    while (root.getCause() != null) root = root.getCause();
                    System.err.println("debezium-json rejected event " + events + ": " + e.getMessage()
                            + (root != e ? " (" + root.getMessage() + ")" : ""));
                    System.exit(2);
                }
                for (RowData row : out) fold(table, row, events);
            }
        }
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(Paths.get(args[1]), StandardCharsets.UTF_8))) {
            ObjectMapper json = new ObjectMapper();
            for (List<Object> row : table.values()) w.println(json.writeValueAsString(row));
        }
        System.err.println("folded " + events + " records into " + table.size() + " rows");
    }

    static void fold(Map<Integer, List<Object>> table, RowData row, int event) {
        int id = row.getInt(0);
        List<Object> values = render(row);
        RowKind kind = row.getRowKind();
        if (kind == RowKind.INSERT || kind == RowKind.UPDATE_AFTER) {
            table.put(id, values);
            return;
        }
        List<Object> held = table.remove(id);
        if (!values.equals(held)) {
            System.err.println("event " + event + ": " + kind + " retracts " + values
                    + " but the table holds " + held);
            System.exit(3);
        }
    }

    /** The row as the strings sink_load.rows() reads from PostgreSQL. */
    static List<Object> render(RowData r) {
        return Arrays.asList(
                r.getInt(0),
                r.isNullAt(1) ? null : r.getString(1).toString(),
                r.isNullAt(2) ? null : r.getDecimal(2, 12, 2).toBigDecimal().toPlainString(),
                r.isNullAt(3) ? null : r.getDecimal(3, 30, 8).toBigDecimal().toPlainString(),
                r.isNullAt(4) ? null : LocalDate.ofEpochDay(r.getInt(4)).toString(),
                r.isNullAt(5) ? null : MICROS.format(Instant.EPOCH.plusNanos(r.getLong(5) * 1000)),
                r.isNullAt(6) ? null : MILLIS.format(Instant.ofEpochMilli(r.getLong(6))),
                r.isNullAt(7) ? null : MICROS.format(r.getTimestamp(7, 6).toInstant()),
                r.isNullAt(8) ? null : Long.toString(r.getLong(8)),
                r.isNullAt(9) ? null : r.getString(9).toString());
    }
}
