#include "processor/runtime/worker_pool.h"

#include <algorithm>

namespace ccstream::runtime {

WorkerPool::WorkerPool(int helpers) {
  threads_.reserve(static_cast<size_t>(std::max(helpers, 0)));
  for (int i = 0; i < helpers; ++i) threads_.emplace_back([this, i] { Loop(i); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  start_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void WorkerPool::Run(int parts, const std::function<void(int)>& part) {
  parts = std::min(parts, size());
  if (parts <= 0) return;
  if (parts > 1) {
    {
      std::lock_guard lock(mu_);
      part_ = &part;
      parts_ = parts;
      running_ = parts - 1;
      ++generation_;
    }
    start_.notify_all();
  }
  part(0);
  if (parts > 1) {
    std::unique_lock lock(mu_);
    done_.wait(lock, [this] { return running_ == 0; });
    part_ = nullptr;
  }
}

void WorkerPool::Loop(int helper) {
  uint64_t seen = 0;
  std::unique_lock lock(mu_);
  while (true) {
    start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    const int index = helper + 1;
    if (index >= parts_) continue;  // not needed for this job
    const std::function<void(int)>* part = part_;
    lock.unlock();
    (*part)(index);
    lock.lock();
    if (--running_ == 0) done_.notify_one();
  }
}

}  // namespace ccstream::runtime
