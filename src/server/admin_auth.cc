#include "server/internal/admin_auth.h"

#include "server/internal/log.h"
#include "warden/audit/audit_log.h"
#include "warden/core/encoding.h"
#include "warden/crypto/hash.h"

namespace warden::server::internal {
namespace {

Response Unauthorized(std::string message, bool invalid_token) {
  Response r = Response::Error(Unauthenticated(std::move(message)));
  r.headers.emplace_back("WWW-Authenticate", invalid_token
                                                 ? R"(Bearer realm="warden", error="invalid_token")"
                                                 : R"(Bearer realm="warden")");
  return r;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

AdminAuth::AdminAuth(store::Store& store, const Clock& clock, Metrics& metrics,
                     std::string_view token_sha256_hex, int audit_events_per_minute)
    : store_(store), clock_(clock), metrics_(metrics), budget_(audit_events_per_minute) {
  auto raw = HexDecode(token_sha256_hex);
  // An unusable digest leaves digest_ empty, which no token matches: fail closed.
  if (raw.ok() && raw->size() == crypto::kSha256Size) digest_ = std::move(*raw);
}

std::optional<Response> AdminAuth::Check(const Request& request) {
  auto header = request.Header("authorization");
  if (!header) return Unauthorized("admin token required: send Authorization: Bearer <token>", false);
  std::string_view value = *header;
  if (!StartsWithIgnoreCase(value, "bearer ")) {
    metrics_.AuthFailure("unsupported_scheme");
    RecordFailure(request.remote_address, "unsupported_scheme");
    return Unauthorized("unsupported authorization scheme; use Bearer", true);
  }
  std::string_view token = value.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  // Comparing digests of equal length keeps the comparison's time
  // independent of both the presented token and the stored one.
  std::string presented = crypto::Sha256(token);
  if (!digest_.empty() && ConstantTimeEquals(presented, digest_)) return std::nullopt;
  metrics_.AuthFailure("invalid_token");
  RecordFailure(request.remote_address, "invalid_token");
  return Unauthorized("invalid admin token", true);
}

Handler AdminAuth::Require(Handler handler) {
  return [this, handler = std::move(handler)](Request& request) -> Response {
    if (auto denied = Check(request)) return std::move(*denied);
    return handler(request);
  };
}

void AdminAuth::RecordFailure(const std::string& remote, std::string_view reason) {
  TimePoint now = clock_.Now();
  std::optional<int64_t> suppressed_before = budget_.Admit(remote, now);
  if (!suppressed_before) {
    metrics_.AuthEventSuppressed();
    return;
  }
  audit::EventInput in{"anonymous@" + remote, "admin.auth_failed", "admin", {}};
  in.details["remote"] = remote;
  in.details["reason"] = reason;
  if (*suppressed_before > 0) in.details["suppressed_since_last"] = *suppressed_before;
  Status st = audit::Record(store_, in, now);
  if (!st.ok()) {
    metrics_.StoreError();
    LogJson(spdlog::level::err, "cannot record admin.auth_failed",
            {{"remote", remote}, {"error", st.ToString()}});
  }
}

}  // namespace warden::server::internal
