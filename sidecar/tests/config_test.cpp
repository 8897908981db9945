// Configuration: properties syntax, precedence (flag > env > file > default),
// validation messages, and what is forwarded to the plugin and libpq.
#include "config/config.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
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
        // As in java.util.Properties, a blank separates key and value: the key is "just".
        parse_properties("topic.prefix=x\njust some words\n", "my.properties");
        FAIL();
    } catch (const ConfigError &e) {
        EXPECT_EQ(
            std::string(e.what()).rfind("unknown configuration key 'just' (my.properties:2)", 0),
            0u)
            << e.what();
    }
}

TEST(Config, UnknownKeyIsNamed) {
    EXPECT_EQ(config_error(sets({"databse.hostname=x"})),
              "unknown configuration key 'databse.hostname' (--set); did you mean "
              "'database.hostname'?; see 'walcast run --help' for the known keys");
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
              "invalid value '10s' for heartbeat.interval.ms; accepted: an integer from 0 to "
              "2147483647");
    EXPECT_EQ(config_error(sets({"status.update.interval.ms=0"})),
              "invalid value '0' for status.update.interval.ms; accepted: an integer from 1 to "
              "2147483647");
    EXPECT_NE(config_error(sets({"sink=s3"})).find("accepted: kafka, stdout, file:"),
              std::string::npos);
    EXPECT_NE(config_error(sets({"skipped.operations=c,x"})).find("skipped.operations"),
              std::string::npos);
    EXPECT_NE(config_error(sets({"slot.name=My-Slot"})).find("lower-case letters"),
              std::string::npos);
    EXPECT_NE(config_error(sets({"topic.prefix=a b"})).find("Kafka topic name"), std::string::npos);
    EXPECT_EQ(config_error(sets({"binary.handling.mode=raw"})),
              "invalid value 'raw' for binary.handling.mode; accepted: bytes, base64, "
              "base64-url-safe, hex");
}

TEST(Config, SnapshotModesOfDebezium) {
    for (const char *mode :
         {"no_data", "never", "initial", "initial_only", "when_needed", "always"})
        EXPECT_EQ(load_config(sets({std::string("snapshot.mode=") + mode})).snapshot_mode, mode);
    EXPECT_EQ(config_error(sets({"snapshot.mode=custom"})),
              "invalid value 'custom' for snapshot.mode; accepted: no_data, never, initial, "
              "initial_only, when_needed, always");
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
    ConfigSources src = sets(
        {"database.hostname=db", "database.port=5433", "database.user=u", "database.dbname=shop"});
    src.env["WALCAST_DATABASE_PASSWORD"] = "secret";
    Config c = load_config(src);
    std::vector<std::pair<std::string, std::string>> want = {{"host", "db"},
                                                             {"port", "5433"},
                                                             {"user", "u"},
                                                             {"password", "secret"},
                                                             {"dbname", "shop"}};
    EXPECT_EQ(c.conn_params, want);
    EXPECT_EQ(c.conninfo_redacted(), "host=db port=5433 user=u dbname=shop");
}

TEST(Config, UrlGoesFirstAndHidesItsPassword) {
    ConfigSources src = sets({"database.port=6000"});
    src.env["WALCAST_DATABASE_URL"] = "postgresql://u:pw@db:5432/shop";
    Config c = load_config(src);
    ASSERT_EQ(c.conn_params.size(), 2u);
    EXPECT_EQ(c.conn_params[0],
              std::make_pair(std::string("dbname"), std::string("postgresql://u:pw@db:5432/shop")));
    EXPECT_EQ(c.conninfo_redacted(), "dbname=postgresql://u:***@db:5432/shop port=6000");
}

TEST(Config, MissingFile) {
    ConfigSources src;
    src.file = "/nonexistent/walcast.properties";
    EXPECT_EQ(config_error(src),
              "cannot read config file /nonexistent/walcast.properties: No such file or directory");
}

// ---- Input that must fail early and clearly (issue 8, item 8) ----

std::string file_error(const std::string &path) {
    ConfigSources src;
    src.file = path;
    return config_error(src);
}

TEST(ConfigInput, DirectoryDeviceAndHugeFilesAreRefused) {
    EXPECT_EQ(file_error("/tmp"), "cannot read config file /tmp: is a directory, not a file");
    EXPECT_EQ(file_error("/dev/zero"),
              "cannot read config file /dev/zero: is not a regular file (a device, pipe or "
              "socket)");
    std::string big = write_temp(std::string(2 << 20, '#'));
    EXPECT_EQ(file_error(big), "cannot read config file " + big + ": is larger than 1048576 bytes");
}

TEST(ConfigInput, ByteOrderMarkIsSkipped) {
    auto m = parse_properties("\xEF\xBB\xBFslot.name=s1\ntopic.prefix=t\n", "f");
    EXPECT_EQ(m.at("slot.name"), "s1");
}

