#include "warden/approvals/approvers.h"

#include <utility>

#include "warden/audit/audit_log.h"
#include "warden/core/encoding.h"
#include "warden/core/json.h"
#include "warden/core/random.h"
#include "warden/core/time_format.h"
#include "warden/crypto/hash.h"
#include "warden/identity/agent.h"

namespace warden::approvals {
namespace {

// RandomSecret(kTokenKind) is kTokenKind + "_" + base64url(32 bytes).
constexpr std::string_view kTokenKind = "wap";
static_assert(kApproverTokenPrefix.size() == kTokenKind.size() + 1);
constexpr size_t kSecretBytes = 32;
constexpr size_t kSecretLength = 43;  // unpadded base64url of 32 bytes
constexpr size_t kTokenLength = kApproverTokenPrefix.size() + kSecretLength;

constexpr std::string_view kColumns = "name, created_at, created_by, disabled_at";

std::string Subject(std::string_view name) { return "approver:" + std::string(name); }

Result<ApproverInfo> RowFrom(const std::vector<store::SqlValue>& row) {
  auto corrupt = [](std::string_view what) {
    return DataLoss("approvers row is malformed: " + std::string(what));
  };
  if (row.size() != 4) return corrupt("wrong column count");
  ApproverInfo info;
  if (!store::ReadText(row[0], &info.name) || !store::ReadMicros(row[1], &info.created_at) ||
      !store::ReadText(row[2], &info.created_by)) {
    return corrupt("unexpected column type");
  }
  if (!store::IsNull(row[3])) {
    TimePoint t;
    if (!store::ReadMicros(row[3], &t)) return corrupt("disabled_at");
    info.disabled_at = t;
  }
  return info;
}

Result<std::optional<ApproverInfo>> Load(store::Transaction& txn, std::string_view name) {
  WARDEN_ASSIGN_OR_RETURN(
      store::Rows rows,
      txn.Query("SELECT " + std::string(kColumns) + " FROM approvers WHERE name = $1",
                {std::string(name)}));
  if (rows.empty()) return std::optional<ApproverInfo>();
  WARDEN_ASSIGN_OR_RETURN(ApproverInfo info, RowFrom(rows.rows[0]));
  return std::optional<ApproverInfo>(std::move(info));
}

Status ValidateActor(std::string_view actor) {
  if (actor.empty()) return InvalidArgument("is required", "actor");
  return OkStatus();
}

std::string Quoted(std::string_view name) { return "approver \"" + std::string(name) + "\""; }

}  // namespace

boost::json::object ApproverToJson(const ApproverInfo& approver) {
  boost::json::object out;
  out["name"] = approver.name;
  out["enabled"] = approver.enabled();
  out["created_at"] = FormatRfc3339Exact(approver.created_at);
  out["created_by"] = approver.created_by;
  if (approver.disabled_at) out["disabled_at"] = FormatRfc3339Exact(*approver.disabled_at);
  return out;
}

Result<IssuedApprover> ApproverRegistry::Add(std::string_view name, std::string_view actor) {
  WARDEN_RETURN_IF_ERROR(identity::ValidateAgentName(name));
  WARDEN_RETURN_IF_ERROR(ValidateActor(actor));
  const TimePoint now = TruncateToMicros(clock_.Now());
  IssuedApprover issued;
  issued.info.name = std::string(name);
  issued.info.created_at = now;
  issued.info.created_by = std::string(actor);
  issued.token = RandomSecret(kTokenKind);

  Status s = store_.Write([&](store::Transaction& txn) -> Status {
    // Looked up first so a taken name is reported as such; the UNIQUE
    // constraint on token_sha256 could only fire for a 256-bit collision.
    WARDEN_ASSIGN_OR_RETURN(std::optional<ApproverInfo> existing, Load(txn, name));
    if (existing) {
      std::string state = existing->enabled()
                              ? "is already registered"
                              : "already exists (disabled since " +
                                    FormatRfc3339Exact(*existing->disabled_at) +
                                    "); choose another name";
      return AlreadyExists(Quoted(name) + " " + state, "name");
    }
    WARDEN_ASSIGN_OR_RETURN(
        int64_t inserted,
        txn.Exec("INSERT INTO approvers (name, token_sha256, created_at, created_by, disabled_at) "
                 "VALUES ($1, $2, $3, $4, NULL)",
                 {issued.info.name, crypto::Sha256Hex(issued.token), UnixMicros(now),
                  issued.info.created_by}));
    (void)inserted;
    WARDEN_ASSIGN_OR_RETURN(auto event,
                            audit::Append(txn,
                                          {std::string(actor), "approver.added", Subject(name),
                                           json::object{{"name", issued.info.name}}},
                                          now));
    (void)event;
    return OkStatus();
  });
  if (!s.ok()) {
    if (s.code() == StatusCode::kAlreadyExists) return s;
    return s.WithContext("adding " + Quoted(name));
  }
  return issued;
}

Result<ApproverInfo> ApproverRegistry::Disable(std::string_view name, std::string_view actor) {
  WARDEN_RETURN_IF_ERROR(identity::ValidateAgentName(name));
  WARDEN_RETURN_IF_ERROR(ValidateActor(actor));
  const TimePoint now = TruncateToMicros(clock_.Now());
  ApproverInfo out;
  Status s = store_.Write([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(std::optional<ApproverInfo> existing, Load(txn, name));
    if (!existing) return NotFound(Quoted(name) + " not found");
    if (!existing->enabled()) {
      return FailedPrecondition(Quoted(name) + " is already disabled (since " +
                                FormatRfc3339Exact(*existing->disabled_at) + ")");
    }
    WARDEN_ASSIGN_OR_RETURN(
        int64_t changed,
        txn.Exec("UPDATE approvers SET disabled_at = $1 WHERE name = $2 AND disabled_at IS NULL",
                 {UnixMicros(now), std::string(name)}));
    if (changed != 1) return Aborted(Quoted(name) + " was changed concurrently; retry");
    WARDEN_ASSIGN_OR_RETURN(auto event,
                            audit::Append(txn,
                                          {std::string(actor), "approver.disabled", Subject(name),
                                           json::object{{"name", std::string(name)}}},
                                          now));
    (void)event;
    out = std::move(*existing);
    out.disabled_at = now;
    return OkStatus();
  });
  if (!s.ok()) {
    if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kFailedPrecondition) return s;
    return s.WithContext("disabling " + Quoted(name));
  }
  return out;
}

