#include "sink/kafka_sink.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <deque>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "common/shutdown.h"
#include "config/redact.h"

namespace walcast {

static_assert(sizeof(void *) >= sizeof(DeliveryToken),
              "delivery tokens travel through librdkafka's per-message opaque pointer");

namespace {

struct RkDeleter {
    void operator()(rd_kafka_t *rk) const { rd_kafka_destroy(rk); }
};
struct RktDeleter {
    void operator()(rd_kafka_topic_t *rkt) const { rd_kafka_topic_destroy(rkt); }
};
struct ConfDeleter {
    void operator()(rd_kafka_conf_t *conf) const { rd_kafka_conf_destroy(conf); }
};

// librdkafka uses syslog levels (0 emerg .. 7 debug).
spdlog::level::level_enum to_spdlog(int level) {
    if (level <= 2) return spdlog::level::critical;
    if (level == 3) return spdlog::level::err;
    if (level == 4) return spdlog::level::warn;
    if (level <= 6) return spdlog::level::info;
    return spdlog::level::debug;
}

}  // namespace

const std::map<std::string, std::string> &kafka_default_props() {
    static const std::map<std::string, std::string> defaults = {
        {"client.id", "walcast"},
        // No duplicates or reordering from producer retries; acks=all so an
        // acknowledged event survives a broker failure.
        {"enable.idempotence", "true"},
        {"acks", "all"},
        // Throughput: larger, compressed batches. lz4 is cheap on CPU.
        {"compression.type", "lz4"},
        {"linger.ms", "20"},
        {"batch.size", "1000000"},
        {"batch.num.messages", "100000"},
        // Bounded producer queue: memory stays bounded whatever the transaction
        // size; a full queue turns into backpressure on the replication stream.
        {"queue.buffering.max.messages", "100000"},
        {"queue.buffering.max.kbytes", "65536"},
        // A broker outage of a few minutes is retried, not failed (a failure
        // forces a producer restart from the slot's confirmed position).
        {"message.timeout.ms", "300000"},
        // Same partition as the Java client for keyed messages (murmur2 of the
        // key bytes, tests/murmur2_test.cpp); null keys (truncate, keyless tables)
        // are spread over the partitions, sticky per batch as in the Java client.
        {"partitioner", "murmur2_random"},
        {"socket.keepalive.enable", "true"},
        // Idle-connection reaping by the broker is normal; don't log it as an error.
        {"log.connection.close", "false"},
    };
    return defaults;
}

struct KafkaSink::Impl {
    DeliveryCallback on_delivery;
    EventFailurePolicy policy;
    std::string bootstrap;
    std::unique_ptr<rd_kafka_t, RkDeleter> rk;
    std::map<std::string, std::unique_ptr<rd_kafka_topic_t, RktDeleter>, std::less<>> topics;

    std::atomic<std::size_t> outstanding{0};
    std::atomic<bool> fatal{false};
    std::atomic<bool> brokers_down{false};
    std::atomic<bool> answered{false};  // a broker answered (metadata or a delivery)
    std::atomic<std::uint64_t> skipped{0};
    std::atomic<std::uint64_t> delivered{0};
    std::atomic<std::uint64_t> failed{0};

    mutable std::mutex mu;  // guards last_error, fatal_cause (describe() may run elsewhere)
    std::string last_error;
    std::string fatal_cause;  // librdkafka's underlying error, once fatal

    // Messages rejected synchronously by rd_kafka_produce (other than queue
    // full): reported as failed deliveries from the next poll()/flush(), as the
    // Sink contract promises every report comes from there.
    struct Rejected {
        DeliveryToken token;
        bool ok;  // true: skipped by the failure policy, counts as stored
        std::string error;
    };
    std::vector<Rejected> rejected;

    // Records for the dead-letter topic, produced from poll()/flush(). Their token's
    // report is still owed: outstanding counts them.
    struct DeadLetter {
        DeliveryToken token;
        std::string key, value, origin_topic, error;
        bool description;  // value describes the event instead of being it
    };
    std::deque<DeadLetter> dead_letters;

    // A failure no retry fixes (poison event with mode=fail, credentials refused):
    // thrown once from poll()/flush().
    std::optional<SinkError> permanent;
    std::atomic<bool> failed_for_good{false};  // permanent is set (readable from any thread)
    bool permanent_thrown = false;

    // An exception thrown by on_delivery must not unwind through librdkafka's
    // C frames; it is kept here and rethrown once rd_kafka_poll() returns.
    std::exception_ptr callback_error;

