#include "snapshot/snapshot_runner.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/shutdown.h"
#include "snapshot/snapshot_channel.h"
#include "snapshot/snapshot_markers.h"
#include "snapshot/snapshot_progress.h"
#include "snapshot/snapshot_reader.h"

namespace walcast {

namespace {

using Clock = std::chrono::steady_clock;

// Receives the readers' batches on one thread: puts events together, marks the first
// and last ones, feeds the sink, and records chunks once the sink holds all their events.
class Coordinator {
public:
    Coordinator(const std::vector<SnapshotChunk> &chunks, const std::vector<SnapshotTable> &tables,
                SnapshotStore &store, int progress_interval_ms, Registry *metrics)
        : chunks_(chunks),
          store_(store),
          states_(chunks.size()),
          progress_(tables, progress_interval_ms, metrics),
          markers_(tables_to_read(chunks), markers_emit()) {
        for (std::size_t i = 0; i < chunks.size(); i++) {
            if (chunks[i].finished) {
                states_[i].recorded = states_[i].read = true;
                continue;
            }
            unfinished_++;
            chunks_left_[chunks[i].rel]++;
            chunks_unrecorded_[chunks[i].rel]++;
        }
        for (const auto &t : tables)
            if (!chunks_left_.count(t.rel)) progress_.table_done(t.rel);
    }

    bool all_recorded() const { return recorded_ == unfinished_; }

    void attach(Sink *sink) { sink_ = sink; }

    void on_batch(RowBatch &batch) {
        const std::uint32_t rel = chunks_[batch.chunk].rel;
        const ChunkTemplate &t = *batch.event_template;
        // value_close: the "}" of {"schema":..,"payload":..} when values carry schemas.
        times_ = envelope_times(unix_micros_now()) + t.value_close;
        const std::size_t n = batch.rows();
        // Bytes of the event values, as the sink stores them.
        std::size_t event_bytes = n * (t.head.size() + t.tail.size() + times_.size());
        for (std::size_t i = 0; i < n; i++) event_bytes += batch.row(i).after.size();
        states_[batch.chunk].pending += n;
        markers_.batch(rel, batch);
        progress_.rows(rel, n, event_bytes);
        total_bytes_ += event_bytes;
        if (!batch.end_of_chunk) return;
        ChunkState &st = states_[batch.chunk];
        st.read = true;
        st.rows = batch.chunk_rows;
        if (--chunks_left_[rel] == 0) markers_.table_finished(rel);
        maybe_record(batch.chunk);
    }

    void on_delivery(DeliveryToken token, bool ok, const std::string &error) {
        if (!ok) throw std::runtime_error("the sink could not store a snapshot event: " + error);
        std::size_t chunk = static_cast<std::size_t>(token - 1);
        states_[chunk].pending--;
        progress_.acknowledged(chunks_[chunk].rel, 1);
        maybe_record(chunk);
    }

    SnapshotProgress &progress() { return progress_; }
    std::uint64_t total_rows() const { return markers_.released(); }
    std::uint64_t total_bytes() const { return total_bytes_; }

private:
    struct ChunkState {
        std::uint64_t pending = 0;  // events received and not yet confirmed by the sink
        std::uint64_t rows = 0;
        bool read = false;      // the reader has read all of it
        bool recorded = false;  // durably delivered and recorded
    };

    static std::size_t tables_to_read(const std::vector<SnapshotChunk> &chunks) {
        std::unordered_set<std::uint32_t> rels;
        for (const auto &c : chunks)
            if (!c.finished) rels.insert(c.rel);
        return rels.size();
    }

    SnapshotMarkers::Emit markers_emit() {
        return
            [this](std::uint32_t, std::size_t chunk, const ChunkTemplate &t, const SnapshotRow &row,
                   std::string_view marker) { emit(chunk, t, row, marker); };
    }

    void emit(std::size_t chunk, const ChunkTemplate &event_template, const SnapshotRow &row,
              std::string_view marker) {
        // Only the few first/last events carry another marker than the template's.
        std::string marked_tail;
        if (marker != "true") marked_tail = with_snapshot_marker(event_template.tail, marker);
        Message msg = snapshot_message(event_template, row,
                                       marked_tail.empty() ? event_template.tail : marked_tail,
                                       times_, static_cast<DeliveryToken>(chunk + 1));
        msg.key = event_template.key_of(row.key, key_scratch_);
        while (!sink_->produce(msg)) {  // full: wait for deliveries
            ShutdownToken::process().throw_if_requested("running the snapshot");
            sink_->poll(10);
        }
    }

    void maybe_record(std::size_t chunk) {
        ChunkState &st = states_[chunk];
        if (st.recorded || !st.read || st.pending > 0) return;
        store_.chunk_finished(chunks_[chunk], st.rows);
        st.recorded = true;
        recorded_++;
        // A table is done once the sink holds all of it, not when it has been read.
        if (--chunks_unrecorded_[chunks_[chunk].rel] == 0) progress_.table_done(chunks_[chunk].rel);
    }

    const std::vector<SnapshotChunk> &chunks_;
    SnapshotStore &store_;
    std::vector<ChunkState> states_;
    SnapshotProgress progress_;
    SnapshotMarkers markers_;
    Sink *sink_ = nullptr;
    std::unordered_map<std::uint32_t, std::size_t> chunks_left_;        // not yet read
    std::unordered_map<std::uint32_t, std::size_t> chunks_unrecorded_;  // not yet delivered
    std::string times_;        // the envelope times of the batch being forwarded
    std::string key_scratch_;  // a key put in {"schema":..,"payload":..}
    std::size_t unfinished_ = 0;
    std::size_t recorded_ = 0;
    std::uint64_t total_bytes_ = 0;
};

// Shared work list and first error of the reader threads.
struct ReaderPool {
    std::mutex mu;
    std::size_t next = 0;
    std::exception_ptr error;
    std::atomic<bool> stop{false};
    std::atomic<int> imported{0};
    std::atomic<int> finished{0};

