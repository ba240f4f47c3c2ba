// Gavel (OSDI '20) job traces: tab-separated, no header, one job per line, in two layouts told
// apart by the field count of a file's first row:
//   7 fields (legacy, gavel/msr/seed=*/<vc>.trace): job_type, command, num_steps_arg,
//     needs_data_dir, total_steps, arrival_time, scale_factor
//   10 fields (gavel/physical_cluster/*.trace): job_type, command, working_directory,
//     num_steps_arg, needs_data_dir, total_steps, scale_factor, priority_weight, SLO, arrival_time
// A path is one file or a directory; for a directory every *.trace file in it is read, in name
// order, as one trace (msr/seed=0/ holds the 15 per-VC files of one Philly-derived trace). Each
// file's stem is the tenant ("6214e9", the Philly VC); jobs are named "<stem>-<line>". Arrival
// times are seconds (floats, "529666.000000", rounded to the nearest second) from the start of
// that file; every msr file starts at 0, so a directory read overlays the VCs on one clock, which
// is how Gavel replays them.
//
// Gavel gives work, not time: total_steps. Run time on a GPU type is total_steps / throughput,
// with throughput (steps/s of the whole job) taken from simulation_throughputs.json, structured
//   {"v100": {"('ResNet-18 (batch size 16)', 1)": {"null": 32.35, "(<other job>, 1)": [..]}}}
// where "null" is the job running alone and the pair entries are space-sharing rates (ignored).
// We fill duration_by_type for "V100", "P100" and "K80" (keys v100, p100, k80; the
// *_unconsolidated variants are ignored) and set duration to the V100 one, the reference type
// (P100, then K80, if V100 has no entry). Example: 925e2b line 1, Transformer (batch size 128) on
// 8 GPUs, 51,427 steps at 30.88 steps/s on V100 -> 1,665 s. A throughput of 0 (K80 ResNet-50 at
// batch 128 on 2-8 GPUs: does not fit) leaves that type out.
//
// Where the JSON is: the first simulation_throughputs.json found in the trace's folder (a path
// that is a directory counts as the folder) or in one of its 3 parents. So a file beside the
// traces wins; otherwise gavel/ is found from gavel/physical_cluster/ (1 up) and from
// gavel/msr/seed=0/ (2 up).
//
// Simplification, with the reason: the table measures scale factors 1, 2, 4 and 8 only, and
// A3C, CycleGAN and Recommendation only at 1, while the msr traces ask for 1-64 GPUs: 1,548 of
// the 15,264 jobs of seed 0 (10 %) have no entry, and Gavel itself would stop on them with a
// KeyError. Rather than drop a tenth of the trace, a missing (job_type, scale) takes the
// throughput of the largest measured smaller scale of the same job type and scales it linearly
// (perfect data-parallel speedup: Recommendation on 8 GPUs = 8 x its 1-GPU rate). This is
// optimistic for large jobs; if that smaller scale's throughput is 0 the type stays unavailable.
// Computed durations are rounded to the nearest second and are at least 1 s (one
// Recommendation job on 32 P100s would otherwise round to 0).

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

#include "sim/trace/csv.h"
#include "sim/trace/trace.h"

