// Token costs for both signing algorithms: issuing and verifying a JWT-SVID
// (JSON, base64url, signature, claim checks) against the raw signature
// operations alone (SigningKey::Sign, PublicKey::Verify over the same signing
// input), so the overhead of the token layer over the cryptography is the
// ratio of the two. Argument 0 is EdDSA (Ed25519), 1 is ES256 (P-256).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "warden/core/clock.h"
#include "warden/crypto/jwt.h"
#include "warden/crypto/signing_key.h"
#include "warden/identity/agent.h"
#include "warden/identity/svid.h"

namespace warden {
namespace {

using crypto::Algorithm;

constexpr std::string_view kAudience = "https://api.example.com";

Algorithm AlgorithmArg(const benchmark::State& state) {
  return state.range(0) == 0 ? Algorithm::kEd25519 : Algorithm::kEs256;
}

crypto::SigningKey MustGenerate(Algorithm alg) {
  auto key = crypto::SigningKey::Generate(alg);
  if (!key.ok()) {
    std::fprintf(stderr, "generate: %s\n", key.status().ToString().c_str());
    std::abort();
  }
  return std::move(*key);
}

identity::Agent BenchAgent(const Clock& clock) {
  identity::Agent agent;
  agent.name = "billing-bot";
  agent.spiffe_id = identity::SpiffeIdFor("example.org", agent.name);
  agent.owner = "alice@example.com";
  agent.purpose = "benchmark";
  agent.environment = "prod";
  agent.expires_at = clock.Now() + std::chrono::hours(24 * 30);
  return agent;
}

identity::SvidRequest BenchRequest() {
  identity::SvidRequest request;
  request.audience = {std::string(kAudience)};
  request.ttl = std::chrono::seconds(300);
  return request;
}

identity::Svid MustIssue(const crypto::SigningKey& key, const Clock& clock) {
  auto svid = identity::IssueSvid(key, BenchAgent(clock), BenchRequest(), clock);
  if (!svid.ok()) {
    std::fprintf(stderr, "issue: %s\n", svid.status().ToString().c_str());
    std::abort();
  }
  return std::move(*svid);
}

void BM_IssueSvid(benchmark::State& state) {
  const crypto::SigningKey key = MustGenerate(AlgorithmArg(state));
  const FakeClock clock;
  const identity::Agent agent = BenchAgent(clock);
  const identity::SvidRequest request = BenchRequest();
  for (auto _ : state) {
    auto svid = identity::IssueSvid(key, agent, request, clock);
    if (!svid.ok()) std::abort();
    benchmark::DoNotOptimize(svid->token.data());
  }
  state.SetLabel(std::string(key.jose_alg()));
  state.SetItemsProcessed(state.iterations());
}

void BM_VerifySvid(benchmark::State& state) {
  const crypto::SigningKey key = MustGenerate(AlgorithmArg(state));
  const FakeClock clock;
  const identity::Svid svid = MustIssue(key, clock);
  const crypto::PublicKey& pub = key.public_key();
  const crypto::KeyResolver keys = [&pub](std::string_view kid) -> Result<crypto::PublicKey> {
    if (kid == pub.kid()) return pub;
    return NotFound("no key");
  };
  for (auto _ : state) {
    auto verified = identity::VerifySvid(svid.token, keys, "example.org", kAudience, clock);
    if (!verified.ok()) std::abort();
    benchmark::DoNotOptimize(verified->jti.data());
  }
  state.SetLabel(std::string(key.jose_alg()));
  state.SetItemsProcessed(state.iterations());
}

// The raw operations over an SVID's own signing input (same length).
void BM_RawSign(benchmark::State& state) {
  const crypto::SigningKey key = MustGenerate(AlgorithmArg(state));
  const FakeClock clock;
  const std::string input = crypto::DecodeJwt(MustIssue(key, clock).token)->signing_input;
  for (auto _ : state) {
    auto sig = key.Sign(input);
    if (!sig.ok()) std::abort();
    benchmark::DoNotOptimize(sig->data());
  }
  state.SetLabel(std::string(key.jose_alg()));
  state.SetItemsProcessed(state.iterations());
}

void BM_RawVerify(benchmark::State& state) {
  const crypto::SigningKey key = MustGenerate(AlgorithmArg(state));
  const FakeClock clock;
  const std::string input = crypto::DecodeJwt(MustIssue(key, clock).token)->signing_input;
  auto sig = key.Sign(input);
  if (!sig.ok()) std::abort();
  const crypto::PublicKey& pub = key.public_key();
  for (auto _ : state) {
    Status s = pub.Verify(input, *sig);
    if (!s.ok()) std::abort();
  }
  state.SetLabel(std::string(key.jose_alg()));
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_RawSign)->ArgName("alg")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IssueSvid)->ArgName("alg")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RawVerify)->ArgName("alg")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_VerifySvid)->ArgName("alg")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace warden

BENCHMARK_MAIN();
