#include "warden/crypto/signing_key.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <utility>

#include "crypto/internal/ssl_error.h"
#include "crypto/internal/ssl_ptr.h"
#include "warden/core/encoding.h"
#include "warden/core/posix.h"
#include "warden/core/json.h"
#include "warden/core/random.h"
#include "warden/crypto/hash.h"

namespace warden::crypto {

using internal::BignumPtr;
using internal::BioPtr;
using internal::EcdsaSigPtr;
using internal::EvpMdCtxPtr;
using internal::EvpPkeyCtxPtr;
using internal::EvpPkeyPtr;
using internal::OsslParamBldPtr;
using internal::OsslParamPtr;
using internal::SslErrorMessage;

struct PublicKey::Impl {
  EvpPkeyPtr pkey;
  Algorithm alg = Algorithm::kEd25519;
  std::string x;  // raw public key (Ed25519) or affine x (P-256), 32 bytes
  std::string y;  // affine y (P-256), 32 bytes; empty for Ed25519
  std::string thumbprint;
};

struct SigningKey::PrivateImpl {
  EvpPkeyPtr pkey;
};

namespace {

constexpr size_t kCoordinateSize = 32;  // Ed25519 public key, P-256 field element
constexpr size_t kSignatureSize = 64;   // both algorithms
constexpr size_t kMaxPemBytes = size_t{64} * 1024;

// OpenSSL wants non-null pointers even for empty inputs.
const unsigned char* Bytes(std::string_view s) {
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

// The thumbprint input (RFC 7638 section 3.2): only the required members.
json::object RequiredMembers(const PublicKey::Impl& impl) {
  json::object jwk;
  if (impl.alg == Algorithm::kEd25519) {
    jwk["kty"] = "OKP";
    jwk["crv"] = "Ed25519";
    jwk["x"] = Base64UrlEncode(impl.x);
  } else {
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = Base64UrlEncode(impl.x);
    jwk["y"] = Base64UrlEncode(impl.y);
  }
  return jwk;
}

// Builds a public-only key from its coordinates. The private key's object is
// never shared with PublicKey, so a PublicKey holds no secret material.
Result<std::shared_ptr<const PublicKey::Impl>> MakePublicImpl(Algorithm alg, std::string x,
                                                              std::string y) {
  auto impl = std::make_shared<PublicKey::Impl>();
  impl->alg = alg;
  if (alg == Algorithm::kEd25519) {
    impl->pkey.reset(
        EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, Bytes(x), x.size()));
    if (!impl->pkey) {
      return InvalidArgument(SslErrorMessage("not a valid Ed25519 public key"), "x");
    }
  } else {
    std::string point = "\x04" + x + y;  // SEC 1 uncompressed point
    OsslParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
      return Internal(SslErrorMessage("building EC key parameters"));
    }
    OsslParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
      return Internal(SslErrorMessage("preparing EC key import"));
    }
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
      return InvalidArgument(SslErrorMessage("not a point on P-256"), "x");
    }
    impl->pkey.reset(raw);
    // Invalid-curve attacks feed points off the curve; check explicitly even
    // though the import decodes the point.
    EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, impl->pkey.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) {
      return InvalidArgument(SslErrorMessage("not a valid P-256 public key"), "x");
    }
  }
  impl->x = std::move(x);
  impl->y = std::move(y);
  impl->thumbprint = Base64UrlEncode(Sha256(CanonicalJson(RequiredMembers(*impl))));
  return std::shared_ptr<const PublicKey::Impl>(std::move(impl));
}

// The algorithm of a private key OpenSSL has parsed or generated; only
// Ed25519 and P-256 are accepted.
Result<Algorithm> AlgorithmOf(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "ED25519") == 1) return Algorithm::kEd25519;
  if (EVP_PKEY_is_a(pkey, "EC") == 1) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) == 1 &&
        std::string_view(group, len) == "prime256v1") {
      return Algorithm::kEs256;
    }
    internal::ClearSslErrors();
    return InvalidArgument("EC key is not on curve P-256 (only Ed25519 and P-256 are supported)");
  }
  return InvalidArgument(std::string("unsupported key type ") + EVP_PKEY_get0_type_name(pkey) +
                         " (only Ed25519 and P-256 are supported)");
}