namespace suanpan::sim {
namespace {

namespace fs = std::filesystem;

struct GavelType {
  const char* name;  // our device type name
  const char* key;   // worker type key in simulation_throughputs.json
};
constexpr std::array<GavelType, 3> kGavelTypes = {
    {{"V100", "v100"}, {"P100", "p100"}, {"K80", "k80"}}};
constexpr int kMaxParentsSearched = 3;
constexpr int64_t kMaxScale = 100'000;

// Per worker type: job type -> (scale factor -> steps/s alone).
using ScaleThroughputs = std::map<int, double>;
using JobThroughputs = std::map<std::string, ScaleThroughputs, std::less<>>;
using ThroughputTable = std::array<JobThroughputs, kGavelTypes.size()>;

// "('ResNet-18 (batch size 16)', 1)" -> {"ResNet-18 (batch size 16)", 1}. Python writes the
// tuple with single quotes, or double quotes when the name holds a single quote.
std::optional<std::pair<std::string, int>> ParseKey(std::string_view key) {
  if (key.size() < 6 || key.front() != '(' || key.back() != ')') return std::nullopt;
  const std::string_view inner = key.substr(1, key.size() - 2);
  const char quote = inner.front();
  if (quote != '\'' && quote != '"') return std::nullopt;
  const size_t close = inner.rfind(quote);
  if (close == 0 || close == std::string_view::npos) return std::nullopt;
  const std::string_view rest = inner.substr(close + 1);  // ", 1"
  if (rest.empty() || rest.front() != ',') return std::nullopt;
  const std::optional<int64_t> scale = ParseInt(Trim(rest.substr(1)));
  if (!scale || *scale < 1 || *scale > kMaxScale) return std::nullopt;
  return std::pair<std::string, int>(std::string(inner.substr(1, close - 1)),
                                     static_cast<int>(*scale));
}

StatusOr<ThroughputTable> ReadThroughputs(const std::string& path) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgumentError(fmt::format("{}: not a JSON object", path));
  }
  ThroughputTable table;
  bool any = false;
  for (size_t t = 0; t < kGavelTypes.size(); ++t) {
    const auto type = doc.find(kGavelTypes[t].key);
    if (type == doc.end()) continue;  // the type is then never available
    if (!type->is_object()) {
      return InvalidArgumentError(
          fmt::format("{}: {}: must be an object", path, kGavelTypes[t].key));
    }
    any = true;
    for (const auto& item : type->items()) {
      const std::optional<std::pair<std::string, int>> key = ParseKey(item.key());
      if (!key) {
        return InvalidArgumentError(
            fmt::format("{}: {}: key '{}' is not \"('job type', scale factor)\"", path,
                        kGavelTypes[t].key, item.key()));
      }
      const nlohmann::json& entry = item.value();
      const auto alone = entry.is_object() ? entry.find("null") : entry.end();
      if (!entry.is_object() || alone == entry.end() || !alone->is_number() ||
          !std::isfinite(alone->get<double>()) || alone->get<double>() < 0) {
        return InvalidArgumentError(fmt::format("{}: {}: {}: needs \"null\": steps per second >= 0",
                                                path, kGavelTypes[t].key, item.key()));
      }
      table[t][key->first][key->second] = alone->get<double>();
    }
  }
  if (!any) return InvalidArgumentError(fmt::format("{}: has none of v100, p100, k80", path));
  return table;
}

// Steps per second of `job_type` on `scale` GPUs of one type, or nullopt when it cannot run
// there. Unmeasured scales extrapolate linearly from the largest measured smaller scale (see the
// file comment). O(log entries).
std::optional<double> Throughput(const JobThroughputs& table, std::string_view job_type,
                                 int scale) {
  const auto job = table.find(job_type);
  if (job == table.end()) return std::nullopt;
  const ScaleThroughputs& scales = job->second;
  auto it = scales.lower_bound(scale);
  if (it != scales.end() && it->first == scale) {
    return it->second > 0 ? std::optional<double>(it->second) : std::nullopt;
  }
  if (it == scales.begin()) return std::nullopt;  // only larger scales were measured
  --it;
  if (it->second <= 0) return std::nullopt;
  return it->second * scale / it->first;
}

// The folder to start from: the path itself when it is a directory, else its parent.
fs::path StartFolder(const std::string& path, bool is_directory) {
  std::error_code ec;
  fs::path p = fs::absolute(fs::path(path), ec);
  if (ec) p = fs::path(path);
  p = p.lexically_normal();
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();  // "dir/"
  return is_directory ? p : p.parent_path();
}

StatusOr<std::string> FindThroughputs(fs::path folder) {
  std::vector<std::string> tried;
  for (int up = 0; up <= kMaxParentsSearched; ++up) {
    const fs::path candidate = folder / "simulation_throughputs.json";
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
    tried.push_back(candidate.string());
    if (!folder.has_parent_path() || folder.parent_path() == folder) break;
    folder = folder.parent_path();
  }
  return NotFoundError(
      fmt::format("gavel: simulation_throughputs.json (job run times) not found; looked at: {}",
                  fmt::join(tried, ", ")));
}

StatusOr<std::vector<std::string>> TraceFilesIn(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->path().extension() == ".trace" && it->is_regular_file(type_ec)) {
      files.push_back(it->path().string());
    }
  }
  if (ec) return NotFoundError(fmt::format("{}: cannot list: {}", dir, ec.message()));
  if (files.empty()) return InvalidArgumentError(fmt::format("{}: no *.trace files", dir));
  std::sort(files.begin(), files.end());  // one folder: path order is name order
  return files;
}

struct Layout {
  size_t width;
  size_t steps;
  size_t arrival;
  size_t scale;
};
constexpr Layout kLegacy = {7, 4, 5, 6};
constexpr Layout kCurrent = {10, 5, 9, 6};

