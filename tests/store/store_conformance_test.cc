// Conformance suite for every Store backend: the same expectations run
// against each backend URL (today a SQLite file and SQLite in memory).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/test_dir.h"
#include "warden/store/migrations.h"
#include "warden/store/store.h"

namespace warden::store {
namespace {

using namespace std::chrono_literals;

enum class Backend { kSqliteFile, kSqliteMemory };

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqliteFile ? "SqliteFile" : "SqliteMemory";
}

class StoreConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    url_ = Persistent() ? "sqlite:" + dir_.File("warden.db") : "sqlite::memory:";
    Open();
  }

  void Open(const StoreOptions& options = {}) {
    store_.reset();
    auto s = OpenStore(url_, options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }

  // Whether the database survives closing the Store (reopen tests).
  bool Persistent() const { return GetParam() == Backend::kSqliteFile; }

  std::string BlobType() const { return store_->Backend() == "postgres" ? "BYTEA" : "BLOB"; }

  void CreateItems() {
    ASSERT_TRUE(store_
                    ->Write([](Transaction& txn) {
                      return txn
                          .Exec("CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT NOT NULL "
                                "UNIQUE, note TEXT)")
                          .status();
                    })
                    .ok());
  }

  Status Insert(int64_t id, const std::string& name) {
    return store_->Write([&](Transaction& txn) {
      return txn.Exec("INSERT INTO items (id, name) VALUES ($1, $2)", {id, name}).status();
    });
  }

  int64_t CountItems() {
    int64_t n = -1;
    Status s = store_->Read([&](Transaction& txn) -> Status {
      WARDEN_ASSIGN_OR_RETURN(Rows rows, txn.Query("SELECT COUNT(*) FROM items"));
      WARDEN_ASSIGN_OR_RETURN(n, AsInt(rows.rows.at(0).at(0)));
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return n;
  }

  bool HasItem(int64_t id) {
    bool found = false;
    Status s = store_->Read([&](Transaction& txn) -> Status {
      WARDEN_ASSIGN_OR_RETURN(Rows rows, txn.Query("SELECT name FROM items WHERE id = $1", {id}));
      found = !rows.empty();
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return found;
  }

  testing::TempDir dir_;
  std::string url_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformanceTest, OpensMigratedAndLive) {
  EXPECT_EQ(store_->SchemaVersion(), LatestSchemaVersion());
  EXPECT_EQ(store_->Backend(), "sqlite");
  EXPECT_TRUE(store_->Ping().ok());
  EXPECT_EQ(store_->ErrorCount(), 0u);
  Status s = store_->Read([](Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(Rows v, txn.Query("SELECT MAX(version) FROM schema_migrations"));
    EXPECT_EQ(AsInt(v.rows.at(0).at(0)).value(), LatestSchemaVersion());
    WARDEN_ASSIGN_OR_RETURN(Rows head, txn.Query("SELECT id, seq, hash FROM audit_head"));
    EXPECT_EQ(head.size(), 1u);
    EXPECT_EQ(AsInt(head.rows.at(0).at(1)).value(), 0);
    EXPECT_EQ(AsText(head.rows.at(0).at(2)).value(), std::string(64, '0'));
    for (const char* table : {"meta", "agents", "audit_events", "keys"}) {
      WARDEN_ASSIGN_OR_RETURN(Rows n, txn.Query("SELECT COUNT(*) FROM " + std::string(table)));
      EXPECT_EQ(AsInt(n.rows.at(0).at(0)).value(), 0) << table;
    }
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_P(StoreConformanceTest, MigrationsAreOrderedWithoutGaps) {
  int expected = 1;
  for (const Migration& m : Migrations()) EXPECT_EQ(m.version, expected++);
  EXPECT_EQ(LatestSchemaVersion(), expected - 1);
}

TEST_P(StoreConformanceTest, ReopeningKeepsSchemaAndData) {
  if (!Persistent()) GTEST_SKIP() << "in-memory databases end with the Store";
  CreateItems();
  ASSERT_TRUE(Insert(1, "one").ok());
  Open();
  EXPECT_EQ(store_->SchemaVersion(), LatestSchemaVersion());
  EXPECT_TRUE(HasItem(1));
  Status s = store_->Read([](Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(Rows v, txn.Query("SELECT COUNT(*) FROM schema_migrations"));
    EXPECT_EQ(AsInt(v.rows.at(0).at(0)).value(), LatestSchemaVersion());
    return OkStatus();
  });
  EXPECT_TRUE(s.ok());
}

TEST_P(StoreConformanceTest, ParamsOfEveryTypeRoundTrip) {
  const std::string ddl = "CREATE TABLE v (k BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, "
                          "s TEXT, b " + BlobType() + ", n TEXT)";
  ASSERT_TRUE(store_->Write([&](Transaction& txn) { return txn.Exec(ddl).status(); }).ok());
  const std::string text_with_nul("a\0b\"'\\\n\xc3\xa9", 9);
  const Blob blob{std::string("\x00\x01\xff\x7f", 4)};
  struct Row {
    int64_t k;
    SqlValue i, d, s, b;
  };
  const std::vector<Row> rows = {
      {1, int64_t{0}, 0.0, std::string(), Blob{}},
      {2, std::numeric_limits<int64_t>::max(), 1.5, text_with_nul, blob},
      {3, std::numeric_limits<int64_t>::min(), -2.25e300, std::string("x"), Blob{"y"}},
      {4, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}},
  };
  Status w = store_->Write([&](Transaction& txn) -> Status {
    for (const Row& r : rows) {
      WARDEN_ASSIGN_OR_RETURN(
          int64_t changed,
          txn.Exec("INSERT INTO v (k, i, d, s, b, n) VALUES ($1, $2, $3, $4, $5, NULL)",
                   {r.k, r.i, r.d, r.s, r.b}));
      EXPECT_EQ(changed, 1);
    }
    return OkStatus();
  });
  ASSERT_TRUE(w.ok()) << w.ToString();
  Status s = store_->Read([&](Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(Rows got, txn.Query("SELECT k, i, d, s, b, n FROM v ORDER BY k"));
    EXPECT_EQ(got.columns, (std::vector<std::string>{"k", "i", "d", "s", "b", "n"}));
    EXPECT_EQ(got.size(), rows.size());
    for (size_t r = 0; r < rows.size() && r < got.size(); ++r) {
      EXPECT_EQ(got.rows[r][0], SqlValue(rows[r].k));
      EXPECT_EQ(got.rows[r][1], rows[r].i) << r;
      EXPECT_EQ(got.rows[r][2], rows[r].d) << r;
      EXPECT_EQ(got.rows[r][3], rows[r].s) << r;
      EXPECT_EQ(got.rows[r][4], rows[r].b) << r;
      EXPECT_TRUE(IsNull(got.rows[r][5]));
    }
    // A placeholder used twice and placeholders out of order.
    WARDEN_ASSIGN_OR_RETURN(Rows two, txn.Query("SELECT $2 + $1, $1 * $1", {int64_t{3}, int64_t{4}}));
    EXPECT_EQ(two.rows.at(0).at(0), SqlValue(int64_t{7}));
    EXPECT_EQ(two.rows.at(0).at(1), SqlValue(int64_t{9}));
    WARDEN_ASSIGN_OR_RETURN(Rows by_text, txn.Query("SELECT k FROM v WHERE s = $1", {text_with_nul}));
    EXPECT_EQ(by_text.size(), 1u);
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_P(StoreConformanceTest, CellAccessorsCheckTypes) {
  EXPECT_EQ(AsInt(SqlValue(int64_t{5})).value(), 5);
  EXPECT_EQ(AsInt(SqlValue(std::string("5"))).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AsText(SqlValue(std::string("x"))).value(), "x");
  EXPECT_EQ(AsText(SqlValue(std::monostate{})).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsNull(SqlValue()));
  EXPECT_FALSE(IsNull(SqlValue(0.0)));
}

TEST_P(StoreConformanceTest, QueryEachStreamsRowsAndStopsOnError) {
  CreateItems();
  for (int64_t i = 1; i <= 50; ++i) ASSERT_TRUE(Insert(i, "n" + std::to_string(i)).ok());
  Status s = store_->Read([&](Transaction& txn) -> Status {
    int64_t expect = 1;
    Status each = txn.QueryEach("SELECT id, name FROM items WHERE id >= $1 ORDER BY id",
                                {int64_t{1}}, [&](const RowView& row) -> Status {
                                  EXPECT_EQ(row.size(), 2u);
                                  EXPECT_EQ(row.Int(0).value(), expect);
                                  EXPECT_EQ(row.Text(1).value(), "n" + std::to_string(expect));
                                  EXPECT_EQ(row.Int(1).status().code(),
                                            StatusCode::kInvalidArgument);
                                  EXPECT_EQ(row.Text(0).status().code(),
                                            StatusCode::kInvalidArgument);
                                  EXPECT_EQ(row.Int(2).status().code(),
                                            StatusCode::kInvalidArgument);
                                  EXPECT_EQ(row.Value(0), SqlValue(expect));
                                  ++expect;
                                  return OkStatus();
                                });
    EXPECT_TRUE(each.ok()) << each.ToString();
    EXPECT_EQ(expect, 51);
    int seen = 0;
    Status stop = txn.QueryEach("SELECT id FROM items ORDER BY id", {}, [&](const RowView&) {
      return ++seen == 3 ? Aborted("enough") : OkStatus();
    });
    EXPECT_EQ(stop.code(), StatusCode::kAborted);
    EXPECT_EQ(seen, 3);
    // The statement was reset: running it again starts from the first row.
    WARDEN_ASSIGN_OR_RETURN(Rows again, txn.Query("SELECT id FROM items ORDER BY id", {}));
    EXPECT_EQ(again.size(), 50u);
    // Re-entrant use of the same SQL while it is being stepped.
    int outer = 0;
    Status nested = txn.QueryEach("SELECT id FROM items WHERE id <= $1 ORDER BY id",
                                  {int64_t{2}}, [&](const RowView&) -> Status {
                                    ++outer;
                                    WARDEN_ASSIGN_OR_RETURN(
                                        Rows inner,
                                        txn.Query("SELECT id FROM items WHERE id <= $1 ORDER BY id",
                                                  {int64_t{2}}));
                                    EXPECT_EQ(inner.size(), 2u);
                                    return OkStatus();
                                  });
    EXPECT_TRUE(nested.ok()) << nested.ToString();
    EXPECT_EQ(outer, 2);
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_P(StoreConformanceTest, StatementErrorsAreValues) {
  CreateItems();
  ASSERT_TRUE(Insert(1, "one").ok());
  auto expect_code = [&](StatusCode code, std::function<Status(Transaction&)> fn) {
    Status s = store_->Write(std::move(fn));
    EXPECT_EQ(s.code(), code) << s.ToString();
  };
  // Wrong parameter counts, non-portable placeholders, several statements.
  expect_code(StatusCode::kInvalidArgument, [](Transaction& txn) {
    return txn.Exec("INSERT INTO items (id, name) VALUES ($1, $2)", {int64_t{2}}).status();
  });
  expect_code(StatusCode::kInvalidArgument, [](Transaction& txn) {
    return txn.Exec("SELECT $1", {int64_t{1}, int64_t{2}}).status();
  });
  expect_code(StatusCode::kInvalidArgument,
              [](Transaction& txn) { return txn.Exec("SELECT ?", {int64_t{1}}).status(); });
  expect_code(StatusCode::kInvalidArgument,
              [](Transaction& txn) { return txn.Exec("SELECT :name", {int64_t{1}}).status(); });
  expect_code(StatusCode::kInvalidArgument,
              [](Transaction& txn) { return txn.Exec("SELECT $2", {int64_t{1}, int64_t{1}}).status(); });
  expect_code(StatusCode::kInvalidArgument,
              [](Transaction& txn) { return txn.Exec("SELECT 1; DELETE FROM items").status(); });
  expect_code(StatusCode::kInvalidArgument, [](Transaction& txn) { return txn.Exec("  ").status(); });
  // The batch owns the transaction and the settings.
  for (const char* sql : {"COMMIT", "ROLLBACK", "BEGIN", "SAVEPOINT x", "RELEASE w",
                          "PRAGMA synchronous=OFF", "PRAGMA foreign_keys=OFF",
                          "ATTACH DATABASE '/tmp/x.db' AS x"}) {
    expect_code(StatusCode::kInvalidArgument, [&](Transaction& txn) { return txn.Exec(sql).status(); });
  }
  EXPECT_EQ(store_->ErrorCount(), 0u);
  // Constraint violations name the conflict; they are not store failures.
  expect_code(StatusCode::kAlreadyExists, [](Transaction& txn) {
    return txn.Exec("INSERT INTO items (id, name) VALUES ($1, $2)", {int64_t{1}, "x"}).status();
  });
  expect_code(StatusCode::kAlreadyExists, [](Transaction& txn) {
    return txn.Exec("INSERT INTO items (id, name) VALUES ($1, $2)", {int64_t{9}, "one"}).status();
  });
  expect_code(StatusCode::kFailedPrecondition, [](Transaction& txn) {
    return txn.Exec("INSERT INTO items (id, name) VALUES ($1, NULL)", {int64_t{9}}).status();
  });
  EXPECT_EQ(store_->ErrorCount(), 0u);
  // SQL the backend rejects is a counted failure.
  expect_code(StatusCode::kInternal,
              [](Transaction& txn) { return txn.Exec("SELEKT 1").status(); });
  expect_code(StatusCode::kInternal,
              [](Transaction& txn) { return txn.Query("SELECT * FROM no_such_table").status(); });
  EXPECT_EQ(store_->ErrorCount(), 2u);
  // Writes in a read transaction fail.
  Status r = store_->Read([](Transaction& txn) {
    return txn.Exec("INSERT INTO items (id, name) VALUES (5, 'five')").status();
  });
  EXPECT_EQ(r.code(), StatusCode::kFailedPrecondition) << r.ToString();
  EXPECT_FALSE(HasItem(5));
  // The store still works after all of that.
  EXPECT_TRUE(Insert(2, "two").ok());
  EXPECT_EQ(CountItems(), 2);
}

TEST_P(StoreConformanceTest, WriteReturnsTheFunctionsErrorAndKeepsNothing) {
  CreateItems();
  Status s = store_->Write([](Transaction& txn) -> Status {
    WARDEN_RETURN_IF_ERROR(
        txn.Exec("INSERT INTO items (id, name) VALUES (1, 'one')").status());
    return PermissionDenied("changed my mind");
  });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "changed my mind");
  EXPECT_FALSE(HasItem(1));
  Status thrown = store_->Write([](Transaction& txn) -> Status {
    (void)txn.Exec("INSERT INTO items (id, name) VALUES (2, 'two')");
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(thrown.code(), StatusCode::kInternal);
  EXPECT_FALSE(HasItem(2));
  EXPECT_EQ(store_->Write(nullptr).code(), StatusCode::kInvalidArgument);
}

// Holds the writer thread inside one function while other writes queue up,
// so that they are committed as one batch.
TEST_P(StoreConformanceTest, FailingFunctionRollsBackOnlyItsOwnChangesInABatch) {
  CreateItems();
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> entered;
  std::thread blocker([&] {
    Status s = store_->Write([&](Transaction& txn) -> Status {
      entered.set_value();
      released.wait();
      return txn.Exec("INSERT INTO items (id, name) VALUES (100, 'blocker')").status();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  });
  entered.get_future().wait();
  constexpr int kWriters = 12;
  std::vector<std::thread> writers;
  std::vector<Status> results(kWriters);
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back([&, i] {
      results[static_cast<size_t>(i)] = store_->Write([i](Transaction& txn) -> Status {
        WARDEN_RETURN_IF_ERROR(txn.Exec("INSERT INTO items (id, name) VALUES ($1, $2)",
                                        {int64_t{i}, "w" + std::to_string(i)})
                                   .status());
        if (i % 3 == 1) return FailedPrecondition("writer " + std::to_string(i) + " refuses");
        if (i % 3 == 2) {
          // A constraint error after a successful statement in the same function.
          return txn.Exec("INSERT INTO items (id, name) VALUES ($1, 'blocker')",
                          {int64_t{1000 + i}})
              .status();
        }
        return OkStatus();
      });
    });
  }
  std::this_thread::sleep_for(200ms);  // let every writer queue behind the blocker
  release.set_value();
  for (auto& t : writers) t.join();
  blocker.join();
  for (int i = 0; i < kWriters; ++i) {
    const Status& s = results[static_cast<size_t>(i)];
    if (i % 3 == 0) {
      EXPECT_TRUE(s.ok()) << i << ": " << s.ToString();
      EXPECT_TRUE(HasItem(i)) << i;
    } else {
      EXPECT_EQ(s.code(), i % 3 == 1 ? StatusCode::kFailedPrecondition
                                     : StatusCode::kAlreadyExists)
          << i << ": " << s.ToString();
      EXPECT_FALSE(HasItem(i)) << i;
    }
  }
  EXPECT_TRUE(HasItem(100));
  EXPECT_EQ(CountItems(), 1 + kWriters / 3);
}

TEST_P(StoreConformanceTest, ConcurrentWritersEveryAcknowledgedRowIsKept) {
  CreateItems();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 150;
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int64_t id = int64_t{t} * kPerThread + i;
        if (Insert(id, "r" + std::to_string(id)).ok()) acknowledged.fetch_add(1);
      }
    });
  }
  // Readers run alongside the writers.
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) EXPECT_GE(CountItems(), 0);
  });
  for (auto& t : threads) t.join();
  done.store(true);
  reader.join();
  EXPECT_EQ(acknowledged.load(), kThreads * kPerThread);
  if (Persistent()) Open();
  EXPECT_EQ(CountItems(), acknowledged.load());
}

TEST_P(StoreConformanceTest, WriteAsyncReportsEachResultOnceDurable) {
  CreateItems();
  constexpr int kThreads = 2;
  constexpr int kPerThread = 300;
  std::mutex mu;
  std::condition_variable cv;
  int pending = kThreads * kPerThread;
  int ok = 0;
  int refused = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int64_t id = int64_t{t} * kPerThread + i;
        store_->WriteAsync(
            [id](Transaction& txn) -> Status {
              WARDEN_RETURN_IF_ERROR(txn.Exec("INSERT INTO items (id, name) VALUES ($1, $2)",
                                              {id, "a" + std::to_string(id)})
                                         .status());
              return id % 10 == 0 ? Aborted("every tenth is refused") : OkStatus();
            },
            [&, id](Status s) {
              std::lock_guard lock(mu);
              if (s.ok()) {
                ++ok;
              } else if (s.code() == StatusCode::kAborted && id % 10 == 0) {
                ++refused;
              }
              if (--pending == 0) cv.notify_all();
            });
      }
    });
  }
  for (auto& t : threads) t.join();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return pending == 0; }));
  }
  EXPECT_EQ(refused, kThreads * kPerThread / 10);
  EXPECT_EQ(ok, kThreads * kPerThread - refused);
  if (Persistent()) Open();
  EXPECT_EQ(CountItems(), ok);
  EXPECT_FALSE(HasItem(0));
  EXPECT_TRUE(HasItem(1));
  // An empty function is refused through the callback; no callback is fine.
  Status empty;
  store_->WriteAsync(nullptr, [&](Status s) { empty = s; });
  EXPECT_EQ(empty.code(), StatusCode::kInvalidArgument);
  store_->WriteAsync([](Transaction&) { return OkStatus(); }, nullptr);
}

