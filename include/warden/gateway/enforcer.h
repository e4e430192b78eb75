// Enforcer: the transport-independent decision of the enforcement gateway.
// Given a verified grant and one operation (an MCP tool call, an HTTP
// request), it checks the grant's scope, asks the policy engine with the
// grant's intent as context, creates or follows up an Approval for a call
// that needs a human, counts the use against limits.max_calls, and writes
// the per-operation audit event. docs/gateway.md describes the entity model.
// Thread-safe: every member borrowed is thread-safe; the Enforcer has no
// mutable state of its own.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warden/approvals/approval_queue.h"
#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/grants/grant_service.h"
#include "warden/grants/grant_token.h"
#include "warden/identity/registry.h"
#include "warden/policy/engine.h"
#include "warden/store/store.h"

namespace warden::gateway {

// Who acts: a grant token already verified (signature, expiry, revocation,
// proof of possession) by the transport.
struct GrantedCaller {
  grants::GrantClaims claims;
  std::string agent;  // the agent's name (claims.subject's last segment)
};

// One operation to decide.
struct Operation {
  // What the grant's scope.actions must contain exactly: "<server>/<tool>"
  // for an MCP tool, "<service>:<METHOD>" for an HTTP request.
  std::string scope_action;
  // Matched against the grant's scope.resources when that list is not
  // empty: equal to an element, or starting with an element's prefix when
  // the element ends in "*". nullopt: the grant's resources are not checked.
  std::optional<std::string> scope_resource;
  // Action::"<action>" ("call", "http:GET").
  std::string action;
  // A more specific action used instead of `action` when the loaded schema
  // declares it ("call:helpdesk/read_ticket", a member of Action::"call");
  // empty: none.
  std::string specific_action;
  // The resource: <resource_type>::"<resource_id>" with these attributes
  // (Cedar entity JSON "attrs"); sent to the engine as an entity.
  std::string resource_type;  // "Tool", "Route"
  std::string resource_id;    // "helpdesk/read_ticket", "billing/v1/invoices"
  boost::json::object resource_attrs;
  // Members the operation adds to the Cedar context (e.g. server, tool,
  // arguments). With a schema, members the chosen action's context type
  // does not declare are left out (a policy cannot name them anyway).
  boost::json::object context;
  // What an Approval is bound to: its SHA-256 (ComputeSubjectSha256 with
  // kind "call") must match at consumption. Include everything that makes
  // the call what it is (tool, canonical arguments, target). The enforcer
  // adds "agent" and "grant".
  boost::json::object approval_subject;
  // What the approver reads (no secrets, no raw arguments); the enforcer
  // adds agent, grant, task, policies.
  boost::json::object approval_summary;
  // Merged into the audit event's details (e.g. tool, args_sha256).
  boost::json::object audit_details;
  // Audit event kind and subject: "gateway.call" / "tool:<server>/<tool>".
  std::string audit_kind = "gateway.call";
  std::string audit_subject;
};

// A verdict is the policy engine's outcome after the gateway's own checks
// (scope, grant state, approvals, limits); policy::OutcomeName names it.
using VerdictKind = policy::Outcome;

struct Verdict {
  VerdictKind kind = VerdictKind::kDeny;
  std::string grant_id;
  // Deciding policies by display name (@id when annotated); with
  // needs_approval, the permits that would allow it once approved.
  std::vector<std::string> policies;
  std::string policy_set_hash;  // empty when Cedar was not asked
  // Why, for the caller: "grant grt_.. does not cover tool helpdesk/x", ...
  std::string reason;
  // needs_approval: the pending approval; allow after an approval: the one consumed.
  std::optional<std::string> approval_id;
  std::string subject_sha256;  // of the approval subject (always set)
  // Set for allow: the audit details Complete() will write.
  boost::json::object pending_audit;
  std::string audit_kind;
  std::string audit_subject;
  std::string actor;
  // {grant, decision, policies, policy_set_hash, reason (, approval_id)}:
  // the `data` of a refusal as sent to the caller.
  boost::json::object ToErrorData() const;
};

// What happened after an allowed operation was forwarded.
struct ForwardOutcome {
  bool ok = false;            // upstream answered usefully
  std::string error;          // why not (no secrets), when !ok
  std::string result_sha256;  // of the result (canonical JSON for JSON results)
  int64_t result_bytes = 0;
  std::chrono::milliseconds upstream_latency{0};
  boost::json::object extra;  // further details (e.g. http status)
};

struct EnforcerOptions {
  // TTL of a call approval (the approver's time to decide and the caller's
  // to retry); ApprovalQueue bounds apply.
  std::chrono::seconds approval_ttl = std::chrono::minutes(15);
};

class Enforcer {
 public:
  // Borrows everything; all must outlive the Enforcer.
  Enforcer(policy::PolicyEngine& policies, grants::GrantService& grants,
           approvals::ApprovalQueue& approvals, identity::AgentRegistry& registry,
           store::Store& store, const Clock& clock, EnforcerOptions options = {});

