// Owning OpenSSL handles by hand here (two pointers) keeps the hashing loop
// free of per-call allocation: the fetched EVP_MD and the context are reused.
#include <openssl/evp.h>

#include <charconv>
#include <cstring>

#include "audit/internal/chain_hash.h"

namespace warden::audit::internal {

Result<Sha256> Sha256::Create() {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) return Internal("OpenSSL provides no SHA-256");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) {
    EVP_MD_free(md);
    return Internal("OpenSSL could not allocate a digest context");
  }
  return Sha256(md, ctx);
}

Sha256::Sha256(Sha256&& other) noexcept : md_(other.md_), ctx_(other.ctx_) {
  other.md_ = nullptr;
  other.ctx_ = nullptr;
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_);
  EVP_MD_free(md_);
}

Status Sha256::Hash(std::string_view data, Digest& out) {
  unsigned int n = 0;
  if (EVP_DigestInit_ex2(ctx_, md_, nullptr) != 1 ||
      EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx_, out.data(), &n) != 1 || n != out.size()) {
    return Internal("OpenSSL SHA-256 failed");
  }
  return OkStatus();
}

void DigestHex(const Digest& d, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < d.size(); ++i) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 0xf];
  }
}

std::string DigestHex(const Digest& d) {
  std::string s(64, '0');
  DigestHex(d, s.data());
  return s;
}

namespace {

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighBits = 0x8080808080808080ULL;

uint64_t LoadWord(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// Whether any byte of `w` is below 0x20, '"' or '\\' (bytes >= 0x80 never
// match). Each test is exact about whether some byte matches, which is all
// the word-at-a-time skip below needs.
bool WordNeedsEscape(uint64_t w) {
  const uint64_t below_space = (w - kOnes * 0x20) & ~w;
  const uint64_t q = w ^ (kOnes * '"');
  const uint64_t quote = (q - kOnes) & ~q;
  const uint64_t b = w ^ (kOnes * '\\');
  const uint64_t backslash = (b - kOnes) & ~b;
  return ((below_space | quote | backslash) & kHighBits) != 0;
}

bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// Position of the first byte of s[from..] that needs escaping, or s.size().
size_t NextToEscape(std::string_view s, size_t from) {
  size_t i = from;
  // Most strings in events are plain text: skip them eight bytes at a time.
  while (i + 8 <= s.size() && !WordNeedsEscape(LoadWord(s.data() + i))) i += 8;
  while (i < s.size() && !NeedsEscape(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the pending verbatim run
  for (size_t i = NextToEscape(s, 0); i < s.size(); i = NextToEscape(s, run)) {
    const auto c = static_cast<unsigned char>(s[i]);
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void AppendEncodingHead(std::string& out, std::string_view actor, std::string_view details_json,
                        std::string_view kind) {
  // Keys in byte order, as CanonicalJson sorts them.
  out += "{\"actor\":";
  AppendJsonString(out, actor);
  out += ",\"details\":";
  out += details_json;
  out += ",\"kind\":";
  AppendJsonString(out, kind);
  out += ",\"prev_hash\":";
}

void AppendEncodingLink(std::string& out, std::string_view prev_hash, int64_t seq) {
  char num[24];
  AppendJsonString(out, prev_hash);
  out += ",\"seq\":";
  out.append(num, static_cast<size_t>(std::to_chars(num, num + sizeof(num), seq).ptr - num));
}

void AppendEncodingTail(std::string& out, std::string_view subject, int64_t time_micros) {
  char num[24];
  out += ",\"subject\":";
  AppendJsonString(out, subject);
  out += ",\"time\":";
  out.append(num,
             static_cast<size_t>(std::to_chars(num, num + sizeof(num), time_micros).ptr - num));
  out += '}';
}

void AppendEncoding(std::string& out, int64_t seq, int64_t time_micros, std::string_view actor,
                    std::string_view kind, std::string_view subject, std::string_view details_json,
                    std::string_view prev_hash) {
  AppendEncodingHead(out, actor, details_json, kind);
  AppendEncodingLink(out, prev_hash, seq);
  AppendEncodingTail(out, subject, time_micros);
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    // ASCII runs, eight bytes at a time.
    while (i + 8 <= n && (LoadWord(s.data() + i) & kHighBits) == 0) i += 8;
    if (i == n) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace warden::audit::internal
