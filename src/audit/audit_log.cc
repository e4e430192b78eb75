// The hash chain. Append serialises on the audit_head row: its UPDATE comes
// first, so in PostgreSQL a second appender waits on the row lock, and in
// SQLite the single writer already orders everything.
#include "warden/audit/audit_log.h"

#include <algorithm>
#include <optional>
#include <string>
#include <variant>
#include <vector>

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

Result<PreparedEvent> PreparedEvent::Create(const EventInput& in, TimePoint now) {
  WARDEN_RETURN_IF_ERROR(CheckField(in.actor, "actor"));
  WARDEN_RETURN_IF_ERROR(CheckField(in.kind, "kind"));
  WARDEN_RETURN_IF_ERROR(CheckField(in.subject, "subject"));
  PreparedEvent p;
  p.details_json_ = CanonicalJson(in.details);
  if (p.details_json_.size() > kMaxDetailsBytes) {
    return InvalidArgument("is " + std::to_string(p.details_json_.size()) +
                               " bytes as canonical JSON; the limit is " +
                               std::to_string(kMaxDetailsBytes),
                           "details");
  }
  if (!internal::IsValidUtf8(p.details_json_)) {
    return InvalidArgument("must be valid UTF-8", "details");
  }
  p.actor_ = in.actor;
  p.kind_ = in.kind;
  p.subject_ = in.subject;
  p.time_micros_ = UnixMicros(now);
  p.encoding_head_.reserve(64 + p.actor_.size() + p.details_json_.size() + p.kind_.size());
  internal::AppendEncodingHead(p.encoding_head_, p.actor_, p.details_json_, p.kind_);
  internal::AppendEncodingTail(p.encoding_tail_, p.subject_, p.time_micros_);
  return p;
}

Result<ChainLink> Append(store::Transaction& txn, const PreparedEvent& event) {
  // Updating the head row first is what orders concurrent appenders: in
  // PostgreSQL the UPDATE takes the row lock that a second appender waits
  // for. (UPDATE ... RETURNING would do both at once, but SQLite builds a
  // temporary table for every RETURNING statement.)
  //
  // The head this thread wrote last is usually still the head (one writer
  // thread appends everything), so the first try moves the head only if it
  // still holds exactly those values: one changed row proves seq and hash
  // without reading them back. Otherwise (another writer, a rolled-back
  // append, another database) the head is bumped and read.
  //
  // Statement parameters live in per-thread vectors whose strings keep
  // their capacity, so an append allocates nothing for them once warm.
  thread_local ChainLink last;
  thread_local std::vector<store::SqlValue> expected_head{int64_t{0}, std::string()};
  thread_local std::vector<store::SqlValue> event_row(8, std::string());
  thread_local std::vector<store::SqlValue> new_head(1, std::string());
  ChainLink link;
  int64_t bumped = 0;
  if (last.seq > 0) {
    expected_head[0] = last.seq;
    std::get<std::string>(expected_head[1]).assign(last.hash);
    WARDEN_ASSIGN_OR_RETURN(
        bumped, txn.Exec("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 AND seq = $1 AND "
                         "hash = $2",
                         expected_head));
  }
  if (bumped == 1) {
    link.seq = last.seq + 1;
    link.prev_hash = last.hash;
  } else {
    WARDEN_ASSIGN_OR_RETURN(bumped,
                            txn.Exec("UPDATE audit_head SET seq = seq + 1 WHERE id = 1", {}));
    if (bumped != 1) {
      return DataLoss("audit_head row is missing; the audit log cannot be extended");
    }
    Status head = txn.QueryEach("SELECT seq, hash FROM audit_head WHERE id = 1", {},
                                [&](const store::RowView& row) -> Status {
                                  WARDEN_ASSIGN_OR_RETURN(link.seq, row.Int(0));
                                  WARDEN_ASSIGN_OR_RETURN(std::string_view h, row.Text(1));
                                  link.prev_hash.assign(h);
                                  return OkStatus();
                                });
    if (!head.ok()) {
      if (head.code() == StatusCode::kInvalidArgument) {
        return DataLoss("audit_head row is malformed: " + head.message());
      }
      return head;
    }
  }

  // Only the link (prev_hash and seq) is encoded here; the rest was encoded
  // when the event was prepared. The digest context and the buffer are
  // reused by every append on this (writer) thread.
  thread_local std::optional<Sha256> sha;
  thread_local std::string encoding;
  if (!sha) {
    WARDEN_ASSIGN_OR_RETURN(Sha256 created, Sha256::Create());
    sha.emplace(std::move(created));
  }
  encoding.assign(event.encoding_head_);
  internal::AppendEncodingLink(encoding, link.prev_hash, link.seq);
  encoding.append(event.encoding_tail_);
  Digest d;
  WARDEN_RETURN_IF_ERROR(sha->Hash(encoding, d));
  link.hash = internal::DigestHex(d);

  // Slots 0 and 1 hold integers, 2 to 7 strings, on every call.
  event_row[0] = link.seq;
  event_row[1] = event.time_micros_;
  std::get<std::string>(event_row[2]).assign(event.actor_);
  std::get<std::string>(event_row[3]).assign(event.kind_);
  std::get<std::string>(event_row[4]).assign(event.subject_);
  std::get<std::string>(event_row[5]).assign(event.details_json_);
  std::get<std::string>(event_row[6]).assign(link.prev_hash);
  std::get<std::string>(event_row[7]).assign(link.hash);
  auto inserted = txn.Exec(
      "INSERT INTO audit_events (seq, time, actor, kind, subject, details, prev_hash, hash) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      event_row);
  if (!inserted.ok()) {
    if (inserted.status().code() == StatusCode::kAlreadyExists) {
      return DataLoss("audit event " + std::to_string(link.seq) +
                      " already exists but audit_head is behind it; run audit verification");
    }
    return inserted.status();
  }
  std::get<std::string>(new_head[0]).assign(link.hash);
  WARDEN_RETURN_IF_ERROR(
      txn.Exec("UPDATE audit_head SET hash = $1 WHERE id = 1", new_head).status());
  last.seq = link.seq;
  last.hash = link.hash;
  return link;
}

Status Record(store::Store& store, const EventInput& in, TimePoint now) {
  WARDEN_ASSIGN_OR_RETURN(PreparedEvent prepared, PreparedEvent::Create(in, now));
  return store.Write(
      [&](store::Transaction& txn) -> Status { return Append(txn, prepared).status(); });
}

Result<Event> Append(store::Transaction& txn, const EventInput& in, TimePoint now) {
  WARDEN_ASSIGN_OR_RETURN(PreparedEvent prepared, PreparedEvent::Create(in, now));
  WARDEN_ASSIGN_OR_RETURN(ChainLink link, Append(txn, prepared));
  Event e;
  e.seq = link.seq;
  e.time = FromUnixMicros(prepared.time_micros());
  e.actor = in.actor;
  e.kind = in.kind;
  e.subject = in.subject;
  e.details = in.details;
  e.prev_hash = std::move(link.prev_hash);
  e.hash = std::move(link.hash);
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
