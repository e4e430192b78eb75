// Byte encodings (base64url without padding, hex) and a constant-time
// comparison for secrets. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "warden/core/status.h"

namespace warden {

std::string Base64UrlEncode(std::string_view bytes);
// Strict: rejects padding, whitespace and characters outside the alphabet,
// and non-canonical trailing bits.
Result<std::string> Base64UrlDecode(std::string_view text);

// Standard base64 with padding (RFC 4648 section 4).
std::string Base64Encode(std::string_view bytes);

std::string HexEncode(std::string_view bytes);  // lower case
Result<std::string> HexDecode(std::string_view text);

// Compares two secrets in time that depends only on their lengths; use for
// tokens, MACs and digests of secrets.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace warden
