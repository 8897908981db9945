// A Debezium connector configuration as it is: Kafka Connect's and Debezium's keys that
// are not walcast settings are accepted and named in one warning, older names are read
// as today's, the REST JSON form reads like the .properties form, and every unknown key
// is named in one error.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "config/config.h"
#include "config/connect_json.h"
#include "config/connector_keys.h"
#include "config/settings.h"

namespace walcast {
namespace {

std::string write_file(const std::string &name, const std::string &text) {
    std::string path = ::testing::TempDir() + name;
    std::ofstream(path) << text;
    return path;
}

Config load_file(const std::string &path, std::vector<std::string> sets = {}) {
    ConfigSources src;
    src.file = path;
    src.sets = std::move(sets);
    return load_config(src);
}

std::string error_of(const ConfigSources &src) {
    try {
        load_config(src);
    } catch (const ConfigError &e) {
        return e.what();
    }
    return "";
}

// The warnings that name Debezium keys (there must be at most one).
std::vector<std::string> key_warnings(const Config &c) {
    std::vector<std::string> out;
    for (const auto &w : c.warnings)
        if (w.find("docs/debezium-keys.md") != std::string::npos) out.push_back(w);
    return out;
}

// The example of Debezium's PostgreSQL connector documentation, as properties.
const char *kDocExample =
    "name=fulfillment-connector\n"
    "connector.class=io.debezium.connector.postgresql.PostgresConnector\n"
    "database.hostname=192.168.99.100\n"
    "database.port=5432\n"
    "database.user=postgres\n"
    "database.password=postgres\n"
    "database.dbname=postgres\n"
    "topic.prefix=fulfillment\n"
    "table.include.list=public.inventory\n";

const char *kDocExampleJson = R"({
  "name": "fulfillment-connector",
  "config": {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "database.hostname": "192.168.99.100",
    "database.port": "5432",
    "database.user": "postgres",
    "database.password": "postgres",
    "database.dbname" : "postgres",
    "topic.prefix": "fulfillment",
    "table.include.list": "public.inventory"
  }
})";

TEST(DebeziumConfig, DocumentationExampleLoadsAsItIs) {
    Config c = load_file(write_file("dbz_doc.properties", kDocExample));
    EXPECT_EQ(c.topic_prefix, "fulfillment");
    EXPECT_EQ(c.get("database.hostname"), "192.168.99.100");
    EXPECT_EQ(c.get("table.include.list"), "public.inventory");
    auto w = key_warnings(c);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].find("name, connector.class"), std::string::npos) << w[0];
}

TEST(DebeziumConfig, RestJsonReadsLikeProperties) {
    Config props = load_file(write_file("dbz_doc2.properties", kDocExample));
    Config rest = load_file(write_file("dbz_doc.json", kDocExampleJson));
    EXPECT_EQ(rest.values, props.values);
    EXPECT_EQ(key_warnings(rest), key_warnings(props));
    // The config object alone, as PUT to /connectors/<name>/config; numbers and
    // booleans as written, null as unset.
    Config bare = load_file(write_file(
        "dbz_bare.json",
        "\xEF\xBB\xBF  {\"database.port\": 6543, \"slot.create\": false, \"topic.prefix\": null,"
        " \"tasks.max\": 1}"));
    EXPECT_EQ(bare.get("database.port"), "6543");
    EXPECT_FALSE(bare.slot_create);
    EXPECT_EQ(bare.topic_prefix, "walcast");
}

TEST(DebeziumConfig, JsonMistakesAreNamed) {
    ConfigSources src;
    src.file = write_file("dbz_bad.json", "{\"config\": {\"database.port\": \"1\",}}");
    EXPECT_NE(error_of(src).find("not valid JSON"), std::string::npos) << error_of(src);
    src.file = write_file("dbz_bad2.json", "{\"transforms\": {\"a\": 1}}");
    EXPECT_NE(error_of(src).find("the value of \"transforms\" is an object"), std::string::npos)
        << error_of(src);
    src.file = write_file("dbz_bad3.json", "{\"config\": [1]}");
    EXPECT_NE(error_of(src).find("\"config\" must be an object"), std::string::npos);
    src.file = write_file("dbz_bad4.json", "{\"config\": {\"slot.nmae\": \"x\"}}");
    EXPECT_EQ(error_of(src), "unknown configuration key 'slot.nmae' (" + *src.file +
                                 " (JSON \"slot.nmae\")); did you mean 'slot.name'?; see "
                                 "'walcast run --help' for the known keys")
        << error_of(src);
}

TEST(DebeziumConfig, SignalTableIsForwardedToThePlugin) {
    std::string path = write_file("dbz_signal.properties",
                                  std::string(kDocExample) + "signal.data.collection=public.sig\n");
    Config c = load_file(path, {});
    bool forwarded = false;
    for (const auto &[k, v] : c.plugin_options)
        if (k == "signal.data.collection" && v == "public.sig") forwarded = true;
    EXPECT_TRUE(forwarded);
    for (const auto &w : key_warnings(c))
        EXPECT_EQ(w.find("signal.data.collection"), std::string::npos) << w;
}