    void set_last_error(std::string e) {
        std::lock_guard<std::mutex> lock(mu);
        last_error = std::move(e);
    }

    // Most messages go to the topic of the one before: skip the map lookup then.
    std::string last_topic;
    rd_kafka_topic_t *last_rkt = nullptr;

    rd_kafka_topic_t *topic(std::string_view name) {
        if (last_rkt && name == last_topic) return last_rkt;
        auto it = topics.find(name);
        if (it != topics.end()) {
            last_topic.assign(name);
            return last_rkt = it->second.get();
        }
        // nullptr conf: the topic inherits the topic-level defaults set on the global conf.
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk.get(), std::string(name).c_str(), nullptr);
        if (!rkt) {
            // rd_kafka_topic_new reports its error (e.g. a name over 512 bytes) only there.
            throw std::runtime_error("kafka: cannot create topic handle '" + std::string(name) +
                                     "': " + rd_kafka_err2str(rd_kafka_last_error()));
        }
        topics.emplace(std::string(name), rkt);
        return rkt;
    }

    void report(DeliveryToken token, bool ok, const std::string &error) {
        outstanding.fetch_sub(1, std::memory_order_relaxed);
        if (ok) {
            delivered.fetch_add(1, std::memory_order_relaxed);
        } else {
            failed.fetch_add(1, std::memory_order_relaxed);
        }
        if (callback_error) return;  // first exception wins; keep counters right
        try {
            on_delivery(token, ok, error);
        } catch (...) {
            callback_error = std::current_exception();
        }
    }

    void report_rejected() {
        auto pending = std::move(rejected);
        rejected.clear();
        for (auto &r : pending) report(r.token, r.ok, r.error);
    }

    void fail_for_good(int exit_code, const std::string &message) {
        set_last_error(message);
        if (!permanent) permanent.emplace(exit_code, message);
        failed_for_good.store(true);
    }

    void throw_if_failed_for_good() {
        if (permanent && !permanent_thrown) {
            permanent_thrown = true;
            throw *permanent;
        }
    }

    static bool size_error(rd_kafka_resp_err_t err) {
        return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
               err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE ||
               err == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE;
    }

    // An event Kafka will never take as it is: the failure policy decides. sync: from
    // produce() (the report waits for poll()), otherwise from a delivery report.
    void on_permanent(std::string_view topic, std::string_view key, std::string_view value,
                      std::size_t value_size, rd_kafka_resp_err_t err, DeliveryToken token,
                      bool sync) {
        const std::string desc = describe_rejected_event(topic, key, value, value_size, err);
        auto report_now = [&](bool ok, const std::string &error) {
            if (sync) {
                rejected.push_back({token, ok, error});
            } else {
                report(token, ok, error);
            }
        };
        const std::string &dlq = policy.dead_letter_topic;
        if (!dlq.empty() && topic == dlq) {
            fail_for_good(kExitPoisonEvent,
                          "kafka: the dead-letter topic " + dlq + " rejected a record: " + desc);
            report_now(false, desc);
            return;
        }
        if (policy.mode == EventFailureMode::kFail) {
            fail_for_good(
                kExitPoisonEvent,
                "kafka: an event is rejected for good: " + desc +
                    ". Nothing at or after its transaction is acknowledged. Remedies: raise "
                    "kafka.message.max.bytes (and kafka.queue.buffering.max.kbytes above 64 MB) "
                    "and the broker's message.max.bytes (or the topic's max.message.bytes), or set "
                    "event.processing.failure.handling.mode=skip or "
                    "warn (with errors.deadletterqueue.topic.name to keep a record of it)");
            report_now(false, desc);
            return;
        }
        skipped.fetch_add(1, std::memory_order_relaxed);
        if (policy.on_skipped) policy.on_skipped(rd_kafka_err2name(err));
        spdlog::log(
            policy.mode == EventFailureMode::kWarn ? spdlog::level::warn : spdlog::level::info,
            "kafka: skipping an event ({}): {}{}",
            policy.mode == EventFailureMode::kWarn ? "warn" : "skip", desc,
            dlq.empty() ? std::string() : "; recorded on dead-letter topic " + dlq);
        if (dlq.empty()) {
            report_now(true, std::string());
            return;
        }
        DeadLetter d{
            token,          std::string(key), {}, std::string(topic), rd_kafka_err2name(err),
            size_error(err)};
        if (d.description) {
            d.value = dead_letter_description(topic, key, value, value_size, err);
        } else {
            d.value.assign(value);
        }
        dead_letters.push_back(std::move(d));
    }

