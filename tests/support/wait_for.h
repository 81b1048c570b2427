#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace ccstream::testing {

// Waits until `done()` or `limit` has passed, asking every 20 ms; returns `done()`'s last answer.
inline bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace ccstream::testing