Status ReadGavelFile(const std::string& file, const ThroughputTable& table,
                     const ReadOptions& options, Trace& trace) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadTextFile(file));
  const std::string stem = fs::path(file).stem().string();
  RowProblems problems(file, options, trace);
  LineSplitter lines(text);
  FieldSplitter fields('\t');
  std::optional<Layout> layout;
  trace.jobs.reserve(trace.jobs.size() + CountLines(text));
  while (std::optional<std::string_view> line = lines.Next()) {
    if (IsBlank(*line)) continue;
    const size_t line_no = lines.line_number();
    const std::vector<std::string_view>& cells = fields.Split(*line);
    if (!layout) {
      if (cells.size() == kLegacy.width) {
        layout = kLegacy;
      } else if (cells.size() == kCurrent.width) {
        layout = kCurrent;
      } else {
        return InvalidArgumentError(fmt::format(
            "{}:{}: expected 7 (legacy) or 10 tab-separated fields, got {}; not a Gavel trace",
            file, line_no, cells.size()));
      }
    }
    ++trace.rows;
    if (cells.size() != layout->width) {
      SP_RETURN_IF_ERROR(problems.Skip(
          line_no, fmt::format("row has {} tab-separated fields, the first row has {}",
                               cells.size(), layout->width)));
      continue;
    }
    const std::string_view job_type = cells[0];
    if (job_type.empty()) {
      SP_RETURN_IF_ERROR(problems.Skip(line_no, "job_type: must not be empty"));
      continue;
    }
    const std::optional<int64_t> steps = ParseInt(cells[layout->steps]);
    if (!steps || *steps < 1) {
      SP_RETURN_IF_ERROR(problems.Skip(
          line_no,
          fmt::format("total_steps: must be a whole number >= 1, got '{}'", cells[layout->steps])));
      continue;
    }
    const std::optional<int64_t> scale = ParseInt(cells[layout->scale]);
    if (!scale || *scale < 1 || *scale > kMaxScale) {
      SP_RETURN_IF_ERROR(problems.Skip(
          line_no, fmt::format("scale_factor: must be a whole number in 1..{}, got '{}'", kMaxScale,
                               cells[layout->scale])));
      continue;
    }
    const std::optional<int64_t> arrival = ParseSeconds(cells[layout->arrival]);
    if (!arrival || *arrival < 0) {
      SP_RETURN_IF_ERROR(problems.Skip(
          line_no,
          fmt::format("arrival_time: must be seconds >= 0, got '{}'", cells[layout->arrival])));
      continue;
    }
    TraceJob job;
    for (size_t t = 0; t < kGavelTypes.size(); ++t) {
      const std::optional<double> rate = Throughput(table[t], job_type, static_cast<int>(*scale));
      if (!rate) continue;
      const std::optional<int64_t> seconds = RoundSeconds(static_cast<double>(*steps) / *rate);
      if (!seconds) continue;  // absurdly slow: treat as not runnable there
      job.duration_by_type[kGavelTypes[t].name] = std::max<int64_t>(1, *seconds);
    }
    if (job.duration_by_type.empty()) {
      SP_RETURN_IF_ERROR(problems.Skip(
          line_no, fmt::format("job_type: '{}' on {} GPUs has no throughput on V100, P100 or "
                               "K80 in simulation_throughputs.json",
                               job_type, *scale)));
      continue;
    }
    for (const GavelType& type : kGavelTypes) {  // V100 first: the reference
      const auto it = job.duration_by_type.find(type.name);
      if (it != job.duration_by_type.end()) {
        job.duration = it->second;
        break;
      }
    }
    job.name = fmt::format("{}-{}", stem, line_no);
    job.tenant = stem;
    job.submit_time = *arrival;
    job.devices = static_cast<int>(*scale);
    job.model = std::string(job_type);
    job.line = line_no;
    trace.jobs.push_back(std::move(job));
  }
  return OkStatus();
}

}  // namespace

StatusOr<Trace> ReadGavel(const std::string& path, const ReadOptions& options) {
  std::error_code ec;
  const bool is_directory = fs::is_directory(path, ec);
  std::vector<std::string> files;
  if (is_directory) {
    SP_ASSIGN_OR_RETURN(files, TraceFilesIn(path));
  } else {
    files.push_back(path);
  }
  SP_ASSIGN_OR_RETURN(const std::string json_path,
                      FindThroughputs(StartFolder(path, is_directory)));
  SP_ASSIGN_OR_RETURN(const ThroughputTable table, ReadThroughputs(json_path));
  Trace trace;
  for (const std::string& file : files) {
    SP_RETURN_IF_ERROR(ReadGavelFile(file, table, options, trace));
  }
  FinishTrace(trace, options);
  return trace;
}

}  // namespace suanpan::sim
