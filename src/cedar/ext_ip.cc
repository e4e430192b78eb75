// The ipaddr extension. Parsing mirrors the grammar Cedar accepts (the Rust
// standard library's address syntax plus Cedar's extra restrictions), because a
// policy must mean the same thing here as in every other Cedar implementation.
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "warden/cedar/extensions.h"

namespace warden::cedar {
namespace {

constexpr size_t kMaxIpTextLength = 43;  // "ABCD:...:6789/128"

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Dotted quad: exactly four decimal octets of 1-3 digits, value <= 255, and no
// leading zeros (so "010" is not silently octal or decimal).
std::optional<std::array<uint8_t, 4>> ParseV4(std::string_view s) {
  std::array<uint8_t, 4> out{};
  size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (pos >= s.size() || s[pos] != '.') return std::nullopt;
      ++pos;
    }
    size_t start = pos;
    unsigned value = 0;
    while (pos < s.size() && IsDigit(s[pos]) && pos - start < 3) {
      value = value * 10 + static_cast<unsigned>(s[pos] - '0');
      ++pos;
    }
    size_t len = pos - start;
    if (len == 0 || value > 255) return std::nullopt;
    if (len > 1 && s[start] == '0') return std::nullopt;
    out[i] = static_cast<uint8_t>(value);
  }
  if (pos != s.size()) return std::nullopt;
  return out;
}

// Reads up to `limit` colon-separated groups of 1-4 hex digits starting at
// `pos`; stops (without consuming the separator) at the first position where
// no further group can be read. Returns the number of groups read.
size_t ReadGroups(std::string_view s, size_t& pos, uint16_t* groups, size_t limit) {
  for (size_t i = 0; i < limit; ++i) {
    size_t p = pos;
    if (i > 0) {
      if (p >= s.size() || s[p] != ':') return i;
      ++p;
    }
    size_t start = p;
    unsigned value = 0;
    while (p < s.size() && p - start < 4 && HexValue(s[p]) >= 0) {
      value = value * 16 + static_cast<unsigned>(HexValue(s[p]));
      ++p;
    }
    if (p == start) return i;
    groups[i] = static_cast<uint16_t>(value);
    pos = p;
  }
  return limit;
}

// IPv6 text form without embedded IPv4 (Cedar refuses those before parsing).
std::optional<std::array<uint8_t, 16>> ParseV6(std::string_view s) {
  uint16_t head[8] = {};
  uint16_t tail[7] = {};
  size_t pos = 0;
  size_t head_size = ReadGroups(s, pos, head, 8);
  size_t tail_size = 0;
  if (head_size < 8) {
    // The rest must start with "::", which stands for at least one zero group.
    if (s.substr(pos, 2) != "::") return std::nullopt;
    pos += 2;
    tail_size = ReadGroups(s, pos, tail, 8 - (head_size + 1));
  }
  if (pos != s.size()) return std::nullopt;
  uint16_t groups[8] = {};
  for (size_t i = 0; i < head_size; ++i) groups[i] = head[i];
  for (size_t i = 0; i < tail_size; ++i) groups[8 - tail_size + i] = tail[i];
  std::array<uint8_t, 16> out{};
  for (size_t i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<uint8_t>(groups[i] >> 8);
    out[2 * i + 1] = static_cast<uint8_t>(groups[i] & 0xff);
  }
  return out;
}

// Address without prefix: IPv4 first, then IPv6.
std::optional<IpAddr> ParseAddress(std::string_view s) {
  IpAddr ip;
  if (auto v4 = ParseV4(s)) {
    std::copy(v4->begin(), v4->end(), ip.bytes.begin());
    ip.prefix = 32;
    ip.v6 = false;
    return ip;
  }
  if (auto v6 = ParseV6(s)) {
    ip.bytes = *v6;
    ip.prefix = 128;
    ip.v6 = true;
    return ip;
  }
  return std::nullopt;
}

Result<uint8_t> ParsePrefix(std::string_view s, unsigned max, size_t max_len) {
  std::string text(s);
  if (s.size() > max_len) {
    return InvalidArgument("error parsing prefix: string length " + std::to_string(s.size()) +
                           " is too large");
  }
  for (char c : s) {
    if (!IsDigit(c))
      return InvalidArgument("error parsing prefix `" + text + "`: encountered non-digit");
  }
  if (s.size() > 1 && s[0] == '0') {
    return InvalidArgument("error parsing prefix `" + text + "`: leading zero(s)");
  }
  if (s.empty()) {
    return InvalidArgument(
        "error parsing prefix from the string ``: cannot parse integer from empty string");
  }
  unsigned value = 0;
  for (char c : s) value = value * 10 + static_cast<unsigned>(c - '0');
  if (value > max) {
    return InvalidArgument("error parsing prefix: " + std::to_string(value) +
                           " is larger than the limit " + std::to_string(max));
  }
  return static_cast<uint8_t>(value);
}

bool ContainsAtLeastTwo(std::string_view s, char c) {
  size_t first = s.find(c);
  return first != std::string_view::npos && s.find(c, first + 1) != std::string_view::npos;
}

// The 128-bit address as two halves (big-endian); IPv4 uses only `lo`'s low 32 bits.
struct U128 {
  uint64_t hi = 0;
  uint64_t lo = 0;
};

