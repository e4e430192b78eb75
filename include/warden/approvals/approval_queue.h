// ApprovalQueue: the durable queue of human approvals. A requester (grants,
// gateway) creates a pending approval bound to a subject hash; an approver
// approves or denies it with a reason; the requester consumes an approved one
// exactly once for exactly that subject. Expiry needs no background job:
// every check uses the effective status at the injected clock's now. Every
// change, and every refused decision or use of an existing approval, is an
// audit event written in the same Store::Write as the change.
// Thread-safe: writes are serialised by the Store; waits use the notifier.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "warden/approvals/approval.h"
#include "warden/approvals/decision_notifier.h"
#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/store/store.h"

namespace warden::approvals {

struct ApprovalOptions {
  std::chrono::seconds default_ttl = kDefaultApprovalTtl;
  // Upper bound for ApprovalRequest::ttl; at most kMaxApprovalTtl.
  std::chrono::seconds max_ttl = kMaxApprovalTtl;
  // Pending, unexpired approvals one agent may have at once, so a hostile
  // agent cannot bury the approvers' queue.
  size_t max_pending_per_agent = 100;
  // How often WaitForDecision re-reads the store even without a signal:
  // decisions made by another process are seen within this interval.
  std::chrono::milliseconds wait_recheck_interval = std::chrono::seconds(1);
};

// InvalidArgument naming the option ("default_ttl", "max_ttl",
// "max_pending_per_agent", "wait_recheck_interval") when it cannot be used.
Status ValidateApprovalOptions(const ApprovalOptions& options);

enum class Verdict { kApprove, kDeny };

class ApprovalQueue {
 public:
  // Borrows `store` and `clock`; both must outlive the queue. `options` must
  // pass ValidateApprovalOptions (checked by the caller at startup).
  ApprovalQueue(store::Store& store, const Clock& clock, ApprovalOptions options = {});

  // Creates a pending approval expiring ttl from now. InvalidArgument with
  // the field ("kind"... "subject_sha256", "agent", "on_behalf_of",
  // "summary", "ttl", "actor"); ResourceExhausted when the agent already has
  // max_pending_per_agent pending approvals. Audited as {actor,
  // "approval.requested", "approval:<id>", {"id","kind","subject_sha256",
  // "agent","on_behalf_of"?,"summary","expires_at"}}.
  Result<Approval> Create(const ApprovalRequest& request, std::string_view actor);

  // InvalidArgument (field "id") for a malformed id; NotFound when unknown.
  Result<Approval> Get(std::string_view id);

  // The effective status now; non-blocking, one indexed read. Same errors as
  // Get. Meant for long-polls together with ChangeCounter.
  Result<ApprovalStatus> CurrentStatus(std::string_view id);

  // Approvals matching `filter` (pending ones by default), oldest first.
  Result<std::vector<Approval>> List(const ApprovalFilter& filter = {});

  // Records `approver`'s verdict on a pending, unexpired approval.
  // Argument checks first: InvalidArgument (field "id", "approver" or
  // "reason"; the reason is trimmed, 1..1000 code points). Then:
  //   NotFound                 no such approval
  //   PermissionDenied         approver not registered or disabled;
  //                            self-approval (see IsSelfApproval)
  //   FailedPrecondition       already approved/denied/used, or expired
  // On success the approval is approved or denied and audited as
  // {"approver:<name>", "approval.approved"|"approval.denied",
  // "approval:<id>", {"id","kind","agent","on_behalf_of"?,"subject_sha256",
  // "approver","reason"}}; then ChangeCounter increments and waiters wake.
  // Refusals after NotFound are audited as {"approver:<name>",
  // "approval.refused", "approval:<id>", {"id","operation":"decide",
  // "approver","reason" (why refused)}} in their own write.
  Result<Approval> Decide(std::string_view id, std::string_view approver, Verdict verdict,
                          std::string_view reason);

  // Uses an approval once, for exactly `subject_sha256`. InvalidArgument
  // (field "id", "subject_sha256" or "consumer"); NotFound; then, in this
  // order, PermissionDenied when the subject differs (compared in constant
  // time) or the approval was denied; FailedPrecondition when it was already
  // used, has expired, or is still pending. The row is marked used by a
  // conditional UPDATE (... WHERE status = 'approved' AND used_at IS NULL AND
  // expires_at > now), so of concurrent consumers exactly one wins. Audited as
  // {consumer, "approval.used", "approval:<id>", {"id","kind","agent",
  // "subject_sha256","consumer"}}; refusals after NotFound as
  // {consumer, "approval.refused", ..., {"id","operation":"consume",
  // "consumer","reason"}}. `consumer` names the user, e.g. "agent:<name>".
  Result<Approval> Consume(std::string_view id, std::string_view subject_sha256,
                           std::string_view consumer);

  // Blocks until approval `id` is no longer pending (decided, used or
  // expired at the clock's now) and returns it; DeadlineExceeded (naming the
  // id) when it is still pending at `deadline`; Unavailable after Shutdown;
  // errors of Get. Sleeps on the notifier, re-reading the store only when
  // signalled, at the approval's expiry, and every wait_recheck_interval.
  Result<Approval> WaitForDecision(std::string_view id, DecisionNotifier::Deadline deadline);

  // Number of decisions made through this queue since it was constructed.
  // Expiry and Consume do not change it.
  uint64_t ChangeCounter() const { return notifier_.ChangeCounter(); }

  // Wakes every waiter; waits then return Unavailable. Irreversible.
  void Shutdown() { notifier_.Close(); }

  const ApprovalOptions& options() const { return options_; }

 private:
  store::Store& store_;
  const Clock& clock_;
  ApprovalOptions options_;
  DecisionNotifier notifier_;
};

// Consume within the caller's write transaction, for a change that must
// happen only together with the use of its approval (issuing the grant it
// allowed): same checks, errors, conditional UPDATE and approval.used event
// as ApprovalQueue::Consume, at `now`. A refusal is returned as the error
// without writing anything: the caller's function returns it, which rolls
// back its own changes, and records the refusal itself if it wants evidence.
Result<Approval> ConsumeInTransaction(store::Transaction& txn, std::string_view id,
                                      std::string_view subject_sha256, std::string_view consumer,
                                      TimePoint now);

}  // namespace warden::approvals
