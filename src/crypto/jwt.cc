#include "warden/crypto/jwt.h"

#include "warden/crypto/hash.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <utility>

#include "warden/core/encoding.h"
#include "warden/core/json.h"
#include "warden/core/time_format.h"

namespace warden::crypto {
namespace {

// Depth bound for header and payload: Warden's tokens nest at most 3 levels
// (cnf.jkt, act chains are bounded elsewhere); 16 leaves room for peers while
// keeping hostile nesting cheap.
constexpr size_t kMaxJsonDepth = 16;

Status Malformed(std::string_view why) {
  return Unauthenticated("malformed token: " + std::string(why));
}

Result<boost::json::object> DecodeSegment(std::string_view segment, std::string_view what) {
  auto bytes = Base64UrlDecode(segment);
  if (!bytes.ok()) {
    return Malformed(std::string(what) + " is not base64url: " + bytes.status().message());
  }
  JsonParseOptions po;
  po.max_depth = kMaxJsonDepth;
  po.max_bytes = kMaxJwtBytes;
  auto value = ParseJson(*bytes, po);
  if (!value.ok()) return Malformed(std::string(what) + ": " + value.status().message());
  if (!value->is_object()) {
    return Malformed(std::string(what) + " is a JSON " + std::string(JsonKindName(*value)) +
                     ", not an object");
  }
  return std::move(value->as_object());
}

// "application/JWT" and "jwt" name the same media type (RFC 7515 4.1.9:
// the prefix may be omitted when the rest holds no '/'; media types are
// case-insensitive).
std::string NormalizeMediaType(std::string_view typ) {
  std::string lower(typ);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  constexpr std::string_view kPrefix = "application/";
  if (std::string_view(lower).substr(0, kPrefix.size()) == kPrefix &&
      lower.find('/', kPrefix.size()) == std::string::npos) {
    lower.erase(0, kPrefix.size());
  }
  return lower;
}

std::string FormatNumericDate(int64_t seconds) {
  // TimePoint counts nanoseconds and overflows in 2262; later dates (valid
  // NumericDates up to year 9999) are shown as plain Unix seconds.
  constexpr int64_t kMaxFormattable = 9'000'000'000;
  if (seconds > kMaxFormattable) return std::to_string(seconds) + " (Unix time)";
  return FormatRfc3339(FromUnixSeconds(seconds));
}

Status CheckTyp(const boost::json::object& header, const JwtVerifyOptions& options) {
  if (options.allowed_typ.empty()) return OkStatus();
  std::string expected;
  for (const auto& t : options.allowed_typ) {
    expected += expected.empty() ? "" : ", ";
    expected += QuoteUntrusted(t);
  }
  const auto* typ = header.if_contains("typ");
  if (typ == nullptr) {
    if (options.allow_missing_typ) return OkStatus();
    return Unauthenticated("token has no \"typ\" header; expected one of " + expected);
  }
  // DecodeJwt guarantees a string.
  std::string got = NormalizeMediaType(typ->as_string());
  for (const auto& t : options.allowed_typ) {
    if (NormalizeMediaType(t) == got) return OkStatus();
  }
  return Unauthenticated("token typ " + QuoteUntrusted(typ->as_string()) + " is not one of " +
                         expected);
}

Status CheckTimes(const boost::json::object& claims, const JwtVerifyOptions& options) {
  WARDEN_ASSIGN_OR_RETURN(auto exp, GetNumericDate(claims, "exp"));
  WARDEN_ASSIGN_OR_RETURN(auto nbf, GetNumericDate(claims, "nbf"));
  WARDEN_ASSIGN_OR_RETURN(auto iat, GetNumericDate(claims, "iat"));
  // Microseconds: NumericDates up to year 9999 fit in int64 microseconds,
  // while nanoseconds (TimePoint's unit) would overflow after 2262.
  constexpr int64_t kMicros = 1'000'000;
  const int64_t now = UnixMicros(options.now);
  // Leeway is clamped to [0, 1 year] so the arithmetic cannot overflow.
  constexpr int64_t kMaxLeeway = 366LL * 24 * 3600;
  const int64_t leeway = std::clamp<int64_t>(options.leeway.count(), 0, kMaxLeeway) * kMicros;
  if (!exp && options.require_exp) return Unauthenticated("token has no \"exp\" claim");
  if (!iat && options.require_iat) return Unauthenticated("token has no \"iat\" claim");
  if (exp && now - leeway >= *exp * kMicros) {
    return Unauthenticated("token expired at " + FormatNumericDate(*exp));
  }
  if (nbf && *nbf * kMicros > now + leeway) {
    return Unauthenticated("token not valid before " + FormatNumericDate(*nbf));
  }
  if (iat && *iat * kMicros > now + leeway) {
    return Unauthenticated("token issued in the future (iat " + FormatNumericDate(*iat) + ")");
  }
  if (exp && iat && *exp < *iat) {
    return Unauthenticated("token expires (" + FormatNumericDate(*exp) +
                           ") before it was issued (" + FormatNumericDate(*iat) + ")");
  }
  if (options.max_lifetime) {
    if (!exp || !iat) {
      return Unauthenticated("token lifetime cannot be bounded without \"exp\" and \"iat\"");
    }
    if (*exp - *iat > options.max_lifetime->count()) {
      return Unauthenticated("token lifetime of " + std::to_string(*exp - *iat) +
                             "s exceeds the maximum of " +
                             std::to_string(options.max_lifetime->count()) + "s");
    }
  }
  return OkStatus();
}

Status CheckAudience(const boost::json::object& claims, const JwtVerifyOptions& options) {
  // Validated even when not checked: a malformed "aud" is a malformed token.
  WARDEN_ASSIGN_OR_RETURN(auto aud, GetAudience(claims));
  if (options.audience.empty()) return OkStatus();
  if (aud.empty()) return Unauthenticated("token has no audience (\"aud\")");
  if (std::find(aud.begin(), aud.end(), options.audience) == aud.end()) {
    return Unauthenticated("audience " + QuoteUntrusted(options.audience) +
                           " not in token audience");
  }
  return OkStatus();
}

// Everything after the key is known: algorithm pinning, crit, signature,
// then claims. The order matters: no claim is looked at before the signature
// holds.
Result<Jwt> VerifyDecoded(Jwt jwt, const PublicKey& key, const JwtVerifyOptions& options) {
  std::string_view alg = jwt.header.at("alg").as_string();
  if (alg == "none") return Unauthenticated("token alg \"none\" is not accepted");
  if (alg != key.jose_alg()) {
    return Unauthenticated("token alg " + QuoteUntrusted(alg) + " does not match the key's alg \"" +
                           std::string(key.jose_alg()) + "\"");
  }
  // RFC 7515 4.1.11: a recipient must reject a token whose critical
  // extensions it does not understand; Warden understands none.
  if (jwt.header.contains("crit")) {
    return Unauthenticated("token header has \"crit\"; no critical extensions are supported");
  }
  SignatureCache* cache = options.signature_cache;
  Status verified = cache != nullptr ? cache->Verify(key, jwt.signing_input, jwt.signature)
                                     : key.Verify(jwt.signing_input, jwt.signature);
  if (!verified.ok()) return Unauthenticated("signature does not verify");
  WARDEN_RETURN_IF_ERROR(CheckTimes(jwt.claims, options));
  WARDEN_RETURN_IF_ERROR(CheckAudience(jwt.claims, options));
  WARDEN_RETURN_IF_ERROR(CheckTyp(jwt.header, options));
  return jwt;
}

}  // namespace

Result<std::string> SignJwt(const SigningKey& key, const boost::json::object& claims,
                            std::string_view typ, const boost::json::object& extra_header) {
  boost::json::object header;
  header["alg"] = key.jose_alg();
  header["kid"] = key.kid();
  if (!typ.empty()) header["typ"] = typ;
  for (const auto& member : extra_header) {
    std::string_view name = member.key();
    if (name == "alg" || name == "kid" || (name == "typ" && !typ.empty())) {
      return InvalidArgument("header member \"" + std::string(name) + "\" is set by the signer",
                             "header." + std::string(name));
    }
    // Our own verifier refuses "crit" and non-string typ/cty; a token it
    // cannot accept is a bug.
    if (name == "crit") {
      return InvalidArgument("critical header extensions are not supported", "header.crit");
    }
    if ((name == "typ" || name == "cty") && !member.value().is_string()) {
      return InvalidArgument("must be a string", "header." + std::string(name));
    }
    header[name] = member.value();
  }
  std::string token = Base64UrlEncode(ToJson(header));
  token += '.';
  token += Base64UrlEncode(ToJson(claims));
  // Checked before signing, with the fixed 64-byte signature's 86 characters.
  constexpr size_t kSignatureChars = 1 + 86;
  if (token.size() + kSignatureChars > kMaxJwtBytes) {
    return InvalidArgument("token of " + std::to_string(token.size() + kSignatureChars) +
                           " bytes exceeds the limit of " + std::to_string(kMaxJwtBytes));
  }
  auto signature = key.Sign(token);
  if (!signature.ok()) return Internal("signing token: " + signature.status().message());
  token += '.';
  token += Base64UrlEncode(*signature);
  return token;
}

Result<Jwt> DecodeJwt(std::string_view token) {
  if (token.size() > kMaxJwtBytes) {
    return Malformed("longer than " + std::to_string(kMaxJwtBytes) + " bytes");
  }
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos) return Malformed("expected 3 segments separated by '.'");
  if (token.find('.', second + 1) != std::string_view::npos) {
    return Malformed("more than 3 segments (JWE and JSON serializations are not accepted)");
  }
  std::string_view header_b64 = token.substr(0, first);
  std::string_view payload_b64 = token.substr(first + 1, second - first - 1);
  std::string_view signature_b64 = token.substr(second + 1);
  if (header_b64.empty()) return Malformed("empty header");
  if (payload_b64.empty()) return Malformed("empty payload");
  if (signature_b64.empty()) return Malformed("empty signature");

