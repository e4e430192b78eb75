// SQLite backend. Durability comes from WAL with synchronous=FULL: a COMMIT
// returns only after the WAL is fsynced. Throughput comes from group commit:
// one writer thread runs many callers' functions inside one transaction (a
// savepoint each) and pays for one fsync per batch.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/internal/sqlite_store.h"
#include "warden/store/migrations.h"

namespace warden::store::internal {

namespace {

// Whether a failure says something about the health of the store (counted
// for /metrics) rather than about the caller's data.
bool IsBackendFailure(StatusCode code) {
  return code == StatusCode::kUnavailable || code == StatusCode::kDataLoss ||
         code == StatusCode::kInternal;
}

Status MapError(int rc, std::string_view what, std::string_view detail, bool read_only) {
  std::string msg = "sqlite: " + std::string(what) + ": " + std::string(detail);
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExists(std::move(msg));
      }
      return FailedPrecondition(std::move(msg));
    case SQLITE_READONLY:
      return read_only ? FailedPrecondition(msg + " (write in a read-only transaction)")
                       : Unavailable(std::move(msg));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
    case SQLITE_PERM:
    case SQLITE_NOLFS:
    case SQLITE_AUTH:
      return Unavailable(std::move(msg));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLoss(std::move(msg));
    case SQLITE_TOOBIG:
      return ResourceExhausted(std::move(msg));
    default:
      return Internal(std::move(msg));
  }
}

// "text" for error messages. (Built by appending: GCC 12 at -O3 warns
// falsely about `"\"" + std::string(...)`.)
std::string Quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  out.append(text);
  out.push_back('"');
  return out;
}

// Migrations are written in portable SQL. One physical difference matters:
// SQLite makes a column declared exactly "INTEGER PRIMARY KEY" the table's
// own 64-bit row key, while "BIGINT PRIMARY KEY" builds a second B-tree that
// every insert and every ordered scan must also walk. Both are 64-bit.
std::string SqliteDialect(std::string_view portable) {
  constexpr std::string_view kFrom = "BIGINT PRIMARY KEY";
  constexpr std::string_view kTo = "INTEGER PRIMARY KEY";
  std::string out;
  out.reserve(portable.size() + 16);
  size_t pos = 0;
  for (size_t at; (at = portable.find(kFrom, pos)) != std::string_view::npos; pos = at + kFrom.size()) {
    out.append(portable.substr(pos, at - pos));
    out.append(kTo);
  }
  out.append(portable.substr(pos));
  return out;
}

struct SvHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// A prepared statement and, for each SQLite parameter index, which element
// of the caller's params ($n -> n-1) it takes.
struct Prepared {
  sqlite3_stmt* stmt = nullptr;
  std::vector<int> param_of_index;
  size_t param_count = 0;  // highest $n referenced
  bool in_use = false;
};

