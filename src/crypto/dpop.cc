#include "warden/crypto/dpop.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include "warden/core/encoding.h"
#include "warden/core/json.h"
#include "warden/core/random.h"
#include "warden/core/text.h"
#include "warden/core/time_format.h"
#include "warden/crypto/hash.h"
#include "warden/crypto/jwt.h"

namespace warden::crypto {
namespace {

constexpr std::string_view kDpopTyp = "dpop+jwt";
constexpr int64_t kMicrosPerSecond = 1'000'000;
// Bound for max_age and leeway: proofs are meant to live seconds; a day keeps
// the microsecond arithmetic far from overflow whatever the caller passes.
constexpr int64_t kMaxWindowSeconds = int64_t{24} * 3600;
// A base64url Ed25519/ES256 signature (64 bytes) and its separating '.'.
constexpr size_t kSignatureChars = 1 + 86;

Status Invalid(std::string_view why) {
  return Unauthenticated("invalid DPoP proof: " + std::string(why));
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsUnreserved(char c) {
  return IsAlpha(c) || IsDigit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool IsSubDelim(char c) {
  return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}

// RFC 9110 5.6.2 tchar: what an HTTP method may be made of.
bool IsMethodToken(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), IsHttpTokenChar);
}

std::string TimeText(int64_t unix_seconds) {
  return FormatRfc3339(FromUnixSeconds(unix_seconds)) + " (" + std::to_string(unix_seconds) + ")";
}

// Reads a required string claim; the reason names the claim.
Result<std::string_view> StringClaim(const boost::json::object& claims, std::string_view name) {
  const auto* v = claims.if_contains(name);
  if (v == nullptr) return Invalid("claim \"" + std::string(name) + "\" is missing");
  if (!v->is_string()) {
    return Invalid("claim \"" + std::string(name) + "\" must be a string (got a " +
                   std::string(JsonKindName(*v)) + ")");
  }
  return std::string_view(v->as_string());
}

// Header checks that need no key: typ, alg, and the embedded public jwk.
// Returns the key the proof claims to be signed with.
Result<PublicKey> ProofKey(const boost::json::object& header) {
  // DecodeJwt guarantees that typ (when present) and alg are strings.
  const auto* typ = header.if_contains("typ");
  if (typ == nullptr) return Invalid("header has no \"typ\"; expected \"dpop+jwt\"");
  // Exact match (RFC 9449 4.2 names the value "dpop+jwt"): a generic JWT
  // signed by the same key must never pass as a proof.
  if (typ->as_string() != kDpopTyp) {
    return Invalid("header typ " + QuoteUntrusted(typ->as_string()) + " is not \"dpop+jwt\"");
  }
  std::string_view alg = header.at("alg").as_string();
  if (alg == "none") return Invalid("alg \"none\" is not accepted");
  if (alg.substr(0, 2) == "HS") {
    return Invalid("symmetric alg " + QuoteUntrusted(alg) +
                   " is not accepted; a proof needs an asymmetric signature");
  }
  if (alg != JoseAlgorithmName(Algorithm::kEd25519) &&
      alg != JoseAlgorithmName(Algorithm::kEs256)) {
    return Invalid("alg " + QuoteUntrusted(alg) + " is not supported; accepted: EdDSA, ES256");
  }
  const auto* jwk = header.if_contains("jwk");
  if (jwk == nullptr) return Invalid("header has no \"jwk\" (the proof's public key)");
  if (!jwk->is_object()) {
    return Invalid("header \"jwk\" must be an object (got a " + std::string(JsonKindName(*jwk)) +
                   ")");
  }
  // Private members of every JWK key type (RFC 7518 section 6): a proof that
  // publishes its private key proves nothing, and the sender must be told.
  for (std::string_view member : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    if (jwk->as_object().contains(member)) {
      return Invalid("header \"jwk\" carries the private key member \"" + std::string(member) +
                     "\"");
    }
  }
  auto key = PublicKey::FromJwk(jwk->as_object());
  if (!key.ok()) {
    const Status& s = key.status();
    return Invalid("header \"jwk\"" + (s.field().empty() ? "" : " member \"" + s.field() + "\"") +
                   ": " + s.message());
  }
  if (key->jose_alg() != alg) {
    return Invalid("alg " + QuoteUntrusted(alg) + " does not match the jwk's key type (alg \"" +
                   std::string(key->jose_alg()) + "\")");
  }
  return key;
}

}  // namespace

Result<std::string> NormalizeHtu(std::string_view uri) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("URI " + QuoteUntrusted(uri) + ": " + std::string(why), "htu");
  };
  if (uri.size() > kMaxDpopProofBytes) {
    return bad("longer than " + std::to_string(kMaxDpopProofBytes) + " bytes");
  }
  for (char c : uri) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return bad("contains a byte outside printable ASCII");
  }
  size_t colon = uri.find(':');
  if (colon == std::string_view::npos) return bad("not an absolute URI");
  std::string scheme = LowerAscii(uri.substr(0, colon));
  if (scheme != "http" && scheme != "https") return bad("scheme must be http or https");
  std::string_view rest = uri.substr(colon + 1);
  if (rest.substr(0, 2) != "//") return bad("no authority (\"//host\")");
  rest.remove_prefix(2);
  // Query and fragment are not part of htu (RFC 9449 4.2); cut them first so
  // a '/' or '@' inside them is not mistaken for structure.
  rest = rest.substr(0, rest.find_first_of("?#"));
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  // RFC 9110 4.2.4: userinfo is deprecated in http(s) URIs; a recipient
  // should treat it as an error (it is a phishing vector).
  if (authority.find('@') != std::string_view::npos) return bad("userinfo is not allowed");

  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 literal");
    host = authority.substr(0, close + 1);
    std::string_view inner = host.substr(1, host.size() - 2);
    if (inner.find(':') == std::string_view::npos ||
        !std::all_of(inner.begin(), inner.end(),
                     [](char c) { return IsHexDigit(c) || c == ':' || c == '.'; })) {
      return bad("malformed IPv6 literal (IPvFuture and zone ids are not accepted)");
    }
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("unexpected characters after the IPv6 literal");
      port = after.substr(1);
    }
  } else {
    size_t port_colon = authority.find(':');
    host = authority.substr(0, port_colon);
    if (port_colon != std::string_view::npos) port = authority.substr(port_colon + 1);
    // Stricter than RFC 3986 reg-name (no sub-delims or percent-encoding):
    // DNS names and IPv4 addresses need none, and fewer spellings of one
    // host leave fewer ways for two parties to disagree.
    if (!std::all_of(host.begin(), host.end(), IsUnreserved)) {
      return bad("host may hold only letters, digits, '-', '.', '_' and '~'");
    }
  }
  if (host.empty()) return bad("empty host");

  std::string out = scheme + "://" + LowerAscii(host);
  // RFC 3986 6.2.3: an empty port and the scheme's default port are dropped.
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), IsDigit)) {
      return bad("port must be a number from 1 to 65535");
    }
    int number = std::stoi(std::string(port));
    if (number < 1 || number > 65535) return bad("port must be a number from 1 to 65535");
    const int default_port = scheme == "https" ? 443 : 80;
    if (number != default_port) out += ":" + std::to_string(number);
  }

  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size() || !IsHexDigit(path[i + 1]) || !IsHexDigit(path[i + 2])) {
        return bad("malformed percent-encoding in the path");
      }
      i += 2;
    } else if (!IsUnreserved(c) && !IsSubDelim(c) && c != ':' && c != '@' && c != '/') {
      return bad(std::string("character '") + c + "' is not allowed in a path");
    }
  }
  // RFC 3986 6.2.3: "http://h" and "http://h/" are the same resource.
  out += path.empty() ? std::string_view("/") : path;
  return out;
}