  Jwt jwt;
  WARDEN_ASSIGN_OR_RETURN(jwt.header, DecodeSegment(header_b64, "header"));
  WARDEN_ASSIGN_OR_RETURN(jwt.claims, DecodeSegment(payload_b64, "payload"));
  auto signature = Base64UrlDecode(signature_b64);
  if (!signature.ok()) {
    return Malformed("signature is not base64url: " + signature.status().message());
  }
  jwt.signature = std::move(*signature);
  const auto* alg = jwt.header.if_contains("alg");
  if (alg == nullptr) return Malformed("header has no \"alg\"");
  if (!alg->is_string()) return Malformed("header \"alg\" is not a string");
  for (std::string_view name : {"kid", "typ", "cty"}) {
    const auto* v = jwt.header.if_contains(name);
    if (v != nullptr && !v->is_string()) {
      return Malformed("header \"" + std::string(name) + "\" is not a string");
    }
  }
  jwt.signing_input = std::string(token.substr(0, second));
  return jwt;
}

std::string SignatureCache::Entry(const PublicKey& key, std::string_view data,
                                  std::string_view signature) {
  // Lengths first, so no two distinct triples share an encoding.
  std::string input;
  input.reserve(key.thumbprint().size() + data.size() + signature.size() + 32);
  for (size_t n : {key.thumbprint().size(), data.size(), signature.size()}) {
    input += std::to_string(n);
    input += ':';
  }
  input += key.thumbprint();
  input += data;
  input += signature;
  return Sha256(input);
}