    // Produces the waiting dead-letter records (until the queue is full).
    void send_dead_letters() {
        while (!dead_letters.empty()) {
            DeadLetter &d = dead_letters.front();
            const std::string &dlq = policy.dead_letter_topic;
            void *opaque = reinterpret_cast<void *>(static_cast<std::uintptr_t>(d.token));
            rd_kafka_resp_err_t e = rd_kafka_producev(
                rk.get(), RD_KAFKA_V_TOPIC(dlq.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_VALUE(const_cast<char *>(d.value.data()), d.value.size()),
                RD_KAFKA_V_KEY(d.key.empty() ? nullptr : d.key.data(), d.key.size()),
                RD_KAFKA_V_HEADER("walcast.error", d.error.c_str(), -1),
                RD_KAFKA_V_HEADER("walcast.topic", d.origin_topic.c_str(), -1),
                RD_KAFKA_V_HEADER("walcast.description", d.description ? "true" : "false", -1),
                RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) return;  // next poll()
            if (e == RD_KAFKA_RESP_ERR__FATAL) {
                // Not the record's fault: the producer is recreated and the event re-read.
                note_fatal();
                report(d.token, false, "dead-letter topic " + dlq + ": " + fatal_reason());
            } else if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (!d.description && size_error(e)) {
                    d.value =
                        dead_letter_description(d.origin_topic, d.key, d.value, d.value.size(), e);
                    d.description = true;
                    continue;
                }
                const std::string error = "dead-letter topic " + dlq + ": " + rd_kafka_err2str(e);
                fail_for_good(kExitPoisonEvent,
                              "kafka: cannot record a skipped event on the " + error);
                report(d.token, false, error);
            }
            dead_letters.pop_front();
        }
    }

    // The producer raised a fatal error (idempotence guarantees lost, e.g. a sequence gap
    // the broker reports): librdkafka refuses every further message and fails the queued
    // ones. ERR__FATAL only says that; the cause comes from rd_kafka_fatal_error(). Logged
    // once, whichever of produce(), a delivery report or the error callback sees it first.
    void note_fatal() {
        char reason[512] = "";
        const rd_kafka_resp_err_t cause = rd_kafka_fatal_error(rk.get(), reason, sizeof reason);
        const std::string what = std::string("fatal: ") + rd_kafka_err2name(cause) + ": " + reason;
        {
            std::lock_guard<std::mutex> lock(mu);
            last_error = what;
            if (fatal_cause.empty()) fatal_cause = what;
        }
        if (fatal.exchange(true)) return;
        spdlog::critical(
            "kafka: {}; this producer takes no further event and every event it has not "
            "delivered counts as failed (never acknowledged)",
            what);
    }

    std::string fatal_reason() const {
        std::lock_guard<std::mutex> lock(mu);
        return fatal_cause;
    }

    void rethrow_callback_error() {
        if (callback_error) {
            auto e = std::exchange(callback_error, nullptr);
            std::rethrow_exception(e);
        }
    }

