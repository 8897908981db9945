// KafkaSink without a broker (config validation, failure reports, backpressure)
// and, when WALCAST_TEST_KAFKA_BOOTSTRAP is set, against a real one.
#include "sink/kafka_sink.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/shutdown.h"

namespace walcast {
namespace {

using Props = std::map<std::string, std::string>;

struct Report {
    DeliveryToken token;
    bool ok;
    std::string error;
};

// Collects delivery reports.
struct Reports {
    std::vector<Report> all;
    DeliveryCallback callback() {
        return [this](DeliveryToken t, bool ok, const std::string &e) {
            all.push_back({t, ok, e});
        };
    }
};

std::string construct_error(const Props &props) {
    Reports r;
    try {
        KafkaSink sink(props, r.callback());
    } catch (const std::invalid_argument &e) {
        return e.what();
    }
    return "";
}

// A port nothing listens on: every message times out.
Props unreachable(int timeout_ms) {
    return {{"bootstrap.servers", "127.0.0.1:1"},
            {"message.timeout.ms", std::to_string(timeout_ms)}};
}

TEST(KafkaSink, RequiresBootstrapServers) {
    EXPECT_NE(construct_error({}).find("kafka.bootstrap.servers"), std::string::npos);
}

TEST(KafkaSink, UnknownPropertyIsNamed) {
    const std::string e = construct_error({{"bootstrap.servers", "x:1"}, {"no.such.prop", "1"}});
    EXPECT_NE(e.find("kafka.no.such.prop"), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << "one line: " << e;
}

TEST(KafkaSink, BadValueIsNamed) {
    const std::string e =
        construct_error({{"bootstrap.servers", "x:1"}, {"compression.type", "zip"}});
    EXPECT_NE(e.find("kafka.compression.type=zip"), std::string::npos) << e;
}

TEST(KafkaSink, SecretValuesAreNotEchoed) {
    const std::string e =
        construct_error({{"bootstrap.servers", "x:1"}, {"sasl.passwordd", "hunter2"}});
    EXPECT_NE(e.find("kafka.sasl.passwordd"), std::string::npos) << e;
    EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
}

TEST(KafkaSink, UserPropertiesOverrideDefaults) {
    // Idempotence requires acks=all: turning both off must be accepted.
    EXPECT_EQ(construct_error({{"bootstrap.servers", "x:1"},
                               {"enable.idempotence", "false"},
                               {"acks", "1"},
                               {"compression.type", "zstd"}}),
              "");
    EXPECT_EQ(kafka_default_props().at("partitioner"), "murmur2_random");
    EXPECT_EQ(kafka_default_props().at("enable.idempotence"), "true");
}

TEST(KafkaSink, InconsistentPropertiesFailAtCreation) {
    const std::string e = construct_error({{"bootstrap.servers", "x:1"}, {"acks", "1"}});
    EXPECT_NE(e.find("acks"), std::string::npos) << e;
}

TEST(KafkaSink, UndeliverableMessagesAreReportedFailedWithTheirTokens) {
    Reports r;
    auto sink = make_kafka_sink(unreachable(500), r.callback());
    ASSERT_TRUE(sink->produce({"t1", R"({"id":1})", R"({"op":"c"})", false, 11}));
    ASSERT_TRUE(sink->produce({"t1", R"({"id":1})", "", true, 12}));     // tombstone
    ASSERT_TRUE(sink->produce({"t2", "", R"({"op":"t"})", false, 13}));  // null key
    EXPECT_EQ(sink->outstanding(), 3u);
    EXPECT_TRUE(r.all.empty()) << "reports only come from poll()/flush()";

    EXPECT_TRUE(sink->flush(10000));
    EXPECT_EQ(sink->outstanding(), 0u);
    ASSERT_EQ(r.all.size(), 3u);
    std::vector<DeliveryToken> tokens;
    for (const auto &rep : r.all) {
        EXPECT_FALSE(rep.ok);
        EXPECT_FALSE(rep.error.empty());
        tokens.push_back(rep.token);
    }
    std::sort(tokens.begin(), tokens.end());
    EXPECT_EQ(tokens, (std::vector<DeliveryToken>{11, 12, 13}));
    EXPECT_FALSE(sink->fatal());
    EXPECT_NE(sink->describe().find("failed 3"), std::string::npos) << sink->describe();
}

TEST(KafkaSink, FullQueueIsBackpressure) {
    Reports r;
    Props p = unreachable(300000);
    p["queue.buffering.max.messages"] = "2";
    KafkaSink sink(p, r.callback());
    EXPECT_TRUE(sink.produce({"t", "k", "v1", false, 1}));
    EXPECT_TRUE(sink.produce({"t", "k", "v2", false, 2}));
    EXPECT_FALSE(sink.produce({"t", "k", "v3", false, 3}));
    EXPECT_EQ(sink.outstanding(), 2u);
    sink.poll(0);
    EXPECT_TRUE(r.all.empty());
    EXPECT_FALSE(sink.flush(100));  // still waiting for the broker
    EXPECT_NE(sink.describe().find("outstanding 2"), std::string::npos) << sink.describe();
}  // destroyed with messages outstanding: purged, no report, no hang

TEST(KafkaSink, OversizedMessageFailsTheRunByDefault) {
    Reports r;
    Props p = unreachable(300000);
    p["message.max.bytes"] = "1000";
    KafkaSink sink(p, r.callback());
    const std::string value =
        R"({"before":null,"after":{"t":")" + std::string(5000, 'x') +
        R"("},"source":{"schema":"public","table":"big","lsn":4660},"op":"c"})";
    EXPECT_TRUE(sink.produce({"w.public.big", R"({"id":2})", value, false, 7}));
    EXPECT_EQ(sink.outstanding(), 1u);
    try {
        sink.poll(0);
        FAIL() << "a poison event must end the run (mode fail)";
    } catch (const SinkError &e) {
        EXPECT_EQ(e.exit_code(), kExitPoisonEvent);
        const std::string m = e.what();
        const std::string size = std::to_string(value.size()) + " bytes";
        for (const char *part : {"table public.big", R"(key {"id":2})", size.c_str(), "LSN 0/1234",
                                 "MSG_SIZE_TOO_LARGE", "kafka.message.max.bytes",
                                 "event.processing.failure.handling.mode"})
            EXPECT_NE(m.find(part), std::string::npos) << part << " missing from: " << m;
    }
    ASSERT_EQ(r.all.size(), 1u);
    EXPECT_EQ(r.all[0].token, 7u);
    EXPECT_FALSE(r.all[0].ok) << "never acknowledged past it";
    EXPECT_EQ(sink.outstanding(), 0u);
    EXPECT_TRUE(sink.fatal());
    sink.poll(0);  // thrown once
}

