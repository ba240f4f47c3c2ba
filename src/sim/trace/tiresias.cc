// Tiresias' simulator traces (SymbioticLab/Tiresias, simulator/): job lists
//   job_id,num_gpu,submit_time,iterations,model_name,duration,interval     (CRLF line endings)
// and cluster specs, one data row and no final newline:
//   num_switch,num_node_p_switch,num_gpu_p_node,num_cpu_p_node,mem_p_node  (memory in GB)
// Columns are found by name in the header. Tiresias reads durations as int(float(x)): a
// fractional duration is truncated the same way here.

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "sim/trace/trace.h"

namespace suanpan::sim {
namespace {

StatusOr<std::string> Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(fmt::format("{}: cannot open", path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = line.find(',', start);
    std::string_view f = line.substr(start, end == std::string_view::npos ? end : end - start);
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t' || f.back() == '\r')) {
      f.remove_suffix(1);
    }
    out.push_back(f);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

// Lines of `text`, CRLF or LF, final newline optional; calls fn(line_no, line) for non-empty ones.
template <typename Fn>
Status ForEachLine(std::string_view text, Fn fn) {
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    SP_RETURN_IF_ERROR(fn(line_no, line));
  }
  return OkStatus();
}

std::optional<int64_t> Int(std::string_view s) {
  int64_t v;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc() && p == s.data() + s.size()) return v;
  double d;  // int(float(x)), as Tiresias does
  auto [q, ec2] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec2 == std::errc() && q == s.data() + s.size() && std::isfinite(d) && std::abs(d) < 9e15) {
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

}  // namespace

StatusOr<Trace> ReadTiresias(const std::string& path, const ReadOptions& options) {
  SP_ASSIGN_OR_RETURN(std::string text, Slurp(path));
  Trace trace;
  std::vector<std::string_view> header;
  int c_id = -1, c_gpu = -1, c_submit = -1, c_duration = -1, c_model = -1;
  Status s = ForEachLine(text, [&](size_t line_no, std::string_view line) -> Status {
    std::vector<std::string_view> f = Fields(line);
    if (header.empty()) {
      header = f;
      for (size_t i = 0; i < f.size(); ++i) {
        if (f[i] == "job_id") c_id = static_cast<int>(i);
        if (f[i] == "num_gpu") c_gpu = static_cast<int>(i);
        if (f[i] == "submit_time") c_submit = static_cast<int>(i);
        if (f[i] == "duration") c_duration = static_cast<int>(i);
        if (f[i] == "model_name") c_model = static_cast<int>(i);
      }
      if (c_id < 0 || c_gpu < 0 || c_submit < 0 || c_duration < 0) {
        return InvalidArgumentError(
            fmt::format("{}:{}: header: needs job_id, num_gpu, submit_time and duration columns",
                        path, line_no));
      }
      return OkStatus();
    }
    ++trace.rows;
    auto bad = [&](std::string reason) -> Status {
      std::string msg = fmt::format("{}:{}: {}", path, line_no, reason);
      if (options.strict) return InvalidArgumentError(msg);
      ++trace.skipped;
      if (trace.problems.size() < options.max_problems) trace.problems.push_back(msg);
      return OkStatus();
    };
    if (f.size() != header.size()) {
      return bad(fmt::format("row has {} fields, the header has {}", f.size(), header.size()));
    }
    TraceJob job;
    job.name = std::string(f[c_id]);
    job.line = line_no;
    auto gpus = Int(f[c_gpu]);
    auto submit = Int(f[c_submit]);
    auto duration = Int(f[c_duration]);
    if (!gpus || *gpus < 1 || *gpus > 100'000) {
      return bad(fmt::format("num_gpu: must be in 1..100000, got '{}'", f[c_gpu]));
    }
    if (!submit || *submit < 0) {
      return bad(fmt::format("submit_time: must be >= 0 seconds, got '{}'", f[c_submit]));
    }
    if (!duration || *duration < 1) {
      return bad(fmt::format("duration: must be >= 1 second, got '{}'", f[c_duration]));
    }
    job.devices = static_cast<int>(*gpus);
    job.submit_time = *submit;
    job.duration = *duration;
    if (c_model >= 0) job.model = std::string(f[c_model]);
    trace.jobs.push_back(std::move(job));
    return OkStatus();
  });
  SP_RETURN_IF_ERROR(s);
  if (header.empty()) return InvalidArgumentError(fmt::format("{}: empty: no header row", path));
  FinishTrace(trace, options);
  return trace;
}

StatusOr<ClusterShape> ReadTiresiasClusterSpec(const std::string& path) {
  SP_ASSIGN_OR_RETURN(std::string text, Slurp(path));
  std::vector<std::string_view> header, row;
  size_t row_line = 0;
  SP_RETURN_IF_ERROR(ForEachLine(text, [&](size_t line_no, std::string_view line) -> Status {
    if (header.empty()) {
      header = Fields(line);
    } else if (row.empty()) {
      row = Fields(line);
      row_line = line_no;
    }
    return OkStatus();
  }));
  if (row.empty() || row.size() != header.size()) {
    return InvalidArgumentError(fmt::format("{}: needs a header and one data row", path));
  }
  ClusterShape shape;
  for (size_t i = 0; i < header.size(); ++i) {
    auto v = Int(row[i]);
    if (!v || *v < 1 || *v > 1'000'000) {
      return InvalidArgumentError(fmt::format("{}:{}: {}: must be a positive integer, got '{}'",
                                              path, row_line, header[i], row[i]));
    }
    const int n = static_cast<int>(*v);
    if (header[i] == "num_switch") shape.switches = n;
    if (header[i] == "num_node_p_switch") shape.nodes_per_switch = n;
    if (header[i] == "num_gpu_p_node") shape.devices_per_node = n;
    if (header[i] == "num_cpu_p_node") shape.cpu_per_node = n;
    if (header[i] == "mem_p_node") shape.memory_gib_per_node = n;
  }
  return shape;
}

}  // namespace suanpan::sim