    static void on_dr(rd_kafka_t *, const rd_kafka_message_t *m, void *opaque) {
        auto *self = static_cast<Impl *>(opaque);
        const auto token =
            static_cast<DeliveryToken>(reinterpret_cast<std::uintptr_t>(m->_private));
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            self->answered.store(true);
            if (self->brokers_down.exchange(false)) {
                spdlog::info("kafka: brokers reachable again, deliveries resumed");
            }
            self->report(token, true, std::string());
            return;
        }
        const KafkaErrorClass kind = classify_kafka_error(m->err);
        if (kind == KafkaErrorClass::kPermanentEvent) {
            const std::string_view value(static_cast<const char *>(m->payload),
                                         m->payload ? m->len : 0);
            const std::string_view key(static_cast<const char *>(m->key), m->key ? m->key_len : 0);
            self->on_permanent(rd_kafka_topic_name(m->rkt), key, value, value.size(), m->err, token,
                               false);
            return;
        }
        std::string error = std::string(rd_kafka_topic_name(m->rkt)) + " [" +
                            std::to_string(m->partition) + "]: " + rd_kafka_err2str(m->err);
        // Purged by librdkafka after its fatal error: say which.
        if (self->fatal.load()) error += " after " + self->fatal_reason();
        if (kind == KafkaErrorClass::kRefused) self->refused(m->err, error);
        if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
            self->note_fatal();
        } else {
            self->set_last_error(error);
        }
        self->report(token, false, error);
    }

    static void on_error(rd_kafka_t *, int err, const char *reason, void *opaque) {
        auto *self = static_cast<Impl *>(opaque);
        const auto code = static_cast<rd_kafka_resp_err_t>(err);
        if (code == RD_KAFKA_RESP_ERR__FATAL) {
            self->note_fatal();
            return;
        }
        self->set_last_error(std::string(rd_kafka_err2name(code)) + ": " + reason);
        if (classify_kafka_error(code) == KafkaErrorClass::kRefused) {
            self->refused(code, reason);
        } else if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
            // librdkafka keeps reconnecting; events wait in the queue until
            // message.timeout.ms.
            if (!self->brokers_down.exchange(true)) {
                spdlog::error("kafka: all brokers down ({}); retrying", reason);
            }
        } else if (code == RD_KAFKA_RESP_ERR__TRANSPORT || code == RD_KAFKA_RESP_ERR__RESOLVE) {
            spdlog::debug("kafka: {}", reason);  // librdkafka's own log line already says it
        } else {
            spdlog::warn("kafka: {}: {}", rd_kafka_err2name(code), reason);
        }
    }

    // Authentication or TLS refused: no event can be stored until the settings change.
    void refused(rd_kafka_resp_err_t code, const std::string &reason) {
        const bool tls = code == RD_KAFKA_RESP_ERR__SSL;
        const std::string what =
            tls ? "TLS handshake with the broker failed" : "the broker refused authentication";
        if (!permanent) spdlog::error("kafka: {} ({}: {})", what, rd_kafka_err2name(code), reason);
        fail_for_good(kExitSinkRefused,
                      "kafka: " + what + ": " + reason +
                          (tls ? "; check kafka.security.protocol and kafka.ssl.* (CA, "
                                 "certificate, the listener's protocol)"
                               : "; check kafka.security.protocol, kafka.sasl.mechanism, "
                                 "kafka.sasl.username and kafka.sasl.password"));
    }

    // Called from librdkafka's internal threads; spdlog loggers are thread-safe.
    static void on_log(const rd_kafka_t *, int level, const char *fac, const char *buf) {
        spdlog::log(to_spdlog(level), "rdkafka {}: {}", fac, buf);
    }
};

KafkaSink::KafkaSink(const std::map<std::string, std::string> &kafka_props,
                     DeliveryCallback on_delivery, EventFailurePolicy policy)
    : impl_(std::make_unique<Impl>()) {
    if (!on_delivery) throw std::invalid_argument("kafka sink: no delivery callback");
    impl_->on_delivery = std::move(on_delivery);
    impl_->policy = std::move(policy);
    if (!kafka_props.count("bootstrap.servers") && !kafka_props.count("metadata.broker.list")) {
        throw std::invalid_argument(
            "kafka.bootstrap.servers is required with sink=kafka (e.g. "
            "kafka.bootstrap.servers=localhost:9092)");
    }

    std::unique_ptr<rd_kafka_conf_t, ConfDeleter> conf(rd_kafka_conf_new());
    char err[512];
    auto set = [&](const std::string &name, const std::string &value, bool user) {
        if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), err, sizeof err) !=
            RD_KAFKA_CONF_OK) {
            const std::string shown = is_secret_key("kafka." + name) ? "<hidden>" : value;
            throw std::invalid_argument(std::string("invalid Kafka property ") +
                                        (user ? "kafka." : "(default) ") + name + "=" + shown +
                                        ": " + err);
        }
    };
    for (const auto &kv : kafka_default_props()) set(kv.first, kv.second, false);
    for (const auto &kv : kafka_props) set(kv.first, kv.second, true);

    rd_kafka_conf_set_opaque(conf.get(), impl_.get());
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &Impl::on_dr);
    rd_kafka_conf_set_error_cb(conf.get(), &Impl::on_error);
    rd_kafka_conf_set_log_cb(conf.get(), &Impl::on_log);

    // rd_kafka_new takes ownership of conf only on success.
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), err, sizeof err);
    if (!rk) throw std::invalid_argument(std::string("kafka: cannot create producer: ") + err);
    conf.release();
    impl_->rk.reset(rk);
    impl_->bootstrap = kafka_props.count("bootstrap.servers")
                           ? kafka_props.at("bootstrap.servers")
                           : kafka_props.at("metadata.broker.list");
    spdlog::info("kafka: producer created for {}", impl_->bootstrap);
}