TEST(KafkaSink, OversizedMessageIsSkippedAndCountedWithModeSkip) {
    Reports r;
    Props p = unreachable(300000);
    p["message.max.bytes"] = "1000";
    std::vector<std::string> reasons;
    EventFailurePolicy policy;
    policy.mode = EventFailureMode::kSkip;
    policy.on_skipped = [&](const std::string &reason) { reasons.push_back(reason); };
    KafkaSink sink(p, r.callback(), policy);
    EXPECT_TRUE(sink.produce({"t", "k", std::string(5000, 'x'), false, 7}));
    sink.poll(0);
    ASSERT_EQ(r.all.size(), 1u);
    EXPECT_TRUE(r.all[0].ok) << "skipped: acknowledged past it";
    EXPECT_EQ(reasons, std::vector<std::string>{"MSG_SIZE_TOO_LARGE"});
    EXPECT_FALSE(sink.fatal());
    EXPECT_NE(sink.describe().find("skipped 1"), std::string::npos) << sink.describe();
}

TEST(KafkaSink, SkippedEventWaitsForItsDeadLetterRecord) {
    Reports r;
    Props p = unreachable(300000);
    p["message.max.bytes"] = "1000";
    EventFailurePolicy policy;
    policy.mode = EventFailureMode::kWarn;
    policy.dead_letter_topic = "dlq";
    KafkaSink sink(p, r.callback(), policy);
    EXPECT_TRUE(sink.produce({"t", "k", std::string(5000, 'x'), false, 7}));
    sink.poll(0);
    EXPECT_TRUE(r.all.empty()) << "settled by the dead-letter record's delivery, not before";
    EXPECT_EQ(sink.outstanding(), 1u);
}

TEST(KafkaSink, EventLargerThanTheWholeQueueIsRejectedNotBackpressure) {
    Reports r;
    Props p = unreachable(300000);
    p["message.max.bytes"] = "100000000";
    p["queue.buffering.max.kbytes"] = "1024";
    EventFailurePolicy policy;
    policy.mode = EventFailureMode::kSkip;
    KafkaSink sink(p, r.callback(), policy);
    EXPECT_TRUE(sink.produce({"t", "k", std::string(2 << 20, 'x'), false, 9}))
        << "queue full while empty: it would never fit, waiting is a livelock";
    sink.poll(0);
    ASSERT_EQ(r.all.size(), 1u);
    EXPECT_TRUE(r.all[0].ok);
    EXPECT_TRUE(sink.produce({"t", "k", "small", false, 10}));
}

