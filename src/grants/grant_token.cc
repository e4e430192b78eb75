#include "warden/grants/grant_token.h"

#include <utility>

#include "warden/core/json.h"

namespace warden::grants {
namespace {

Status Malformed(std::string_view claim, std::string_view why) {
  return Unauthenticated("malformed grant token: claim \"" + std::string(claim) + "\" " +
                         std::string(why));
}

Result<std::string> RequiredClaim(const json::object& o, std::string_view name,
                                  std::string_view path) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return Malformed(path, "is missing");
  if (!v->is_string() || v->as_string().empty()) {
    return Malformed(path, "must be a non-empty string");
  }
  return std::string(v->as_string());
}

Result<std::optional<std::string>> OptionalClaim(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string() || v->as_string().empty()) {
    return Malformed(name, "must be a non-empty string");
  }
  return std::optional<std::string>(std::string(v->as_string()));
}

Result<std::vector<std::string>> StringList(const json::object& o, std::string_view name,
                                            std::string_view path) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_array()) return Malformed(path, "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& e : v->as_array()) {
    if (!e.is_string()) return Malformed(path, "must be an array of strings");
    out.emplace_back(e.as_string());
  }
  return out;
}

json::value ActChain(const std::vector<std::string>& actors, size_t i) {
  json::object act{{"sub", actors[i]}};
  if (i + 1 < actors.size()) act["act"] = ActChain(actors, i + 1);
  return act;
}

}  // namespace

json::object GrantClaimsToJson(const GrantClaims& c) {
  json::object scope{{"actions", json::array(c.scope.actions.begin(), c.scope.actions.end())},
                     {"resources",
                      json::array(c.scope.resources.begin(), c.scope.resources.end())}};
  json::object o{{"iss", c.issuer},
                 {"aud", c.audience},
                 {"sub", c.subject},
                 {"grant", c.grant_id},
                 {"task", c.task},
                 {"scope", std::move(scope)},
                 {"iat", UnixSeconds(c.issued_at)},
                 {"exp", UnixSeconds(c.expires_at)},
                 {"jti", c.jti},
                 {"cnf", json::object{{"jkt", c.jkt}}}};
  if (!c.actors.empty()) o["act"] = ActChain(c.actors, 0);
  if (c.on_behalf_of) o["obo"] = *c.on_behalf_of;
  if (c.approval_id) o["approval"] = *c.approval_id;
  return o;
}

Result<std::string> SignGrantToken(const crypto::SigningKey& key, const GrantClaims& c) {
  const std::pair<std::string_view, const std::string*> required[] = {
      {"iss", &c.issuer}, {"aud", &c.audience}, {"sub", &c.subject}, {"grant", &c.grant_id},
      {"task", &c.task},  {"jti", &c.jti},      {"cnf.jkt", &c.jkt}};
  for (const auto& [name, value] : required) {
    if (value->empty()) return InvalidArgument("is required", std::string(name));
  }
  if (UnixSeconds(c.expires_at) <= UnixSeconds(c.issued_at)) {
    return InvalidArgument("must be after iat", "exp");
  }
  return crypto::SignJwt(key, GrantClaimsToJson(c), kGrantTokenType);
}

Result<GrantClaims> VerifyGrantToken(std::string_view token, const crypto::KeyResolver& keys,
                                     const GrantTokenVerifyOptions& options) {
  if (options.issuer.empty() || options.audience.empty()) {
    return InvalidArgument("grant token verification needs an issuer and an audience");
  }
  crypto::JwtVerifyOptions jwt_options;
  jwt_options.allowed_typ = {std::string(kGrantTokenType)};
  jwt_options.audience = options.audience;
  jwt_options.now = options.now;
  jwt_options.leeway = options.leeway;
  jwt_options.signature_cache = options.signature_cache;
  WARDEN_ASSIGN_OR_RETURN(crypto::Jwt jwt, crypto::VerifyJwt(token, keys, jwt_options));
  const json::object& o = jwt.claims;

  GrantClaims c;
  WARDEN_ASSIGN_OR_RETURN(c.issuer, RequiredClaim(o, "iss", "iss"));
  if (c.issuer != options.issuer) {
    return Unauthenticated("grant token issuer " + crypto::QuoteUntrusted(c.issuer) +
                           " is not the expected \"" + options.issuer + "\"");
  }
  c.audience = options.audience;
  WARDEN_ASSIGN_OR_RETURN(c.subject, RequiredClaim(o, "sub", "sub"));
  WARDEN_ASSIGN_OR_RETURN(c.grant_id, RequiredClaim(o, "grant", "grant"));
  WARDEN_ASSIGN_OR_RETURN(c.task, RequiredClaim(o, "task", "task"));
  WARDEN_ASSIGN_OR_RETURN(c.jti, RequiredClaim(o, "jti", "jti"));
  const json::value* scope = o.if_contains("scope");
  if (scope == nullptr || !scope->is_object()) return Malformed("scope", "must be an object");
  WARDEN_ASSIGN_OR_RETURN(c.scope.actions,
                          StringList(scope->as_object(), "actions", "scope.actions"));
  WARDEN_ASSIGN_OR_RETURN(c.scope.resources,
                          StringList(scope->as_object(), "resources", "scope.resources"));
  const json::value* cnf = o.if_contains("cnf");
  if (cnf == nullptr || !cnf->is_object()) return Malformed("cnf", "must be an object");
  WARDEN_ASSIGN_OR_RETURN(c.jkt, RequiredClaim(cnf->as_object(), "jkt", "cnf.jkt"));
  // VerifyJwt already required exp and iat and checked their ranges.
  WARDEN_ASSIGN_OR_RETURN(auto iat, crypto::GetNumericDate(o, "iat"));
  WARDEN_ASSIGN_OR_RETURN(auto exp, crypto::GetNumericDate(o, "exp"));
  if (!iat || !exp) return Malformed("exp", "and \"iat\" are required");
  c.issued_at = FromUnixSeconds(*iat);
  c.expires_at = FromUnixSeconds(*exp);
  // The act chain is bounded by the token size; each level must be an
  // object with a string "sub" and nothing we do not understand.
  const json::value* act = o.if_contains("act");
  std::string path = "act";
  while (act != nullptr) {
    if (!act->is_object()) return Malformed(path, "must be an object");
    const json::object& level = act->as_object();
    for (const auto& member : level) {
      if (member.key() != "sub" && member.key() != "act") {
        return Malformed(path, "has an unknown member");
      }
    }
    WARDEN_ASSIGN_OR_RETURN(std::string sub, RequiredClaim(level, "sub", path + ".sub"));
    c.actors.push_back(std::move(sub));
    act = level.if_contains("act");
    path += ".act";
  }
  WARDEN_ASSIGN_OR_RETURN(c.on_behalf_of, OptionalClaim(o, "obo"));
  WARDEN_ASSIGN_OR_RETURN(c.approval_id, OptionalClaim(o, "approval"));
  return c;
}

}  // namespace warden::grants
