#include "warden/approvals/approval_queue.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "warden/audit/audit_log.h"
#include "warden/core/encoding.h"
#include "warden/core/json.h"
#include "warden/core/random.h"
#include "warden/core/time_format.h"
#include "warden/identity/agent.h"

namespace warden::approvals {
namespace {

constexpr size_t kMaxListLimit = 1000;

constexpr std::string_view kColumns =
    "id, kind, subject_sha256, agent, on_behalf_of, summary, status, created_at, expires_at, "
    "decided_at, decided_by, reason, used_at, used_by";
constexpr size_t kColumnCount = 14;

std::string Subject(std::string_view id) { return "approval:" + std::string(id); }

std::string QuotedName(std::string_view name) { return "\"" + std::string(name) + "\""; }

std::string FormatSeconds(std::chrono::seconds d) {
  return d.count() < 0 ? "-" + FormatDuration(-d) : FormatDuration(d);
}

// The same Status with `field` in place of the one it names: validators
// shared with other objects report "name", an approval field is "agent".
Status WithField(const Status& s, std::string field) {
  return Status(s.code(), s.message(), std::move(field));
}

Result<Approval> RowFrom(const std::vector<store::SqlValue>& row) {
  std::string id;  // for the message only
  if (!row.empty()) (void)store::ReadText(row[0], &id);
  auto corrupt = [&](std::string_view what) {
    return DataLoss("approvals row " + QuotedName(id) + " is malformed: " + std::string(what));
  };
  if (row.size() != kColumnCount) return corrupt("wrong column count");
  Approval a;
  std::string kind, summary, status;
  if (!store::ReadText(row[0], &a.id) || !store::ReadText(row[1], &kind) ||
      !store::ReadText(row[2], &a.subject_sha256) || !store::ReadText(row[3], &a.agent) ||
      !store::ReadText(row[5], &summary) || !store::ReadText(row[6], &status) ||
      !store::ReadMicros(row[7], &a.created_at) || !store::ReadMicros(row[8], &a.expires_at)) {
    return corrupt("unexpected column type");
  }
  auto parsed_kind = ParseApprovalKind(kind);
  if (!parsed_kind.ok()) return corrupt("kind");
  a.kind = *parsed_kind;
  auto parsed_status = ParseApprovalStatus(status);
  if (!parsed_status.ok() || *parsed_status == ApprovalStatus::kExpired) return corrupt("status");
  a.stored_status = *parsed_status;
  auto summary_json = ParseJson(summary, {kMaxSummaryDepth, kMaxSummaryBytes});
  if (!summary_json.ok() || !summary_json->is_object()) return corrupt("summary");
  a.summary = std::move(summary_json->as_object());

  auto optional_text = [&](size_t i, std::optional<std::string>* out) {
    if (store::IsNull(row[i])) return true;
    std::string v;
    if (!store::ReadText(row[i], &v)) return false;
    *out = std::move(v);
    return true;
  };
  auto optional_time = [&](size_t i, std::optional<TimePoint>* out) {
    if (store::IsNull(row[i])) return true;
    TimePoint t;
    if (!store::ReadMicros(row[i], &t)) return false;
    *out = t;
    return true;
  };
  if (!optional_text(4, &a.on_behalf_of) || !optional_time(9, &a.decided_at) ||
      !optional_text(10, &a.decided_by) || !optional_text(11, &a.reason) ||
      !optional_time(12, &a.used_at) || !optional_text(13, &a.used_by)) {
    return corrupt("unexpected column type");
  }
  return a;
}

Result<std::optional<Approval>> Load(store::Transaction& txn, std::string_view id) {
  WARDEN_ASSIGN_OR_RETURN(
      store::Rows rows,
      txn.Query("SELECT " + std::string(kColumns) + " FROM approvals WHERE id = $1",
                {std::string(id)}));
  if (rows.empty()) return std::optional<Approval>();
  WARDEN_ASSIGN_OR_RETURN(Approval a, RowFrom(rows.rows[0]));
  return std::optional<Approval>(std::move(a));
}

Status NotFoundError(std::string_view id) {
  return NotFound("approval " + std::string(id) + " not found");
}

store::SqlValue OptionalText(const std::optional<std::string>& v) {
  return v ? store::SqlValue(*v) : store::SqlValue();
}

// Why `a` cannot be decided now, or nullopt while it is pending.
std::optional<std::string> NotDecidable(const Approval& a, TimePoint now) {
  const std::string what = "approval " + a.id;
  auto by = [&] {
    return " by " + QuotedName(a.decided_by.value_or("?")) + " at " +
           (a.decided_at ? FormatRfc3339Exact(*a.decided_at) : std::string("?"));
  };
  switch (a.EffectiveStatus(now)) {
    case ApprovalStatus::kPending:
      return std::nullopt;
    case ApprovalStatus::kApproved:
      return what + " was already approved" + by();
    case ApprovalStatus::kDenied:
      return what + " was already denied" + by();
    case ApprovalStatus::kUsed:
      return what + " was already approved" + by() + " and used";
    case ApprovalStatus::kExpired:
      return what + " expired at " + FormatRfc3339Exact(a.expires_at) + " without a decision";
  }
  return what + " is in an unknown state";
}

// A refusal of Decide or Consume on an existing approval: returned to the
// caller and recorded as an approval.refused event.
struct Refusal {
  StatusCode code;
  std::string message;
};

Status CheckConsumeArguments(std::string_view id, std::string_view subject_sha256,
                             std::string_view consumer) {
  WARDEN_RETURN_IF_ERROR(ValidateApprovalId(id));
  WARDEN_RETURN_IF_ERROR(ValidateSubjectSha256(subject_sha256));
  if (consumer.empty()) return InvalidArgument("is required", "consumer");
  return OkStatus();
}

// Why approval `a` cannot be used now for `subject_sha256`, or nullopt.
// The subject is checked first: an approval presented for another request is
// refused whatever its state.
std::optional<Refusal> NotUsable(const Approval& a, std::string_view subject_sha256,
                                 TimePoint now) {
  const std::string what = "approval " + a.id;
  if (!ConstantTimeEquals(subject_sha256, a.subject_sha256)) {
    return Refusal{StatusCode::kPermissionDenied,
                   what + " was requested for a different " +
                       std::string(ApprovalKindName(a.kind)) +
                       ": the subject hash does not match"};
  }
  switch (a.EffectiveStatus(now)) {
    case ApprovalStatus::kApproved:
      return std::nullopt;
    case ApprovalStatus::kUsed:
      return Refusal{StatusCode::kFailedPrecondition,
                     what + " was already used" +
                         (a.used_at ? " at " + FormatRfc3339Exact(*a.used_at) : "") +
                         (a.used_by ? " by " + QuotedName(*a.used_by) : "") +
                         "; an approval is single use"};
    case ApprovalStatus::kDenied:
      return Refusal{StatusCode::kPermissionDenied,
                     what + " was denied by " + QuotedName(a.decided_by.value_or("?")) +
                         (a.decided_at ? " at " + FormatRfc3339Exact(*a.decided_at) : "") + ": " +
                         a.reason.value_or("")};
    case ApprovalStatus::kExpired:
      return Refusal{StatusCode::kFailedPrecondition,
                     what + " expired at " + FormatRfc3339Exact(a.expires_at) +
                         (a.stored_status == ApprovalStatus::kPending ? " without a decision"
                                                                      : " before it was used")};
    case ApprovalStatus::kPending:
      return Refusal{StatusCode::kFailedPrecondition,
                     what + " is still pending a decision (expires at " +
                         FormatRfc3339Exact(a.expires_at) + ")"};
  }
  return Refusal{StatusCode::kInternal, what + " is in an unknown state"};
}

// The core of Consume within `txn`: NotFound and store errors as the
// returned Status; a refusal in *refusal (nothing written); otherwise the
// row is marked used, approval.used is appended and *out is the result.
Status ConsumeRow(store::Transaction& txn, std::string_view id, std::string_view subject_sha256,
                  std::string_view consumer, TimePoint now, std::optional<Refusal>* refusal,
                  Approval* out) {
  WARDEN_ASSIGN_OR_RETURN(std::optional<Approval> found, Load(txn, id));
  if (!found) return NotFoundError(id);
  Approval& a = *found;
  *refusal = NotUsable(a, subject_sha256, now);
  if (*refusal) return OkStatus();

  // Conditional on every fact checked above, so that a concurrent consumer
  // (a PostgreSQL transaction running beside this one) cannot also win.
  const std::string consumer_text(consumer);
  WARDEN_ASSIGN_OR_RETURN(
      int64_t changed,
      txn.Exec("UPDATE approvals SET status = 'used', used_at = $1, used_by = $2 "
               "WHERE id = $3 AND status = 'approved' AND used_at IS NULL AND expires_at > $1 "
               "AND subject_sha256 = $4",
               {UnixMicros(now), consumer_text, a.id, a.subject_sha256}));
  if (changed != 1) {
    return Aborted("approval " + a.id +
                   " was used or changed concurrently; it cannot be used again");
  }
  a.stored_status = ApprovalStatus::kUsed;
  a.used_at = now;
  a.used_by = consumer_text;
  WARDEN_ASSIGN_OR_RETURN(auto event,
                          audit::Append(txn,
                                        {consumer_text, "approval.used", Subject(a.id),
                                         json::object{{"id", a.id},
                                                      {"kind", ApprovalKindName(a.kind)},
                                                      {"agent", a.agent},
                                                      {"subject_sha256", a.subject_sha256},
                                                      {"consumer", consumer_text}}},
                                        now));
  (void)event;
  *out = std::move(a);
  return OkStatus();
}

}  // namespace

Status ValidateApprovalOptions(const ApprovalOptions& options) {
  if (options.max_ttl < kMinApprovalTtl || options.max_ttl > kMaxApprovalTtl) {
    return InvalidArgument("must be between " + FormatDuration(kMinApprovalTtl) + " and " +
                               FormatDuration(kMaxApprovalTtl) + ", got " +
                               FormatSeconds(options.max_ttl),
                           "max_ttl");
  }
  if (options.default_ttl < kMinApprovalTtl || options.default_ttl > options.max_ttl) {
    return InvalidArgument("must be between " + FormatDuration(kMinApprovalTtl) +
                               " and max_ttl (" + FormatDuration(options.max_ttl) + "), got " +
                               FormatSeconds(options.default_ttl),
                           "default_ttl");
  }
  if (options.max_pending_per_agent == 0) {
    return InvalidArgument("must be at least 1", "max_pending_per_agent");
  }
  if (options.wait_recheck_interval < std::chrono::milliseconds(10) ||
      options.wait_recheck_interval > std::chrono::minutes(1)) {
    return InvalidArgument("must be between 10ms and 1m", "wait_recheck_interval");
  }
  return OkStatus();
}

ApprovalQueue::ApprovalQueue(store::Store& store, const Clock& clock, ApprovalOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

Result<Approval> ApprovalQueue::Create(const ApprovalRequest& request, std::string_view actor) {
  if (request.kind != ApprovalKind::kGrant && request.kind != ApprovalKind::kCall) {
    return InvalidArgument("unknown kind; accepted: grant, call", "kind");
  }
  WARDEN_RETURN_IF_ERROR(ValidateSubjectSha256(request.subject_sha256));
  if (Status s = identity::ValidateAgentName(request.agent); !s.ok()) {
    return WithField(s, "agent");
  }
  std::optional<std::string> on_behalf_of;
  if (request.on_behalf_of) {
    WARDEN_ASSIGN_OR_RETURN(on_behalf_of, identity::NormalizeText(*request.on_behalf_of,
                                                                  "on_behalf_of",
                                                                  kMaxOnBehalfOfBytes));
  }
  const std::string summary_text = CanonicalJson(request.summary);
  if (summary_text.size() > kMaxSummaryBytes) {
    return InvalidArgument("must be at most " + std::to_string(kMaxSummaryBytes) +
                               " bytes of canonical JSON, got " +
                               std::to_string(summary_text.size()),
                           "summary");
  }
  // Parsing the stored form back both bounds the nesting and guarantees that
  // every row written can be read again.
  auto summary = ParseJson(summary_text, {kMaxSummaryDepth, kMaxSummaryBytes});
  if (!summary.ok()) {
    return InvalidArgument("cannot be stored: " + summary.status().message(), "summary");
  }
  const std::chrono::seconds ttl = request.ttl.value_or(options_.default_ttl);
  if (ttl < kMinApprovalTtl || ttl > options_.max_ttl) {
    return InvalidArgument("must be between " + FormatDuration(kMinApprovalTtl) + " and " +
                               FormatDuration(options_.max_ttl) + ", got " + FormatSeconds(ttl),
                           "ttl");
  }
  if (actor.empty()) return InvalidArgument("is required", "actor");

  const TimePoint now = TruncateToMicros(clock_.Now());
  Approval a;
  a.kind = request.kind;
  a.subject_sha256 = request.subject_sha256;
  a.agent = request.agent;
  a.on_behalf_of = std::move(on_behalf_of);
  a.summary = std::move(summary->as_object());
  a.stored_status = ApprovalStatus::kPending;
  a.created_at = now;
  a.expires_at = now + ttl;

  Status s;
  // 128 random bits make a taken id practically impossible; drawing again
  // costs nothing and keeps the insert from failing on it.
  for (int attempt = 0; attempt < 3; ++attempt) {
    a.id = RandomId(kApprovalIdPrefix);
    s = store_.Write([&](store::Transaction& txn) -> Status {
      WARDEN_ASSIGN_OR_RETURN(
          store::Rows count,
          txn.Query("SELECT COUNT(*) FROM approvals WHERE agent = $1 AND status = 'pending' AND "
                    "expires_at > $2",
                    {a.agent, UnixMicros(now)}));
      if (count.empty() || count.rows[0].empty()) return Internal("COUNT(*) returned no row");
      WARDEN_ASSIGN_OR_RETURN(int64_t pending, store::AsInt(count.rows[0][0]));
      if (pending >= static_cast<int64_t>(options_.max_pending_per_agent)) {
        return ResourceExhausted("agent " + QuotedName(a.agent) + " already has " +
                                 std::to_string(pending) + " pending approvals (limit " +
                                 std::to_string(options_.max_pending_per_agent) +
                                 "); wait for decisions or for them to expire");
      }
      WARDEN_ASSIGN_OR_RETURN(
          int64_t inserted,
          txn.Exec("INSERT INTO approvals (" + std::string(kColumns) +
                       ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, NULL, NULL, "
                       "NULL)",
                   {a.id, std::string(ApprovalKindName(a.kind)), a.subject_sha256, a.agent,
                    OptionalText(a.on_behalf_of), summary_text, std::string("pending"),
                    UnixMicros(a.created_at), UnixMicros(a.expires_at)}));
      (void)inserted;
      json::object details{{"id", a.id},
                           {"kind", ApprovalKindName(a.kind)},
                           {"subject_sha256", a.subject_sha256},
                           {"agent", a.agent}};
      if (a.on_behalf_of) details["on_behalf_of"] = *a.on_behalf_of;
      details["summary"] = a.summary;
      details["expires_at"] = FormatRfc3339Exact(a.expires_at);
      WARDEN_ASSIGN_OR_RETURN(
          auto event,
          audit::Append(txn, {std::string(actor), "approval.requested", Subject(a.id), details},
                        now));
      (void)event;
      return OkStatus();
    });
    if (s.code() != StatusCode::kAlreadyExists) break;
  }
  if (!s.ok()) {
    if (s.code() == StatusCode::kResourceExhausted) return s;
    return s.WithContext("creating an approval");
  }
  return a;
}

Result<Approval> ApprovalQueue::Get(std::string_view id) {
  WARDEN_RETURN_IF_ERROR(ValidateApprovalId(id));
  std::optional<Approval> found;
  Status s = store_.Read([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(found, Load(txn, id));
    return OkStatus();
  });
  if (!s.ok()) return s.WithContext("reading approval " + std::string(id));
  if (!found) return NotFoundError(id);
  return std::move(*found);
}

Result<ApprovalStatus> ApprovalQueue::CurrentStatus(std::string_view id) {
  WARDEN_ASSIGN_OR_RETURN(Approval a, Get(id));
  return a.EffectiveStatus(clock_.Now());
}

Result<std::vector<Approval>> ApprovalQueue::List(const ApprovalFilter& filter) {
  if (filter.limit < 1 || filter.limit > kMaxListLimit) {
    return InvalidArgument("must be between 1 and " + std::to_string(kMaxListLimit), "limit");
  }
  if (filter.agent) {
    if (Status s = identity::ValidateAgentName(*filter.agent); !s.ok()) {
      return WithField(s, "agent");
    }
  }
  const int64_t now = UnixMicros(clock_.Now());
  // The SQL is assembled from constant fragments only; every value is a
  // placeholder. Effective status mirrors Approval::EffectiveStatus.
  std::vector<std::string> conditions;
  std::vector<store::SqlValue> params;
  auto next = [&](store::SqlValue v) {
    params.push_back(std::move(v));
    return "$" + std::to_string(params.size());
  };
  if (filter.status) {
    switch (*filter.status) {
      case ApprovalStatus::kPending:
        conditions.push_back("status = 'pending' AND expires_at > " + next(now));
        break;
      case ApprovalStatus::kApproved:
        conditions.push_back("status = 'approved' AND expires_at > " + next(now));
        break;
      case ApprovalStatus::kExpired:
        conditions.push_back("status IN ('pending', 'approved') AND expires_at <= " + next(now));
        break;
      case ApprovalStatus::kDenied:
        conditions.push_back("status = 'denied'");
        break;
      case ApprovalStatus::kUsed:
        conditions.push_back("status = 'used'");
        break;
    }
  }
  if (filter.agent) conditions.push_back("agent = " + next(*filter.agent));
  std::string sql = "SELECT " + std::string(kColumns) + " FROM approvals";
  for (size_t i = 0; i < conditions.size(); ++i) {
    sql += i == 0 ? " WHERE " : " AND ";
    sql += conditions[i];
  }
  sql += " ORDER BY created_at, id LIMIT " + next(static_cast<int64_t>(filter.limit));

  std::vector<Approval> out;
  Status s = store_.Read([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(store::Rows rows, txn.Query(sql, params));
    for (const auto& row : rows.rows) {
      WARDEN_ASSIGN_OR_RETURN(Approval a, RowFrom(row));
      out.push_back(std::move(a));
    }
    return OkStatus();
  });
  if (!s.ok()) return s.WithContext("listing approvals");
  return out;
}

Result<Approval> ApprovalQueue::Decide(std::string_view id, std::string_view approver,
                                       Verdict verdict, std::string_view reason) {
  WARDEN_RETURN_IF_ERROR(ValidateApprovalId(id));
  if (Status s = identity::ValidateAgentName(approver); !s.ok()) return WithField(s, "approver");
  WARDEN_ASSIGN_OR_RETURN(std::string why, NormalizeReason(reason));

  const TimePoint now = TruncateToMicros(clock_.Now());
  const bool approve = verdict == Verdict::kApprove;
  const std::string actor = "approver:" + std::string(approver);
  std::optional<Refusal> refusal;
  Approval decided;
  Status s = store_.Write([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(std::optional<Approval> found, Load(txn, id));
    if (!found) return NotFoundError(id);
    Approval& a = *found;

    WARDEN_ASSIGN_OR_RETURN(
        store::Rows approver_rows,
        txn.Query("SELECT disabled_at FROM approvers WHERE name = $1", {std::string(approver)}));
    if (approver_rows.empty()) {
      refusal = Refusal{StatusCode::kPermissionDenied,
                        "approver " + QuotedName(approver) + " is not registered"};
    } else if (!store::IsNull(approver_rows.rows[0][0])) {
      TimePoint disabled_at;
      if (!store::ReadMicros(approver_rows.rows[0][0], &disabled_at)) {
        return DataLoss("approvers row " + QuotedName(approver) + " is malformed: disabled_at");
      }
      refusal = Refusal{StatusCode::kPermissionDenied, "approver " + QuotedName(approver) +
                                                           " is disabled since " +
                                                           FormatRfc3339Exact(disabled_at)};
    } else if (IsSelfApproval(approver, a.agent, a.on_behalf_of)) {
      const bool is_agent = IsSelfApproval(approver, a.agent, std::nullopt);
      refusal = Refusal{StatusCode::kPermissionDenied,
                        "approver " + QuotedName(approver) + " may not decide approval " + a.id +
                            ": " +
                            (is_agent ? "it was requested by agent " + QuotedName(a.agent)
                                      : "it was requested on behalf of " +
                                            QuotedName(*a.on_behalf_of)) +
                            " (self-approval is not allowed)"};
    } else if (auto problem = NotDecidable(a, now)) {
      refusal = Refusal{StatusCode::kFailedPrecondition, *problem};
    }
    if (refusal) {
      WARDEN_ASSIGN_OR_RETURN(auto event,
                              audit::Append(txn,
                                            {actor, "approval.refused", Subject(a.id),
                                             json::object{{"id", a.id},
                                                          {"operation", "decide"},
                                                          {"approver", std::string(approver)},
                                                          {"reason", refusal->message}}},
                                            now));
      (void)event;
      return OkStatus();  // commit the evidence of the refusal
    }

    WARDEN_ASSIGN_OR_RETURN(
        int64_t changed,
        txn.Exec("UPDATE approvals SET status = $1, decided_at = $2, decided_by = $3, reason = $4 "
                 "WHERE id = $5 AND status = 'pending' AND expires_at > $2",
                 {std::string(approve ? "approved" : "denied"), UnixMicros(now),
                  std::string(approver), why, a.id}));
    if (changed != 1) return Aborted("approval " + a.id + " was decided concurrently; re-read it");
    a.stored_status = approve ? ApprovalStatus::kApproved : ApprovalStatus::kDenied;
    a.decided_at = now;
    a.decided_by = std::string(approver);
    a.reason = why;
    json::object details{{"id", a.id},
                         {"kind", ApprovalKindName(a.kind)},
                         {"agent", a.agent}};
    if (a.on_behalf_of) details["on_behalf_of"] = *a.on_behalf_of;
    details["subject_sha256"] = a.subject_sha256;
    details["approver"] = std::string(approver);
    details["reason"] = why;
    WARDEN_ASSIGN_OR_RETURN(
        auto event,
        audit::Append(txn,
                      {actor, approve ? "approval.approved" : "approval.denied", Subject(a.id),
                       std::move(details)},
                      now));
    (void)event;
    decided = std::move(a);
    return OkStatus();
  });
  if (!s.ok()) {
    if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kAborted) return s;
    // Refused or not, nothing was decided; a refusal whose evidence could not
    // be written is still a refusal, reported as the store failure.
    return s.WithContext("deciding approval " + std::string(id));
  }
  if (refusal) return Status(refusal->code, refusal->message);
  notifier_.Notify(id);
  return decided;
}

Result<Approval> ApprovalQueue::Consume(std::string_view id, std::string_view subject_sha256,
                                        std::string_view consumer) {
  WARDEN_RETURN_IF_ERROR(CheckConsumeArguments(id, subject_sha256, consumer));
  const TimePoint now = TruncateToMicros(clock_.Now());
  std::optional<Refusal> refusal;
  Approval used;
  Status s = store_.Write([&](store::Transaction& txn) -> Status {
    WARDEN_RETURN_IF_ERROR(ConsumeRow(txn, id, subject_sha256, consumer, now, &refusal, &used));
    if (!refusal) return OkStatus();
    const std::string consumer_text(consumer);
    json::object details{{"id", std::string(id)},
                         {"operation", "consume"},
                         {"consumer", consumer_text},
                         {"subject_sha256", std::string(subject_sha256)},
                         {"reason", refusal->message}};
    WARDEN_ASSIGN_OR_RETURN(
        auto event,
        audit::Append(txn, {consumer_text, "approval.refused", Subject(id), details}, now));
    (void)event;
    return OkStatus();  // commit the evidence of the refusal
  });
  if (!s.ok()) {
    if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kAborted) return s;
    return s.WithContext("using approval " + std::string(id));
  }
  if (refusal) return Status(refusal->code, refusal->message);
  return used;
}

