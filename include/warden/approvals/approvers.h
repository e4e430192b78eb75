// ApproverRegistry: the humans who may decide approvals, each holding a bearer
// token "wap_" + 43 base64url characters (32 random bytes) shown once at
// creation. Only the lower-case hex SHA-256 of the whole token is stored
// (approvers.token_sha256, UNIQUE); tokens are never logged or audited.
// Thread-safe: concurrent calls are serialised by the Store's writer.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/store/store.h"

namespace warden::approvals {

inline constexpr std::string_view kApproverTokenPrefix = "wap_";

struct ApproverInfo {
  std::string name;
  TimePoint created_at;
  std::string created_by;
  std::optional<TimePoint> disabled_at;

  bool enabled() const { return !disabled_at.has_value(); }
};

// The result of Add: `token` is shown to the caller once and never stored.
struct IssuedApprover {
  ApproverInfo info;
  std::string token;
};

// {"name","enabled","created_at","created_by","disabled_at"?}; no token.
boost::json::object ApproverToJson(const ApproverInfo& approver);

class ApproverRegistry {
 public:
  // Borrows `store` and `clock`; both must outlive the registry.
  ApproverRegistry(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Registers approver `name` ([a-z0-9][a-z0-9-_.]{0,62}) and returns its
  // token. InvalidArgument (field "name" or "actor"); AlreadyExists (field
  // "name") when the name is taken, disabled or not. Audited as
  // {actor, "approver.added", "approver:<name>", {"name"}} in the same write.
  Result<IssuedApprover> Add(std::string_view name, std::string_view actor);

  // Disables `name` for good: its token stops authenticating at once.
  // NotFound; FailedPrecondition when already disabled. Audited as
  // {actor, "approver.disabled", "approver:<name>", {"name"}}.
  Result<ApproverInfo> Disable(std::string_view name, std::string_view actor);

  // NotFound when no approver has that name.
  Result<ApproverInfo> Get(std::string_view name);

  // Every approver, enabled or not, ordered by name.
  Result<std::vector<ApproverInfo>> List();

  // The name of the enabled approver holding `token`. Unauthenticated for a
  // malformed, unknown or disabled token (the message never repeats it).
  // The lookup is by the token's SHA-256, and the stored digest is compared
  // again in constant time: timing reveals at most facts about a digest,
  // never about the token. Failures are not audited here (the caller logs
  // the request).
  Result<std::string> Authenticate(std::string_view token);

 private:
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace warden::approvals
