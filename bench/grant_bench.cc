// Grant throughput: grants created durably (each one Store::Write holding the
// grants row and its grant.requested + grant.issued audit events, group
// commit, synchronous=FULL) from many threads and from one; and the hot-path
// use check of an already verified token against a revocation set holding
// 10,000 ended grants. Databases live in a temporary directory.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "warden/core/clock.h"
#include "warden/core/random.h"
#include "warden/grants/grant_service.h"
#include "warden/identity/key_store.h"
#include "warden/identity/registry.h"
#include "warden/store/store.h"

namespace warden {
namespace {

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::abort();
  }
}

// A store with one registered agent, a key ring and a grant service.
class Fixture {
 public:
  Fixture() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "warden-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
    auto s = store::OpenStore("sqlite:" + (path_ / "grants.db").string());
    Check(s.status(), "open store");
    store_ = std::move(*s);
    identity::AgentRegistry registry(*store_, clock_, identity::RegistryOptions{});
    identity::AgentSpec spec{"bench-agent", "team-bench", "benchmarks", "prod", std::nullopt,
                             std::chrono::hours(24), {}};
    Check(registry.Create(spec, "admin").status(), "create agent");
    auto ring = identity::KeyRing::Open(*store_, path_ / "keys", crypto::Algorithm::kEd25519,
                                        clock_, std::chrono::hours(24));
    Check(ring.status(), "key ring");
    ring_ = std::move(*ring);
    auto service = grants::GrantService::Open(*store_, *ring_, clock_, {});
    Check(service.status(), "grant service");
    service_ = std::move(*service);
    auto key = crypto::SigningKey::Generate(crypto::Algorithm::kEd25519);
    Check(key.status(), "agent key");
    jkt_ = key->kid();
  }
  ~Fixture() {
    service_.reset();
    ring_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  grants::GrantRequest Request() const {
    grants::GrantRequest r;
    r.agent = "bench-agent";
    r.jkt = jkt_;
    r.intent.task = "BENCH-1";
    r.intent.description = "benchmark grant";
    r.intent.scope = {{"tickets:read", "tickets:label"}, {"queue/support"}};
    r.intent.environment = "prod";
    r.intent.limits.max_calls = 1000;
    r.policy_hash = std::string(64, 'a');
    r.decision = {{"decision", "allow"}, {"policies", boost::json::array{"permit-triage"}}};
    return r;
  }

  grants::GrantService& service() { return *service_; }

 private:
  std::filesystem::path path_;
  const Clock& clock_ = SystemClock::Instance();
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<identity::KeyRing> ring_;
  std::unique_ptr<grants::GrantService> service_;
  std::string jkt_;
};

// Durable grant creation, one Store::Write per grant, from `threads` threads.
void BM_CreateGrant(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const int per_thread = static_cast<int>(state.range(1));
  Fixture f;
  const grants::GrantRequest request = f.Request();
  int64_t total = 0;
  for (auto _ : state) {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        for (int i = 0; i < per_thread; ++i) Check(f.service().Create(request).status(), "create");
      });
    }
    for (auto& w : workers) w.join();
    total += int64_t{threads} * per_thread;
  }
  state.SetItemsProcessed(total);
}
BENCHMARK(BM_CreateGrant)
    ->ArgNames({"threads", "per_thread"})
    ->Args({1, 200})
    ->Args({64, 100})
    ->Args({256, 40})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// CheckUse of an already verified token: a shared-lock lookup in a set of
// 10,000 ended grants plus the expiry comparison against the clock, exactly
// what GrantService::CheckUse does; no store access.
void BM_CheckUse(benchmark::State& state) {
  static grants::RevocationSet* set = nullptr;
  static grants::GrantClaims claims;
  if (state.thread_index() == 0) {
    Fixture f;
    auto g = f.service().Create(f.Request());
    Check(g.status(), "create");
    auto token = f.service().MintToken(g->id);
    Check(token.status(), "mint");
    auto verified = f.service().VerifyToken(*token);
    Check(verified.status(), "verify");
    claims = *verified;
    set = new grants::RevocationSet();
    for (int i = 0; i < 10000; ++i) {
      set->Add(RandomId("grt"), SystemClock::Instance().Now() + std::chrono::hours(1), "revoked");
    }
  }
  // Google Benchmark holds every thread at the loop until thread 0 set up.
  for (auto _ : state) {
    Status s = set->CheckUse(claims, SystemClock::Instance().Now());
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    delete set;
    set = nullptr;
  }
}
BENCHMARK(BM_CheckUse)->Threads(1)->Threads(2)->UseRealTime();

// Full verification (signature, claims) plus CheckUse, for comparison.
void BM_VerifyToken(benchmark::State& state) {
  Fixture f;
  auto g = f.service().Create(f.Request());
  Check(g.status(), "create");
  auto token = f.service().MintToken(g->id);
  Check(token.status(), "mint");
  for (auto _ : state) {
    auto claims = f.service().VerifyToken(*token);
    benchmark::DoNotOptimize(claims);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyToken);

}  // namespace
}  // namespace warden

BENCHMARK_MAIN();
