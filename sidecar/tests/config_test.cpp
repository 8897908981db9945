// Configuration: properties syntax, precedence (flag > env > file > default),
// validation messages, and what is forwarded to the plugin and libpq.
#include "config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace walcast {
namespace {

std::string config_error(const ConfigSources &src) {
    try {
        load_config(src);
    } catch (const ConfigError &e) {
        return e.what();
    }
    return "";
}

ConfigSources sets(std::vector<std::string> s) {
    ConfigSources src;
    src.sets = std::move(s);
    return src;
}

std::string write_temp(const std::string &text) {
    std::string path = ::testing::TempDir() + "walcast_config_test.properties";
    std::ofstream(path) << text;
    return path;
}

TEST(Config, Defaults) {
    Config c = load_config({});
    EXPECT_EQ(c.slot_name, "walcast");
    EXPECT_TRUE(c.slot_create);
    EXPECT_EQ(c.topic_prefix, "walcast");
    EXPECT_TRUE(c.tombstones_on_delete);
    EXPECT_EQ(c.heartbeat_interval_ms, 0);
    EXPECT_EQ(c.sink, "stdout");
    EXPECT_EQ(c.status_update_interval_ms, 10000);
    EXPECT_EQ(c.snapshot_mode, "initial");  // Debezium's default
    EXPECT_EQ(c.log_level, "info");
    EXPECT_TRUE(c.conn_params.empty()) << "libpq defaults apply";
    ASSERT_EQ(c.plugin_options.size(), 2u);
    EXPECT_EQ(c.plugin_options[0], std::make_pair(std::string("format"), std::string("frames")));
    EXPECT_EQ(c.plugin_options[1],
              std::make_pair(std::string("topic.prefix"), std::string("walcast")));
}

TEST(Config, PropertiesSyntax) {
    auto m = parse_properties(
        "# comment\n! also a comment\n\n  database.hostname = db.example  \n"
        "topic.prefix:shop\r\nkafka.bootstrap.servers=a:9092,b:9092\n"
        "heartbeat.action.query=UPDATE hb SET ts = now() WHERE id = 1\n",
        "f");
    EXPECT_EQ(m.at("database.hostname"), "db.example");
    EXPECT_EQ(m.at("topic.prefix"), "shop");
    EXPECT_EQ(m.at("kafka.bootstrap.servers"), "a:9092,b:9092");
    EXPECT_EQ(m.at("heartbeat.action.query"), "UPDATE hb SET ts = now() WHERE id = 1");
}

TEST(Config, PropertiesErrorsNameTheLine) {
    try {
        parse_properties("topic.prefix=x\njust some words\n", "my.properties");
        FAIL();
    } catch (const ConfigError &e) {
        EXPECT_STREQ(e.what(), "my.properties:2: expected key=value, got 'just some words'");
    }
}

TEST(Config, UnknownKeyIsNamed) {
    EXPECT_EQ(config_error(sets({"databse.hostname=x"})),
              "unknown configuration key 'databse.hostname' (--set); see 'walcast run --help' "
              "for the known keys");
    std::string path = write_temp("topic.prefix=a\nslot.nmae=b\n");
    ConfigSources src;
    src.file = path;
    EXPECT_NE(config_error(src).find("unknown configuration key 'slot.nmae' (" + path + ":2)"),
              std::string::npos)
        << config_error(src);
}

TEST(Config, KafkaPassthrough) {
    Config c = load_config(sets({"kafka.bootstrap.servers=k:9092", "kafka.compression.type=zstd",
                                 "kafka.security.protocol=SASL_SSL"}));
    EXPECT_EQ(c.sink, "kafka") << "kafka is the default once a broker is configured";
    EXPECT_EQ(c.kafka_props.at("bootstrap.servers"), "k:9092");
    EXPECT_EQ(c.kafka_props.at("compression.type"), "zstd");
    EXPECT_EQ(c.kafka_props.at("security.protocol"), "SASL_SSL");
    EXPECT_EQ(c.kafka_props.size(), 3u);
}

TEST(Config, KafkaSinkNeedsBootstrap) {
    EXPECT_NE(config_error(sets({"sink=kafka"})).find("kafka.bootstrap.servers"),
              std::string::npos);
}

TEST(Config, Precedence) {
    std::string path = write_temp("slot.name=from_file\ntopic.prefix=file\nlog.level=debug\n");
    ConfigSources src;
    src.file = path;
    src.env = {{"WALCAST_SLOT_NAME", "from_env"},
               {"WALCAST_TOPIC_PREFIX", "env"},
               {"WALCAST_BIN", "/ignored/unrelated/variable"},
               {"WALCAST_KAFKA_BOOTSTRAP_SERVERS", "envhost:9092"}};
    src.sets = {"slot.name=from_flag"};
    Config c = load_config(src);
    EXPECT_EQ(c.slot_name, "from_flag");  // flag > env
    EXPECT_EQ(c.topic_prefix, "env");     // env > file
    EXPECT_EQ(c.log_level, "debug");      // file > default
    EXPECT_EQ(c.kafka_props.at("bootstrap.servers"), "envhost:9092");
}

TEST(Config, EnvName) {
    EXPECT_EQ(env_name("database.port"), "WALCAST_DATABASE_PORT");
    EXPECT_EQ(env_name("binary.handling.mode"), "WALCAST_BINARY_HANDLING_MODE");
}

TEST(Config, BadValuesNameKeyAndAcceptedValues) {
    EXPECT_EQ(config_error(sets({"decimal.handling.mode=exact"})),
              "invalid value 'exact' for decimal.handling.mode; accepted: precise, string, double");
    EXPECT_EQ(config_error(sets({"tombstones.on.delete=yes"})),
              "invalid value 'yes' for tombstones.on.delete; accepted: true, false");
    EXPECT_EQ(config_error(sets({"database.port=70000"})),
              "invalid value '70000' for database.port; accepted: an integer from 1 to 65535");
    EXPECT_EQ(config_error(sets({"heartbeat.interval.ms=10s"})),
              "invalid value '10s' for heartbeat.interval.ms; accepted: an integer >= 0");
    EXPECT_EQ(config_error(sets({"status.update.interval.ms=0"})),
              "invalid value '0' for status.update.interval.ms; accepted: an integer >= 1");
    EXPECT_NE(config_error(sets({"sink=s3"})).find("accepted: kafka, stdout, file:"),
              std::string::npos);
    EXPECT_NE(config_error(sets({"skipped.operations=c,x"})).find("skipped.operations"),
              std::string::npos);
    EXPECT_NE(config_error(sets({"slot.name=My-Slot"})).find("lower-case letters"),
              std::string::npos);
    EXPECT_NE(config_error(sets({"topic.prefix=a b"})).find("Kafka topic name"), std::string::npos);
    EXPECT_EQ(config_error(sets({"plugin.name=pgoutput"})),
              "invalid value 'pgoutput' for plugin.name; accepted: walcast");
    EXPECT_EQ(config_error(sets({"binary.handling.mode=raw"})),
              "invalid value 'raw' for binary.handling.mode; accepted: bytes, base64, "
              "base64-url-safe, hex");
}

TEST(Config, SnapshotModesOfDebezium) {
    for (const char *mode : {"no_data", "never", "initial", "initial_only", "when_needed"})
        EXPECT_EQ(load_config(sets({std::string("snapshot.mode=") + mode})).snapshot_mode, mode);
    EXPECT_EQ(config_error(sets({"snapshot.mode=always"})),
              "invalid value 'always' for snapshot.mode; accepted: no_data, never, initial, "
              "initial_only, when_needed");
    EXPECT_EQ(config_error(sets({"snapshot.max.threads=0"})).rfind("invalid value '0'", 0), 0u);
}

TEST(Config, SetNeedsKeyValue) {
    EXPECT_EQ(config_error(sets({"topic.prefix"})), "--set expects key=value, got 'topic.prefix'");
}

TEST(Config, EnumsAreCaseInsensitive) {
    Config c = load_config(sets({"decimal.handling.mode=STRING", "slot.create=FALSE"}));
    EXPECT_EQ(c.get("decimal.handling.mode"), "string");
    EXPECT_FALSE(c.slot_create);
}

TEST(Config, PluginOptionsOnlyWhatTheUserSet) {
    Config c =
        load_config(sets({"topic.prefix=shop", "table.include.list=public\\.orders,public\\.items",
                          "decimal.handling.mode=string", "tombstones.on.delete=false",
                          "provide.transaction.metadata=true"}));
    std::map<std::string, std::string> opts(c.plugin_options.begin(), c.plugin_options.end());
    EXPECT_EQ(opts.at("format"), "frames");
    EXPECT_EQ(opts.at("topic.prefix"), "shop");
    EXPECT_EQ(opts.at("table.include.list"), "public\\.orders,public\\.items");
    EXPECT_EQ(opts.at("decimal.handling.mode"), "string");
    EXPECT_EQ(opts.at("provide.transaction.metadata"), "true");
    EXPECT_EQ(opts.count("tombstones.on.delete"), 0u) << "a sidecar setting";
    EXPECT_EQ(opts.count("binary.handling.mode"), 0u) << "plugin default";
    EXPECT_FALSE(c.tombstones_on_delete);
    EXPECT_TRUE(c.provide_transaction_metadata);
}

TEST(Config, HeartbeatsPassTheMessageFilter) {
    Config c =
        load_config(sets({"message.prefix.include.list=app\\..*", "heartbeat.interval.ms=500"}));
    std::map<std::string, std::string> opts(c.plugin_options.begin(), c.plugin_options.end());
    EXPECT_EQ(opts.at("message.prefix.include.list"), "app\\..*,walcast\\.heartbeat");
}

TEST(Config, ConnectionParams) {
    Config c = load_config(sets({"database.hostname=db", "database.port=5433", "database.user=u",
                                 "database.password=secret", "database.dbname=shop"}));
    std::vector<std::pair<std::string, std::string>> want = {{"host", "db"},
                                                             {"port", "5433"},
                                                             {"user", "u"},
                                                             {"password", "secret"},
                                                             {"dbname", "shop"}};
    EXPECT_EQ(c.conn_params, want);
    EXPECT_EQ(c.conninfo_redacted(), "host=db port=5433 user=u dbname=shop");
}

TEST(Config, UrlGoesFirstAndHidesItsPassword) {
    Config c =
        load_config(sets({"database.url=postgresql://u:pw@db:5432/shop", "database.port=6000"}));
    ASSERT_EQ(c.conn_params.size(), 2u);
    EXPECT_EQ(c.conn_params[0],
              std::make_pair(std::string("dbname"), std::string("postgresql://u:pw@db:5432/shop")));
    EXPECT_EQ(c.conninfo_redacted(), "dbname=postgresql://u:***@db:5432/shop port=6000");
}

TEST(Config, MissingFile) {
    ConfigSources src;
    src.file = "/nonexistent/walcast.properties";
    EXPECT_EQ(config_error(src), "cannot read config file /nonexistent/walcast.properties");
}

}  // namespace
}  // namespace walcast
