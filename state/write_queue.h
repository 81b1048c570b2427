#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace ccstream::state {

// One thread that runs the jobs posted to it, one at a time, in the order posted: the local
// writes of the tasks' committed batches (TaskState::StartCommit), so that the pipeline's thread
// goes on with the next batch meanwhile. The destructor runs the jobs still queued, then joins.
class WriteQueue {
 public:
  WriteQueue();
  ~WriteQueue();
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  void Post(std::function<void()> job);

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace ccstream::state
