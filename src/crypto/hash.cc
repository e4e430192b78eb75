#include "warden/crypto/hash.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

#include "crypto/internal/ssl_ptr.h"
#include "warden/core/encoding.h"

namespace warden::crypto {
namespace {

// Hashing a memory buffer fails only when OpenSSL cannot allocate; a digest
// that silently came out empty would be far worse than stopping.
[[noreturn]] void DieOnDigestFailure(const char* what) {
  std::fprintf(stderr, "warden: fatal: OpenSSL %s failed\n", what);
  std::abort();
}

}  // namespace

std::string Sha256(std::string_view data) {
  std::string out(kSha256Size, '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                 EVP_sha256(), nullptr) != 1 ||
      len != kSha256Size) {
    DieOnDigestFailure("SHA-256");
  }
  return out;
}

std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::string out(kSha256Size, '\0');
  size_t len = 0;
  // An empty key is legal for HMAC; OpenSSL wants a non-null pointer for it.
  static const unsigned char kEmpty = 0;
  const auto* key_ptr = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key_ptr, key.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                reinterpret_cast<unsigned char*>(out.data()), out.size(), &len) == nullptr ||
      len != kSha256Size) {
    DieOnDigestFailure("HMAC-SHA-256");
  }
  return out;
}

struct Sha256Hasher::Impl {
  internal::EvpMdCtxPtr ctx;
};

Sha256Hasher::Sha256Hasher() : impl_(std::make_unique<Impl>()) {
  impl_->ctx.reset(EVP_MD_CTX_new());
  if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx.get(), EVP_sha256(), nullptr) != 1) {
    DieOnDigestFailure("SHA-256 init");
  }
}

Sha256Hasher::~Sha256Hasher() = default;
Sha256Hasher::Sha256Hasher(Sha256Hasher&&) noexcept = default;
Sha256Hasher& Sha256Hasher::operator=(Sha256Hasher&&) noexcept = default;

void Sha256Hasher::Update(std::string_view data) {
  if (EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) != 1) {
    DieOnDigestFailure("SHA-256 update");
  }
}

std::string Sha256Hasher::Finish() {
  std::string out(kSha256Size, '\0');
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) !=
          1 ||
      len != kSha256Size || EVP_DigestInit_ex(impl_->ctx.get(), EVP_sha256(), nullptr) != 1) {
    DieOnDigestFailure("SHA-256 final");
  }
  return out;
}

}  // namespace warden::crypto