class Connection {
 public:
  Connection(sqlite3* db, std::atomic<uint64_t>* errors) : db_(db), errors_(errors) {
    sqlite3_set_authorizer(db_, &Connection::Authorize, this);
  }
  ~Connection() {
    for (auto* cache : {&user_cache_, &internal_cache_}) {
      for (auto& [sql, p] : *cache) sqlite3_finalize(p.stmt);
    }
    sqlite3_close_v2(db_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* db() const { return db_; }

  // Maps the connection's last error for `rc`, counting backend failures.
  Status Error(int rc, std::string_view what, bool read_only) {
    Status s = MapError(rc, what, sqlite3_errmsg(db_), read_only);
    if (IsBackendFailure(s.code())) errors_->fetch_add(1, std::memory_order_relaxed);
    return s;
  }
  void CountError() { errors_->fetch_add(1, std::memory_order_relaxed); }

  // Compiles `sql` (or returns the cached statement). Sets `owned` when the
  // cached one is busy (re-entrant use) and a private copy was compiled; the
  // caller finalizes it. Statements from callers (`trusted` false) may not
  // end or nest transactions, attach files or change settings: the batch
  // that runs them owns the transaction.
  Result<Prepared*> Prepare(std::string_view sql, bool read_only, bool trusted, Prepared& scratch,
                            bool& owned) {
    owned = false;
    auto& cache = trusted ? internal_cache_ : user_cache_;
    auto it = cache.find(sql);
    if (it != cache.end() && !it->second.in_use) return &it->second;
    Prepared p;
    restricted_ = !trusted;
    Status compiled = Compile(sql, read_only, p);
    restricted_ = false;
    WARDEN_RETURN_IF_ERROR(compiled);
    if (it != cache.end()) {
      scratch = std::move(p);
      owned = true;
      return &scratch;
    }
    if (cache.size() >= kMaxCached) {
      // Callers use fixed SQL, so this only triggers on misuse; start over
      // rather than grow without bound.
      for (auto& [k, v] : cache) {
        if (v.in_use) {
          sqlite3_finalize(p.stmt);
          return Internal("statement cache overflow while statements are active");
        }
      }
      for (auto& [k, v] : cache) sqlite3_finalize(v.stmt);
      cache.clear();
    }
    auto [ins, ok] = cache.emplace(std::string(sql), std::move(p));
    (void)ok;
    return &ins->second;
  }

  // Runs a parameterless statement to completion (BEGIN, SAVEPOINT, ...).
  Status Simple(std::string_view sql) {
    Prepared scratch;
    bool owned = false;
    WARDEN_ASSIGN_OR_RETURN(Prepared * p, Prepare(sql, false, /*trusted=*/true, scratch, owned));
    int rc;
    while ((rc = sqlite3_step(p->stmt)) == SQLITE_ROW) {
    }
    Status s = rc == SQLITE_DONE ? OkStatus() : Error(rc, sql, false);
    sqlite3_reset(p->stmt);
    if (owned) sqlite3_finalize(p->stmt);
    return s;
  }

 private:
  static constexpr size_t kMaxCached = 512;
  static constexpr size_t kMaxSqlBytes = 1 << 20;

  static int Authorize(void* self, int action, const char*, const char* arg2, const char*,
                       const char*) {
    if (!static_cast<Connection*>(self)->restricted_) return SQLITE_OK;
    switch (action) {
      case SQLITE_TRANSACTION:
      case SQLITE_SAVEPOINT:
      case SQLITE_ATTACH:
      case SQLITE_DETACH:
        return SQLITE_DENY;
      case SQLITE_PRAGMA:
        // Reading a setting is harmless; changing one (synchronous=OFF,
        // foreign_keys=OFF) would undo the store's guarantees.
        return arg2 == nullptr ? SQLITE_OK : SQLITE_DENY;
      default:
        return SQLITE_OK;
    }
  }

  Status Compile(std::string_view sql, bool read_only, Prepared& out) {
    if (sql.size() > kMaxSqlBytes) return InvalidArgument("SQL statement longer than 1 MiB");
    const char* tail = nullptr;
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc == SQLITE_AUTH) {
      return InvalidArgument("statement not allowed in a Store transaction (transaction "
                             "control, ATTACH/DETACH or a PRAGMA assignment): " + Quoted(sql));
    }
    if (rc != SQLITE_OK) return Error(rc, "prepare " + Quoted(sql), read_only);
    if (stmt == nullptr) return InvalidArgument("empty SQL statement");
    const char* end = sql.data() + sql.size();
    for (const char* c = tail; c != nullptr && c < end; ++c) {
      if (*c != ';' && *c != ' ' && *c != '\n' && *c != '\t' && *c != '\r') {
        sqlite3_finalize(stmt);
        return InvalidArgument("more than one SQL statement in \"" + std::string(sql) + "\"");
      }
    }
    const int n = sqlite3_bind_parameter_count(stmt);
    out.param_of_index.assign(static_cast<size_t>(n), 0);
    std::vector<bool> seen;
    for (int i = 1; i <= n; ++i) {
      const char* name = sqlite3_bind_parameter_name(stmt, i);
      int number = 0;
      bool valid = name != nullptr && name[0] == '$' && name[1] >= '1' && name[1] <= '9';
      for (const char* c = valid ? name + 1 : ""; valid && *c != '\0'; ++c) {
        if (*c < '0' || *c > '9' || number > 100000) {
          valid = false;
          break;
        }
        number = number * 10 + (*c - '0');
      }
      if (!valid) {
        // `name` belongs to the statement: copy it before finalizing.
        Status bad = InvalidArgument("placeholder " + Quoted(name == nullptr ? "?" : name) +
                                     " in " + Quoted(sql) + ": only $1..$N are portable");
        sqlite3_finalize(stmt);
        return bad;
      }
      out.param_of_index[static_cast<size_t>(i - 1)] = number - 1;
      if (static_cast<size_t>(number) > seen.size()) seen.resize(static_cast<size_t>(number));
      seen[static_cast<size_t>(number - 1)] = true;
    }
    for (size_t k = 0; k < seen.size(); ++k) {
      if (!seen[k]) {
        sqlite3_finalize(stmt);
        return InvalidArgument("placeholder $" + std::to_string(k + 1) + " is missing in \"" +
                               std::string(sql) + "\"");
      }
    }
    out.param_count = seen.size();
    out.stmt = stmt;
    return OkStatus();
  }

  sqlite3* db_;
  std::atomic<uint64_t>* errors_;
  bool restricted_ = false;  // set while compiling a caller's statement
  std::unordered_map<std::string, Prepared, SvHash, std::equal_to<>> user_cache_;
  std::unordered_map<std::string, Prepared, SvHash, std::equal_to<>> internal_cache_;
};

class SqliteRowView final : public RowView {
 public:
  explicit SqliteRowView(sqlite3_stmt* stmt)
      : stmt_(stmt), columns_(static_cast<size_t>(sqlite3_column_count(stmt))) {}