Result<std::string> CreateDpopProof(const SigningKey& key, std::string_view htm,
                                    std::string_view htu, TimePoint now,
                                    std::string_view access_token, std::string_view nonce) {
  if (!IsMethodToken(htm)) {
    return InvalidArgument("htm " + QuoteUntrusted(htm) + " is not an HTTP method", "htm");
  }
  WARDEN_ASSIGN_OR_RETURN(std::string normalized_htu, NormalizeHtu(htu));
  boost::json::object header;
  header["typ"] = kDpopTyp;
  header["alg"] = key.jose_alg();
  header["jwk"] = key.public_key().ToJwk();
  boost::json::object claims;
  claims["jti"] = Base64UrlEncode(RandomBytes(16));
  claims["htm"] = htm;
  claims["htu"] = normalized_htu;
  claims["iat"] = UnixSeconds(now);
  if (!access_token.empty()) claims["ath"] = Base64UrlEncode(Sha256(access_token));
  if (!nonce.empty()) claims["nonce"] = nonce;

  std::string proof = Base64UrlEncode(ToJson(header));
  proof += '.';
  proof += Base64UrlEncode(ToJson(claims));
  // Checked before signing: a proof the verifier would refuse is a bug here.
  if (proof.size() + kSignatureChars > kMaxDpopProofBytes) {
    return InvalidArgument("DPoP proof of " + std::to_string(proof.size() + kSignatureChars) +
                           " bytes exceeds the limit of " + std::to_string(kMaxDpopProofBytes));
  }
  auto signature = key.Sign(proof);
  if (!signature.ok()) return Internal("signing DPoP proof: " + signature.status().message());
  proof += '.';
  proof += Base64UrlEncode(*signature);
  return proof;
}

