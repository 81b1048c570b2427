#pragma once

// A directory under the system temporary directory ($TMPDIR or /tmp), removed with everything
// in it when the object goes. For the benchmarks that open a real RocksDB store.

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace ccstream::bench {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / (prefix + std::string("-XXXXXX"))).string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (mkdtemp(buffer.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    path_ = buffer.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  // The bytes of the files under the directory.
  int64_t DiskBytes() const {
    int64_t bytes = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(path_, ec)) {
      if (entry.is_regular_file(ec)) bytes += static_cast<int64_t>(entry.file_size(ec));
    }
    return bytes;
  }

 private:
  std::string path_;
};

// The resident set of this process now, in bytes (from /proc/self/statm; 0 if unreadable).
inline int64_t CurrentRssBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long total = 0;
  long resident = 0;
  const int read = std::fscanf(f, "%ld %ld", &total, &resident);
  std::fclose(f);
  if (read != 2) return 0;
  return static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

// The peak resident set of this process so far, in bytes (getrusage).
inline int64_t PeakRssBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

}  // namespace ccstream::bench