bool SignatureCache::Contains(const PublicKey& key, std::string_view data,
                              std::string_view signature) const {
  std::string entry = Entry(key, data, signature);
  std::lock_guard lock(mu_);
  return verified_.contains(entry);
}

Status SignatureCache::Verify(const PublicKey& key, std::string_view data,
                              std::string_view signature) {
  std::string entry = Entry(key, data, signature);
  {
    std::lock_guard lock(mu_);
    if (verified_.contains(entry)) return OkStatus();
  }
  WARDEN_RETURN_IF_ERROR(key.Verify(data, signature));
  std::lock_guard lock(mu_);
  if (verified_.size() >= capacity_) verified_.clear();
  verified_.insert(std::move(entry));
  return OkStatus();
}

Result<Jwt> VerifyJwt(std::string_view token, const KeyResolver& keys,
                      const JwtVerifyOptions& options) {
  WARDEN_ASSIGN_OR_RETURN(Jwt jwt, DecodeJwt(token));
  const auto* kid = jwt.header.if_contains("kid");
  if (kid == nullptr) return Unauthenticated("token header has no \"kid\"");
  std::string_view kid_text = kid->as_string();
  if (kid_text.empty()) return Unauthenticated("token header has an empty \"kid\"");
  if (!keys) return Internal("no key resolver");
  auto key = keys(kid_text);
  if (!key.ok()) {
    StatusCode code = key.status().code();
    if (code == StatusCode::kNotFound || code == StatusCode::kUnauthenticated) {
      return Unauthenticated("unknown key id " + QuoteUntrusted(kid_text));
    }
    return key.status().WithContext("resolving key id " + QuoteUntrusted(kid_text));
  }
  return VerifyDecoded(std::move(jwt), *key, options);
}