size_t DpopReplayCache::KeyHash::operator()(const Key& k) const {
  // The key is an HMAC output under a secret key: uniformly distributed and
  // unpredictable, so its first bytes are a fine hash.
  size_t h = 0;
  std::memcpy(&h, k.data(), sizeof h);
  return h;
}

DpopReplayCache::DpopReplayCache(size_t max_entries)
    : max_entries_(max_entries), hmac_key_(RandomBytes(32)) {}

Status DpopReplayCache::Remember(std::string_view jkt, std::string_view jti, TimePoint expires,
                                 TimePoint now) {
  // Length-prefixed so that no two (jkt, jti) pairs share an input.
  std::string input(8, '\0');
  uint64_t jkt_size = jkt.size();
  for (int i = 7; i >= 0; --i) {
    input[static_cast<size_t>(i)] = static_cast<char>(jkt_size & 0xff);
    jkt_size >>= 8;
  }
  input += jkt;
  input += jti;
  const std::string mac = HmacSha256(hmac_key_, input);
  Key key;
  std::memcpy(key.data(), mac.data(), key.size());

  // A min-heap on expiry (std heap functions build a max-heap; "later"
  // inverts the order).
  auto later = [](const Expiry& a, const Expiry& b) { return a.expires > b.expires; };
  std::lock_guard<std::mutex> lock(mu_);
  // Pairs are dropped against the latest time seen, so a caller whose `now`
  // lags behind another's must not accept a pair that was already dropped.
  latest_now_ = std::max(latest_now_, now);
  while (!by_expiry_.empty() && by_expiry_.front().expires < latest_now_) {
    std::pop_heap(by_expiry_.begin(), by_expiry_.end(), later);
    entries_.erase(by_expiry_.back().key);
    by_expiry_.pop_back();
  }
  if (expires < latest_now_) {
    return FailedPrecondition("DPoP proof (jti " + QuoteUntrusted(jti) +
                              ") is past its replay window and cannot be remembered");
  }
  if (entries_.find(key) != entries_.end()) {
    return AlreadyExists("DPoP proof replayed (jti " + QuoteUntrusted(jti) + ")");
  }
  if (entries_.size() >= max_entries_) {
    return ResourceExhausted("DPoP replay cache is full (" + std::to_string(entries_.size()) +
                             " unexpired proofs); new proofs are refused until some expire");
  }
  entries_.emplace(key, expires);
  by_expiry_.push_back(Expiry{expires, key});
  std::push_heap(by_expiry_.begin(), by_expiry_.end(), later);
  return OkStatus();
}

size_t DpopReplayCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