void KafkaSink::wait_connected() {
    Impl &s = *impl_;
    const ShutdownToken &token = ShutdownToken::process();
    const auto started = std::chrono::steady_clock::now();
    auto next_log = started + std::chrono::seconds(5);
    for (;;) {
        rd_kafka_poll(s.rk.get(), 0);  // serves the error callback
        s.throw_if_failed_for_good();
        token.throw_if_requested("waiting for Kafka");
        const struct rd_kafka_metadata *md = nullptr;
        rd_kafka_resp_err_t e = rd_kafka_metadata(s.rk.get(), 0, nullptr, &md, 500);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const int brokers = md->broker_cnt;
            rd_kafka_metadata_destroy(md);
            s.answered.store(true);
            s.brokers_down.store(false);
            spdlog::info("kafka: connected: {} broker(s) answered at {}", brokers, s.bootstrap);
            return;
        }
        rd_kafka_poll(s.rk.get(), 0);
        s.throw_if_failed_for_good();
        const auto now = std::chrono::steady_clock::now();
        if (now >= next_log) {
            std::string last;
            {
                std::lock_guard<std::mutex> lock(s.mu);
                last = s.last_error;
            }
            spdlog::warn("kafka: no broker at {} has answered for {:.0f} s ({}); still trying",
                         s.bootstrap, std::chrono::duration<double>(now - started).count(),
                         last.empty() ? rd_kafka_err2str(e) : last);
            next_log = now + std::chrono::seconds(10);
        }
        token.sleep_for(std::chrono::milliseconds(200));
    }
}

KafkaSink::~KafkaSink() {
    if (!impl_->rk) return;
    const std::size_t left = impl_->outstanding.load();
    if (left > 0) {
        // The owner flushes before destroying; whatever is left was never
        // acknowledged to Postgres and will be re-read from the slot.
        spdlog::warn("kafka: closing producer with {} undelivered events", left);
        rd_kafka_purge(impl_->rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    }
    impl_->topics.clear();  // topic handles before the producer
    impl_->rk.reset();
}

bool KafkaSink::produce(const Message &msg) {
    Impl &s = *impl_;
    rd_kafka_topic_t *rkt = s.topic(msg.topic);
    void *payload = msg.tombstone ? nullptr : const_cast<char *>(msg.value.data());
    const size_t len = msg.tombstone ? 0 : msg.value_size();
    int flags = RD_KAFKA_MSG_F_COPY;
    if (!msg.tombstone && msg.value_buffer && msg.value.data() == msg.value_buffer &&
        len == msg.value.size()) {
        // Handed over by the caller: librdkafka frees it, no copy.
        flags = RD_KAFKA_MSG_F_FREE;
    } else if (!msg.tombstone && len != msg.value.size()) {
        // A value in pieces: put it together once, in a buffer librdkafka takes over
        // (and frees) instead of copying it again.
        struct Writer {
            char *p;
            void append(std::string_view piece) {
                if (!piece.empty()) std::memcpy(p, piece.data(), piece.size());
                p += piece.size();
            }
        };
        char *whole = static_cast<char *>(std::malloc(len));
        if (!whole) throw std::bad_alloc();
        Writer writer{whole};
        msg.append_value(writer);
        payload = whole;
        flags = RD_KAFKA_MSG_F_FREE;
    }
    const void *key = msg.key.empty() ? nullptr : msg.key.data();
    void *opaque = reinterpret_cast<void *>(static_cast<std::uintptr_t>(msg.token));

    // Count first: the delivery report can only arrive from a later poll(), but
    // keep outstanding() >= reports in flight at all times.
    s.outstanding.fetch_add(1, std::memory_order_relaxed);
    // After a fatal error librdkafka takes nothing more: don't hand it anything.
    const rd_kafka_resp_err_t e =
        s.fatal.load()
            ? RD_KAFKA_RESP_ERR__FATAL
            : rd_kafka_producev(
                  s.rk.get(), RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
                  RD_KAFKA_V_MSGFLAGS(flags), RD_KAFKA_V_VALUE(payload, len),
                  RD_KAFKA_V_KEY(key, msg.key.size()), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return true;
    // Not taken: the buffer is still ours.
    struct FreeOwned {
        void *p;
        ~FreeOwned() { std::free(p); }
    } owned{flags == RD_KAFKA_MSG_F_FREE ? payload : nullptr};
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && (s.outstanding.load() > 1 || msg.tombstone)) {
        s.outstanding.fetch_sub(1, std::memory_order_relaxed);
        if (payload == msg.value_buffer) owned.p = nullptr;  // not taken: still the caller's
        return false;
    }
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        // Full while empty: larger than queue.buffering.max.kbytes, it would never fit.
        spdlog::error("kafka: an event of {} bytes exceeds kafka.queue.buffering.max.kbytes", len);
        const std::string_view value(static_cast<const char *>(payload), payload ? len : 0);
        s.on_permanent(msg.topic, msg.key, value, len, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                       msg.token, true);
        return true;
    }
    if (classify_kafka_error(e) == KafkaErrorClass::kPermanentEvent) {
        // E.g. larger than message.max.bytes: the failure policy decides; the report
        // comes from the next poll() as the Sink contract says.
        const std::string_view value(static_cast<const char *>(payload), payload ? len : 0);
        s.on_permanent(msg.topic, msg.key, value, len, e, msg.token, true);
        return true;
    }
    if (e == RD_KAFKA_RESP_ERR__FATAL) {
        s.note_fatal();
        // Reported failed, so the caller's tracker never acknowledges past it.
        s.rejected.push_back(
            {msg.token, false, std::string(msg.topic) + ": not produced, " + s.fatal_reason()});
        return true;
    }
    // Accepted and reported failed, so the caller's tracker never acknowledges past it.
    std::string error = std::string(msg.topic) + ": produce failed: " + rd_kafka_err2str(e);
    spdlog::error("kafka: {}", error);
    s.set_last_error(error);
    s.rejected.push_back({msg.token, false, std::move(error)});
    return true;
}