Result<Jwt> VerifyJwtWithKey(std::string_view token, const PublicKey& key,
                             const JwtVerifyOptions& options) {
  WARDEN_ASSIGN_OR_RETURN(Jwt jwt, DecodeJwt(token));
  const auto* kid = jwt.header.if_contains("kid");
  if (kid != nullptr && kid->as_string() != key.kid()) {
    return Unauthenticated("token key id " + QuoteUntrusted(kid->as_string()) +
                           " does not match the key \"" + key.kid() + "\"");
  }
  return VerifyDecoded(std::move(jwt), key, options);
}

std::string QuoteUntrusted(std::string_view s) {
  constexpr size_t kMax = 64;
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMax) out += "...";
  out += '"';
  return out;
}

Result<std::optional<int64_t>> GetNumericDate(const boost::json::object& claims,
                                              std::string_view name) {
  const auto* v = claims.if_contains(name);
  if (v == nullptr) return std::optional<int64_t>();
  const std::string rule = "claim \"" + std::string(name) +
                           "\" must be an integer NumericDate between 0 and " +
                           std::to_string(kMaxNumericDate);
  int64_t seconds = -1;
  if (v->is_int64()) {
    seconds = v->as_int64();
  } else if (v->is_uint64()) {
    if (v->as_uint64() > static_cast<uint64_t>(kMaxNumericDate)) return Unauthenticated(rule);
    seconds = static_cast<int64_t>(v->as_uint64());
  } else {
    return Unauthenticated(rule + " (got a " + std::string(JsonKindName(*v)) + ")");
  }
  if (seconds < 0 || seconds > kMaxNumericDate) return Unauthenticated(rule);
  return std::optional<int64_t>(seconds);
}

Result<std::vector<std::string>> GetAudience(const boost::json::object& claims) {
  std::vector<std::string> out;
  const auto* aud = claims.if_contains("aud");
  if (aud == nullptr) return out;
  if (aud->is_string()) {
    if (aud->as_string().empty()) return Unauthenticated("claim \"aud\" is an empty string");
    out.emplace_back(aud->as_string());
    return out;
  }
  if (!aud->is_array()) {
    return Unauthenticated("claim \"aud\" must be a string or an array of strings (got a " +
                           std::string(JsonKindName(*aud)) + ")");
  }
  if (aud->as_array().empty()) return Unauthenticated("claim \"aud\" is an empty array");
  for (const auto& entry : aud->as_array()) {
    if (!entry.is_string() || entry.as_string().empty()) {
      return Unauthenticated("claim \"aud\" must hold only non-empty strings");
    }
    out.emplace_back(entry.as_string());
  }
  return out;
}

}  // namespace warden::crypto
