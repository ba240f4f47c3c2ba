// The job list reader (CSV). Header-driven: columns may come in any order; unknown columns are
// errors. Fields are plain (no quoting): names may not contain ',' or '|'.

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "config/job_fields.h"
#include "config/pool_file.h"

namespace suanpan::config {

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFoundError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return InternalError(fmt::format("{}: read failed", path));
  return s.str();
}

StatusOr<int64_t> ParseFixed(std::string_view text, int64_t scale) {
  // value = whole + frac / 10^k, exactly; the result whole * scale + frac * scale / 10^k must be
  // an integer (1.5 GiB = 1536 MiB; 0.0001 GiB is not a whole MiB).
  if (text.empty()) return InvalidArgumentError("empty number");
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    ++i;
  }
  int64_t whole = 0;
  int64_t frac = 0;
  int64_t frac_scale = 1;
  bool digits = false, dot = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') {
      return InvalidArgumentError(fmt::format("'{}' is not a decimal number", text));
    }
    digits = true;
    const int digit = c - '0';
    if (!dot) {
      auto m = CheckedMul(whole, 10);
      if (!m || !(m = CheckedAdd(*m, digit))) {
        return InvalidArgumentError(fmt::format("'{}' is too large", text));
      }
      whole = *m;
    } else if (frac_scale < 1'000'000'000) {
      frac = frac * 10 + digit;
      frac_scale *= 10;
    } else if (digit != 0) {
      return InvalidArgumentError(fmt::format("'{}' has more than 9 decimals", text));
    }
  }
  if (!digits) return InvalidArgumentError(fmt::format("'{}' is not a decimal number", text));
  auto scaled = CheckedMul(whole, scale);
  const __int128 part = static_cast<__int128>(frac) * scale;
  if (part % frac_scale != 0) {
    return InvalidArgumentError(
        fmt::format("'{}' is not a whole number of units (1/{} each)", text, scale));
  }
  if (!scaled) return InvalidArgumentError(fmt::format("'{}' is too large", text));
  auto total = CheckedAdd(*scaled, static_cast<int64_t>(part / frac_scale));
  if (!total) return InvalidArgumentError(fmt::format("'{}' is too large", text));
  return negative ? -*total : *total;
}

