#include "warden/approvals/decision_notifier.h"

#include <utility>

namespace warden::approvals {

void DecisionNotifier::Notify(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  // Under the lock so the counter and the watched generations move
  // together; readers of ChangeCounter need no lock.
  counter_.fetch_add(1, std::memory_order_acq_rel);
  auto it = slots_.find(std::string(id));
  if (it == slots_.end()) return;
  ++it->second.generation;
  it->second.cv.notify_all();
}

void DecisionNotifier::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  for (auto& [id, slot] : slots_) slot.cv.notify_all();
}

DecisionNotifier::Watch::Watch(DecisionNotifier& notifier, std::string id)
    : notifier_(notifier), id_(std::move(id)) {
  std::lock_guard<std::mutex> lock(notifier_.mu_);
  Slot& slot = notifier_.slots_[id_];
  ++slot.watchers;
  seen_ = slot.generation;
}

DecisionNotifier::Watch::~Watch() {
  std::lock_guard<std::mutex> lock(notifier_.mu_);
  auto it = notifier_.slots_.find(id_);
  if (it != notifier_.slots_.end() && --it->second.watchers == 0) notifier_.slots_.erase(it);
}

DecisionNotifier::WakeReason DecisionNotifier::Watch::WaitUntil(Deadline deadline) {
  std::unique_lock<std::mutex> lock(notifier_.mu_);
  // The slot lives at least as long as this Watch, which counts in watchers.
  Slot& slot = notifier_.slots_.find(id_)->second;
  for (;;) {
    if (notifier_.closed_) return WakeReason::kClosed;
    if (slot.generation != seen_) {
      seen_ = slot.generation;
      return WakeReason::kNotified;
    }
    if (slot.cv.wait_until(lock, deadline) == std::cv_status::timeout) {
      if (notifier_.closed_) return WakeReason::kClosed;
      if (slot.generation != seen_) {
        seen_ = slot.generation;
        return WakeReason::kNotified;
      }
      return WakeReason::kTimeout;
    }
  }
}

}  // namespace warden::approvals