// The idempotent producer's fatal error (here raised by rd_kafka_test_fatal_error, as
// an out-of-order sequence number from a broker would): the cause is reported, nothing
// queued or produced afterwards is confirmed, and the sink says it is fatal so the
// pipeline recreates it.
TEST(KafkaSink, FatalProducerErrorFailsEveryUndeliveredEvent) {
    Reports r;
    KafkaSink sink(unreachable(300000), r.callback());
    ASSERT_TRUE(sink.produce({"t", R"({"id":1})", "v1", false, 1}));
    ASSERT_TRUE(sink.produce({"t", R"({"id":2})", "v2", false, 2}));
    EXPECT_FALSE(sink.fatal());

    sink.simulate_fatal_error("walcast unit test");
    EXPECT_TRUE(sink.fatal());
    // Taken (no backpressure) but never confirmed: the producer is done.
    EXPECT_TRUE(sink.produce({"t", R"({"id":3})", "v3", false, 3}));

    EXPECT_TRUE(sink.flush(10000)) << "the queued events are failed, not left waiting";
    EXPECT_EQ(sink.outstanding(), 0u);
    ASSERT_EQ(r.all.size(), 3u);
    std::vector<DeliveryToken> tokens;
    for (const auto &rep : r.all) {
        EXPECT_FALSE(rep.ok) << "token " << rep.token << " confirmed after a fatal error";
        // Queued ones are purged by librdkafka, the later one refused: both say why.
        EXPECT_NE(rep.error.find("OUT_OF_ORDER_SEQUENCE_NUMBER"), std::string::npos) << rep.error;
        tokens.push_back(rep.token);
    }
    std::sort(tokens.begin(), tokens.end());
    EXPECT_EQ(tokens, (std::vector<DeliveryToken>{1, 2, 3}));

    EXPECT_TRUE(sink.fatal());
    const std::string d = sink.describe();
    EXPECT_NE(d.find("FATAL"), std::string::npos) << d;
    EXPECT_NE(d.find("delivered 0"), std::string::npos) << d;
    EXPECT_NE(d.find("failed 3"), std::string::npos) << d;
    // The underlying error, not just "fatal error".
    EXPECT_NE(d.find("fatal: OUT_OF_ORDER_SEQUENCE_NUMBER"), std::string::npos) << d;
    EXPECT_NE(d.find("walcast unit test"), std::string::npos) << d;
}

// A dead-letter record that the producer refuses because it failed fatally fails the
// skipped event (re-read after the sink is recreated), not the run as a poison event.
TEST(KafkaSink, FatalErrorBeforeTheDeadLetterRecordIsNotAPoisonEvent) {
    Reports r;
    Props p = unreachable(300000);
    p["message.max.bytes"] = "1000";
    EventFailurePolicy policy;
    policy.mode = EventFailureMode::kWarn;
    policy.dead_letter_topic = "dlq";
    KafkaSink sink(p, r.callback(), policy);
    // Rejected for size: its dead-letter record waits for the next poll().
    EXPECT_TRUE(sink.produce({"t", "k", std::string(5000, 'x'), false, 7}));
    sink.simulate_fatal_error("walcast unit test");
    EXPECT_NO_THROW(sink.poll(0));
    EXPECT_NO_THROW(sink.flush(1000));
    ASSERT_EQ(r.all.size(), 1u);
    EXPECT_EQ(r.all[0].token, 7u);
    EXPECT_FALSE(r.all[0].ok);
    EXPECT_EQ(sink.outstanding(), 0u);
    EXPECT_TRUE(sink.fatal());
}

TEST(KafkaSink, DescribesOnlyWhatABrokerAnswered) {
    Reports r;
    KafkaSink sink(unreachable(300000), r.callback());
    EXPECT_EQ(sink.describe().find("up"), std::string::npos) << sink.describe();
    EXPECT_EQ(sink.describe().find("connected"), std::string::npos) << sink.describe();
}

TEST(KafkaSink, WaitingForABrokerEndsOnAStopRequest) {
    Reports r;
    KafkaSink sink(unreachable(300000), r.callback());
    ShutdownToken &token = ShutdownToken::process();
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        token.request();
    });
    const auto started = std::chrono::steady_clock::now();
    EXPECT_THROW(sink.wait_connected(), Stopped);
    stopper.join();
    token.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