    void fail(std::exception_ptr e) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = e;
        stop = true;
    }
};

void reader_main(const SnapshotSettings &settings, const std::string &snapshot_name,
                 const std::vector<std::size_t> &work, const std::vector<SnapshotChunk> &chunks,
                 const std::vector<std::pair<std::string, std::string>> &options,
                 SnapshotChannel &channel, Throttle &throttle, ReaderPool &pool) {
    try {
        SnapshotReader reader(*settings.config, snapshot_name);
        pool.imported++;
        for (;;) {
            std::size_t index;
            {
                std::lock_guard<std::mutex> lock(pool.mu);
                if (pool.stop || pool.next >= work.size()) break;
                index = work[pool.next++];
            }
            reader.read_chunk(chunks[index], options, [&](RowBatch &&batch) {
                throttle.acquire(batch.rows(), batch.data.size());
                batch.chunk = index;
                if (!channel.push(std::move(batch))) throw std::runtime_error("snapshot stopped");
            });
        }
    } catch (...) {
        pool.fail(std::current_exception());
        channel.close();
    }
    pool.finished++;
}

}  // namespace

SnapshotResult run_snapshot(const SnapshotSettings &settings, ExportedSnapshot &snapshot,
                            Lsn consistent_point, const std::vector<SnapshotChunk> &chunks,
                            const std::vector<SnapshotTable> &tables, SnapshotStore &store,
                            const SinkFactory &make_sink, Registry *metrics) {
    const auto started = Clock::now();
    Coordinator coordinator(chunks, tables, store, settings.progress_interval_ms, metrics);
    std::vector<std::size_t> work;
    for (std::size_t i = 0; i < chunks.size(); i++)
        if (!chunks[i].finished) work.push_back(i);
    spdlog::info("snapshot: {} tables, {} chunks to read ({} already done), {} readers",
                 tables.size(), work.size(), chunks.size() - work.size(), settings.threads);

    std::exception_ptr sink_error;
    std::unique_ptr<Sink> sink = make_sink([&](DeliveryToken token, bool ok, const std::string &e) {
        coordinator.on_delivery(token, ok, e);
    });
    coordinator.attach(sink.get());

    auto options = settings.encoder_options;
    options.emplace_back("snapshot.lsn", format_lsn(consistent_point));
    SnapshotChannel channel(settings.buffer_bytes);
    Throttle throttle(settings.max_rows_per_second, settings.max_bytes_per_second);
    ReaderPool pool;
    const int threads = std::max(
        1,
        std::min<int>(settings.threads, static_cast<int>(std::max<std::size_t>(work.size(), 1))));
    std::vector<std::thread> readers;
    for (int i = 0; i < threads; i++)
        readers.emplace_back(reader_main, std::cref(settings), std::cref(snapshot.name()),
                             std::cref(work), std::cref(chunks), std::cref(options),
                             std::ref(channel), std::ref(throttle), std::ref(pool));

    auto stop_readers = [&] {
        pool.stop = true;
        channel.close();
        // Drain so that blocked pushes return.
        while (channel.pop(std::chrono::milliseconds(0))) {
        }
        for (auto &t : readers)
            if (t.joinable()) t.join();
    };

    try {
        // The exported snapshot lives only as long as its connection: release it
        // once every reader holds its own copy.
        const ShutdownToken &token = ShutdownToken::process();
        while (pool.imported < threads && !pool.stop) {
            token.throw_if_requested("starting the snapshot readers");
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (pool.error) std::rethrow_exception(pool.error);
        snapshot.release();

        auto last_pinning = Clock::time_point{};
        while (!coordinator.all_recorded()) {
            token.throw_if_requested("running the snapshot");
            if (pool.error) std::rethrow_exception(pool.error);
            if (auto batch = channel.pop(std::chrono::milliseconds(50)))
                coordinator.on_batch(*batch);
            sink->poll(0);
            if (sink->fatal()) throw std::runtime_error("the sink failed: " + sink->describe());
            if (Clock::now() - last_pinning > std::chrono::seconds(5)) {
                last_pinning = Clock::now();
                coordinator.progress().set_pinning(
                    std::chrono::duration<double>(Clock::now() - started).count(),
                    store.retained_wal_bytes());
            }
            coordinator.progress().report();
            if (pool.finished == threads && !pool.error) {
                // Readers are done: only deliveries are left to wait for.
                if (auto batch = channel.pop(std::chrono::milliseconds(0))) {
                    coordinator.on_batch(*batch);
                    continue;
                }
                sink->poll(50);
            }
        }
        sink->flush(60000);
    } catch (...) {
        stop_readers();
        // Chunks whose events are all delivered are recorded meanwhile; the rest are
        // read again by the next run. Bounded: a stop request is honoured in seconds.
        try {
            sink->flush(2000);
        } catch (const std::exception &e) {
            spdlog::warn("snapshot: while stopping: {}", e.what());
        }
        throw;
    }
    stop_readers();
    coordinator.progress().report(true);
    SnapshotResult result;
    result.rows = coordinator.total_rows();
    result.bytes = coordinator.total_bytes();
    result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return result;
}

}  // namespace walcast