  size_t size() const override { return columns_; }

  Result<int64_t> Int(size_t column) const override {
    WARDEN_RETURN_IF_ERROR(CheckColumn(column));
    const int c = static_cast<int>(column);
    if (sqlite3_column_type(stmt_, c) != SQLITE_INTEGER) {
      return InvalidArgument("column " + std::to_string(column) + " (" + Name(c) +
                             ") is not an integer");
    }
    return static_cast<int64_t>(sqlite3_column_int64(stmt_, c));
  }

  Result<std::string_view> Text(size_t column) const override {
    WARDEN_RETURN_IF_ERROR(CheckColumn(column));
    const int c = static_cast<int>(column);
    if (sqlite3_column_type(stmt_, c) != SQLITE_TEXT) {
      return InvalidArgument("column " + std::to_string(column) + " (" + Name(c) +
                             ") is not text");
    }
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
    const int n = sqlite3_column_bytes(stmt_, c);
    if (text == nullptr) return std::string_view();
    return std::string_view(text, static_cast<size_t>(n));
  }

  SqlValue Value(size_t column) const override {
    if (column >= columns_) return std::monostate{};
    const int c = static_cast<int>(column);
    switch (sqlite3_column_type(stmt_, c)) {
      case SQLITE_INTEGER: return static_cast<int64_t>(sqlite3_column_int64(stmt_, c));
      case SQLITE_FLOAT: return sqlite3_column_double(stmt_, c);
      case SQLITE_TEXT: {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
        const int n = sqlite3_column_bytes(stmt_, c);
        return std::string(text == nullptr ? "" : text, static_cast<size_t>(n));
      }
      case SQLITE_BLOB: {
        const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, c));
        const int n = sqlite3_column_bytes(stmt_, c);
        return Blob{std::string(data == nullptr ? "" : data, data == nullptr ? 0 : n)};
      }
      default: return std::monostate{};
    }
  }

 private:
  Status CheckColumn(size_t column) const {
    if (column >= columns_) {
      return InvalidArgument("column " + std::to_string(column) + " out of range (row has " +
                             std::to_string(columns_) + ")");
    }
    return OkStatus();
  }
  std::string Name(int c) const {
    const char* n = sqlite3_column_name(stmt_, c);
    return n == nullptr ? "?" : n;
  }

  sqlite3_stmt* stmt_;
  size_t columns_;
};

class SqliteTransaction final : public Transaction {
 public:
  // `trusted`: statements come from this file, not from a Store caller.
  SqliteTransaction(Connection& conn, bool read_only, bool trusted = false)
      : conn_(conn), read_only_(read_only), trusted_(trusted) {}

  Result<int64_t> Exec(std::string_view sql, const std::vector<SqlValue>& params) override {
    int64_t changes = 0;
    WARDEN_RETURN_IF_ERROR(Run(sql, params, [&](sqlite3_stmt*) { return OkStatus(); }, &changes));
    return changes;
  }

