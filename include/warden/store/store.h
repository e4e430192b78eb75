// Store: Warden's durable state behind one small interface, so the embedded
// SQLite backend and a PostgreSQL backend serve the same callers unchanged.
// Callers write portable SQL (the common subset of SQLite and PostgreSQL,
// placeholders $1..$N, integers as BIGINT, times as Unix microseconds,
// JSON as TEXT). Schema changes are numbered migrations (migrations.h).
// Thread-safety: a Store is safe to use from many threads; a Transaction
// belongs to the single call of the function it is handed to.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "warden/core/clock.h"
#include "warden/core/status.h"

namespace warden::store {

struct Blob {
  std::string bytes;
  bool operator==(const Blob&) const = default;
};

// NULL, BIGINT, DOUBLE PRECISION, TEXT or BLOB/BYTEA.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string, Blob>;

struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;

  bool empty() const { return rows.empty(); }
  size_t size() const { return rows.size(); }
};

// Typed access to a cell; InvalidArgument when the stored type differs.
Result<int64_t> AsInt(const SqlValue& v);
Result<std::string> AsText(const SqlValue& v);
bool IsNull(const SqlValue& v);

// For row decoders that check many cells and report one "malformed row"
// error: the cell copied into *out, or false when it holds another type.
// ReadMicros reads a BIGINT of Unix microseconds (how times are stored).
bool ReadText(const SqlValue& v, std::string* out);
bool ReadMicros(const SqlValue& v, TimePoint* out);

// One result row seen during Transaction::QueryEach, without copying it.
// Valid only inside the callback it is passed to; views it returns end with
// the callback too.
class RowView {
 public:
  virtual ~RowView() = default;
  virtual size_t size() const = 0;
  // InvalidArgument when the column is out of range or holds another type.
  virtual Result<int64_t> Int(size_t column) const = 0;
  virtual Result<std::string_view> Text(size_t column) const = 0;
  // A copy of the cell, whatever its type.
  virtual SqlValue Value(size_t column) const = 0;
};

// Statements are prepared once per connection and cached by their SQL text:
// pass constant SQL with $n placeholders, never values spliced into it.
// Transaction control (BEGIN, COMMIT, SAVEPOINT...), ATTACH and setting
// changes are refused (InvalidArgument): the Store owns the transaction.
class Transaction {
 public:
  virtual ~Transaction() = default;
  // Executes one statement; returns the number of rows changed.
  // Errors: InvalidArgument for placeholders that do not match `params` or
  // more than one statement; AlreadyExists for a unique/primary key
  // violation; FailedPrecondition for other constraint violations or a write
  // in a read transaction; Unavailable when the database cannot be used.
  virtual Result<int64_t> Exec(std::string_view sql, const std::vector<SqlValue>& params = {}) = 0;
  // Executes one statement returning rows (same errors as Exec).
  virtual Result<Rows> Query(std::string_view sql, const std::vector<SqlValue>& params = {}) = 0;
  // Executes one statement and calls `row` for each result row in order,
  // without holding them all in memory. Stops at, and returns, the first
  // error `row` returns.
  virtual Status QueryEach(std::string_view sql, const std::vector<SqlValue>& params,
                           const std::function<Status(const RowView&)>& row) = 0;
};

struct StoreOptions {
  // Most write transactions committed together (group commit). 1 disables batching.
  size_t max_batch = 512;
  // Most read connections kept open (SQLite file databases).
  size_t max_readers = 8;
  // How long a statement waits for a lock held by another process.
  int busy_timeout_ms = 5000;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` in a read-write transaction. When Write returns OK the changes
  // are durable (fsynced); concurrent writers may share one commit. When `fn`
  // returns an error, exactly its own changes are rolled back and the error is
  // returned. `fn` runs once, on an internal writer thread: it must not call
  // back into this Store. Unavailable when the database cannot be written
  // (then none of `fn`'s changes are kept).
  virtual Status Write(std::function<Status(Transaction&)> fn) = 0;

  // Write without blocking the caller: queues `fn` and returns at once;
  // `done` later receives what Write would have returned (OK only once
  // durable). Both run on the writer thread (`done` runs on the calling
  // thread instead when the store is closing or `fn` is empty), so `done`
  // must be quick and must not call back into this Store. For callers that keep many writes in
  // flight from few threads (event loops), which lets group commit fill its
  // batches. `done` may be empty.
  virtual void WriteAsync(std::function<Status(Transaction&)> fn,
                          std::function<void(Status)> done) = 0;

  // Runs `fn` against a consistent read-only snapshot. Writes through the
  // transaction fail. `fn` runs on the calling thread.
  virtual Status Read(const std::function<Status(Transaction&)>& fn) = 0;

  // Schema version after migrations; "sqlite" or "postgres"; liveness probe.
  virtual int SchemaVersion() const = 0;
  virtual std::string_view Backend() const = 0;
  virtual Status Ping() = 0;

  // Backend failures since open (I/O, lock timeouts, failed commits, corrupt
  // data, SQL the backend rejects); for /metrics. Constraint violations and
  // errors returned by callers' functions are not counted.
  virtual uint64_t ErrorCount() const = 0;
};

// Opens and migrates a store from a URL:
//   sqlite:/abs/path/warden.db   sqlite:relative/path.db   sqlite::memory:
// A new database file is created with mode 0600.
// Unknown schemes are InvalidArgument; a database newer than this binary is
// FailedPrecondition (refuse to run rather than misread it); Unavailable when
// the database cannot be opened.
Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const StoreOptions& options = {});

}  // namespace warden::store
