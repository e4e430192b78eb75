// Owning OpenSSL handles by hand here (two pointers) keeps the hashing loop
// free of per-call allocation: the fetched EVP_MD and the context are reused.
#include <openssl/evp.h>

#include <charconv>

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

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the pending verbatim run
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
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

void AppendEncoding(std::string& out, int64_t seq, int64_t time_micros, std::string_view actor,
                    std::string_view kind, std::string_view subject, std::string_view details_json,
                    std::string_view prev_hash) {
  // Keys in byte order, as CanonicalJson sorts them.
  char num[24];
  out += "{\"actor\":";
  AppendJsonString(out, actor);
  out += ",\"details\":";
  out += details_json;
  out += ",\"kind\":";
  AppendJsonString(out, kind);
  out += ",\"prev_hash\":";
  AppendJsonString(out, prev_hash);
  out += ",\"seq\":";
  out.append(num, static_cast<size_t>(std::to_chars(num, num + sizeof(num), seq).ptr - num));
  out += ",\"subject\":";
  AppendJsonString(out, subject);
  out += ",\"time\":";
  out.append(num,
             static_cast<size_t>(std::to_chars(num, num + sizeof(num), time_micros).ptr - num));
  out += '}';
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
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
