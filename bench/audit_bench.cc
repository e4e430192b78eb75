// Audit log throughput: durable appends through Store::Write (group commit,
// synchronous=FULL) from several threads and from one, and verification of
// a chain of 1,000,000 events. Databases live in a temporary directory.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "warden/audit/audit_log.h"
#include "warden/core/clock.h"
#include "warden/store/store.h"

namespace warden {
namespace {

class BenchDir {
 public:
  BenchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "warden-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Url() const { return "sqlite:" + (path_ / "audit.db").string(); }

 private:
  std::filesystem::path path_;
};

std::unique_ptr<store::Store> MustOpen(const std::string& url) {
  auto s = store::OpenStore(url);
  if (!s.ok()) {
    std::fprintf(stderr, "open: %s\n", s.status().ToString().c_str());
    std::abort();
  }
  return std::move(*s);
}

audit::EventInput SampleEvent(int64_t i) {
  audit::EventInput in;
  in.actor = "agent:worker-" + std::to_string(i % 64);
  in.kind = "tool.called";
  in.subject = "tool:github.create_issue";
  in.details = {{"decision", "allow"},
                {"grant", "grt_01hzyx4f6zq8m2c3v5b7n9p0ra"},
                {"policies", {"permit-issue-triage"}},
                {"args_sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}};
  return in;
}

// Durable appends, one event per Store::Write, from `threads` threads.
void BM_DurableAppend(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const int per_thread = static_cast<int>(state.range(1));
  BenchDir dir;
  auto store = MustOpen(dir.Url());
  const audit::EventInput in = SampleEvent(1);
  int64_t total = 0;
  for (auto _ : state) {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        for (int i = 0; i < per_thread; ++i) {
          Status s = store->Write([&](store::Transaction& txn) {
            return audit::Append(txn, in, SystemClock::Instance().Now()).status();
          });
          if (!s.ok()) {
            std::fprintf(stderr, "append: %s\n", s.ToString().c_str());
            std::abort();
          }
        }
      });
    }
    for (auto& w : workers) w.join();
    total += int64_t{threads} * per_thread;
  }
  state.SetItemsProcessed(total);
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(total), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DurableAppend)
    ->ArgNames({"threads", "per_thread"})
    ->Args({1, 200})
    ->Args({8, 2000})
    ->Args({64, 1000})
    ->Args({256, 400})
    ->Args({512, 200})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Durable appends through Store::WriteAsync from a few threads, each keeping
// up to `window` appends in flight (how an event-loop server would call it).
// With `prepared` 1 each thread prepares its event (checks, canonical JSON,
// the chain-independent part of the encoding) before handing it over, so
// the writer thread only chains, hashes and inserts it; with 0 the whole
// Append runs on the writer thread. CPU is the whole process's.
void BM_DurableAppendAsync(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const int per_thread = static_cast<int>(state.range(1));
  const int window = static_cast<int>(state.range(2));
  const bool prepare = state.range(3) != 0;
  BenchDir dir;
  auto store = MustOpen(dir.Url());
  const audit::EventInput in = SampleEvent(1);
  int64_t total = 0;
  for (auto _ : state) {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        std::mutex mu;
        std::condition_variable cv;
        int in_flight = 0;
        auto done = [&](Status s) {
          if (!s.ok()) {
            std::fprintf(stderr, "append: %s\n", s.ToString().c_str());
            std::abort();
          }
          std::lock_guard lock(mu);
          --in_flight;
          cv.notify_one();
        };
        for (int i = 0; i < per_thread; ++i) {
          {
            std::unique_lock lock(mu);
            cv.wait(lock, [&] { return in_flight < window; });
            ++in_flight;
          }
          if (prepare) {
            auto event = audit::PreparedEvent::Create(in, SystemClock::Instance().Now());
            if (!event.ok()) std::abort();
            store->WriteAsync(
                [event = std::move(*event)](store::Transaction& txn) {
                  return audit::Append(txn, event).status();
                },
                done);
          } else {
            store->WriteAsync(
                [&](store::Transaction& txn) {
                  return audit::Append(txn, in, SystemClock::Instance().Now()).status();
                },
                done);
          }
        }
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return in_flight == 0; });
      });
    }
    for (auto& w : workers) w.join();
    total += int64_t{threads} * per_thread;
  }
  state.SetItemsProcessed(total);
}
BENCHMARK(BM_DurableAppendAsync)
    ->ArgNames({"threads", "per_thread", "window", "prepared"})
    ->Args({4, 25000, 512, 0})
    ->Args({4, 25000, 512, 1})
    ->Iterations(1)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);