Result<std::string> BignumParam(EVP_PKEY* pkey, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) {
    return Internal(SslErrorMessage(std::string("reading EC parameter ") + name));
  }
  BignumPtr bn(raw);
  std::string out(kCoordinateSize, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()),
                   static_cast<int>(out.size())) != static_cast<int>(kCoordinateSize)) {
    return Internal("EC coordinate does not fit 32 bytes");
  }
  return out;
}

Result<std::shared_ptr<const PublicKey::Impl>> PublicFromPrivate(EVP_PKEY* pkey, Algorithm alg) {
  if (alg == Algorithm::kEd25519) {
    std::string x(kCoordinateSize, '\0');
    size_t len = x.size();
    if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(x.data()), &len) != 1 ||
        len != kCoordinateSize) {
      return Internal(SslErrorMessage("reading Ed25519 public key"));
    }
    return MakePublicImpl(alg, std::move(x), {});
  }
  WARDEN_ASSIGN_OR_RETURN(std::string x, BignumParam(pkey, OSSL_PKEY_PARAM_EC_PUB_X));
  WARDEN_ASSIGN_OR_RETURN(std::string y, BignumParam(pkey, OSSL_PKEY_PARAM_EC_PUB_Y));
  return MakePublicImpl(alg, std::move(x), std::move(y));
}

// Refuses to prompt on a terminal for a passphrase: encrypted keys fail.
int NoPassphrase(char*, int, int, void*) { return -1; }

Result<std::string> DecodeCoordinate(const json::object& jwk, std::string_view member) {
  const json::value* v = jwk.if_contains(member);
  if (v == nullptr) return InvalidArgument("is required", std::string(member));
  if (!v->is_string()) {
    return InvalidArgument("must be a string, got " + std::string(JsonKindName(*v)),
                           std::string(member));
  }
  auto bytes = Base64UrlDecode(std::string_view(v->get_string()));
  if (!bytes.ok()) {
    return InvalidArgument("not base64url: " + bytes.status().message(), std::string(member));
  }
  if (bytes->size() != kCoordinateSize) {
    return InvalidArgument("must decode to exactly 32 bytes, got " + std::to_string(bytes->size()),
                           std::string(member));
  }
  return std::move(*bytes);
}

Result<std::string> RequiredJwkString(const json::object& jwk, std::string_view member) {
  const json::value* v = jwk.if_contains(member);
  if (v == nullptr) return InvalidArgument("is required", std::string(member));
  if (!v->is_string()) {
    return InvalidArgument("must be a string, got " + std::string(JsonKindName(*v)),
                           std::string(member));
  }
  return std::string(v->get_string());
}

// Wipes a string holding secret bytes before it is released.
struct SecretString {
  std::string value;
  ~SecretString() { OPENSSL_cleanse(value.data(), value.size()); }
};

}  // namespace

std::string_view JoseAlgorithmName(Algorithm alg) {
  switch (alg) {
    case Algorithm::kEd25519:
      return "EdDSA";
    case Algorithm::kEs256:
      return "ES256";
  }
  return "unknown";
}

Result<Algorithm> ParseAlgorithm(std::string_view name) {
  if (name == "EdDSA" || name == "ed25519") return Algorithm::kEd25519;
  if (name == "ES256" || name == "es256") return Algorithm::kEs256;
  return InvalidArgument("unsupported signing algorithm \"" + std::string(name) +
                         "\"; accepted: EdDSA (ed25519), ES256 (es256)");
}