TEST(DebeziumConfig, ConnectKeysAreListedOnceInOneWarning) {
    std::string path = write_file(
        "dbz_connect.properties",
        std::string(kDocExample) +
            "tasks.max=1\nplugin.name=pgoutput\npublication.name=dbz_publication\n"
            "publication.autocreate.mode=filtered\nkey.converter=org.apache.kafka.connect.json."
            "JsonConverter\nkey.converter.schemas.enable=false\nvalue.converter.schema.registry."
            "url=http://r:8081\ntransforms=unwrap\ntransforms.unwrap.type=io.debezium.transforms."
            "ExtractNewRecordState\npredicates=p\npredicates.p.type=x\nerrors.tolerance=all\n"
            "topic.creation.default.partitions=3\nschema.history.internal.kafka.topic=h\n"
            "max.batch.size=2048\nmax.queue.size=8192\nsignal.enabled.channels=source\n");
    Config c = load_file(path, {"transforms.unwrap.type=again", "tasks.max=2"});
    auto w = key_warnings(c);
    ASSERT_EQ(w.size(), 1u) << "one warning for all of them";
    for (const char *key :
         {"name", "connector.class", "tasks.max", "publication.name", "publication.autocreate.mode",
          "key.converter", "value.converter.schema.registry.url", "transforms",
          "transforms.unwrap.type", "predicates.p.type", "errors.tolerance",
          "topic.creation.default.partitions", "schema.history.internal.kafka.topic",
          "max.batch.size", "max.queue.size", "signal.enabled.channels",
          "plugin.name=pgoutput (walcast streams through its own output plugin)"})
        EXPECT_NE(w[0].find(key), std::string::npos) << key << " in " << w[0];
    // Each key once, though given twice.
    auto count = [&](const std::string &s) {
        std::size_t n = 0;
        for (auto p = w[0].find(s); p != std::string::npos; p = w[0].find(s, p + 1)) ++n;
        return n;
    };
    EXPECT_EQ(count("transforms.unwrap.type"), 1u) << w[0];
    EXPECT_EQ(count("tasks.max"), 1u) << w[0];
    EXPECT_EQ(c.get("plugin.name"), "walcast");
}

TEST(DebeziumConfig, NoWarningWithoutForeignKeys) {
    ConfigSources src;
    src.sets = {"plugin.name=WALCAST", "topic.prefix=a"};
    EXPECT_TRUE(key_warnings(load_config(src)).empty());
}

TEST(DebeziumConfig, DeclaredSettingsWinOverTheForeignTable) {
    // errors.* is Kafka Connect's, but errors.deadletterqueue.topic.name is a setting.
    ConfigSources src;
    src.sets = {"errors.deadletterqueue.topic.name=dlq", "errors.tolerance=all"};
    Config c = load_config(src);
    EXPECT_EQ(c.get("errors.deadletterqueue.topic.name"), "dlq");
    ASSERT_EQ(key_warnings(c).size(), 1u);
    EXPECT_EQ(key_warnings(c)[0].find("deadletterqueue"), std::string::npos);
    // Whatever the table says about a key the settings declare, the setting is read.
    for (const auto &s : settings()) {
        if (find_foreign_key(s.name) == nullptr) continue;
        std::string value = *s.def ? s.def : (s.kind == Kind::kString ? "x" : "");
        if (value.empty()) continue;
        ConfigSources one;
        one.sets = {std::string(s.name) + "=" + value};
        Config loaded = load_config(one);
        EXPECT_EQ(loaded.get(s.name), value) << s.name;
        EXPECT_TRUE(key_warnings(loaded).empty()) << s.name;
    }
}

TEST(DebeziumConfig, OlderNamesAreReadAsTodaysUnlessTheseAreSet) {
    ConfigSources src;
    src.sets = {"database.server.name=legacy", "table.whitelist=public\\.a",
                "column.blacklist=.*\\.secret"};
    Config c = load_config(src);
    EXPECT_EQ(c.topic_prefix, "legacy");
    EXPECT_EQ(c.get("table.include.list"), "public\\.a");
    EXPECT_EQ(c.get("column.exclude.list"), ".*\\.secret");
    ASSERT_EQ(key_warnings(c).size(), 1u);
    EXPECT_NE(key_warnings(c)[0].find("reading database.server.name as topic.prefix"),
              std::string::npos)
        << key_warnings(c)[0];
    src.sets = {"database.server.name=legacy", "topic.prefix=today"};
    c = load_config(src);
    EXPECT_EQ(c.topic_prefix, "today");
    EXPECT_NE(key_warnings(c)[0].find("database.server.name (topic.prefix is set)"),
              std::string::npos);
}

TEST(DebeziumConfig, ValuesWalcastDoesNotImplementAreRefused) {
    ConfigSources src;
    src.sets = {"topic.delimiter=.", "schema.name.adjustment.mode=NONE"};
    EXPECT_NO_THROW(load_config(src));
    src.sets = {"topic.delimiter=_", "value.converter=io.confluent.connect.avro.AvroConverter"};
    const std::string e = error_of(src);
    EXPECT_NE(e.find("unsupported value '_' for topic.delimiter (--set): walcast joins topic "
                     "name parts with '.'; accepted: ."),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("unsupported value 'io.confluent.connect.avro.AvroConverter' for "
                     "value.converter"),
              std::string::npos)
        << e;
}

