// Asymmetric signing keys for Warden's tokens (JWT-SVIDs, grant tokens, audit
// checkpoints): Ed25519 ("EdDSA") and ECDSA P-256 with SHA-256 ("ES256"),
// through OpenSSL 3 EVP. Signatures are in JOSE form (RFC 7518 section 3.4:
// ES256 is raw r||s, 64 bytes, never DER). Keys are immutable after creation;
// a PublicKey or SigningKey may be used from many threads at once.
#pragma once

#include <boost/json/object.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "warden/core/status.h"

namespace warden::crypto {

enum class Algorithm { kEd25519, kEs256 };

// The JOSE "alg" name: "EdDSA" or "ES256".
std::string_view JoseAlgorithmName(Algorithm alg);

// Accepts the JOSE names ("EdDSA", "ES256") and the config spellings
// ("ed25519", "es256"). InvalidArgument naming the accepted values otherwise.
// "none" and every other algorithm are refused (no algorithm confusion).
Result<Algorithm> ParseAlgorithm(std::string_view name);

// RFC 7638 JWK thumbprint: base64url(SHA-256(canonical JSON of the required
// members)). Validates `jwk` as an Ed25519 or P-256 public key first;
// InvalidArgument (field = member name) when it is not one.
Result<std::string> JwkThumbprint(const boost::json::object& jwk);

// A public verification key. Cheap to copy (shares the immutable key).
class PublicKey {
 public:
  // Parses a public JWK: {"kty":"OKP","crv":"Ed25519","x"} or
  // {"kty":"EC","crv":"P-256","x","y"} (coordinates exactly 32 bytes, point
  // checked to be on the curve). Optional "kid", "use" ("sig") and "alg" (must
  // match the key type) are accepted, other members ignored; a private member
  // "d" is refused. InvalidArgument with the offending member as field.
  static Result<PublicKey> FromJwk(const boost::json::object& jwk);

  Algorithm algorithm() const;
  std::string_view jose_alg() const { return JoseAlgorithmName(algorithm()); }
  // RFC 7638 thumbprint; Warden uses it as the key id ("kid").
  const std::string& thumbprint() const;
  const std::string& kid() const { return thumbprint(); }

  // The public JWK with only the required members (kty, crv, x[, y]), i.e.
  // the thumbprint input.
  boost::json::object ToJwk() const;
  // ToJwk() plus "kid", "alg" and "use":"sig": the form published in JWKS.
  boost::json::object ToPublishedJwk() const;

  // OK when `signature` (JOSE form) is a valid signature of `data` under this
  // key. Unauthenticated when it is not (including wrong length or encoding).
  Status Verify(std::string_view data, std::string_view signature) const;

  struct Impl;  // internal; defined in src/crypto

 private:
  explicit PublicKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
  friend class SigningKey;
};

// A private signing key. Move-only: private key material is never copied
// implicitly. Share one between threads through a shared_ptr<const SigningKey>.
class SigningKey {
 public:
  // A fresh key from the OpenSSL CSPRNG. Internal on OpenSSL failure.
  static Result<SigningKey> Generate(Algorithm alg);

  // Parses an unencrypted PKCS#8 PEM private key ("BEGIN PRIVATE KEY") holding
  // an Ed25519 or P-256 key. InvalidArgument for anything else.
  static Result<SigningKey> FromPem(std::string_view pem);

  // Reads a key file written by SavePem. Refuses (FailedPrecondition, naming
  // the path and its mode) a file that is not a regular file, is a symlink,
  // is not owned by this process's user, or is readable or writable by group
  // or others. NotFound when missing; InvalidArgument when malformed.
  static Result<SigningKey> LoadPem(const std::filesystem::path& path);

  ~SigningKey();
  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

  // Writes the key as PKCS#8 PEM to `path` atomically: a new temporary file in
  // the same directory created with mode 0600, fsynced, renamed over `path`,
  // then the directory fsynced. Unavailable on I/O errors.
  Status SavePem(const std::filesystem::path& path) const;

  // PKCS#8 PEM text of the private key. Secret: never log it.
  Result<std::string> ToPem() const;

  Algorithm algorithm() const { return public_key_.algorithm(); }
  std::string_view jose_alg() const { return public_key_.jose_alg(); }
  const std::string& kid() const { return public_key_.kid(); }
  const PublicKey& public_key() const { return public_key_; }

  // The JOSE signature of `data`: 64 bytes for both algorithms (Ed25519 as
  // RFC 8032; ES256 as big-endian r||s, each left-padded to 32 bytes).
  Result<std::string> Sign(std::string_view data) const;

 private:
  struct PrivateImpl;
  SigningKey(std::unique_ptr<PrivateImpl> impl, PublicKey pub);
  std::unique_ptr<PrivateImpl> impl_;
  PublicKey public_key_;
};

}  // namespace warden::crypto