Result<DpopProof> VerifyDpopProof(std::string_view proof, const DpopCheck& check,
                                  DpopReplayCache& replay) {
  // The request URI is the caller's input, not the proof's: a malformed one
  // is reported as such whatever the proof says.
  WARDEN_ASSIGN_OR_RETURN(std::string request_htu, NormalizeHtu(check.htu));
  if (proof.size() > kMaxDpopProofBytes) {
    return Invalid("longer than " + std::to_string(kMaxDpopProofBytes) + " bytes");
  }
  auto decoded = DecodeJwt(proof);
  if (!decoded.ok()) return Invalid(decoded.status().message());
  // The key comes from the proof itself (that is DPoP's design), so the
  // header is read before the signature is checked; nothing else is.
  WARDEN_ASSIGN_OR_RETURN(PublicKey key, ProofKey(decoded->header));
  if (check.expected_jkt && !ConstantTimeEquals(key.thumbprint(), *check.expected_jkt)) {
    return Invalid("proof key (jkt \"" + key.thumbprint() +
                   "\") is not the key the token is bound to");
  }

  const int64_t max_age = std::clamp<int64_t>(check.max_age.count(), 0, kMaxWindowSeconds);
  const int64_t leeway = std::clamp<int64_t>(check.leeway.count(), 0, kMaxWindowSeconds);
  JwtVerifyOptions options;
  options.now = check.now;
  options.leeway = std::chrono::seconds(leeway);
  options.require_exp = false;  // RFC 9449 bounds a proof by iat, not exp
  options.require_iat = true;
  // Signature (alg pinned to the jwk's), "crit", a "kid" other than the
  // jwk's thumbprint, iat in the future, exp/nbf when present.
  auto verified = VerifyJwtWithKey(proof, key, options);
  if (!verified.ok()) return Invalid(verified.status().message());
  const boost::json::object& claims = verified->claims;

  WARDEN_ASSIGN_OR_RETURN(std::string_view jti, StringClaim(claims, "jti"));
  if (jti.empty()) return Invalid("claim \"jti\" is empty");
  if (jti.size() > kMaxDpopJtiBytes) {
    return Invalid("claim \"jti\" is longer than " + std::to_string(kMaxDpopJtiBytes) + " bytes");
  }

  WARDEN_ASSIGN_OR_RETURN(std::string_view htm, StringClaim(claims, "htm"));
  if (htm != check.htm) {
    return Invalid("htm " + QuoteUntrusted(htm) + " does not match the request method " +
                   QuoteUntrusted(check.htm));
  }

  WARDEN_ASSIGN_OR_RETURN(std::string_view htu, StringClaim(claims, "htu"));
  auto proof_htu = NormalizeHtu(htu);
  if (!proof_htu.ok()) return Invalid("claim \"htu\": " + proof_htu.status().message());
  if (*proof_htu != request_htu) {
    return Invalid("htu " + QuoteUntrusted(*proof_htu) + " does not match the request URI " +
                   QuoteUntrusted(request_htu));
  }

  // Present and a valid NumericDate: VerifyJwtWithKey required it.
  auto iat_claim = GetNumericDate(claims, "iat");
  if (!iat_claim.ok() || !iat_claim->has_value()) return Invalid("claim \"iat\" is missing");
  const int64_t iat = **iat_claim;
  // Microseconds: iat may be any NumericDate up to year 9999, which fits in
  // int64 microseconds but not in TimePoint's nanoseconds.
  const int64_t now_us = UnixMicros(check.now);
  if (iat * kMicrosPerSecond < now_us - (max_age + leeway) * kMicrosPerSecond) {
    return Invalid("proof is too old: issued at " + TimeText(iat) + ", more than " +
                   std::to_string(max_age) + "s (+" + std::to_string(leeway) + "s leeway) before " +
                   FormatRfc3339(check.now));
  }
  if (iat * kMicrosPerSecond > now_us + leeway * kMicrosPerSecond) {
    return Invalid("proof issued in the future (iat " + TimeText(iat) + ")");
  }

  const auto* ath = claims.if_contains("ath");
  if (check.access_token.empty()) {
    if (ath != nullptr)
      return Invalid("claim \"ath\" is present but no access token was presented");
  } else {
    if (ath == nullptr) {
      return Invalid(
          "claim \"ath\" is missing; a proof presented with an access token must bind it");
    }
    if (!ath->is_string()) return Invalid("claim \"ath\" must be a string");
    if (!ConstantTimeEquals(ath->as_string(), Base64UrlEncode(Sha256(check.access_token)))) {
      return Invalid("claim \"ath\" does not match the presented access token");
    }
  }

  const auto* nonce = claims.if_contains("nonce");
  if (nonce != nullptr && !nonce->is_string()) return Invalid("claim \"nonce\" must be a string");
  if (check.nonce) {
    if (nonce == nullptr) return Invalid("claim \"nonce\" is missing; the server requires one");
    if (!ConstantTimeEquals(nonce->as_string(), *check.nonce)) {
      return Invalid("claim \"nonce\" does not match the server's nonce");
    }
  }

  // Remembered for as long as the proof would be accepted: iat lies within
  // [now - max_age - leeway, ...], so it is accepted until iat + max_age +
  // leeway. The window check above keeps this TimePoint in range.
  const TimePoint iat_time = FromUnixSeconds(iat);
  const TimePoint expires = iat_time + std::chrono::seconds(max_age + leeway);
  Status remembered = replay.Remember(key.thumbprint(), jti, expires, check.now);
  if (!remembered.ok()) {
    switch (remembered.code()) {
      case StatusCode::kAlreadyExists:
        return Invalid("replayed (jti " + QuoteUntrusted(jti) + ")");
      case StatusCode::kFailedPrecondition:
        return Invalid("proof is too old to be remembered (iat " + TimeText(iat) + ")");
      default:
        return remembered;
    }
  }

  DpopProof out;
  out.jkt = key.thumbprint();
  out.jti = std::string(jti);
  out.iat = iat_time;
  out.public_jwk = key.ToJwk();
  return out;
}

}  // namespace warden::crypto