Result<std::string> JwkThumbprint(const json::object& jwk) {
  WARDEN_ASSIGN_OR_RETURN(PublicKey key, PublicKey::FromJwk(jwk));
  return key.thumbprint();
}

Result<PublicKey> PublicKey::FromJwk(const json::object& jwk) {
  if (jwk.contains("d")) {
    return InvalidArgument("a public JWK must not carry the private member \"d\"", "d");
  }
  WARDEN_ASSIGN_OR_RETURN(std::string kty, RequiredJwkString(jwk, "kty"));
  WARDEN_ASSIGN_OR_RETURN(std::string crv, RequiredJwkString(jwk, "crv"));
  Algorithm alg;
  if (kty == "OKP") {
    if (crv != "Ed25519") {
      return InvalidArgument("unsupported OKP curve \"" + crv + "\"; accepted: Ed25519", "crv");
    }
    alg = Algorithm::kEd25519;
  } else if (kty == "EC") {
    if (crv != "P-256") {
      return InvalidArgument("unsupported EC curve \"" + crv + "\"; accepted: P-256", "crv");
    }
    alg = Algorithm::kEs256;
  } else {
    return InvalidArgument(
        "unsupported key type \"" + kty + "\"; accepted: OKP (Ed25519), EC (P-256)", "kty");
  }
  if (const json::value* a = jwk.if_contains("alg")) {
    if (!a->is_string() || a->get_string() != JoseAlgorithmName(alg)) {
      return InvalidArgument(
          "must be \"" + std::string(JoseAlgorithmName(alg)) + "\" for this key type", "alg");
    }
  }
  if (const json::value* u = jwk.if_contains("use")) {
    if (!u->is_string() || u->get_string() != "sig") {
      return InvalidArgument("must be \"sig\" for a signature key", "use");
    }
  }
  if (const json::value* k = jwk.if_contains("kid"); k != nullptr && !k->is_string()) {
    return InvalidArgument("must be a string, got " + std::string(JsonKindName(*k)), "kid");
  }
  WARDEN_ASSIGN_OR_RETURN(std::string x, DecodeCoordinate(jwk, "x"));
  std::string y;
  if (alg == Algorithm::kEs256) {
    WARDEN_ASSIGN_OR_RETURN(y, DecodeCoordinate(jwk, "y"));
  }
  WARDEN_ASSIGN_OR_RETURN(auto impl, MakePublicImpl(alg, std::move(x), std::move(y)));
  return PublicKey(std::move(impl));
}

Algorithm PublicKey::algorithm() const { return impl_->alg; }
const std::string& PublicKey::thumbprint() const { return impl_->thumbprint; }
json::object PublicKey::ToJwk() const { return RequiredMembers(*impl_); }

json::object PublicKey::ToPublishedJwk() const {
  json::object jwk = RequiredMembers(*impl_);
  jwk["kid"] = impl_->thumbprint;
  jwk["alg"] = JoseAlgorithmName(impl_->alg);
  jwk["use"] = "sig";
  return jwk;
}

