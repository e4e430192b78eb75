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

class Transaction {
 public:
  virtual ~Transaction() = default;
  // Executes one statement; returns the number of rows changed.
  virtual Result<int64_t> Exec(std::string_view sql, const std::vector<SqlValue>& params = {}) = 0;
  // Executes one statement returning rows.
  virtual Result<Rows> Query(std::string_view sql, const std::vector<SqlValue>& params = {}) = 0;
};

struct StoreOptions {
  // Most write transactions committed together (group commit). 1 disables batching.
  size_t max_batch = 512;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` in a read-write transaction. When Write returns OK the changes
  // are durable (fsynced); concurrent writers may share one commit. When `fn`
  // returns an error, exactly its own changes are rolled back and the error is
  // returned. `fn` runs once, on an internal writer thread: it must not call
  // back into this Store. Unavailable when the database cannot be written.
  virtual Status Write(std::function<Status(Transaction&)> fn) = 0;

  // Runs `fn` against a consistent read-only snapshot. Writes through the
  // transaction fail.
  virtual Status Read(const std::function<Status(Transaction&)>& fn) = 0;

  // Schema version after migrations; "sqlite" or "postgres"; liveness probe.
  virtual int SchemaVersion() const = 0;
  virtual std::string_view Backend() const = 0;
  virtual Status Ping() = 0;
};

// Opens and migrates a store from a URL:
//   sqlite:/abs/path/warden.db   sqlite:relative/path.db   sqlite::memory:
// Unknown schemes are InvalidArgument; a database newer than this binary is
// FailedPrecondition (refuse to run rather than misread it).
Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const StoreOptions& options = {});

}  // namespace warden::store
