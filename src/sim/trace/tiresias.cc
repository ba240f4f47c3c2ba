// Tiresias' simulator traces (SymbioticLab/Tiresias, simulator/): job lists
//   job_id,num_gpu,submit_time,iterations,model_name,duration,interval     (CRLF line endings)
// and cluster specs, one data row and no final newline:
//   num_switch,num_node_p_switch,num_gpu_p_node,num_cpu_p_node,mem_p_node  (memory in GB)
// Columns are found by name in the header. Tiresias reads durations as int(float(x)): a
// fractional duration is truncated the same way here.

#include <fmt/format.h>

#include <cmath>

#include "sim/trace/csv.h"
#include "sim/trace/trace.h"

namespace suanpan::sim {
namespace {

// int(float(x)), as Tiresias reads its numbers.
std::optional<int64_t> Int(std::string_view s) {
  if (auto v = ParseInt(s)) return v;
  if (auto d = ParseDouble(s); d && std::abs(*d) < 9e15) return static_cast<int64_t>(*d);
  return std::nullopt;
}

}  // namespace

StatusOr<Trace> ReadTiresias(const std::string& path, const ReadOptions& options) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  Trace trace;
  RowProblems problems(path, options, trace);
  LineSplitter lines(text);
  FieldSplitter split(',');
  std::vector<std::string> header;
  std::optional<size_t> c_id, c_gpu, c_submit, c_duration, c_model;
  while (auto line = lines.Next()) {
    if (IsBlank(*line)) continue;
    const std::vector<std::string_view>& f = split.Split(*line);
    if (header.empty()) {
      header.assign(f.begin(), f.end());
      c_id = FindColumn(f, "job_id");
      c_gpu = FindColumn(f, "num_gpu");
      c_submit = FindColumn(f, "submit_time");
      c_duration = FindColumn(f, "duration");
      c_model = FindColumn(f, "model_name");
      if (!c_id || !c_gpu || !c_submit || !c_duration) {
        return InvalidArgumentError(
            fmt::format("{}:{}: header: needs job_id, num_gpu, submit_time and duration columns",
                        path, lines.line_number()));
      }
      continue;
    }
    ++trace.rows;
    const size_t line_no = lines.line_number();
    if (f.size() != header.size()) {
      SP_RETURN_IF_ERROR(problems.Skip(
          line_no, fmt::format("row has {} fields, the header has {}", f.size(), header.size())));
      continue;
    }
    auto gpus = Int(f[*c_gpu]);
    auto submit = Int(f[*c_submit]);
    auto duration = Int(f[*c_duration]);
    std::string reason;
    if (!gpus || *gpus < 1 || *gpus > 100'000) {
      reason = fmt::format("num_gpu: must be in 1..100000, got '{}'", f[*c_gpu]);
    } else if (!submit || *submit < 0) {
      reason = fmt::format("submit_time: must be >= 0 seconds, got '{}'", f[*c_submit]);
    } else if (!duration || *duration < 1) {
      reason = fmt::format("duration: must be >= 1 second, got '{}'", f[*c_duration]);
    }
    if (!reason.empty()) {
      SP_RETURN_IF_ERROR(problems.Skip(line_no, reason));
      continue;
    }
    TraceJob job;
    job.name = std::string(f[*c_id]);
    job.line = line_no;
    job.devices = static_cast<int>(*gpus);
    job.submit_time = *submit;
    job.duration = *duration;
    if (c_model) job.model = std::string(f[*c_model]);
    trace.jobs.push_back(std::move(job));
  }
  if (header.empty()) return InvalidArgumentError(fmt::format("{}: empty: no header row", path));
  FinishTrace(trace, options);
  return trace;
}

StatusOr<ClusterShape> ReadTiresiasClusterSpec(const std::string& path) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  LineSplitter lines(text);
  FieldSplitter split(',');
  std::vector<std::string> header, row;
  size_t row_line = 0;
  while (auto line = lines.Next()) {
    if (IsBlank(*line)) continue;
    const std::vector<std::string_view>& f = split.Split(*line);
    if (header.empty()) {
      header.assign(f.begin(), f.end());
    } else if (row.empty()) {
      row.assign(f.begin(), f.end());
      row_line = lines.line_number();
    }
  }
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