TEST(DebeziumConfig, MeaningsWalcastDoesNotImplementAreRefused) {
    ConfigSources src;
    src.sets = {"column.mask.with.12.chars=public.users.ssn", "converters=", "slot.nmae=x"};
    const std::string e = error_of(src);
    EXPECT_NE(e.find("column.mask.with.12.chars (--set) is not supported: masking column values "
                     "is not implemented"),
              std::string::npos)
        << e;
    EXPECT_EQ(e.find("converters"), std::string::npos) << "empty: unset" << e;
    EXPECT_NE(e.find("unknown configuration key 'slot.nmae'"), std::string::npos)
        << "in one message";
}

TEST(DebeziumConfig, EveryUnknownKeyIsNamedInOneMessage) {
    ConfigSources src;
    src.file = write_file(
        "dbz_unknown.properties",
        std::string(kDocExample) + "slot.nmae=s\ncolumn.includ.list=x\ntotally.unrelated.key=1\n");
    src.sets = {"databse.hostname=h"};
    const std::string e = error_of(src);
    EXPECT_EQ(e.rfind("4 unknown configuration keys: ", 0), 0u) << e;
    EXPECT_NE(e.find("'slot.nmae' (" + *src.file + ":10; did you mean 'slot.name'?)"),
              std::string::npos)
        << e;
    EXPECT_NE(
        e.find("'column.includ.list' (" + *src.file + ":11; did you mean 'column.include.list'?)"),
        std::string::npos)
        << e;
    EXPECT_NE(e.find("'totally.unrelated.key' (" + *src.file + ":12)"), std::string::npos) << e;
    EXPECT_NE(e.find("'databse.hostname' (--set; did you mean 'database.hostname'?)"),
              std::string::npos)
        << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << "one line";
}

TEST(DebeziumConfig, MessageKeyColumnsSyntaxIsChecked) {
    ConfigSources src;
    src.sets = {"message.key.columns=inventory.customers:pk1,pk2;(.*).purchaseorders:pk3"};
    EXPECT_NO_THROW(load_config(src));
    src.sets = {"message.key.columns=inventory.customers"};
    EXPECT_NE(error_of(src).find("invalid entry 'inventory.customers' in message.key.columns"),
              std::string::npos)
        << error_of(src);
    src.sets = {"message.key.columns=a.b: , "};
    EXPECT_NE(error_of(src).find("invalid entry"), std::string::npos);
}

TEST(DebeziumConfig, NewSettingsReachThePlugin) {
    ConfigSources src;
    src.sets = {"schema.include.list=inv",    "schema.exclude.list=tmp",
                "column.include.list=a\\..*", "message.key.columns=a.b:c",
                "slot.drop.on.stop=true",     "snapshot.mode=always"};
    Config c = load_config(src);
    for (const char *key : {"schema.include.list", "schema.exclude.list", "column.include.list",
                            "message.key.columns"}) {
        auto it = std::find_if(c.plugin_options.begin(), c.plugin_options.end(),
                               [&](const auto &kv) { return kv.first == key; });
        EXPECT_NE(it, c.plugin_options.end()) << key;
    }
    EXPECT_TRUE(c.slot_drop_on_stop);
    EXPECT_EQ(c.snapshot_mode, "always");
}

TEST(DebeziumConfig, ForeignKeyTableIsConsistent) {
    for (const auto &e : foreign_keys()) {
        EXPECT_GT(std::string(e.reason).size(), 5u) << e.pattern;
        if (e.kind == ForeignKind::kAlias) {
            EXPECT_NE(find_setting(e.target), nullptr) << e.pattern << " -> " << e.target;
        }
        // Each entry is reachable: its key (or a key with its prefix) finds it.
        std::string key = e.pattern;
        if (key.back() == '*') key = key.substr(0, key.size() - 1) + "x";
        EXPECT_EQ(find_foreign_key(key), &e) << e.pattern;
    }
    // The most specific entry wins: an exact key over a prefix.
    EXPECT_EQ(find_foreign_key("key.converter")->kind, ForeignKind::kDefaultOnly);
    EXPECT_EQ(find_foreign_key("key.converter.schema.registry.url")->kind, ForeignKind::kIgnored);
    EXPECT_EQ(find_foreign_key("transformsx"), nullptr);
    EXPECT_EQ(find_foreign_key("slot.nmae"), nullptr);
}

TEST(DebeziumConfig, KeysDocMatchesTheTable) {
    // Regenerate with: make config-doc
    std::ifstream in(WALCAST_DOCS_DIR "/debezium-keys.md");
    ASSERT_TRUE(in) << WALCAST_DOCS_DIR "/debezium-keys.md is missing";
    std::stringstream committed;
    committed << in.rdbuf();
    EXPECT_EQ(committed.str(), foreign_keys_markdown())
        << "docs/debezium-keys.md is out of date: run 'make config-doc'";
}

}  // namespace
}  // namespace walcast