  Result<Rows> Query(std::string_view sql, const std::vector<SqlValue>& params) override {
    Rows rows;
    bool first = true;
    auto on_row = [&](sqlite3_stmt* stmt) {
      SqliteRowView view(stmt);
      if (first) {
        first = false;
        for (int c = 0; c < static_cast<int>(view.size()); ++c) {
          const char* n = sqlite3_column_name(stmt, c);
          rows.columns.emplace_back(n == nullptr ? "" : n);
        }
      }
      std::vector<SqlValue> row;
      row.reserve(view.size());
      for (size_t c = 0; c < view.size(); ++c) row.push_back(view.Value(c));
      rows.rows.push_back(std::move(row));
      return OkStatus();
    };
    WARDEN_RETURN_IF_ERROR(Run(sql, params, on_row, nullptr));
    return rows;
  }

  Status QueryEach(std::string_view sql, const std::vector<SqlValue>& params,
                   const std::function<Status(const RowView&)>& row) override {
    return Run(
        sql, params,
        [&](sqlite3_stmt* stmt) {
          SqliteRowView view(stmt);
          return row(view);
        },
        nullptr);
  }

 private:
  template <typename OnRow>
  Status Run(std::string_view sql, const std::vector<SqlValue>& params, OnRow&& on_row,
             int64_t* changes) {
    Prepared scratch;
    bool owned = false;
    WARDEN_ASSIGN_OR_RETURN(Prepared * p, conn_.Prepare(sql, read_only_, trusted_, scratch, owned));
    if (params.size() != p->param_count) {
      if (owned) sqlite3_finalize(p->stmt);
      return InvalidArgument("statement \"" + std::string(sql) + "\" takes " +
                             std::to_string(p->param_count) + " parameters, got " +
                             std::to_string(params.size()));
    }
    sqlite3_stmt* stmt = p->stmt;
    p->in_use = true;
    Status s = Bind(stmt, *p, params);
    while (s.ok()) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW) {
        try {
          s = on_row(stmt);
        } catch (const std::exception& e) {
          s = Internal(std::string("exception while reading a row: ") + e.what());
        }
        continue;
      }
      if (rc == SQLITE_DONE) {
        if (changes != nullptr) *changes = sqlite3_changes64(conn_.db());
        break;
      }
      s = conn_.Error(rc, Quoted(sql), read_only_);
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    p->in_use = false;
    if (owned) sqlite3_finalize(stmt);
    return s;
  }

  Status Bind(sqlite3_stmt* stmt, const Prepared& p, const std::vector<SqlValue>& params) {
    for (size_t i = 0; i < p.param_of_index.size(); ++i) {
      const int index = static_cast<int>(i + 1);
      const SqlValue& v = params[static_cast<size_t>(p.param_of_index[i])];
      int rc = SQLITE_OK;
      // SQLITE_STATIC: the parameters outlive the statement's execution,
      // and bindings are cleared before Run returns.
      switch (v.index()) {
        case 0: rc = sqlite3_bind_null(stmt, index); break;
        case 1: rc = sqlite3_bind_int64(stmt, index, std::get<int64_t>(v)); break;
        case 2: rc = sqlite3_bind_double(stmt, index, std::get<double>(v)); break;
        case 3: {
          const auto& s = std::get<std::string>(v);
          rc = sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8);
          break;
        }
        default: {
          const auto& b = std::get<Blob>(v).bytes;
          // A null pointer would bind NULL, so an empty blob is a zeroblob.
          rc = b.empty() ? sqlite3_bind_zeroblob(stmt, index, 0)
                         : sqlite3_bind_blob64(stmt, index, b.data(), b.size(), SQLITE_STATIC);
        }
      }
      if (rc != SQLITE_OK) return conn_.Error(rc, "bind $" + std::to_string(index), read_only_);
    }
    return OkStatus();
  }

  Connection& conn_;
  bool read_only_;
  bool trusted_;
};

// One queued write: on the caller's stack for Write (until `done`), on the
// heap for WriteAsync. (A mutex and
// condition variable rather than a semaphore: libstdc++'s semaphore spins
// with sched_yield before sleeping, which with hundreds of waiting writers
// costs more CPU than the writes.)
struct WriteRequest {
  explicit WriteRequest(std::function<Status(Transaction&)> f,
                        std::function<void(Status)> cb = nullptr)
      : fn(std::move(f)), callback(std::move(cb)) {}
  std::function<Status(Transaction&)> fn;
  // WriteAsync: the request is heap-owned by the queue and the callback
  // (possibly empty) replaces the wait.
  bool async = false;
  std::function<void(Status)> callback;
  Status result;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;

