#include "verify/topic_reader.h"

#include <librdkafka/rdkafka.h>
#include <simdjson.h>

#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace walcast {

namespace {

void append_mapped(std::string &out, const std::string &name) {
    for (unsigned char c : name) {
        if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        out += ok ? static_cast<char>(c) : '_';
        if ((c & 0xF8) == 0xF0) out += '_';  // outside the BMP: two UTF-16 code units
    }
}

struct RkDestroy {
    void operator()(rd_kafka_t *rk) const {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
};

}  // namespace

std::string data_topic(const std::string &prefix, const std::string &schema,
                       const std::string &table) {
    std::string topic;
    append_mapped(topic, prefix);
    topic += '.';
    append_mapped(topic, schema);
    topic += '.';
    append_mapped(topic, table);
    if (topic.size() > 249) topic.resize(249);
    return topic;
}

void read_kafka_topic(const std::map<std::string, std::string> &kafka_props,
                      const std::string &topic, const RecordCallback &on_record) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    auto set = [&](const std::string &k, const std::string &v) {
        if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw std::runtime_error("kafka." + k + ": " + err);
        }
    };
    set("group.id", "walcast-verify");
    set("enable.auto.commit", "false");
    set("enable.partition.eof", "true");
    for (const auto &[k, v] : kafka_props) {
        // Producer-only settings mean nothing to a consumer.
        if (k == "enable.idempotence" || k == "acks" || k == "compression.type" ||
            k == "linger.ms" || k == "batch.size" || k == "partitioner" ||
            k.rfind("queue.buffering", 0) == 0 || k == "message.timeout.ms" ||
            k == "batch.num.messages")
            continue;
        set(k, v);
    }
    std::unique_ptr<rd_kafka_t, RkDestroy> rk(
        rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err));
    if (!rk) throw std::runtime_error(std::string("kafka consumer: ") + err);

    // Partitions of the topic; a topic that does not exist holds no records.
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
    const rd_kafka_metadata_t *md = nullptr;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk.get(), 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (e) throw std::runtime_error("kafka metadata of " + topic + ": " + rd_kafka_err2str(e));
    std::vector<int> partitions;
    if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        for (int i = 0; i < md->topics[0].partition_cnt; i++)
            partitions.push_back(md->topics[0].partitions[i].id);
    rd_kafka_metadata_destroy(md);

    rd_kafka_topic_partition_list_t *assignment = rd_kafka_topic_partition_list_new(1);
    std::size_t remaining = 0;
    for (int p : partitions) {
        int64_t low = 0, high = 0;
        e = rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &low, &high, 10000);
        if (e) {
            rd_kafka_topic_partition_list_destroy(assignment);
            throw std::runtime_error("kafka offsets of " + topic + ": " + rd_kafka_err2str(e));
        }
        if (high <= low) continue;
        rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
        remaining++;
    }
    if (remaining == 0) {
        rd_kafka_topic_partition_list_destroy(assignment);
        return;
    }
    rd_kafka_assign(rk.get(), assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    // Reads to the end of each partition (EOF events), records in partition order.
    while (remaining > 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk.get(), 10000);
        if (!m) throw std::runtime_error("kafka: no progress reading " + topic + " for 10 s");
        std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t *)> guard(
            m, rd_kafka_message_destroy);
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            remaining--;
            continue;
        }
        if (m->err)
            throw std::runtime_error("kafka: reading " + topic + ": " + rd_kafka_message_errstr(m));
        RecordPosition position;
        position.source = topic;
        position.partition = m->partition;
        position.offset = static_cast<std::uint64_t>(m->offset);
        on_record(std::string_view(static_cast<const char *>(m->key), m->key_len),
                  std::string_view(static_cast<const char *>(m->payload), m->len),
                  m->payload == nullptr, position);
    }
}

std::string RecordPosition::describe() const {
    if (partition >= 0)
        return "topic " + source + " partition " + std::to_string(partition) + " offset " +
               std::to_string(offset);
    return source + " line " + std::to_string(line) + " (byte " + std::to_string(offset) + ")";
}

