// The audit log: an append-only chain of events where each event carries the
// SHA-256 of its canonical encoding and of its predecessor's, so editing,
// deleting, reordering or inserting rows is detected by Verify. The encoding
// is specified in docs/formats/audit.md. Functions keep nothing but
// per-thread buffers and the last head written, which is re-checked against
// the database on every append: they are thread-safe; a Transaction belongs
// to the Store call that handed it out.
#pragma once

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "warden/core/clock.h"
#include "warden/core/status.h"
#include "warden/store/store.h"

namespace warden::audit {

struct EventInput {
  std::string actor;    // "admin", "agent:<name>", "system", "anonymous@127.0.0.1"
  std::string kind;     // "agent.created", ...
  std::string subject;  // "agent:<name>", "key:<kid>", ...
  boost::json::object details;  // never secrets
};

struct Event {
  int64_t seq = 0;
  TimePoint time;  // microsecond precision
  std::string actor, kind, subject;
  boost::json::object details;
  std::string prev_hash, hash;  // lower-case hex SHA-256
};

// 64 zeros: the prev_hash of event 1 and the head hash of an empty log.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Where an appended event sits in the chain.
struct ChainLink {
  int64_t seq = 0;
  std::string prev_hash, hash;  // lower-case hex SHA-256
};

// An event checked and canonically encoded, waiting only for its place in
// the chain (seq and prev_hash). Preparing is the costly part of an append
// that needs no ordering, so a caller that hands writes to a Store's writer
// thread can prepare first, on its own thread, and leave only the chaining
// to the writer. Immutable once created; safe to share between threads.
class PreparedEvent {
 public:
  // The event `in` recorded at `now` (kept to the microsecond).
  // InvalidArgument (with the field) when actor, kind or subject is empty,
  // when any string, those inside details included, is not valid UTF-8, or
  // when details exceed 64 KiB as canonical JSON.
  static Result<PreparedEvent> Create(const EventInput& in, TimePoint now);

  std::string_view actor() const { return actor_; }
  std::string_view kind() const { return kind_; }
  std::string_view subject() const { return subject_; }
  // The CanonicalJson of the details object: what is stored and hashed.
  std::string_view details_json() const { return details_json_; }
  int64_t time_micros() const { return time_micros_; }

 private:
  friend Result<ChainLink> Append(store::Transaction& txn, const PreparedEvent& event);
  PreparedEvent() = default;

  std::string actor_, kind_, subject_, details_json_;
  int64_t time_micros_ = 0;
  // The canonical encoding before prev_hash and after seq (the parts of
  // docs/formats/audit.md that do not depend on the chain).
  std::string encoding_head_, encoding_tail_;
};

// Appends a prepared event within the caller's write transaction (same
// commit as the change it records). DataLoss when audit_head is missing,
// malformed, or behind the table (the chain is never forked); store errors
// as returned by the transaction.
Result<ChainLink> Append(store::Transaction& txn, const PreparedEvent& event);

// PreparedEvent::Create then Append above, returning the whole event.
// InvalidArgument for input Create refuses; otherwise as Append above.
Result<Event> Append(store::Transaction& txn, const EventInput& in, TimePoint now);

// Records an event that is a change of its own (a decision, a refused
// login), not part of another write: prepared on the calling thread, then
// appended in a Store::Write of its own, so OK means durable. Errors as
// PreparedEvent::Create, Append and Store::Write.
Status Record(store::Store& store, const EventInput& in, TimePoint now);

// Events with seq > after_seq, ascending, at most `limit` (and at most
// 10,000 per call: page with the last seq returned).
// DataLoss when a stored row cannot be decoded.
Result<std::vector<Event>> List(store::Transaction& txn, int64_t after_seq, size_t limit);

struct VerifyReport {
  int64_t events_checked = 0;  // events read before the first problem (all when ok)
  bool ok = true;
  int64_t first_bad_seq = 0;   // 0 when ok
  std::string problem;         // what is wrong at first_bad_seq; empty when ok
};

// Walks the whole chain in seq order in one read snapshot: recomputes every
// hash, checks each prev_hash link, that seq starts at 1 without gaps, and
// that audit_head names the last event. A broken chain is an OK result with
// ok=false; errors are only for a store that cannot be read. Hashes on one
// extra thread while the calling thread reads rows.
Result<VerifyReport> Verify(store::Store& store);

// The canonical encoding of an event's content (everything but `hash`),
// whose SHA-256 is the event's hash. `details_json` must be the
// CanonicalJson of the details object.
std::string CanonicalEncoding(int64_t seq, int64_t time_micros, std::string_view actor,
                              std::string_view kind, std::string_view subject,
                              std::string_view details_json, std::string_view prev_hash);

// {"seq","time" (RFC 3339 UTC with microseconds),"actor","kind","subject",
//  "details","prev_hash","hash"} for the API and exports.
boost::json::object EventToJson(const Event& event);

}  // namespace warden::audit