Status PublicKey::Verify(std::string_view data, std::string_view signature) const {
  if (signature.size() != kSignatureSize) {
    return Unauthenticated("signature must be " + std::to_string(kSignatureSize) + " bytes for " +
                           std::string(jose_alg()) + ", got " + std::to_string(signature.size()));
  }
  std::string der_storage;
  std::string_view to_check = signature;
  const EVP_MD* md = nullptr;
  if (impl_->alg == Algorithm::kEs256) {
    md = EVP_sha256();
    // JOSE carries r||s; OpenSSL verifies DER. Re-encoding is canonical, so
    // a signature has exactly one accepted JOSE form.
    BignumPtr r(BN_bin2bn(Bytes(signature.substr(0, 32)), 32, nullptr));
    BignumPtr s(BN_bin2bn(Bytes(signature.substr(32, 32)), 32, nullptr));
    EcdsaSigPtr sig(ECDSA_SIG_new());
    if (!r || !s || !sig) return Internal(SslErrorMessage("allocating ECDSA signature"));
    if (ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
      return Internal(SslErrorMessage("assembling ECDSA signature"));
    }
    (void)r.release();  // owned by sig now
    (void)s.release();
    unsigned char* der = nullptr;
    int der_len = i2d_ECDSA_SIG(sig.get(), &der);
    if (der_len <= 0) return Internal(SslErrorMessage("encoding ECDSA signature"));
    der_storage.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(der_len));
    OPENSSL_free(der);
    to_check = der_storage;
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, md == nullptr ? nullptr : "SHA256",
                                      nullptr, nullptr, impl_->pkey.get(), nullptr) != 1) {
    return Internal(SslErrorMessage("initialising signature verification"));
  }
  int rc = EVP_DigestVerify(ctx.get(), Bytes(to_check), to_check.size(), Bytes(data), data.size());
  internal::ClearSslErrors();
  if (rc != 1) {
    return Unauthenticated("signature does not verify under key " + impl_->thumbprint);
  }
  return OkStatus();
}

SigningKey::SigningKey(std::unique_ptr<PrivateImpl> impl, PublicKey pub)
    : impl_(std::move(impl)), public_key_(std::move(pub)) {}
SigningKey::~SigningKey() = default;
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;

Result<SigningKey> SigningKey::Generate(Algorithm alg) {
  EvpPkeyCtxPtr ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, alg == Algorithm::kEd25519 ? "ED25519" : "EC", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) {
    return Internal(SslErrorMessage("initialising key generation"));
  }
  if (alg == Algorithm::kEs256 && EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") != 1) {
    return Internal(SslErrorMessage("selecting curve P-256"));
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    return Internal(SslErrorMessage("generating key"));
  }
  auto impl = std::make_unique<PrivateImpl>();
  impl->pkey.reset(raw);
  WARDEN_ASSIGN_OR_RETURN(auto pub, PublicFromPrivate(impl->pkey.get(), alg));
  return SigningKey(std::move(impl), PublicKey(std::move(pub)));
}

Result<SigningKey> SigningKey::FromPem(std::string_view pem) {
  if (pem.size() > kMaxPemBytes) {
    return InvalidArgument("PEM key is larger than " + std::to_string(kMaxPemBytes) + " bytes");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Internal(SslErrorMessage("allocating BIO"));
  EvpPkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, &NoPassphrase, nullptr));
  if (!pkey) {
    return InvalidArgument(
        SslErrorMessage("not an unencrypted PEM private key (expected BEGIN PRIVATE KEY)"));
  }
  WARDEN_ASSIGN_OR_RETURN(Algorithm alg, AlgorithmOf(pkey.get()));
  auto impl = std::make_unique<PrivateImpl>();
  impl->pkey = std::move(pkey);
  WARDEN_ASSIGN_OR_RETURN(auto pub, PublicFromPrivate(impl->pkey.get(), alg));
  return SigningKey(std::move(impl), PublicKey(std::move(pub)));
}

