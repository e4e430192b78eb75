#include "warden/core/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "warden/core/encoding.h"

namespace warden {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  size_t filled = 0;
  while (filled < n) {
    ssize_t got = getrandom(out.data() + filled, n - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      std::fputs("warden: getrandom failed; refusing to continue without randomness\n", stderr);
      std::abort();
    }
    filled += static_cast<size_t>(got);
  }
  return out;
}

std::string RandomId(std::string_view prefix) {
  // 16 bytes = 128 bits, encoded in lower-case base32 (RFC 4648 alphabet).
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string bytes = RandomBytes(16);
  std::string out(prefix);
  out += '_';
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::string RandomSecret(std::string_view prefix) {
  std::string out(prefix);
  out += '_';
  out += Base64UrlEncode(RandomBytes(32));
  return out;
}

}  // namespace warden
