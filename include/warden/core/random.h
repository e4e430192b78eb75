// Cryptographically secure randomness from the kernel (getrandom(2)) and
// the identifiers built from it. Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace warden {

// `n` random bytes. Aborts the process if the kernel cannot supply them:
// continuing without randomness would mint guessable secrets.
std::string RandomBytes(size_t n);

// An identifier "<prefix>_<26 base32 chars>" carrying 128 random bits,
// e.g. RandomId("grt") -> "grt_4f6z...". Safe to show and log.
std::string RandomId(std::string_view prefix);

// A secret token "<prefix>_<base64url of 32 random bytes>". Never log it;
// store only its digest.
std::string RandomSecret(std::string_view prefix);

}  // namespace warden