Result<Approval> ConsumeInTransaction(store::Transaction& txn, std::string_view id,
                                      std::string_view subject_sha256, std::string_view consumer,
                                      TimePoint now) {
  WARDEN_RETURN_IF_ERROR(CheckConsumeArguments(id, subject_sha256, consumer));
  std::optional<Refusal> refusal;
  Approval used;
  WARDEN_RETURN_IF_ERROR(
      ConsumeRow(txn, id, subject_sha256, consumer, TruncateToMicros(now), &refusal, &used));
  if (refusal) return Status(refusal->code, refusal->message);
  return used;
}

Result<Approval> ApprovalQueue::WaitForDecision(std::string_view id,
                                                DecisionNotifier::Deadline deadline) {
  WARDEN_RETURN_IF_ERROR(ValidateApprovalId(id));
  // Registered before the first read: a decision committed after that read
  // is signalled to this watch, so no decision falls between read and wait.
  DecisionNotifier::Watch watch(notifier_, std::string(id));
  for (;;) {
    WARDEN_ASSIGN_OR_RETURN(Approval a, Get(id));
    const TimePoint now = clock_.Now();
    if (a.EffectiveStatus(now) != ApprovalStatus::kPending) return a;
    const auto steady_now = std::chrono::steady_clock::now();
    if (steady_now >= deadline) {
      return DeadlineExceeded("approval " + a.id + " is still pending; it expires at " +
                              FormatRfc3339Exact(a.expires_at));
    }
    // Wake at the approval's expiry too (one millisecond late, so the clock
    // has surely passed it), and at the recheck interval for decisions made
    // by other processes.
    const auto until_expiry =
        std::chrono::ceil<std::chrono::milliseconds>(a.expires_at - now) +
        std::chrono::milliseconds(1);
    const auto wake =
        std::min({deadline, steady_now + options_.wait_recheck_interval, steady_now + until_expiry});
    if (watch.WaitUntil(wake) == DecisionNotifier::WakeReason::kClosed) {
      return Unavailable("the approval queue is shutting down; approval " + a.id +
                         " is still pending");
    }
  }
}

}  // namespace warden::approvals
