#include "control/worker_logs.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace suanpan::control {

namespace fs = std::filesystem;
constexpr int64_t kMaxLogRead = 1 << 20;

std::string WorkerLogs::Path(uint64_t job, int attempt, int rank) const {
  return (fs::path(dir_) / std::to_string(job) / std::to_string(attempt) /
          (std::to_string(rank) + ".log"))
      .string();
}

void WorkerLogs::Count(const std::string& tenant, uint64_t job) {
  if (dir_.empty()) return;
  std::error_code ec;
  const fs::path root = fs::path(dir_) / std::to_string(job);
  if (!fs::is_directory(root, ec)) return;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) used_[tenant] += static_cast<int64_t>(it->file_size(ec));
  }
}

int64_t WorkerLogs::Used(const std::string& tenant) const {
  auto it = used_.find(tenant);
  return it == used_.end() ? 0 : it->second;
}

StatusOr<int64_t> WorkerLogs::Append(const std::string& tenant, uint64_t job, int attempt, int rank,
                                     int64_t offset, std::string_view data) {
  if (offset < 0) return FieldError("offset", "must be >= 0");
  const fs::path file = Path(job, attempt, rank);
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  const int64_t size = fs::exists(file, ec) ? static_cast<int64_t>(fs::file_size(file, ec)) : 0;
  if (offset > size) {
    return FailedPreconditionError(
               fmt::format("offset: the server has {} bytes of this log, got offset {}", size,
                           offset))
        .WithField("offset");
  }
  const int64_t skip = size - offset;
  if (skip >= static_cast<int64_t>(data.size())) return size;
  int64_t n = static_cast<int64_t>(data.size()) - skip;
  int64_t& used = used_[tenant];
  const bool over = cap_ > 0 && used + n > cap_;
  if (over) n = std::max<int64_t>(0, cap_ - used);
  std::ofstream out(file, std::ios::binary | std::ios::app);
  out.write(data.data() + skip, static_cast<std::streamsize>(n));
  if (over) {
    // Once per log: a log already ended by the marker gets no second one.
    bool marked = false;
    if (n == 0 && size >= 64) {
      std::ifstream in(file, std::ios::binary);
      in.seekg(size - 64);
      std::string tail(64, '\0');
      in.read(tail.data(), 64);
      marked = tail.find("log quota") != std::string::npos;
    }
    if (!marked) {
      const std::string marker = fmt::format(
          "\n[suanpan: tenant {}'s log quota ({} MiB) is used up; the rest of this "
          "output was discarded]\n",
          tenant, cap_ >> 20);
      out << marker;
      used += static_cast<int64_t>(marker.size());
    }
  }
  if (!out) return UnavailableError(fmt::format("logs: cannot write {}", file.string()));
  out.close();
  used += n;
  if (over) {
    return ResourceExhaustedError(
        fmt::format("logs: tenant {} keeps {} MiB of logs, its cap; delete old jobs' logs or ask "
                    "the operator to raise tenant_log_cap_mib",
                    tenant, used >> 20));
  }
  return size + n;
}

std::string WorkerLogs::Read(uint64_t job, int attempt, int rank, int64_t offset) const {
  std::string data;
  std::ifstream in(Path(job, attempt, rank), std::ios::binary);
  if (!in) return data;
  in.seekg(offset);
  data.resize(kMaxLogRead);
  in.read(data.data(), kMaxLogRead);
  data.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
  return data;
}

}  // namespace suanpan::control