Result<ApproverInfo> ApproverRegistry::Get(std::string_view name) {
  WARDEN_RETURN_IF_ERROR(identity::ValidateAgentName(name));
  std::optional<ApproverInfo> found;
  WARDEN_RETURN_IF_ERROR(store_.Read([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(found, Load(txn, name));
    return OkStatus();
  }));
  if (!found) return NotFound(Quoted(name) + " not found");
  return std::move(*found);
}

Result<std::vector<ApproverInfo>> ApproverRegistry::List() {
  std::vector<ApproverInfo> out;
  WARDEN_RETURN_IF_ERROR(store_.Read([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(
        store::Rows rows,
        txn.Query("SELECT " + std::string(kColumns) + " FROM approvers ORDER BY name"));
    for (const auto& row : rows.rows) {
      WARDEN_ASSIGN_OR_RETURN(ApproverInfo info, RowFrom(row));
      out.push_back(std::move(info));
    }
    return OkStatus();
  }));
  return out;
}

Result<std::string> ApproverRegistry::Authenticate(std::string_view token) {
  // The shape is checked without echoing the input, which may be a
  // mistyped secret of some other kind.
  const Status malformed = Unauthenticated(
      "malformed approver token: expected \"wap_\" + 43 base64url characters");
  if (token.size() != kTokenLength ||
      token.substr(0, kApproverTokenPrefix.size()) != kApproverTokenPrefix) {
    return malformed;
  }
  auto raw = Base64UrlDecode(token.substr(kApproverTokenPrefix.size()));
  if (!raw.ok() || raw->size() != kSecretBytes) return malformed;

  const std::string digest = crypto::Sha256Hex(token);
  std::string name, stored_digest;
  bool disabled = false;
  bool found = false;
  WARDEN_RETURN_IF_ERROR(store_.Read([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(
        store::Rows rows,
        txn.Query("SELECT name, token_sha256, disabled_at FROM approvers WHERE token_sha256 = $1",
                  {digest}));
    if (rows.empty()) return OkStatus();
    if (rows.rows[0].size() != 3 || !store::ReadText(rows.rows[0][0], &name) ||
        !store::ReadText(rows.rows[0][1], &stored_digest)) {
      return DataLoss("approvers row is malformed: unexpected column type");
    }
    disabled = !store::IsNull(rows.rows[0][2]);
    found = true;
    return OkStatus();
  }));
  // The index lookup already matched the digest; comparing again in constant
  // time keeps the decision independent of how the backend compares text.
  if (!found || !ConstantTimeEquals(digest, stored_digest)) {
    return Unauthenticated("unknown approver token");
  }
  if (disabled) return Unauthenticated(Quoted(name) + " is disabled");
  return name;
}

}  // namespace warden::approvals