TEST(KafkaErrors, PermanentTransientRefusedAndFatal) {
    for (auto e : {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE,
                   RD_KAFKA_RESP_ERR_INVALID_RECORD, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                   RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC})
        EXPECT_EQ(classify_kafka_error(e), KafkaErrorClass::kPermanentEvent)
            << rd_kafka_err2name(e);
    for (auto e : {RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT,
                   RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                   RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT})
        EXPECT_EQ(classify_kafka_error(e), KafkaErrorClass::kTransient) << rd_kafka_err2name(e);
    for (auto e : {RD_KAFKA_RESP_ERR__AUTHENTICATION, RD_KAFKA_RESP_ERR__SSL,
                   RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED})
        EXPECT_EQ(classify_kafka_error(e), KafkaErrorClass::kRefused) << rd_kafka_err2name(e);
    EXPECT_EQ(classify_kafka_error(RD_KAFKA_RESP_ERR__FATAL), KafkaErrorClass::kFatal);
}

TEST(KafkaErrors, FailureModes) {
    EXPECT_EQ(parse_event_failure_mode("fail"), EventFailureMode::kFail);
    EXPECT_EQ(parse_event_failure_mode("warn"), EventFailureMode::kWarn);
    EXPECT_EQ(parse_event_failure_mode("skip"), EventFailureMode::kSkip);
    EXPECT_THROW(parse_event_failure_mode("ignore"), std::invalid_argument);
}

TEST(KafkaErrors, DeadLetterDescriptionIsJson) {
    const std::string d = dead_letter_description(
        "w.public.big", R"({"id":1})", R"({"source":{"schema":"public","table":"big","lsn":16}})",
        6000000, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    EXPECT_EQ(d, R"({"topic":"w.public.big","table":"public.big","key":"{\"id\":1}",)"
                 R"("value_bytes":6000000,"lsn":"0/10","error":"MSG_SIZE_TOO_LARGE",)"
                 R"("reason":"Broker: Message size too large"})");
}

TEST(KafkaSink, CallbackExceptionSurfacesFromFlush) {
    auto sink = make_kafka_sink(unreachable(200), [](DeliveryToken, bool, const std::string &) {
        throw std::runtime_error("tracker says no");
    });
    ASSERT_TRUE(sink->produce({"t", "k", "v", false, 1}));
    EXPECT_THROW(sink->flush(10000), std::runtime_error);
    EXPECT_EQ(sink->outstanding(), 0u);
}

// Real broker: WALCAST_TEST_KAFKA_BOOTSTRAP=host:port, optional
// WALCAST_TEST_KAFKA_TOPIC. test/integration/test_kafka_sink.py runs this and
// reads the topic back (keys, partitions, tombstone).
TEST(KafkaSinkBroker, DeliversKeyedTombstoneAndNullKey) {
    const char *bootstrap = std::getenv("WALCAST_TEST_KAFKA_BOOTSTRAP");
    if (!bootstrap) GTEST_SKIP() << "WALCAST_TEST_KAFKA_BOOTSTRAP not set";
    const char *topic_env = std::getenv("WALCAST_TEST_KAFKA_TOPIC");
    const std::string topic = topic_env ? topic_env : "walcast.test.kafka_sink";

    Reports r;
    KafkaSink sink({{"bootstrap.servers", bootstrap}, {"message.timeout.ms", "60000"}},
                   r.callback());
    sink.wait_connected();  // a broker answered
    EXPECT_NE(sink.describe().find("kafka: connected"), std::string::npos) << sink.describe();
    const std::vector<std::string> keys = {R"({"id":1})", R"({"id":2})", R"({"id":42})",
                                           R"({"id":1000000})", R"({"tenant":"acme","id":7})"};
    DeliveryToken token = 0;
    for (const auto &k : keys) {
        const std::string v = R"({"after":{"k":)" + k + "}}";
        while (!sink.produce({topic, k, v, false, ++token})) sink.poll(10);
    }
    ASSERT_TRUE(sink.produce({topic, keys[0], "", true, ++token}));
    ASSERT_TRUE(sink.produce({topic, "", R"({"op":"t"})", false, ++token}));
    ASSERT_TRUE(sink.flush(60000)) << sink.describe();
    ASSERT_EQ(r.all.size(), token);
    for (const auto &rep : r.all) EXPECT_TRUE(rep.ok) << rep.error;
    EXPECT_FALSE(sink.fatal());
    EXPECT_NE(sink.describe().find("kafka: connected"), std::string::npos) << sink.describe();
}

}  // namespace
}  // namespace walcast