  // Decides `op` for `caller`:
  //  1. the grant's scope must contain op.scope_action (and cover
  //     op.scope_resource), else deny without asking Cedar;
  //  2. the grant is read (intent, depth, limits) and must still be active;
  //  3. an approval for this exact subject (SHA-256 of op.approval_subject
  //     plus agent and grant) is looked for: `approval_id` when the caller
  //     names one, else the agent's approved or pending approvals with that
  //     subject. Approved -> decided with context.approval.granted = true and,
  //     when that allows, consumed. Pending -> needs_approval with its id (not
  //     audited again). Denied or expired (named explicitly) -> deny.
  //  4. otherwise Cedar decides; needs_approval creates the Approval.
  // Every allow of a grant with max_calls counts one use first
  // (ResourceExhausted -> deny). Deny and needs_approval are audited here;
  // allow is audited by Complete once the outcome is known.
  // Errors (never an allow): Unavailable/Internal from the store or the
  // engine; InvalidArgument when the engine refuses the request as ill-typed.
  Result<Verdict> Authorize(const GrantedCaller& caller, const Operation& op,
                            const std::optional<std::string>& approval_id = std::nullopt);

  // What the policies would say about each operation now, without
  // approvals, use counting or audit: for filtering listings (tools/list).
  // A scope miss, an ended grant or an ill-typed request is kDeny, except
  // for a schema-declared specific action (whose context may require the
  // operation's arguments, absent here): kNeedsApproval, "not judged".
  Result<std::vector<VerdictKind>> Preview(const GrantedCaller& caller,
                                           const std::vector<Operation>& ops);

  // The effective status of an approval now (one indexed read), for
  // long-polls: call Authorize again with the same operation once it is no
  // longer pending.
  Result<approvals::ApprovalStatus> ApprovalStatus(std::string_view approval_id);

  // Writes the audit event of an allowed operation with its outcome.
  Status Complete(const Verdict& allowed, const ForwardOutcome& outcome);

  // Writes an audit event for an operation refused before any decision
  // (malformed, unknown method...). details carries what is known.
  Status AuditRefusal(const GrantedCaller& caller, std::string_view kind, std::string subject,
                      boost::json::object details);

  uint64_t ApprovalChangeCounter() const { return approvals_.ChangeCounter(); }

 private:
  // The grant and agent as stored, or why the caller is refused.
  struct CallerState {
    TimePoint now;
    grants::Grant grant;
    identity::Agent agent;
    std::optional<std::string> parent_agent;
    std::optional<std::string> refusal;
  };
  std::optional<std::string> ScopeMiss(const grants::GrantClaims& claims,
                                       const Operation& op) const;
  Result<CallerState> LoadCaller(const GrantedCaller& caller);
  policy::DecisionInput BuildInput(const GrantedCaller& caller, const Operation& op,
                                   const CallerState& state,
                                   const policy::PolicyBundle& bundle) const;
  Status Audit(std::string_view actor, std::string_view kind, std::string_view subject,
               boost::json::object details);

  policy::PolicyEngine& policies_;
  grants::GrantService& grants_;
  approvals::ApprovalQueue& approvals_;
  identity::AgentRegistry& registry_;
  store::Store& store_;
  const Clock& clock_;
  EnforcerOptions options_;
};

// SHA-256 (lower-case hex) of CanonicalJson(value).
std::string CanonicalSha256(const boost::json::value& value);

// True when `resource` is covered by `patterns`: equal to one, or starting
// with one's prefix when it ends in "*". An empty list covers nothing.
bool ResourceCovered(const std::vector<std::string>& patterns, std::string_view resource);

}  // namespace warden::gateway
