// Trace format dispatch and the finishing step every reader ends with. ReadTrace maps the format
// name of `suanpan sim --trace FORMAT:PATH` to its reader; FinishTrace puts a reader's jobs in
// arrival order and moves the clock so that the first arrival is at 0. Example: Philly rows
// arrive as wall-clock seconds {1507532515 (line 2), 1506671912 (line 4)}; after FinishTrace the
// job of line 4 comes first at 0 and the job of line 2 at 860,603 s.

#include "sim/trace/trace.h"

#include <fmt/format.h>

#include <algorithm>

namespace suanpan::sim {

StatusOr<Trace> ReadTrace(std::string_view format, const std::string& path,
                          const ReadOptions& options) {
  if (format == "tiresias") return ReadTiresias(path, options);
  if (format == "philly") return ReadPhilly(path, options);
  if (format == "gavel") return ReadGavel(path, options);
  if (format == "sia") return ReadSia(path, options);
  if (format == "suanpan") return ReadSuanpan(path, options);
  return InvalidArgumentError(fmt::format(
      "unknown trace format '{}' (known: tiresias, philly, gavel, sia, suanpan)", format));
}

void FinishTrace(Trace& trace, const ReadOptions& options) {
  // Readers append jobs in file order (line order within a file, files in name order for a
  // directory), so a stable sort on submit_time alone orders by (submit_time, line) within a
  // file and keeps file order between files of a directory whose line numbers repeat.
  // O(n log n).
  std::stable_sort(trace.jobs.begin(), trace.jobs.end(), [](const TraceJob& a, const TraceJob& b) {
    return a.submit_time < b.submit_time;
  });
  if (!trace.jobs.empty()) {
    const int64_t first = trace.jobs.front().submit_time;
    for (TraceJob& job : trace.jobs) job.submit_time -= first;
  }
  if (options.limit >= 0 && trace.jobs.size() > static_cast<size_t>(options.limit)) {
    trace.jobs.resize(static_cast<size_t>(options.limit));
  }
}

}  // namespace suanpan::sim
