// The pieces of the audit chain's hash: SHA-256 through OpenSSL EVP with one
// reusable context (for hashing many small messages quickly), and the
// canonical encoding of an event. Sha256 is not thread-safe (one per
// thread); the free functions are pure.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "warden/core/status.h"

struct evp_md_st;
struct evp_md_ctx_st;

namespace warden::audit::internal {

using Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  // Internal when OpenSSL has no SHA-256 (a broken installation).
  static Result<Sha256> Create();
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&&) = delete;
  Sha256(const Sha256&) = delete;
  ~Sha256();

  // Digest of `data`; Internal only if OpenSSL fails.
  Status Hash(std::string_view data, Digest& out);

 private:
  Sha256(evp_md_st* md, evp_md_ctx_st* ctx) : md_(md), ctx_(ctx) {}
  evp_md_st* md_;
  evp_md_ctx_st* ctx_;
};

// Lower-case hex of a digest into `out` (64 characters).
void DigestHex(const Digest& d, char* out);
std::string DigestHex(const Digest& d);

// Appends `s` as a JSON string literal exactly as Boost.JSON serializes it
// (and so as CanonicalJson writes it): '"' and '\\' escaped, \b \f \n \r \t,
// other bytes below 0x20 as \u00xx, everything else verbatim.
void AppendJsonString(std::string& out, std::string_view s);

// Appends the canonical encoding of an event (docs/formats/audit.md) to
// `out`: the CanonicalJson of {"actor","details","kind","prev_hash","seq",
// "subject","time"}, with `details_json` spliced in verbatim. It is the
// concatenation of the three parts below, in that order.
void AppendEncoding(std::string& out, int64_t seq, int64_t time_micros, std::string_view actor,
                    std::string_view kind, std::string_view subject, std::string_view details_json,
                    std::string_view prev_hash);

// The encoding in three parts, so that the parts that do not depend on the
// event's place in the chain can be built before it is known:
//   head: {"actor":<actor>,"details":<details_json>,"kind":<kind>,"prev_hash":
//   link: <prev_hash>,"seq":<seq>
//   tail: ,"subject":<subject>,"time":<time_micros>}
void AppendEncodingHead(std::string& out, std::string_view actor, std::string_view details_json,
                        std::string_view kind);
void AppendEncodingLink(std::string& out, std::string_view prev_hash, int64_t seq);
void AppendEncodingTail(std::string& out, std::string_view subject, int64_t time_micros);

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace warden::audit::internal
