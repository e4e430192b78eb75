// DecisionNotifier: in-process signalling of approval decisions, so a caller
// can block until one approval id is decided without polling the store, and
// long-pollers can compare a cheap change counter. It carries no decision
// data: whoever wakes re-reads the store. Decisions made by another process
// sharing the database are not signalled (callers re-check periodically).
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace warden::approvals {

class DecisionNotifier {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  DecisionNotifier() = default;
  DecisionNotifier(const DecisionNotifier&) = delete;
  DecisionNotifier& operator=(const DecisionNotifier&) = delete;

  // Records a decision on approval `id`: increments ChangeCounter and wakes
  // every Watch on that id. Call after the decision is durable.
  void Notify(std::string_view id);

  // Incremented by every Notify; starts at 0. Lock-free.
  uint64_t ChangeCounter() const { return counter_.load(std::memory_order_acquire); }

  // Wakes every Watch for good; later waits return kClosed at once. For
  // shutdown. Irreversible.
  void Close();

  enum class WakeReason { kNotified, kTimeout, kClosed };

  // Interest in one approval id, registered at construction: a Notify that
  // happens after construction is never missed, even before the first Wait.
  // So: create the Watch, read the store, then Wait. One thread at a time per
  // Watch; the notifier must outlive it.
  class Watch {
   public:
    Watch(DecisionNotifier& notifier, std::string id);
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

    // Blocks until a Notify for the id that this Watch has not yet reported,
    // Close, or `deadline`, whichever comes first.
    WakeReason WaitUntil(Deadline deadline);

   private:
    DecisionNotifier& notifier_;
    std::string id_;
    uint64_t seen_ = 0;  // the id's generation already reported
  };

 private:
  struct Slot {
    uint64_t generation = 0;  // Notify count for the id while watched
    size_t watchers = 0;
    std::condition_variable cv;
  };

  std::atomic<uint64_t> counter_{0};
  std::mutex mu_;
  bool closed_ = false;  // guarded by mu_
  // Only ids somebody watches; a slot goes away with its last Watch.
  // unordered_map keeps node addresses stable, so a Slot's cv may be waited
  // on while other ids are inserted.
  std::unordered_map<std::string, Slot> slots_;  // guarded by mu_
};

}  // namespace warden::approvals
