// HandlerPool: the threads that run request handlers, so that the HTTP
// server's I/O threads never block on a durable store write, an upstream
// call or a long policy decision. A fixed number of threads and a bounded
// queue: past the bound, Submit refuses instead of queueing without limit.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace warden::server::internal {

class HandlerPool {
 public:
  // Starts `threads` threads (at least 1); at most `max_queued` tasks wait.
  HandlerPool(int threads, size_t max_queued);
  // Runs what is queued, then joins the threads.
  ~HandlerPool();
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  // Queues `task`; false (and `task` is not run) when the queue is full or
  // the pool is stopping. Tasks must not throw.
  bool Submit(std::function<void()> task);

  // Stops accepting tasks, runs those already queued, and joins the
  // threads. Idempotent; must not be called from a task.
  void Stop();

 private:
  void Run();

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace warden::server::internal