TEST_P(StoreConformanceTest, ReadSeesOneSnapshot) {
  CreateItems();
  ASSERT_TRUE(Insert(1, "one").ok());
  std::future<Status> writer;
  Status s = store_->Read([&](Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(Rows before, txn.Query("SELECT COUNT(*) FROM items"));
    writer = std::async(std::launch::async, [&] { return Insert(2, "two"); });
    // A file database commits the write while this snapshot stays open; an
    // in-memory one makes the write wait for the read.
    writer.wait_for(Persistent() ? 5s : 100ms);
    WARDEN_ASSIGN_OR_RETURN(Rows after, txn.Query("SELECT COUNT(*) FROM items"));
    EXPECT_EQ(before.rows, after.rows);
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(writer.get().ok());
  EXPECT_EQ(CountItems(), 2);
}

TEST_P(StoreConformanceTest, NewerSchemaIsRefused) {
  if (!Persistent()) GTEST_SKIP() << "needs a database that outlives the Store";
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("warden.db").c_str(), &db), SQLITE_OK);
  const std::string sql = "INSERT INTO schema_migrations (version, applied_at) VALUES (" +
                          std::to_string(LatestSchemaVersion() + 1) + ", 0)";
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = OpenStore(url_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition) << s.status().ToString();
  EXPECT_NE(s.status().message().find("schema version"), std::string::npos);
}