namespace {

constexpr std::string_view kColumns[] = {"name",
                                         "tenant",
                                         "kind",
                                         "workers",
                                         "devices_per_worker",
                                         "device_types",
                                         "priority_class",
                                         "preemptible",
                                         "submit_time",
                                         "runtime_estimate",
                                         "runtime_limit",
                                         "cpu_per_worker",
                                         "memory_gib_per_worker",
                                         "checkpoint_interval",
                                         "restore_cost",
                                         "datasets"};
constexpr std::string_view kRequired[] = {"name", "tenant", "workers", "devices_per_worker",
                                          "device_types"};

std::vector<std::string_view> Split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t end = line.find(sep, start);
    out.push_back(line.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

class Row {
 public:
  Row(std::string_view file, size_t line, const std::map<std::string_view, size_t>& columns,
      const std::vector<std::string_view>& cells)
      : file_(file), line_(line), columns_(columns), cells_(cells) {}

  Status Error(std::string_view field, std::string message) const {
    return InvalidArgumentError(fmt::format("{}:{}: {}: {}", file_, line_, field, message));
  }
  std::string_view Get(std::string_view column) const {
    auto it = columns_.find(column);
    return it == columns_.end() ? std::string_view() : cells_[it->second];
  }
  StatusOr<int64_t> Integer(std::string_view column, int64_t fallback, int64_t lo,
                            int64_t hi) const {
    const std::string_view v = Get(column);
    if (v.empty()) return fallback;
    auto n = ParseFixed(v, 1);
    if (!n.ok()) return Error(column, n.status().message());
    if (*n < lo || *n > hi) {
      return Error(column, fmt::format("must be in {}..{}, got {}", lo, hi, *n));
    }
    return *n;
  }
  StatusOr<std::optional<Seconds>> OptionalSeconds(std::string_view column) const {
    if (Get(column).empty()) return std::optional<Seconds>();
    SP_ASSIGN_OR_RETURN(int64_t v, Integer(column, 0, 1, int64_t{10} * 365 * 24 * 3600));
    return std::optional<Seconds>(Seconds(v));
  }

 private:
  std::string_view file_;
  size_t line_;
  const std::map<std::string_view, size_t>& columns_;
  const std::vector<std::string_view>& cells_;
};

}  // namespace

StatusOr<JobList> ParseJobs(std::string_view text, std::string_view file, const core::Pool& pool) {
  JobList out;
  std::map<std::string_view, size_t> columns;
  std::set<std::string, std::less<>> names;
  size_t line_no = 0;
  size_t pos = 0;
  bool header = true;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (Trim(line).empty() || line.front() == '#') continue;
    std::vector<std::string_view> cells = Split(line, ',');
    for (auto& c : cells) c = Trim(c);
    if (header) {
      header = false;
      for (size_t i = 0; i < cells.size(); ++i) {
        bool known = false;
        for (std::string_view k : kColumns) known |= k == cells[i];
        if (!known) {
          return InvalidArgumentError(
              fmt::format("{}:{}: header: unknown column '{}'", file, line_no, cells[i]));
        }
        if (!columns.emplace(cells[i], i).second) {
          return InvalidArgumentError(
              fmt::format("{}:{}: header: duplicate column '{}'", file, line_no, cells[i]));
        }
      }
      for (std::string_view r : kRequired) {
        if (!columns.count(r)) {
          return InvalidArgumentError(
              fmt::format("{}:{}: header: required column '{}' is missing", file, line_no, r));
        }
      }
      continue;
    }
    if (cells.size() != columns.size()) {
      return InvalidArgumentError(fmt::format("{}:{}: row has {} fields, the header has {}", file,
                                              line_no, cells.size(), columns.size()));
    }
    if (out.jobs.size() >= 10'000'000) {
      return ResourceExhaustedError(fmt::format("{}:{}: more than 10,000,000 jobs", file, line_no));
    }
    Row row(file, line_no, columns, cells);
    core::JobSpec job;
    job.id = core::JobId(out.jobs.size() + 1);
    job.name = std::string(row.Get("name"));
    if (job.name.empty()) return row.Error("name", "must not be empty");
    if (!names.insert(job.name).second) {
      return row.Error("name", fmt::format("duplicate job name '{}'", job.name));
    }
    const std::string_view tenant = row.Get("tenant");
    auto tenant_id = pool.FindTenant(tenant);
    if (!tenant_id) return row.Error("tenant", fmt::format("unknown tenant '{}'", tenant));
    job.tenant = *tenant_id;
    const std::string_view kind = row.Get("kind");
    if (!kind.empty()) {
      auto k = core::ParseJobKind(kind);
      if (!k) {
        return row.Error(
            "kind",
            fmt::format("must be training, batch, inference or interactive, got '{}'", kind));
      }
      job.kind = *k;
    }
    SP_ASSIGN_OR_RETURN(int64_t workers, row.Integer("workers", 1, 1, 100'000));
    job.workers = static_cast<int>(workers);
    if (Status st = SetDevicesPerWorker(row.Get("devices_per_worker"), job.worker); !st.ok()) {
      return InvalidArgumentError(fmt::format("{}:{}: {}", file, line_no, st.message()));
    }
    for (std::string_view t : Split(row.Get("device_types"), '|')) {
      auto id = pool.catalog().Find(Trim(t));
      if (!id) {
        return row.Error("device_types", fmt::format("unknown device type '{}' (known: {})", t,
                                                     pool.catalog().Names()));
      }
      job.worker.types.push_back(*id);
    }
    const std::string_view preemptible = row.Get("preemptible");
    std::optional<bool> volunteer;
    if (preemptible == "true" || preemptible == "false") {
      volunteer = preemptible == "true";
    } else if (!preemptible.empty()) {
      return row.Error("preemptible", fmt::format("must be true or false, got '{}'", preemptible));
    }
    if (Status st = SetPriority(pool, row.Get("priority_class"), volunteer, job); !st.ok()) {
      return InvalidArgumentError(fmt::format("{}:{}: {}", file, line_no, st.message()));
    }
    constexpr int64_t kTenYears = int64_t{10} * 365 * 24 * 3600;
    SP_ASSIGN_OR_RETURN(int64_t submit, row.Integer("submit_time", 0, 0, kTenYears * 10));
    job.submit_time = Time(submit);
    SP_ASSIGN_OR_RETURN(job.runtime_estimate, row.OptionalSeconds("runtime_estimate"));
    SP_ASSIGN_OR_RETURN(job.runtime_limit, row.OptionalSeconds("runtime_limit"));
    SP_ASSIGN_OR_RETURN(int64_t checkpoint, row.Integer("checkpoint_interval", 0, 0, kTenYears));
    job.checkpoint_interval = Seconds(checkpoint);
    SP_ASSIGN_OR_RETURN(int64_t restore, row.Integer("restore_cost", 0, 0, kTenYears));
    job.restore_cost = Seconds(restore);
    SP_ASSIGN_OR_RETURN(int64_t cpu, row.Integer("cpu_per_worker", 0, 0, 100'000));
    job.worker.cpu = MilliCpu(cpu * 1000);
    SP_ASSIGN_OR_RETURN(int64_t mem, row.Integer("memory_gib_per_worker", 0, 0, 100'000'000));
    job.worker.memory = MiB(mem * 1024);
    const std::string_view datasets = row.Get("datasets");
    if (!datasets.empty()) {
      for (std::string_view d : Split(datasets, '|')) job.datasets.emplace_back(Trim(d));
    }
    Status valid = core::ValidateJob(job, pool);
    if (!valid.ok()) {
      return InvalidArgumentError(fmt::format("{}:{}: {}", file, line_no, valid.message()));
    }
    out.jobs.push_back(std::move(job));
  }
  if (header) return InvalidArgumentError(fmt::format("{}: empty: no header row", file));
  return out;
}

StatusOr<JobList> ReadJobsFile(const std::string& path, const core::Pool& pool) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseJobs(text, path, pool);
}

}  // namespace suanpan::config