TEST(ConfigInput, InvisibleBytesInAnUnknownKeyAreShown) {
    EXPECT_EQ(config_error(sets({"slot.name\t=x"})), "");  // trimmed, a known key
    try {
        parse_properties("\xC2\xA0slot.name=x\n", "f");
        FAIL() << "no error";
    } catch (const ConfigError &e) {
        EXPECT_NE(std::string(e.what()).find("'\\xc2\\xa0slot.name' (f:1)"), std::string::npos)
            << e.what();
    }
}

TEST(ConfigInput, UnknownKeySuggestsTheNearestKnownOne) {
    EXPECT_NE(config_error(sets({"slot.nmae=x"})).find("did you mean 'slot.name'?"),
              std::string::npos);
    EXPECT_EQ(config_error(sets({"completely.different=x"})).find("did you mean"),
              std::string::npos);
}

TEST(ConfigInput, IntegersAreStrictAndBounded) {
    for (const char *bad :
         {"1e6", "1000000", "0", "65", "2.5", "+3", "4 threads", "0x10", "99999999999999999999"})
        EXPECT_EQ(config_error(sets({std::string("snapshot.max.threads=") + bad})),
                  std::string("invalid value '") + bad +
                      "' for snapshot.max.threads; accepted: an integer from 1 to 64");
    EXPECT_EQ(load_config(sets({"snapshot.max.threads=08"})).get("snapshot.max.threads"), "8");
    EXPECT_NE(config_error(sets({"heartbeat.interval.ms=3000000000"})).find("2147483647"),
              std::string::npos);
    EXPECT_NE(config_error(sets({"snapshot.chunk.bytes=1"})).find("an integer from 8192"),
              std::string::npos);
}

TEST(ConfigInput, BooleansAndEnumsAreNormalizedBeforeTheyAreForwarded) {
    Config c = load_config(
        sets({"publish.via.partition.root=TRUE", "decimal.handling.mode=STRING",
              "slot.create=False", "skipped.operations=C, T", "database.sslmode=Verify-Full"}));
    std::map<std::string, std::string> opts(c.plugin_options.begin(), c.plugin_options.end());
    EXPECT_EQ(opts.at("publish.via.partition.root"), "true");
    EXPECT_EQ(c.get("publish.via.partition.root"), "true");
    EXPECT_EQ(opts.at("decimal.handling.mode"), "string");
    EXPECT_EQ(opts.at("skipped.operations"), "c,t");
    EXPECT_FALSE(c.slot_create);
    EXPECT_EQ(c.get("database.sslmode"), "verify-full");
    EXPECT_EQ(config_error(sets({"publish.via.partition.root=yes"})),
              "invalid value 'yes' for publish.via.partition.root; accepted: true, false");
    EXPECT_EQ(config_error(sets({"slot.create=1"})),
              "invalid value '1' for slot.create; accepted: true, false");
}

TEST(ConfigInput, MetricsAddressDefaultsToLoopbackAndChecksThePort) {
    EXPECT_EQ(load_config(sets({"metrics.address=9187"})).metrics_address, "127.0.0.1:9187");
    EXPECT_EQ(load_config(sets({"metrics.address=:9187"})).metrics_address, "127.0.0.1:9187");
    EXPECT_EQ(load_config(sets({"metrics.address=0.0.0.0:9187"})).metrics_address, "0.0.0.0:9187");
    EXPECT_EQ(load_config(sets({"metrics.address=[::1]:0"})).metrics_address, "[::1]:0");
    for (const char *bad :
         {"0.0.0.0:99999", "65536", "host:", "host:-1", "::1:80", "[::1]80", "h:80x"})
        EXPECT_NE(config_error(sets({std::string("metrics.address=") + bad}))
                      .find(std::string("invalid value '") + bad + "' for metrics.address"),
                  std::string::npos)
            << bad;
}

TEST(ConfigInput, TlsKeysReachLibpq) {
    ConfigSources src = sets({"database.sslmode=verify-full", "database.sslrootcert=/etc/ca.pem",
                              "database.sslcert=/etc/c.pem", "database.sslkey=/etc/c.key"});
    src.env["WALCAST_DATABASE_SSLPASSWORD"] = "keypass";
    Config c = load_config(src);
    std::map<std::string, std::string> kw(c.conn_params.begin(), c.conn_params.end());
    EXPECT_EQ(kw.at("sslmode"), "verify-full");
    EXPECT_EQ(kw.at("sslrootcert"), "/etc/ca.pem");
    EXPECT_EQ(kw.at("sslcert"), "/etc/c.pem");
    EXPECT_EQ(kw.at("sslkey"), "/etc/c.key");
    EXPECT_EQ(kw.at("sslpassword"), "keypass");
    EXPECT_EQ(c.conninfo_redacted().find("keypass"), std::string::npos);
    EXPECT_NE(config_error(sets({"database.sslmode=strict"})).find("verify-full"),
              std::string::npos);
}

