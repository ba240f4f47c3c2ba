#pragma once
// Worker output as agents ship it: one file per worker and attempt,
// <dir>/<job>/<attempt>/<rank>.log, appended at the offset the agent says it has shipped so far
// (a retry of a chunk already kept is skipped; a gap is refused), read back in chunks.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace suanpan::control {

class WorkerLogs {
 public:
  explicit WorkerLogs(std::string dir) : dir_(std::move(dir)) {}
  bool enabled() const { return !dir_.empty(); }
  // Returns the size kept now. FailedPrecondition names the size kept when `offset` is beyond it.
  StatusOr<int64_t> Append(uint64_t job, int attempt, int rank, int64_t offset,
                           std::string_view data);
  // Up to 1 MiB from `offset` (empty when nothing is there yet).
  std::string Read(uint64_t job, int attempt, int rank, int64_t offset) const;

 private:
  std::string Path(uint64_t job, int attempt, int rank) const;
  std::string dir_;
};

}  // namespace suanpan::control