Result<SigningKey> SigningKey::LoadPem(const std::filesystem::path& path) {
  const std::string where = "key file " + path.string();
  int raw_fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (raw_fd < 0) {
    int err = errno;
    if (err == ENOENT) return NotFound(where + " does not exist");
    if (err == ELOOP) {
      return FailedPrecondition(where + " is a symbolic link; refusing to follow it");
    }
    return Unavailable("cannot open " + where + ": " + ErrnoText(err));
  }
  UniqueFd fd(raw_fd);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Unavailable("cannot stat " + where + ": " + ErrnoText(errno));
  }
  if (!S_ISREG(st.st_mode)) return FailedPrecondition(where + " is not a regular file");
  if (st.st_uid != ::geteuid()) {
    return FailedPrecondition(where + " is owned by uid " + std::to_string(st.st_uid) +
                              ", not by this process's uid " + std::to_string(::geteuid()));
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return FailedPrecondition(where + " has mode " + mode +
                              ": a private key must not be accessible by group or others; "
                              "run chmod 600 " +
                              path.string());
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxPemBytes) {
    return InvalidArgument(where + " is larger than " + std::to_string(kMaxPemBytes) + " bytes");
  }
  SecretString pem;
  pem.value.resize(kMaxPemBytes + 1);
  size_t total = 0;
  while (total < pem.value.size()) {
    ssize_t n = ::read(fd.get(), pem.value.data() + total, pem.value.size() - total);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable("cannot read " + where + ": " + ErrnoText(errno));
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
  }
  if (total > kMaxPemBytes) {
    return InvalidArgument(where + " is larger than " + std::to_string(kMaxPemBytes) + " bytes");
  }
  auto key = FromPem(std::string_view(pem.value.data(), total));
  if (!key.ok()) return key.status().WithContext(where);
  return key;
}

Result<std::string> SigningKey::ToPem() const {
  // Secure-heap memory BIO: the PEM never sits in ordinary freed heap memory
  // inside OpenSSL.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    return Internal(SslErrorMessage("encoding private key as PEM"));
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return Internal("empty PEM encoding");
  return std::string(data, static_cast<size_t>(len));
}

Status SigningKey::SavePem(const std::filesystem::path& path) const {
  const std::string where = "key file " + path.string();
  SecretString pem;
  { WARDEN_ASSIGN_OR_RETURN(pem.value, ToPem()); }
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  const std::filesystem::path tmp =
      dir / ("." + path.filename().string() + ".tmp-" + HexEncode(RandomBytes(8)));
  // O_EXCL + O_NOFOLLOW: the temporary name is fresh and cannot be a planted
  // symlink; 0600 from the first byte, so the key is never briefly readable.
  int raw_fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (raw_fd < 0) {
    return Unavailable("cannot create temporary file for " + where + ": " + ErrnoText(errno));
  }
  UniqueFd fd(raw_fd);
  auto fail = [&](const std::string& what) {
    ::unlink(tmp.c_str());
    return Unavailable("cannot write " + where + ": " + what);
  };
  if (::fchmod(fd.get(), 0600) != 0) return fail(ErrnoText(errno));
  if (Status s = WriteAll(fd.get(), pem.value); !s.ok()) return fail(s.message());
  if (::fsync(fd.get()) != 0) return fail(ErrnoText(errno));
  if (fd.Close() != 0) return fail(ErrnoText(errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(ErrnoText(errno));
  // Make the rename itself durable.
  return FsyncDirectory(dir).WithContext("saving " + where);
}

Result<std::string> SigningKey::Sign(std::string_view data) const {
  const bool ec = algorithm() == Algorithm::kEs256;
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), nullptr, ec ? "SHA256" : nullptr, nullptr, nullptr,
                                    impl_->pkey.get(), nullptr) != 1) {
    return Internal(SslErrorMessage("initialising signing"));
  }
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, Bytes(data), data.size()) != 1) {
    return Internal(SslErrorMessage("sizing signature"));
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, Bytes(data),
                     data.size()) != 1) {
    return Internal(SslErrorMessage("signing"));
  }
  sig.resize(len);
  if (!ec) {
    if (sig.size() != kSignatureSize) return Internal("Ed25519 signature has unexpected size");
    return sig;
  }
  // DER -> JOSE r||s, each coordinate left-padded to 32 bytes.
  const unsigned char* p = Bytes(sig);
  EcdsaSigPtr parsed(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  if (!parsed) return Internal(SslErrorMessage("decoding ECDSA signature"));
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(parsed.get(), &r, &s);
  std::string out(kSignatureSize, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, o, 32) != 32 || BN_bn2binpad(s, o + 32, 32) != 32) {
    return Internal("ECDSA signature component does not fit 32 bytes");
  }
  return out;
}

}  // namespace warden::crypto