void KafkaSink::poll(int timeout_ms) {
    const bool had_rejected = !impl_->rejected.empty();
    impl_->report_rejected();
    impl_->send_dead_letters();
    // Reports were just served: don't also wait for more.
    rd_kafka_poll(impl_->rk.get(), had_rejected ? 0 : timeout_ms);
    impl_->throw_if_failed_for_good();  // first: it explains a failed report
    impl_->rethrow_callback_error();
}

bool KafkaSink::flush(int timeout_ms) {
    // In slices, so that dead-letter records queued by a report are produced too.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        impl_->report_rejected();
        impl_->send_dead_letters();
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        // rd_kafka_flush serves delivery reports (our callbacks) while it waits.
        rd_kafka_flush(impl_->rk.get(),
                       static_cast<int>(std::max<long long>(0, std::min<long long>(left, 100))));
        impl_->throw_if_failed_for_good();  // first: it explains a failed report
        impl_->rethrow_callback_error();
        if (impl_->outstanding.load() == 0) return true;
        if (left <= 0) return false;
    }
}

void KafkaSink::simulate_fatal_error(const std::string &reason) {
    rd_kafka_test_fatal_error(impl_->rk.get(), RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                              reason.c_str());
}

std::size_t KafkaSink::outstanding() const { return impl_->outstanding.load(); }

bool KafkaSink::fatal() const {
    return impl_->fatal.load() || impl_->failed_for_good.load() ||
           rd_kafka_fatal_error(impl_->rk.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR;
}

std::string KafkaSink::describe() const {
    // Only what a broker's answer showed: "connected" needs a metadata reply or a delivery.
    std::string d = "kafka: ";
    d += impl_->brokers_down.load() ? "all brokers down"
         : impl_->answered.load()   ? "connected"
                                    : "no broker has answered yet";
    d += ", outstanding " + std::to_string(impl_->outstanding.load());
    d += ", librdkafka queue " + std::to_string(rd_kafka_outq_len(impl_->rk.get()));
    d += ", delivered " + std::to_string(impl_->delivered.load());
    d += ", failed " + std::to_string(impl_->failed.load());
    if (impl_->skipped.load() > 0) d += ", skipped " + std::to_string(impl_->skipped.load());
    if (fatal()) d += ", FATAL";
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (!impl_->fatal_cause.empty()) d += " (" + impl_->fatal_cause + ")";
    if (!impl_->last_error.empty()) d += ", last error: " + impl_->last_error;
    return d;
}

std::unique_ptr<Sink> make_kafka_sink(const std::map<std::string, std::string> &kafka_props,
                                      DeliveryCallback on_delivery, EventFailurePolicy policy) {
    return std::make_unique<KafkaSink>(kafka_props, std::move(on_delivery), std::move(policy));
}

}  // namespace walcast
