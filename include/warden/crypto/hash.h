// Hashing and MACs over OpenSSL 3 EVP: SHA-256 digests (audit chain, key
// thumbprints, token digests) and HMAC-SHA-256. Pure functions, thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace warden::crypto {

inline constexpr size_t kSha256Size = 32;

// The 32-byte SHA-256 digest of `data`. Aborts the process if OpenSSL cannot
// hash a memory buffer (only on allocation failure): there is no safe way to
// continue without digests.
std::string Sha256(std::string_view data);

// Lower-case hex of Sha256(data): 64 characters.
std::string Sha256Hex(std::string_view data);

// The 32-byte HMAC-SHA-256 of `data` under `key` (any key length). Compare
// MACs only with warden::ConstantTimeEquals. Aborts like Sha256.
std::string HmacSha256(std::string_view key, std::string_view data);

// Incremental SHA-256 for inputs assembled piecewise. Not thread-safe; one
// owner at a time. Movable, not copyable; a moved-from hasher must not be used.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(Sha256Hasher&&) noexcept;
  Sha256Hasher& operator=(Sha256Hasher&&) noexcept;
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::string_view data);
  // The digest of everything passed to Update; the hasher is reset afterwards.
  std::string Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::crypto
