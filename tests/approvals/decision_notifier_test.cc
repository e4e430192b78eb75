#include "warden/approvals/decision_notifier.h"

#include <gtest/gtest.h>

#include <thread>

namespace warden::approvals {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using WakeReason = DecisionNotifier::WakeReason;

TEST(DecisionNotifierTest, NotifyBeforeWaitIsNotLost) {
  DecisionNotifier n;
  DecisionNotifier::Watch watch(n, "apr_a");
  n.Notify("apr_a");
  EXPECT_EQ(watch.WaitUntil(steady_clock::now() + seconds(5)), WakeReason::kNotified);
  // Reported once: the next wait times out.
  EXPECT_EQ(watch.WaitUntil(steady_clock::now() + milliseconds(10)), WakeReason::kTimeout);
}

TEST(DecisionNotifierTest, OtherIdsDoNotWakeAWatch) {
  DecisionNotifier n;
  DecisionNotifier::Watch watch(n, "apr_a");
  n.Notify("apr_b");
  EXPECT_EQ(watch.WaitUntil(steady_clock::now() + milliseconds(20)), WakeReason::kTimeout);
  EXPECT_EQ(n.ChangeCounter(), 1u);
}

TEST(DecisionNotifierTest, WakesEveryWatcherOfTheIdFromAnotherThread) {
  DecisionNotifier n;
  WakeReason r1 = WakeReason::kTimeout, r2 = WakeReason::kTimeout;
  DecisionNotifier::Watch w1(n, "apr_a");
  DecisionNotifier::Watch w2(n, "apr_a");
  std::thread t1([&] { r1 = w1.WaitUntil(steady_clock::now() + seconds(10)); });
  std::thread t2([&] { r2 = w2.WaitUntil(steady_clock::now() + seconds(10)); });
  std::this_thread::sleep_for(milliseconds(20));
  n.Notify("apr_a");
  t1.join();
  t2.join();
  EXPECT_EQ(r1, WakeReason::kNotified);
  EXPECT_EQ(r2, WakeReason::kNotified);
}

TEST(DecisionNotifierTest, CounterCountsEveryNotify) {
  DecisionNotifier n;
  EXPECT_EQ(n.ChangeCounter(), 0u);
  n.Notify("apr_a");  // nobody watching: still counted
  n.Notify("apr_b");
  EXPECT_EQ(n.ChangeCounter(), 2u);
}

TEST(DecisionNotifierTest, CloseWakesWaitersForGood) {
  DecisionNotifier n;
  DecisionNotifier::Watch watch(n, "apr_a");
  WakeReason r = WakeReason::kTimeout;
  std::thread t([&] { r = watch.WaitUntil(steady_clock::now() + seconds(10)); });
  std::this_thread::sleep_for(milliseconds(20));
  n.Close();
  t.join();
  EXPECT_EQ(r, WakeReason::kClosed);
  DecisionNotifier::Watch later(n, "apr_b");
  EXPECT_EQ(later.WaitUntil(steady_clock::now() + seconds(10)), WakeReason::kClosed);
}

}  // namespace
}  // namespace warden::approvals
