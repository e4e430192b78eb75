// PolicyEngine: the server's policy decision point. Holds the current
// PolicyBundle as an immutable snapshot swapped atomically on Reload (an
// invalid folder is refused and the running set stays), builds the entity
// model Warden exposes to policies (docs/policy-guide.md) and decides requests
// with Cedar's rules plus Warden's "needs approval" convention.
// Thread-safe: Decide and Current may run concurrently with Reload.
#pragma once

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "warden/cedar/authorizer.h"
#include "warden/cedar/entities.h"
#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/identity/agent.h"
#include "warden/policy/bundle.h"

namespace warden::policy {

// Agent::"<name>" with its registry attributes (owner, purpose, environment,
// spiffe_id, effective status, expires_at as a datetime, selectors) and the
// parent Owner::"<owner>"; plus that Owner entity.
std::vector<cedar::Entity> AgentEntities(const identity::Agent& agent, TimePoint now);

// The entity uid in member `field` of a request object ({"type","id"} or
// {"__entity":...}); InvalidArgument with `field` when absent or malformed.
Result<cedar::EntityUid> RequestUid(const boost::json::value& request, std::string_view field);

// A request's context for `action`: through the schema when there is one
// (schema-based parsing and type checks), else Cedar's explicit JSON forms.
// InvalidArgument with field "context".
Result<cedar::Record> ParseRequestContext(const boost::json::value& context,
                                          const cedar::Schema* schema,
                                          const cedar::EntityUid& action);

// The `time` member of decision contexts (schema type DecisionTime): "now" as
// a Cedar datetime, and the UTC hour (0-23) and weekday (0 = Sunday).
boost::json::object DecisionTimeContext(TimePoint now);

// Removes the top-level members of `context` that the schema's context type
// for Action::"<action_id>" does not declare. Cedar records are closed: such
// an attribute would make the request ill-typed, and no policy valid under
// the schema can read it, so Warden's own context members (added as
// features grow) are left out for an older schema rather than refused.
// No schema, or an action it does not declare: unchanged.
void DropUndeclaredContext(const cedar::Schema* schema, std::string_view action_id,
                           boost::json::object& context);

enum class Outcome { kAllow, kDeny, kNeedsApproval };
std::string_view OutcomeName(Outcome outcome);  // "allow" | "deny" | "needs_approval"

struct DecisionInput {
  cedar::EntityUid principal;
  cedar::EntityUid action;
  cedar::EntityUid resource;
  boost::json::value context = boost::json::object();   // a JSON object
  boost::json::value entities = boost::json::array();   // extra entities (Cedar JSON)
  // The registry's record when the principal is Agent::"<name>"; its entities
  // replace any the caller supplied for that agent.
  std::optional<identity::Agent> agent;
};

struct DecisionResult {
  Outcome outcome = Outcome::kDeny;
  cedar::Response response;  // as decided on the request as given
  // With needs_approval: the permits that would allow it once approved.
  std::vector<std::string> approval_policies;
  std::string policy_set_hash;
  std::shared_ptr<const PolicyBundle> bundle;  // the snapshot that decided
};

// Decides with `bundle`. Context and entities are parsed through the schema
// (a string becomes an ipaddr where the schema says so) and the request is
// validated against it. InvalidArgument (with the field) for a malformed or
// ill-typed request: such a request is refused, never decided.
// Needs approval: denied with no forbid applying, but allowed when evaluated
// again with context.approval = {"granted": true}.
Result<DecisionResult> Decide(std::shared_ptr<const PolicyBundle> bundle,
                              const DecisionInput& input, TimePoint now);

class PolicyEngine {
 public:
  // Loads `dir` once; fails (and nothing is served) when it is invalid.
  static Result<std::unique_ptr<PolicyEngine>> Create(std::filesystem::path dir,
                                                      const Clock& clock);

  // The snapshot in force. Never null.
  std::shared_ptr<const PolicyBundle> Current() const { return current_.load(); }

  // Reads the folder again. OK: the new snapshot is in force. Error: nothing
  // changed; the status lists every problem. Serialised with other reloads.
  Result<std::shared_ptr<const PolicyBundle>> Reload();

  Result<DecisionResult> Decide(const DecisionInput& input) const {
    return policy::Decide(Current(), input, clock_.Now());
  }

  const std::filesystem::path& dir() const { return dir_; }

 private:
  PolicyEngine(std::filesystem::path dir, const Clock& clock,
               std::shared_ptr<const PolicyBundle> initial);

  std::filesystem::path dir_;
  const Clock& clock_;
  std::atomic<std::shared_ptr<const PolicyBundle>> current_;
  std::mutex reload_mu_;  // one reload at a time
};

}  // namespace warden::policy