std::string printable_excerpt(std::string_view raw, std::size_t max) {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < raw.size() && i < max; i++) {
        unsigned char c = static_cast<unsigned char>(raw[i]);
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        }
    }
    if (raw.size() > max) out += "...";
    return out;
}

namespace {

// The raw JSON text of a value inside a line (no copy, no re-serialization): verify's
// decoder parses it once more, fully.
simdjson::error_code raw_value(simdjson::ondemand::value value, std::string_view &raw,
                               bool &is_null) {
    simdjson::ondemand::json_type type;
    if (auto e = value.type().get(type)) return e;
    is_null = type == simdjson::ondemand::json_type::null;
    if (is_null) {
        raw = std::string_view();
        return value.is_null().error();
    }
    if (type == simdjson::ondemand::json_type::object) {
        simdjson::ondemand::object o;
        if (auto e = value.get_object().get(o)) return e;
        return o.raw_json().get(raw);
    }
    if (type == simdjson::ondemand::json_type::array) {
        simdjson::ondemand::array a;
        if (auto e = value.get_array().get(a)) return e;
        return a.raw_json().get(raw);
    }
    raw = value.raw_json_token();
    while (!raw.empty() &&
           (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\n' || raw.back() == '\r'))
        raw.remove_suffix(1);
    return simdjson::SUCCESS;
}

}  // namespace

void read_file_topic(const std::string &path, const std::string &topic,
                     const RecordCallback &on_record, const DamageCallback &on_damaged) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    simdjson::ondemand::parser parser;
    std::string line;
    RecordPosition position;
    position.source = path;
    std::uint64_t next_offset = 0;
    auto damaged = [&](std::string reason) {
        on_damaged(DamagedRecord{position, std::move(reason), printable_excerpt(line)});
    };
    while (std::getline(in, line)) {
        position.line++;
        position.offset = next_offset;
        next_offset += line.size() + 1;
        if (line.empty()) continue;
        if (in.eof()) {
            // No newline after it: a write still under way, or one a crash cut short (the
            // sink removes it when it next opens the file; its events were not acknowledged).
            damaged("incomplete last line (no newline at the end of the file)");
            break;
        }
        line.reserve(line.size() + simdjson::SIMDJSON_PADDING);
        simdjson::ondemand::document doc;
        simdjson::ondemand::object record;
        if (parser.iterate(simdjson::padded_string_view(line.data(), line.size(), line.capacity()))
                .get(doc) ||
            doc.get_object().get(record)) {
            damaged("not valid JSON");
            continue;
        }
        std::string_view t, key, value;
        bool has_topic = false, has_key = false, has_value = false, key_null = false,
             value_null = false, bad = false;
        for (auto field : record) {
            std::string_view name;
            if (field.unescaped_key().get(name)) {
                bad = true;
                break;
            }
            simdjson::error_code e = simdjson::SUCCESS;
            if (name == "topic") {
                e = field.value().get_string().get(t);
                has_topic = !e;
                if (e == simdjson::INCORRECT_TYPE) e = simdjson::SUCCESS;
            } else if (name == "key") {
                e = raw_value(field.value(), key, key_null);
                has_key = !e;
            } else if (name == "value") {
                e = raw_value(field.value(), value, value_null);
                has_value = !e;
            }
            if (e) {
                bad = true;
                break;
            }
        }
        // Anything after the record's closing brace (current_location fails at the end).
        const char *trailing = nullptr;
        if (bad || !doc.current_location().get(trailing)) {
            damaged("not valid JSON");
            continue;
        }
        if (!has_topic || !has_key || !has_value) {
            damaged("not a sink record (needs \"topic\", \"key\" and \"value\")");
            continue;
        }
        if (t != topic) continue;
        on_record(key_null ? std::string_view() : key, value_null ? std::string_view() : value,
                  value_null, position);
    }
}

}  // namespace walcast