TEST_P(StoreConformanceTest, FileIsPrivateAndJournaled) {
  if (!Persistent()) GTEST_SKIP() << "no file";
  CreateItems();
  ASSERT_TRUE(Insert(1, "one").ok());
  for (const char* name : {"warden.db", "warden.db-wal", "warden.db-shm"}) {
    struct stat st {};
    ASSERT_EQ(::stat(dir_.File(name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
  }
  Status s = store_->Read([](Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(Rows mode, txn.Query("PRAGMA journal_mode"));
    EXPECT_EQ(AsText(mode.rows.at(0).at(0)).value(), "wal");
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformanceTest,
                         ::testing::Values(Backend::kSqliteFile, Backend::kSqliteMemory),
                         BackendName);

TEST(OpenStoreTest, RejectsBadUrls) {
  EXPECT_EQ(OpenStore("mysql://x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("sqlite:").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("sqlite://host/db").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("sqlite:file:x.db?mode=ro").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore(std::string_view("sqlite:a\0b", 10)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("postgres://localhost/warden").status().code(), StatusCode::kUnimplemented);
  StoreOptions zero;
  zero.max_batch = 0;
  EXPECT_EQ(OpenStore("sqlite::memory:", zero).status().code(), StatusCode::kInvalidArgument);
}

TEST(OpenStoreTest, UnopenableFileIsUnavailable) {
  auto s = OpenStore("sqlite:/nonexistent-dir-for-warden/x.db");
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable) << s.status().ToString();
}

TEST(OpenStoreTest, NotADatabaseIsRefused) {
  testing::TempDir dir;
  {
    FILE* f = fopen(dir.File("junk.db").c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs("this is not a database file, not even close; padding padding padding padding", f);
    fclose(f);
  }
  auto s = OpenStore("sqlite:" + dir.File("junk.db"));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss) << s.status().ToString();
}

TEST(OpenStoreTest, MaxBatchOneStillCommitsEverything) {
  StoreOptions one;
  one.max_batch = 1;
  auto s = OpenStore("sqlite::memory:", one);
  ASSERT_TRUE(s.ok());
  auto& store = **s;
  ASSERT_TRUE(store.Write([](Transaction& txn) { return txn.Exec("CREATE TABLE t (x BIGINT)").status(); }).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        EXPECT_TRUE(store.Write([](Transaction& txn) {
                           return txn.Exec("INSERT INTO t VALUES (1)").status();
                         }).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  Status r = store.Read([](Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(Rows n, txn.Query("SELECT COUNT(*) FROM t"));
    EXPECT_EQ(AsInt(n.rows.at(0).at(0)).value(), 80);
    return OkStatus();
  });
  EXPECT_TRUE(r.ok());
}

}  // namespace
}  // namespace warden::store
