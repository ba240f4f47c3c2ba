#pragma once
// Keeps a reserve of free space on the file systems of the store and the logs. Below it, what
// grows without bound from outside (submits, worker output) is refused with Unavailable (503:
// nothing acknowledged, clients retry), while the control plane's own small writes (binds,
// exits, lease changes) still commit in the reserve. Without it a disk filled by logs made every
// commit fail and the server exit, over and over (issue 12, finding 8).

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"

namespace suanpan::control {

class DiskGuard {
 public:
  DiskGuard(std::vector<std::string> paths, int64_t min_free_bytes)
      : paths_(std::move(paths)), min_free_(min_free_bytes) {}
  // OK, or Unavailable naming the file system, what is free and the reserve. Looks at most
  // every 250 ms (statvfs is cheap, but submits come by the thousand per second).
  Status Check();

 private:
  std::vector<std::string> paths_;
  int64_t min_free_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point checked_{};
  Status last_;
};

}  // namespace suanpan::control
