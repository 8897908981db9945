// Runs Debezium's PostgreSQL connector in the embedded engine and writes every record it
// produces as one JSON line {"topic":..,"key":..,"value":..} -- the shape of walcast's file
// sink -- twice: once through Kafka Connect's JsonConverter with schemas.enable=false and
// once with schemas.enable=true, so one engine run gives both references.
//
//   java -cp <debezium jars>:<classes> DebeziumCapture <engine.properties>
//
// Keys starting with "capture." steer this program and are not passed to the engine:
//   capture.out.schemaless   file for the schemas.enable=false lines (required)
//   capture.out.schemas      file for the schemas.enable=true lines (none if absent: one
//                            conversion per record, as a benchmark wants)
//   capture.stop.topic       stop once a record of this topic was written and no other
//                            record came for capture.grace.ms (default 1500)
//   capture.timeout.ms       give up after this long in total (default 180000)
//   capture.converter.*      extra JsonConverter settings (both converters)
// Exit status: 0 stopped after the stop topic, 3 timed out, 1 the engine failed.
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.debezium.embedded.Connect;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;

import java.io.BufferedWriter;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.FileOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

public final class DebeziumCapture {
    private static final String PREFIX = "capture.";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** One output file and the converters that render its keys and values. */
    private static final class Output {
        final BufferedWriter out;
        final JsonConverter keys = new JsonConverter();
        final JsonConverter values = new JsonConverter();

        Output(String path, boolean schemas, Map<String, String> extra) throws IOException {
            out = new BufferedWriter(new OutputStreamWriter(new FileOutputStream(path),
                                                            StandardCharsets.UTF_8));
            Map<String, Object> cfg = new HashMap<>(extra);
            cfg.put("schemas.enable", Boolean.toString(schemas));
            keys.configure(cfg, true);
            values.configure(cfg, false);
        }

        void write(SourceRecord r) throws IOException {
            byte[] k = keys.fromConnectData(r.topic(), r.keySchema(), r.key());
            byte[] v = values.fromConnectData(r.topic(), r.valueSchema(), r.value());
            out.write("{\"topic\":");
            out.write(MAPPER.writeValueAsString(r.topic()));
            out.write(",\"key\":");
            out.write(k == null ? "null" : new String(k, StandardCharsets.UTF_8));
            out.write(",\"value\":");
            out.write(v == null ? "null" : new String(v, StandardCharsets.UTF_8));
            out.write("}\n");
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: DebeziumCapture <engine.properties>");
            System.exit(2);
        }
        Properties all = new Properties();
        try (InputStreamReader in = new InputStreamReader(new FileInputStream(args[0]),
                                                          StandardCharsets.UTF_8)) {
            all.load(in);
        }
        Properties engineProps = new Properties();
        Map<String, String> converterExtra = new HashMap<>();
        for (String key : all.stringPropertyNames()) {
            if (key.startsWith(PREFIX + "converter.")) {
                converterExtra.put(key.substring((PREFIX + "converter.").length()),
                                   all.getProperty(key));
            } else if (!key.startsWith(PREFIX)) {
                engineProps.setProperty(key, all.getProperty(key));
            }
        }
        String stopTopic = all.getProperty(PREFIX + "stop.topic", "");
        long graceMs = Long.parseLong(all.getProperty(PREFIX + "grace.ms", "1500"));
        long timeoutMs = Long.parseLong(all.getProperty(PREFIX + "timeout.ms", "180000"));
        Output schemaless = new Output(required(all, "out.schemaless"), false, converterExtra);
        String schemasPath = all.getProperty(PREFIX + "out.schemas", "");
        Output schemas = schemasPath.isEmpty() ? null : new Output(schemasPath, true, converterExtra);

        AtomicLong stopSeenAt = new AtomicLong(0);
        AtomicLong lastRecordAt = new AtomicLong(System.currentTimeMillis());
        AtomicLong count = new AtomicLong(0);
        AtomicReference<String> failure = new AtomicReference<>(null);
        Object done = new Object();

        DebeziumEngine<RecordChangeEvent<SourceRecord>> engine =
            DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(engineProps)
                .using((success, message, error) -> {
                    if (!success) {
                        failure.set(message + (error == null ? "" : ": " + error));
                    }
                    synchronized (done) {
                        done.notifyAll();
                    }
                })
                .notifying((List<RecordChangeEvent<SourceRecord>> batch,
                            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer) -> {
                    for (RecordChangeEvent<SourceRecord> event : batch) {
                        SourceRecord r = event.record();
                        try {
                            schemaless.write(r);
                            if (schemas != null) schemas.write(r);
                        } catch (IOException e) {
                            throw new RuntimeException(e);
                        }
                        count.incrementAndGet();
                        lastRecordAt.set(System.currentTimeMillis());
                        if (r.topic().equals(stopTopic)) {
                            stopSeenAt.compareAndSet(0, System.currentTimeMillis());
                        }
                        committer.markProcessed(event);
                    }
                    try {
                        schemaless.out.flush();
                        if (schemas != null) schemas.out.flush();
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                    committer.markBatchFinished();
                })
                .build();

        ExecutorService executor = Executors.newSingleThreadExecutor();
        executor.execute(engine);
        long start = System.currentTimeMillis();
        int status;
        while (true) {
            synchronized (done) {
                done.wait(100);
            }
            long now = System.currentTimeMillis();
            if (failure.get() != null) {
                status = 1;
                break;
            }
            if (stopSeenAt.get() != 0 && now - lastRecordAt.get() >= graceMs) {
                status = 0;
                break;
            }
            if (now - start >= timeoutMs) {
                System.err.println("DebeziumCapture: timed out after " + timeoutMs + " ms");
                status = 3;
                break;
            }
        }
        engine.close();
        executor.shutdown();
        executor.awaitTermination(60, TimeUnit.SECONDS);
        schemaless.out.close();
        if (schemas != null) schemas.out.close();
        if (failure.get() != null) {
            System.err.println("DebeziumCapture: engine failed: " + failure.get());
            status = 1;
        }
        System.err.println("DebeziumCapture: " + count.get() + " records, exit " + status);
        System.exit(status);
    }

    private static String required(Properties p, String key) {
        String v = p.getProperty(PREFIX + key);
        if (v == null || v.isEmpty()) {
            System.err.println("DebeziumCapture: " + PREFIX + key + " is required");
            System.exit(2);
        }
        return v;
    }
}
