#include "control/disk_guard.h"

#include <fmt/format.h>
#include <sys/statvfs.h>

namespace suanpan::control {

Status DiskGuard::Check() {
  if (min_free_ <= 0 || paths_.empty()) return OkStatus();
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - checked_ < std::chrono::milliseconds(250)) return last_;
  checked_ = now;
  last_ = OkStatus();
  for (const std::string& path : paths_) {
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) != 0) continue;
    const int64_t free_bytes =
        static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
    if (free_bytes < min_free_) {
      last_ = UnavailableError(fmt::format(
          "the disk of {} has {} MiB free, under the {} MiB the server keeps for its own "
          "writes: new jobs and worker output are refused until space is freed",
          path, free_bytes >> 20, min_free_ >> 20));
      break;
    }
  }
  return last_;
}

}  // namespace suanpan::control