  void Wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
  }
  // Notifies under the lock: once unlocked the waiter may destroy *this.
  void Complete() {
    std::lock_guard lock(mu);
    done = true;
    cv.notify_one();
  }
};

// SQLite keeps process-wide memory statistics behind a mutex taken on every
// allocation; Warden does not read them. This must run before SQLite is
// first initialised and is ignored (SQLITE_MISUSE) if it already was.
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

Result<std::unique_ptr<Connection>> OpenConnection(const std::string& path, bool read_only,
                                                   const StoreOptions& options,
                                                   std::atomic<uint64_t>* errors) {
  ConfigureSqliteOnce();
  sqlite3* db = nullptr;
  const int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = MapError(rc, "open \"" + path + "\"",
                        db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc), read_only);
    sqlite3_close_v2(db);
    errors->fetch_add(1, std::memory_order_relaxed);
    return Unavailable(s.message());
  }
  auto conn = std::make_unique<Connection>(db, errors);
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  return conn;
}

// The first cell of a parameterless query (a pragma) as text.
Result<std::string> QueryText(Connection& conn, std::string_view sql) {
  SqliteTransaction txn(conn, false, /*trusted=*/true);
  WARDEN_ASSIGN_OR_RETURN(Rows rows, txn.Query(sql, {}));
  if (rows.empty() || rows.rows[0].empty()) return std::string();
  const SqlValue& v = rows.rows[0][0];
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return std::string();
}

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> Open(std::string_view path, const StoreOptions& options) {
    auto store = std::unique_ptr<SqliteStore>(new SqliteStore(path, options));
    WARDEN_RETURN_IF_ERROR(store->Init());
    return std::unique_ptr<Store>(std::move(store));
  }

  ~SqliteStore() override {
    {
      std::lock_guard lock(queue_mu_);
      stopping_ = true;
    }
    queue_cv_.notify_one();
    if (writer_.joinable()) writer_.join();
    readers_.clear();
    writer_conn_.reset();
  }

  Status Write(std::function<Status(Transaction&)> fn) override {
    if (!fn) return InvalidArgument("Write needs a function");
    WriteRequest req(std::move(fn));
    {
      std::lock_guard lock(queue_mu_);
      if (stopping_) return Unavailable("store is closing");
      queue_.push_back(&req);
    }
    queue_cv_.notify_one();
    req.Wait();
    return std::move(req.result);
  }

  void WriteAsync(std::function<Status(Transaction&)> fn,
                  std::function<void(Status)> done) override {
    if (!fn) {
      if (done) done(InvalidArgument("WriteAsync needs a function"));
      return;
    }
    auto req = std::make_unique<WriteRequest>(std::move(fn), std::move(done));
    req->async = true;
    {
      std::lock_guard lock(queue_mu_);
      if (!stopping_) {
        queue_.push_back(req.release());
      }
    }
    if (req != nullptr) {
      if (req->callback) req->callback(Unavailable("store is closing"));
      return;
    }
    queue_cv_.notify_one();
  }

  Status Read(const std::function<Status(Transaction&)>& fn) override {
    if (memory_) {
      // One in-memory database lives in one connection; reads take turns
      // with write batches and see only committed state.
      std::lock_guard lock(conn_mu_);
      return ReadOn(*writer_conn_, fn, /*query_only=*/true);
    }
    WARDEN_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, AcquireReader());
    Status s = ReadOn(*conn, fn, false);
    const bool healthy = sqlite3_get_autocommit(conn->db()) != 0;
    ReleaseReader(std::move(conn), healthy);
    return s;
  }

  int SchemaVersion() const override { return schema_version_; }
  std::string_view Backend() const override { return "sqlite"; }

  Status Ping() override {
    return Read([](Transaction& txn) { return txn.Query("SELECT 1", {}).status(); });
  }

  uint64_t ErrorCount() const override { return errors_.load(std::memory_order_relaxed); }

 private:
  SqliteStore(std::string_view path, const StoreOptions& options)
      : path_(path), memory_(path == ":memory:"), options_(options) {}

  Status Init() {
    if (!memory_) WARDEN_RETURN_IF_ERROR(CreateFile());
    WARDEN_ASSIGN_OR_RETURN(writer_conn_, OpenConnection(path_, false, options_, &errors_));
    Connection& conn = *writer_conn_;
    if (!memory_) {
      WARDEN_ASSIGN_OR_RETURN(std::string mode, QueryText(conn, "PRAGMA journal_mode=WAL"));
      if (mode != "wal") {
        errors_.fetch_add(1, std::memory_order_relaxed);
        return Unavailable("sqlite: \"" + path_ + "\" cannot use WAL journaling (got \"" + mode +
                           "\")");
      }
    }
    WARDEN_RETURN_IF_ERROR(conn.Simple("PRAGMA synchronous=FULL"));
    WARDEN_RETURN_IF_ERROR(conn.Simple("PRAGMA foreign_keys=ON"));
    WARDEN_RETURN_IF_ERROR(Migrate(conn));
    writer_ = std::thread([this] { WriterLoop(); });
    return OkStatus();
  }

  // Creates the database file 0600 before SQLite does, so it is never
  // readable by others; SQLite gives its -wal and -shm files the same mode.
  Status CreateFile() {
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      return Unavailable("sqlite: cannot open \"" + path_ + "\": " + std::strerror(errno));
    }
    ::close(fd);
    return OkStatus();
  }

  Status Migrate(Connection& conn) {
    WARDEN_RETURN_IF_ERROR(conn.Simple("BEGIN IMMEDIATE"));
    Status s = MigrateInTransaction(conn);
    if (s.ok()) s = conn.Simple("COMMIT");
    if (!s.ok() && sqlite3_get_autocommit(conn.db()) == 0) (void)conn.Simple("ROLLBACK");
    return s;
  }

  Status MigrateInTransaction(Connection& conn) {
    WARDEN_RETURN_IF_ERROR(
        conn.Simple("CREATE TABLE IF NOT EXISTS schema_migrations ("
                    "version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)"));
    SqliteTransaction txn(conn, false);
    WARDEN_ASSIGN_OR_RETURN(Rows rows,
                            txn.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {}));
    WARDEN_ASSIGN_OR_RETURN(int64_t current, AsInt(rows.rows.at(0).at(0)));
    const int latest = LatestSchemaVersion();
    if (current > latest) {
      return FailedPrecondition("database \"" + path_ + "\" has schema version " +
                                std::to_string(current) + " but this binary knows only up to " +
                                std::to_string(latest) + "; upgrade Warden");
    }
    for (const Migration& m : Migrations()) {
      if (m.version <= current) continue;
      char* err = nullptr;
      const std::string sql = SqliteDialect(m.sql);
      const int rc = sqlite3_exec(conn.db(), sql.c_str(), nullptr, nullptr, &err);
      if (rc != SQLITE_OK) {
        std::string detail = err != nullptr ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        return MapError(rc, "migration " + std::to_string(m.version), detail, false);
      }
      const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      WARDEN_RETURN_IF_ERROR(
          txn.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                   {int64_t{m.version}, now})
              .status());
    }
    schema_version_ = latest;
    return OkStatus();
  }

  void WriterLoop() {
    std::vector<WriteRequest*> batch;
    batch.reserve(options_.max_batch);
    for (;;) {
      {
        std::unique_lock lock(queue_mu_);
        queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        while (!queue_.empty() && batch.size() < options_.max_batch) {
          batch.push_back(queue_.front());
          queue_.pop_front();
        }
      }
      RunBatch(batch);
      // After Complete a caller may return and destroy its request.
      for (WriteRequest* r : batch) {
        if (!r->async) {
          r->Complete();
          continue;
        }
        std::unique_ptr<WriteRequest> owned(r);
        if (!owned->callback) continue;
        try {
          owned->callback(std::move(owned->result));
        } catch (...) {
          // A callback's failure is its own; the write is durable regardless.
        }
      }
      batch.clear();
    }
  }

  void RunBatch(const std::vector<WriteRequest*>& batch) {
    std::lock_guard lock(conn_mu_);
    Connection& conn = *writer_conn_;
    Status begin = conn.Simple("BEGIN IMMEDIATE");
    if (!begin.ok()) {
      for (WriteRequest* r : batch) r->result = Unavailable(begin.message());
      return;
    }
    // committed[i]: request i's function succeeded and its changes await COMMIT.
    std::vector<bool> committed(batch.size(), false);
    Status broken;
    for (size_t i = 0; i < batch.size(); ++i) {
      WriteRequest* r = batch[i];
      if (!broken.ok()) {
        r->result = Unavailable("write not attempted: " + broken.message());
        continue;
      }
      Status sp = conn.Simple("SAVEPOINT w");
      if (!sp.ok()) {
        broken = sp;
        r->result = Unavailable(sp.message());
        continue;
      }
      Status s;
      {
        SqliteTransaction txn(conn, false);
        try {
          s = r->fn(txn);
        } catch (const std::exception& e) {
          s = Internal(std::string("write function threw: ") + e.what());
        } catch (...) {
          s = Internal("write function threw a non-standard exception");
        }
      }
      if (sqlite3_get_autocommit(conn.db()) != 0) {
        // SQLite ended the whole transaction (I/O error, disk full) or the
        // function ran COMMIT/ROLLBACK itself: nothing of this batch is safe.
        conn.CountError();
        broken = Unavailable("the write transaction was aborted" +
                             (s.ok() ? std::string() : ": " + s.message()));
        r->result = s.ok() ? broken : s;
        continue;
      }
      if (!s.ok()) {
        Status rb = conn.Simple("ROLLBACK TO w");
        if (rb.ok()) rb = conn.Simple("RELEASE w");
        if (!rb.ok()) broken = Unavailable(rb.message());
        r->result = s;
        continue;
      }
      Status rel = conn.Simple("RELEASE w");
      if (!rel.ok()) {
        broken = Unavailable(rel.message());
        r->result = broken;
        continue;
      }
      committed[i] = true;
    }
    Status commit = broken.ok() ? conn.Simple("COMMIT") : broken;
    if (!commit.ok()) {
      if (sqlite3_get_autocommit(conn.db()) == 0) (void)conn.Simple("ROLLBACK");
      for (size_t i = 0; i < batch.size(); ++i) {
        if (committed[i]) batch[i]->result = Unavailable("commit failed: " + commit.message());
      }
      return;
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (committed[i]) batch[i]->result = OkStatus();
    }
  }

  static Status ReadOn(Connection& conn, const std::function<Status(Transaction&)>& fn,
                       bool query_only) {
    if (query_only) WARDEN_RETURN_IF_ERROR(conn.Simple("PRAGMA query_only=1"));
    Status s = conn.Simple("BEGIN");
    if (s.ok()) {
      SqliteTransaction txn(conn, true);
      try {
        s = fn(txn);
      } catch (const std::exception& e) {
        s = Internal(std::string("read function threw: ") + e.what());
      } catch (...) {
        s = Internal("read function threw a non-standard exception");
      }
      if (sqlite3_get_autocommit(conn.db()) == 0) {
        Status end = conn.Simple("COMMIT");
        if (s.ok() && !end.ok()) s = end;
      }
    }
    if (query_only) {
      Status off = conn.Simple("PRAGMA query_only=0");
      if (s.ok() && !off.ok()) s = off;
    }
    return s;
  }

  Result<std::unique_ptr<Connection>> AcquireReader() {
    std::unique_lock lock(readers_mu_);
    readers_cv_.wait(lock, [&] { return !readers_.empty() || open_readers_ < options_.max_readers; });
    if (!readers_.empty()) {
      auto conn = std::move(readers_.back());
      readers_.pop_back();
      return conn;
    }
    ++open_readers_;
    lock.unlock();
    auto conn = OpenConnection(path_, true, options_, &errors_);
    if (!conn.ok()) {
      std::lock_guard relock(readers_mu_);
      --open_readers_;
      readers_cv_.notify_one();
    }
    return conn;
  }

  void ReleaseReader(std::unique_ptr<Connection> conn, bool healthy) {
    std::lock_guard lock(readers_mu_);
    if (healthy) {
      readers_.push_back(std::move(conn));
    } else {
      conn.reset();
      --open_readers_;
    }
    readers_cv_.notify_one();
  }

  const std::string path_;
  const bool memory_;
  const StoreOptions options_;
  int schema_version_ = 0;
  std::atomic<uint64_t> errors_{0};

  // The writer connection; in memory mode also the reader, hence the mutex.
  std::mutex conn_mu_;
  std::unique_ptr<Connection> writer_conn_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<WriteRequest*> queue_;
  bool stopping_ = false;
  std::thread writer_;

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<Connection>> readers_;
  size_t open_readers_ = 0;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(std::string_view path, const StoreOptions& options) {
  return SqliteStore::Open(path, options);
}

}  // namespace warden::store::internal
