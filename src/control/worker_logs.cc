#include "control/worker_logs.h"

#include <fmt/format.h>

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

StatusOr<int64_t> WorkerLogs::Append(uint64_t job, int attempt, int rank, int64_t offset,
                                     std::string_view data) {
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
  std::ofstream out(file, std::ios::binary | std::ios::app);
  out.write(data.data() + skip, static_cast<std::streamsize>(data.size() - skip));
  if (!out) return UnavailableError(fmt::format("logs: cannot write {}", file.string()));
  return size + static_cast<int64_t>(data.size()) - skip;
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