// Append's own cost on the writer thread: many appends in one Write, so
// neither fsync nor thread hand-off is measured. With `prepared` 1 the
// events are prepared before the Write (as a caller of WriteAsync can), so
// only the writer thread's share of an append is measured.
void BM_AppendInOneWrite(benchmark::State& state) {
  const int per_write = static_cast<int>(state.range(0));
  const bool prepare = state.range(1) != 0;
  BenchDir dir;
  auto store = MustOpen(dir.Url());
  const audit::EventInput in = SampleEvent(1);
  for (auto _ : state) {
    std::vector<audit::PreparedEvent> events;
    if (prepare) {
      state.PauseTiming();
      events.reserve(static_cast<size_t>(per_write));
      for (int i = 0; i < per_write; ++i) {
        auto e = audit::PreparedEvent::Create(in, SystemClock::Instance().Now());
        if (!e.ok()) std::abort();
        events.push_back(std::move(*e));
      }
      state.ResumeTiming();
    }
    Status s = store->Write([&](store::Transaction& txn) -> Status {
      for (int i = 0; i < per_write; ++i) {
        if (prepare) {
          WARDEN_RETURN_IF_ERROR(audit::Append(txn, events[static_cast<size_t>(i)]).status());
        } else {
          WARDEN_RETURN_IF_ERROR(audit::Append(txn, in, SystemClock::Instance().Now()).status());
        }
      }
      return OkStatus();
    });
    if (!s.ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations() * per_write);
}
BENCHMARK(BM_AppendInOneWrite)
    ->ArgNames({"per_write", "prepared"})
    ->Args({20000, 0})
    ->Args({20000, 1})
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Fills a log with `n` events through Append, 10,000 per transaction, one
// microsecond apart.
void FillLog(store::Store& store, int64_t n) {
  const audit::EventInput in = SampleEvent(7);
  const int64_t t0 = 1'800'000'000'000'000;
  constexpr int64_t kPerTxn = 10000;
  for (int64_t start = 1; start <= n; start += kPerTxn) {
    Status s = store.Write([&](store::Transaction& txn) -> Status {
      for (int64_t seq = start; seq < start + kPerTxn && seq <= n; ++seq) {
        WARDEN_ASSIGN_OR_RETURN(audit::PreparedEvent event,
                                audit::PreparedEvent::Create(in, FromUnixMicros(t0 + seq)));
        WARDEN_RETURN_IF_ERROR(audit::Append(txn, event).status());
      }
      return OkStatus();
    });
    if (!s.ok()) {
      std::fprintf(stderr, "fill: %s\n", s.ToString().c_str());
      std::abort();
    }
  }
}

void BM_Verify(benchmark::State& state) {
  const int64_t n = state.range(0);
  BenchDir dir;
  auto store = MustOpen(dir.Url());
  FillLog(*store, n);
  for (auto _ : state) {
    auto report = audit::Verify(*store);
    if (!report.ok() || !report->ok || report->events_checked != n) {
      std::fprintf(stderr, "verify failed: %s\n",
                   report.ok() ? report->problem.c_str() : report.status().ToString().c_str());
      std::abort();
    }
  }
  state.SetItemsProcessed(state.iterations() * n);
}
// The row scan alone (no hashing): the floor under Verify.
void BM_ScanOnly(benchmark::State& state) {
  const int64_t n = state.range(0);
  BenchDir dir;
  auto store = MustOpen(dir.Url());
  FillLog(*store, n);
  for (auto _ : state) {
    int64_t rows = 0;
    size_t bytes = 0;
    Status s = store->Read([&](store::Transaction& txn) {
      return txn.QueryEach(
          "SELECT seq, time, actor, kind, subject, details, prev_hash, hash FROM audit_events "
          "ORDER BY seq",
          {}, [&](const store::RowView& row) {
            ++rows;
            for (size_t c = 2; c < 8; ++c) bytes += row.Text(c)->size();
            return OkStatus();
          });
    });
    if (!s.ok() || rows != n) std::abort();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
// CPU is the whole process's (both threads of Verify), not only the
// calling thread's.
BENCHMARK(BM_ScanOnly)
    ->ArgNames({"events"})
    ->Arg(1'000'000)
    ->Iterations(3)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_Verify)
    ->ArgNames({"events"})
    ->Arg(1'000'000)
    ->Iterations(3)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace warden

BENCHMARK_MAIN();