U128 AddressBits(const IpAddr& ip) {
  U128 v;
  if (!ip.v6) {
    v.lo = (uint64_t{ip.bytes[0]} << 24) | (uint64_t{ip.bytes[1]} << 16) |
           (uint64_t{ip.bytes[2]} << 8) | uint64_t{ip.bytes[3]};
    return v;
  }
  for (int i = 0; i < 8; ++i) v.hi = (v.hi << 8) | ip.bytes[i];
  for (int i = 8; i < 16; ++i) v.lo = (v.lo << 8) | ip.bytes[i];
  return v;
}

// Mask with the top `prefix` bits of a `width`-bit address set.
U128 NetMask(unsigned prefix, unsigned width) {
  U128 m;
  if (width == 32) {
    m.lo = prefix == 0 ? 0 : (0xffffffffULL << (32 - prefix)) & 0xffffffffULL;
    return m;
  }
  if (prefix >= 64) {
    m.hi = ~uint64_t{0};
    m.lo = prefix == 64 ? 0 : ~uint64_t{0} << (128 - prefix);
  } else {
    m.hi = prefix == 0 ? 0 : ~uint64_t{0} << (64 - prefix);
  }
  return m;
}

bool LessEq(const U128& a, const U128& b) { return a.hi < b.hi || (a.hi == b.hi && a.lo <= b.lo); }

}  // namespace

Result<IpAddr> IpFromString(std::string_view s) {
  std::string text(s);
  if (s.size() > kMaxIpTextLength) {
    return InvalidArgument("error parsing IP address from string `" + text +
                           "`: string length is too large");
  }
  if (ContainsAtLeastTwo(s, ':') && ContainsAtLeastTwo(s, '.')) {
    return InvalidArgument(
        "error parsing IP address from string: We do not accept IPv4 embedded in IPv6 (e.g., "
        "::ffff:127.0.0.1). Found: `" +
        text + "`");
  }
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) {
    auto ip = ParseAddress(s);
    if (!ip) return InvalidArgument("invalid IP address: " + text);
    return *ip;
  }
  std::string_view addr_text = s.substr(0, slash);
  auto ip = ParseAddress(addr_text);
  if (!ip) {
    return InvalidArgument("error parsing IP address from the string `" + std::string(addr_text) +
                           "`: invalid IP address syntax");
  }
  WARDEN_ASSIGN_OR_RETURN(ip->prefix, ip->v6 ? ParsePrefix(s.substr(slash + 1), 128, 3)
                                             : ParsePrefix(s.substr(slash + 1), 32, 2));
  return *ip;
}

std::string FormatIp(const IpAddr& ip) {
  std::string out;
  if (!ip.v6) {
    for (int i = 0; i < 4; ++i) {
      if (i > 0) out += '.';
      out += std::to_string(ip.bytes[i]);
    }
  } else {
    uint16_t groups[8];
    for (size_t i = 0; i < 8; ++i) {
      groups[i] = static_cast<uint16_t>((ip.bytes[2 * i] << 8) | ip.bytes[2 * i + 1]);
    }
    // RFC 5952: compress the longest run (length >= 2, leftmost on ties) of zero groups.
    int best_start = -1;
    int best_len = 0;
    for (int i = 0; i < 8;) {
      if (groups[i] != 0) {
        ++i;
        continue;
      }
      int j = i;
      while (j < 8 && groups[j] == 0) ++j;
      if (j - i > best_len) {
        best_start = i;
        best_len = j - i;
      }
      i = j;
    }
    if (best_len < 2) best_start = -1;
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 8; ++i) {
      if (i == best_start) {
        out += "::";
        i += best_len - 1;
        continue;
      }
      // After a "::" no separator is needed.
      if (i > 0 && !(best_start >= 0 && i == best_start + best_len)) out += ':';
      uint16_t g = groups[i];
      bool started = false;
      for (int shift = 12; shift >= 0; shift -= 4) {
        unsigned nibble = (g >> shift) & 0xf;
        if (nibble != 0 || started || shift == 0) {
          out += kHex[nibble];
          started = true;
        }
      }
    }
  }
  out += '/';
  out += std::to_string(ip.prefix);
  return out;
}

bool IpIsLoopback(const IpAddr& ip) {
  if (!ip.v6) return ip.bytes[0] == 127 && ip.prefix >= 8;
  for (int i = 0; i < 15; ++i) {
    if (ip.bytes[i] != 0) return false;
  }
  return ip.bytes[15] == 1 && ip.prefix >= 128;
}

bool IpIsMulticast(const IpAddr& ip) {
  if (!ip.v6) return (ip.bytes[0] & 0xf0) == 0xe0 && ip.prefix >= 4;
  return ip.bytes[0] == 0xff && ip.prefix >= 8;
}

bool IpIsInRange(const IpAddr& ip, const IpAddr& range) {
  if (ip.v6 != range.v6) return false;
  unsigned width = ip.v6 ? 128 : 32;
  U128 a = AddressBits(ip);
  U128 b = AddressBits(range);
  U128 ma = NetMask(ip.prefix, width);
  U128 mb = NetMask(range.prefix, width);
  U128 full = NetMask(width, width);
  // network = addr & netmask; broadcast = addr | (full & ~netmask).
  U128 a_net{a.hi & ma.hi, a.lo & ma.lo};
  U128 b_net{b.hi & mb.hi, b.lo & mb.lo};
  U128 a_bcast{a.hi | (full.hi & ~ma.hi), a.lo | (full.lo & ~ma.lo)};
  U128 b_bcast{b.hi | (full.hi & ~mb.hi), b.lo | (full.lo & ~mb.lo)};
  return LessEq(b_net, a_net) && LessEq(a_bcast, b_bcast);
}

}  // namespace warden::cedar
