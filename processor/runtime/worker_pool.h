#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ccstream::runtime {

// Threads that run the parts of one job beside the caller's thread: Run(parts, part) calls
// part(0) on the caller's thread and part(1) .. part(parts - 1) on the pool's threads, and
// returns when all have returned. One job at a time; Run is called from one thread only.
class WorkerPool {
 public:
  // `helpers` threads of its own (0: every part runs on the caller's thread).
  explicit WorkerPool(int helpers);
  // Joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Parts a job may have: the helpers and the caller.
  int size() const { return static_cast<int>(threads_.size()) + 1; }
  // Runs part(i) for every i in [0, parts), parts <= size(), and waits for them. `part` must not
  // throw.
  void Run(int parts, const std::function<void(int)>& part);

 private:
  void Loop(int helper);

  std::mutex mu_;
  std::condition_variable start_;  // a new job (generation_ moved on), or stopping_
  std::condition_variable done_;   // running_ fell to 0
  uint64_t generation_ = 0;
  int parts_ = 0;
  int running_ = 0;  // helpers' parts of the current job not yet returned
  const std::function<void(int)>* part_ = nullptr;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started once the members above exist
};

}  // namespace ccstream::runtime
