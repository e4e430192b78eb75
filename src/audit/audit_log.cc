// The hash chain. Append serialises on the audit_head row: its UPDATE comes
// first, so in PostgreSQL a second appender waits on the row lock, and in
// SQLite the single writer already orders everything.
#include "warden/audit/audit_log.h"

#include <algorithm>
#include <optional>
#include <string>

#include "audit/internal/chain_hash.h"
#include "warden/core/json.h"
#include "warden/core/time_format.h"

namespace warden::audit {

namespace {

using internal::Digest;
using internal::Sha256;

constexpr size_t kMaxListLimit = 10000;
// Events are evidence, not storage: a bounded details object keeps every
// row readable by List and keeps verification fast.
constexpr size_t kMaxDetailsBytes = 64 * 1024;

constexpr std::string_view kSelectColumns =
    "seq, time, actor, kind, subject, details, prev_hash, hash";

Status CheckField(std::string_view value, std::string_view name) {
  if (value.empty()) return InvalidArgument("must not be empty", std::string(name));
  if (!internal::IsValidUtf8(value)) {
    return InvalidArgument("must be valid UTF-8", std::string(name));
  }
  return OkStatus();
}

Result<Event> EventFromRow(const store::RowView& row) {
  Event e;
  auto bad = [&](std::string_view column, const Status& s) {
    return DataLoss("audit event " + std::to_string(e.seq) + ": column " + std::string(column) +
                    ": " + s.message());
  };
  auto seq = row.Int(0);
  if (!seq.ok()) return bad("seq", seq.status());
  e.seq = *seq;
  auto time = row.Int(1);
  if (!time.ok()) return bad("time", time.status());
  e.time = FromUnixMicros(*time);
  const char* names[] = {"actor", "kind", "subject", "details", "prev_hash", "hash"};
  std::string_view texts[6];
  for (size_t i = 0; i < 6; ++i) {
    auto t = row.Text(i + 2);
    if (!t.ok()) return bad(names[i], t.status());
    texts[i] = *t;
  }
  e.actor = texts[0];
  e.kind = texts[1];
  e.subject = texts[2];
  auto details = ParseJson(texts[3]);
  if (!details.ok()) return bad("details", details.status());
  if (!details->is_object()) return bad("details", InvalidArgument("not a JSON object"));
  e.details = std::move(details->get_object());
  e.prev_hash = texts[4];
  e.hash = texts[5];
  return e;
}

}  // namespace

std::string CanonicalEncoding(int64_t seq, int64_t time_micros, std::string_view actor,
                              std::string_view kind, std::string_view subject,
                              std::string_view details_json, std::string_view prev_hash) {
  std::string out;
  out.reserve(160 + actor.size() + kind.size() + subject.size() + details_json.size());
  internal::AppendEncoding(out, seq, time_micros, actor, kind, subject, details_json, prev_hash);
  return out;
}

Result<Event> Append(store::Transaction& txn, const EventInput& in, TimePoint now) {
  WARDEN_RETURN_IF_ERROR(CheckField(in.actor, "actor"));
  WARDEN_RETURN_IF_ERROR(CheckField(in.kind, "kind"));
  WARDEN_RETURN_IF_ERROR(CheckField(in.subject, "subject"));
  std::string details = CanonicalJson(in.details);
  if (details.size() > kMaxDetailsBytes) {
    return InvalidArgument("is " + std::to_string(details.size()) +
                               " bytes as canonical JSON; the limit is " +
                               std::to_string(kMaxDetailsBytes),
                           "details");
  }
  if (!internal::IsValidUtf8(details)) return InvalidArgument("must be valid UTF-8", "details");

  // Updating the head row first is what orders concurrent appenders: in
  // PostgreSQL the UPDATE takes the row lock that a second appender waits
  // for. (UPDATE ... RETURNING would do both at once, but SQLite builds a
  // temporary table for every RETURNING statement.)
  WARDEN_ASSIGN_OR_RETURN(int64_t bumped,
                          txn.Exec("UPDATE audit_head SET seq = seq + 1 WHERE id = 1", {}));
  if (bumped != 1) {
    return DataLoss("audit_head row is missing; the audit log cannot be extended");
  }
  int64_t seq = 0;
  std::string prev_hash;
  Status head = txn.QueryEach("SELECT seq, hash FROM audit_head WHERE id = 1", {},
                              [&](const store::RowView& row) -> Status {
                                WARDEN_ASSIGN_OR_RETURN(seq, row.Int(0));
                                WARDEN_ASSIGN_OR_RETURN(std::string_view h, row.Text(1));
                                prev_hash.assign(h);
                                return OkStatus();
                              });
  if (!head.ok()) {
    if (head.code() == StatusCode::kInvalidArgument) {
      return DataLoss("audit_head row is malformed: " + head.message());
    }
    return head;
  }

  Event e;
  e.seq = seq;
  const int64_t micros = UnixMicros(now);
  e.time = FromUnixMicros(micros);
  e.actor = in.actor;
  e.kind = in.kind;
  e.subject = in.subject;
  e.details = in.details;
  e.prev_hash = std::move(prev_hash);

  // One digest context per writer thread, reused across appends.
  thread_local std::optional<Sha256> sha;
  if (!sha) {
    WARDEN_ASSIGN_OR_RETURN(Sha256 created, Sha256::Create());
    sha.emplace(std::move(created));
  }
  Digest d;
  WARDEN_RETURN_IF_ERROR(sha->Hash(
      CanonicalEncoding(seq, micros, e.actor, e.kind, e.subject, details, e.prev_hash), d));
  e.hash = internal::DigestHex(d);

  auto inserted = txn.Exec(
      "INSERT INTO audit_events (seq, time, actor, kind, subject, details, prev_hash, hash) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {seq, micros, e.actor, e.kind, e.subject, std::move(details), e.prev_hash, e.hash});
  if (!inserted.ok()) {
    if (inserted.status().code() == StatusCode::kAlreadyExists) {
      return DataLoss("audit event " + std::to_string(seq) +
                      " already exists but audit_head is behind it; run audit verification");
    }
    return inserted.status();
  }
  WARDEN_RETURN_IF_ERROR(
      txn.Exec("UPDATE audit_head SET hash = $1 WHERE id = 1", {e.hash}).status());
  return e;
}

Result<std::vector<Event>> List(store::Transaction& txn, int64_t after_seq, size_t limit) {
  std::vector<Event> events;
  limit = std::min(limit, kMaxListLimit);
  if (limit == 0) return events;
  Status s = txn.QueryEach(
      "SELECT " + std::string(kSelectColumns) +
          " FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
      {after_seq, static_cast<int64_t>(limit)}, [&](const store::RowView& row) -> Status {
        WARDEN_ASSIGN_OR_RETURN(Event e, EventFromRow(row));
        events.push_back(std::move(e));
        return OkStatus();
      });
  WARDEN_RETURN_IF_ERROR(s);
  return events;
}

boost::json::object EventToJson(const Event& event) {
  boost::json::object o;
  o["seq"] = event.seq;
  o["time"] = FormatRfc3339(event.time, /*micros=*/true);
  o["actor"] = event.actor;
  o["kind"] = event.kind;
  o["subject"] = event.subject;
  o["details"] = event.details;
  o["prev_hash"] = event.prev_hash;
  o["hash"] = event.hash;
  return o;
}

}  // namespace warden::audit
