// ASCII text helpers for protocol tokens (HTTP header values, media types,
// authorization schemes), which compare case-insensitively in ASCII only.
// Pure functions; thread-safe.
#pragma once

#include <string_view>

namespace warden {

// True when `s` begins with `prefix`, ASCII letters compared without case.
bool StartsWithNoCase(std::string_view s, std::string_view prefix);

}  // namespace warden
