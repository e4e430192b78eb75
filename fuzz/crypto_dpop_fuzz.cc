// Fuzzes DPoP proof verification and htu normalisation with hostile input.
// Verification must never crash, must refuse with Unauthenticated (or, for a
// full cache, ResourceExhausted), and whatever it accepts must be a proof
// whose key thumbprint and jti it reports faithfully; a second verification
// of an accepted proof must be refused as a replay. Inputs beginning with
// "htu:" also go through NormalizeHtu, whose output must be a fixed point.
// The check pins a time (2027-01-15T08:00:00Z) and URI so that corpus proofs
// made for them reach the claim and replay checks.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "warden/core/clock.h"
#include "warden/crypto/dpop.h"
#include "warden/crypto/jwt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  constexpr std::string_view kHtuPrefix = "htu:";
  if (text.substr(0, kHtuPrefix.size()) == kHtuPrefix) {
    auto htu = warden::crypto::NormalizeHtu(text.substr(kHtuPrefix.size()));
    if (htu.ok()) {
      auto again = warden::crypto::NormalizeHtu(*htu);
      if (!again.ok() || *again != *htu) std::abort();
    } else if (htu.status().code() != warden::StatusCode::kInvalidArgument) {
      std::abort();
    }
    return 0;
  }

  // A fresh cache per input: corpus replay order must not matter.
  warden::crypto::DpopReplayCache cache(4);
  warden::crypto::DpopCheck check;
  check.htm = "POST";
  check.htu = "https://warden.example.com/v1/grants";
  check.now = warden::FromUnixSeconds(1'800'000'000);
  // Exercise both ath modes: inputs of odd length are checked with a token.
  if (size % 2 == 1) check.access_token = "wgt_fuzz-token";
  auto proof = warden::crypto::VerifyDpopProof(text, check, cache);
  if (!proof.ok()) {
    auto code = proof.status().code();
    if (code != warden::StatusCode::kUnauthenticated) std::abort();
    if (proof.status().message().rfind("invalid DPoP proof: ", 0) != 0) std::abort();
    return 0;
  }
  if (proof->jti.empty() || proof->jti.size() > warden::crypto::kMaxDpopJtiBytes) std::abort();
  auto jkt = warden::crypto::JwkThumbprint(proof->public_jwk);
  if (!jkt.ok() || *jkt != proof->jkt) std::abort();
  if (cache.size() != 1) std::abort();
  auto replayed = warden::crypto::VerifyDpopProof(text, check, cache);
  if (replayed.ok() || replayed.status().code() != warden::StatusCode::kUnauthenticated) {
    std::abort();
  }
  return 0;
}
