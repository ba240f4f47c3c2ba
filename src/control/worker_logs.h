#pragma once
// Worker output as agents ship it: one file per worker and attempt,
// <dir>/<job>/<attempt>/<rank>.log, appended at the offset the agent says it has shipped so far
// (a retry of a chunk already kept is skipped; a gap is refused), read back in chunks.
// Each tenant's logs together are capped (the agent caps each attempt): past the cap a log ends
// with a marker, and further output is refused (ResourceExhausted: the agent stops shipping it).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/status.h"

namespace suanpan::control {

class WorkerLogs {
 public:
  // `tenant_cap_bytes` 0: no cap per tenant.
  explicit WorkerLogs(std::string dir, int64_t tenant_cap_bytes = 0)
      : dir_(std::move(dir)), cap_(tenant_cap_bytes) {}
  bool enabled() const { return !dir_.empty(); }
  // Counts what is kept of `job`'s logs against `tenant` (at recovery).
  void Count(const std::string& tenant, uint64_t job);
  int64_t Used(const std::string& tenant) const;
  // Returns the size kept now. FailedPrecondition names the size kept when `offset` is beyond it;
  // ResourceExhausted when the tenant's logs are at the cap (what fit was kept, then a marker).
  StatusOr<int64_t> Append(const std::string& tenant, uint64_t job, int attempt, int rank,
                           int64_t offset, std::string_view data);
  // Up to 1 MiB from `offset` (empty when nothing is there yet).
  std::string Read(uint64_t job, int attempt, int rank, int64_t offset) const;

 private:
  std::string Path(uint64_t job, int attempt, int rank) const;
  std::string dir_;
  int64_t cap_ = 0;
  std::map<std::string, int64_t> used_;  // bytes kept per tenant
};

}  // namespace suanpan::control