// ---- Secrets (issue 8, item 8) ----

TEST(ConfigSecrets, RefusedOnTheCommandLine) {
    for (const char *set :
         {"database.password=hunter2", "database.sslpassword=hunter2",
          "kafka.sasl.password=hunter2", "kafka.ssl.key.password=hunter2",
          "database.url=postgresql://u:hunter2@db/shop", "database.url=host=db password=hunter2"}) {
        std::string e = config_error(sets({set}));
        EXPECT_EQ(e.rfind("refusing ", 0), 0u) << set << ": " << e;
        EXPECT_NE(e.find("ps"), std::string::npos) << e;
        EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
    }
    // Without a password the URL is fine on the command line.
    EXPECT_EQ(config_error(sets({"database.url=postgresql://u@db/shop"})), "");
}

TEST(ConfigSecrets, PasswordFile) {
    std::string path = ::testing::TempDir() + "walcast_pw";
    std::ofstream(path) << "s3cret-from-file\n";
    ::chmod(path.c_str(), 0600);
    Config c = load_config(sets({"database.password.file=" + path}));
    std::map<std::string, std::string> kw(c.conn_params.begin(), c.conn_params.end());
    EXPECT_EQ(kw.at("password"), "s3cret-from-file");
    EXPECT_TRUE(c.warnings.empty());
    EXPECT_NE(std::find(c.secrets.begin(), c.secrets.end(), "s3cret-from-file"), c.secrets.end());
    EXPECT_EQ(c.describe_redacted().find("s3cret"), std::string::npos) << c.describe_redacted();

    ::chmod(path.c_str(), 0644);
    c = load_config(sets({"database.password.file=" + path}));
    ASSERT_EQ(c.warnings.size(), 1u);
    EXPECT_NE(c.warnings[0].find("every local user"), std::string::npos);

    ConfigSources both = sets({"database.password.file=" + path});
    both.env["WALCAST_DATABASE_PASSWORD"] = "x";
    EXPECT_EQ(config_error(both), "set database.password or database.password.file, not both");
    EXPECT_NE(config_error(sets({"database.password.file=/tmp"})).find("is a directory"),
              std::string::npos);
}

TEST(ConfigSecrets, WorldReadableConfigFileWithAPasswordWarns) {
    std::string path = write_temp("database.password=pw-in-file\n");
    ::chmod(path.c_str(), 0644);
    ConfigSources src;
    src.file = path;
    Config c = load_config(src);
    ASSERT_EQ(c.warnings.size(), 1u);
    EXPECT_NE(c.warnings[0].find("holds database.password"), std::string::npos) << c.warnings[0];
    ::chmod(path.c_str(), 0600);
    EXPECT_TRUE(load_config(src).warnings.empty());
    write_temp("slot.name=x\n");  // no secret: no warning, whatever the mode
    ::chmod(path.c_str(), 0644);
    EXPECT_TRUE(load_config(src).warnings.empty());
}

TEST(ConfigSecrets, UrlPasswordsAreSecretsAndRedacted) {
    ConfigSources src;
    src.env["WALCAST_DATABASE_URL"] =
        "postgresql://u:pw%40url@db/shop?sslpassword=keypw-123&application_name=x";
    Config c = load_config(src);
    EXPECT_NE(std::find(c.secrets.begin(), c.secrets.end(), "pw@url"), c.secrets.end());
    EXPECT_NE(std::find(c.secrets.begin(), c.secrets.end(), "keypw-123"), c.secrets.end());
    EXPECT_EQ(c.conninfo_redacted(),
              "dbname=postgresql://u:***@db/shop?sslpassword=***&application_name=x");
    src.env["WALCAST_DATABASE_URL"] = "host=db password='a b c' sslpassword=k2 port=5";
    c = load_config(src);
    EXPECT_EQ(c.conninfo_redacted(), "dbname=host=db password=*** sslpassword=*** port=5");
    src.env["WALCAST_DATABASE_URL"] = "postgresql://u:pw@db/shop?nonsense=1";
    EXPECT_NE(config_error(src).find("database.url is not a valid libpq URL"), std::string::npos);
    // libpq quotes the token it cannot decode: here, the password.
    src.env["WALCAST_DATABASE_URL"] = "postgresql://u:p%zzss@db/shop";
    EXPECT_EQ(config_error(src),
              "database.url is not a valid libpq URL or connection string: invalid "
              "percent-encoded token: \"***\"");
}

}  // namespace
}  // namespace walcast
