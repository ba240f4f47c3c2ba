// Microsoft Philly (ATC '19) as the Pollux/Sia artifacts ship it: philly_jobs_pollux.csv, one row
// per job, header `timestamp,duration,num_gpus,gpu_time,cluster` (columns found by name, any
// order; gpu_time = duration * num_gpus is ignored). `timestamp` is a cluster-local wall-clock
// string without zone ("2017-10-09 07:01:55"); it is read as a plain clock (days since 1970 plus
// the time of day) and FinishTrace makes it relative to the first arrival. The zone is not
// documented, so daylight saving cannot be undone: if the cluster clock observed it, gaps across
// 2017-11-05 are off by one hour. A file may instead give numeric seconds from any origin; one
// file must use one form. `duration` is seconds as a float ("66.0"), rounded to the nearest
// second; `num_gpus` becomes devices; `cluster` (the VC hash) becomes the tenant; the trace has
// no job id, so a job is named "philly-<line>". Rows are not in time order; FinishTrace sorts.
// Example: a file holding just line 2 "2017-10-09 07:01:55,66.0,1,66.0,11cb48" and line 4
// "2017-09-29 07:58:32,860662.0,1,860662.0,6c71a0" of the real list gives the job of line 4
// submit time 0 and the job of line 2 submit time 860,603 s.
//
// Machine lists (ReadPhillyMachineList): the original `cluster_machine_list.csv`
// (`machineId, number of GPUs, single GPU mem`, with spaces after the commas: "m0,2, 12GB";
// 321 x 2 + 231 x 8 GPUs) and Q. Hu's `philly_machine_list_revised.csv` (unnamed pandas index
// column, then `machineId,number of GPUs`; 264 x 8, 271 x 4, 3 x 2, 1 x 3 and 13 x 0). Both are
// found by the `number of GPUs` column. Machines with 0 GPUs (13 in the revised list: no GPU of
// theirs ever reported in the utilisation log) are left out: they cannot run a GPU job. The trace
// says nothing about racks or switches, so we assume 1 switch per 32 nodes (552 machines -> 18
// switches) and report the largest node as devices_per_node; nodes_by_devices holds the real mix.
// GPU models are not named (Hu et al. guess 12 GB = P100, 24 GB = P40), so device_type stays "".
// ReadPhilly attaches cluster_machine_list.csv as Trace::cluster when it is in the job list's
// folder, so that `suanpan sim --trace philly:...` can replay on the trace's own cluster.

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

#include "sim/trace/csv.h"
#include "sim/trace/trace.h"

namespace suanpan::sim {
namespace {

constexpr int kNodesPerSwitch = 32;  // assumed: Philly publishes no network topology
constexpr int64_t kMaxGpusPerJob = 100'000;

// Howard Hinnant's days_from_civil: days from 1970-01-01 to y-m-d in the proleptic Gregorian
// calendar. 2017-09-04 -> 17,413.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                    // [0, 399]
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + doe - 719468;
}

// "YYYY-MM-DD HH:MM:SS" (or with 'T' in the middle) -> seconds on a zone-less clock.
std::optional<int64_t> ParseWallClock(std::string_view s) {
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  auto number = [s](size_t pos, size_t len) -> int64_t {
    int64_t v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const int64_t year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const int64_t hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 59) {
    return std::nullopt;
  }
  static constexpr int64_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) return std::nullopt;
  return DaysFromCivil(year, month, day) * 86'400 + hour * 3'600 + minute * 60 + second;
}

enum class TimeForm { kUnknown, kWallClock, kSeconds };

// The first non-blank line, split, copied out of the splitter's buffer (the views stay valid).
std::optional<std::vector<std::string_view>> NextHeader(LineSplitter& lines,
                                                        FieldSplitter& fields) {
  while (std::optional<std::string_view> line = lines.Next()) {
    if (!IsBlank(*line)) return fields.Split(*line);
  }
  return std::nullopt;
}

}  // namespace

StatusOr<Trace> ReadPhilly(const std::string& path, const ReadOptions& options) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  Trace trace;
  RowProblems problems(path, options, trace);
  LineSplitter lines(text);
  FieldSplitter fields(',');
  std::optional<std::vector<std::string_view>> header = NextHeader(lines, fields);
  if (!header) return InvalidArgumentError(fmt::format("{}: empty: no header row", path));
  const size_t header_line = lines.line_number();
  size_t column[4] = {};
  constexpr std::string_view kRequired[4] = {"timestamp", "duration", "num_gpus", "cluster"};
  for (size_t i = 0; i < 4; ++i) {
    std::optional<size_t> c = FindColumn(*header, kRequired[i]);
    if (!c) {
      return InvalidArgumentError(fmt::format("{}:{}: header: required column '{}' is missing",
                                              path, header_line, kRequired[i]));
    }
    column[i] = *c;
  }
  const size_t width = header->size();
  trace.jobs.reserve(CountLines(text));
  TimeForm form = TimeForm::kUnknown;
  while (std::optional<std::string_view> line = lines.Next()) {
    if (IsBlank(*line)) continue;
    const size_t line_no = lines.line_number();
    ++trace.rows;
    const std::vector<std::string_view>& cells = fields.Split(*line);
    if (cells.size() != width) {
      SP_RETURN_IF_ERROR(problems.Skip(
          line_no, fmt::format("row has {} fields, the header has {}", cells.size(), width)));
      continue;
    }
    const std::string_view timestamp = cells[column[0]];
    TimeForm row_form = TimeForm::kWallClock;
    std::optional<int64_t> submit = ParseWallClock(timestamp);
    if (!submit) {
      row_form = TimeForm::kSeconds;
      submit = ParseSeconds(timestamp);
    }
    if (!submit) {
      SP_RETURN_IF_ERROR(problems.Skip(
          line_no, fmt::format("timestamp: expected 'YYYY-MM-DD HH:MM:SS' or seconds, got '{}'",
                               timestamp)));
      continue;
    }
    if (form == TimeForm::kUnknown) form = row_form;
    if (row_form != form) {
      SP_RETURN_IF_ERROR(problems.Skip(
          line_no, fmt::format("timestamp: '{}' is {} but earlier rows use {}", timestamp,
                               row_form == TimeForm::kSeconds ? "seconds" : "a wall-clock time",
                               form == TimeForm::kSeconds ? "seconds" : "wall-clock times")));
      continue;
    }
    const std::string_view duration_text = cells[column[1]];
    std::optional<int64_t> duration = ParseSeconds(duration_text);
    if (!duration || *duration <= 0) {
      SP_RETURN_IF_ERROR(problems.Skip(
          line_no,
          fmt::format("duration: must be a positive number of seconds, got '{}'", duration_text)));
      continue;
    }
    const std::string_view gpus_text = cells[column[2]];
    std::optional<int64_t> gpus = ParseInt(gpus_text);
    if (!gpus) {
      // Some derived files write counts as floats ("8.0"); accept whole values only.
      std::optional<double> d = ParseDouble(gpus_text);
      if (d && *d >= 1 && *d <= static_cast<double>(kMaxGpusPerJob) &&
          *d == static_cast<double>(static_cast<int64_t>(*d))) {
        gpus = static_cast<int64_t>(*d);
      }
    }
    if (!gpus || *gpus < 1 || *gpus > kMaxGpusPerJob) {
      SP_RETURN_IF_ERROR(
          problems.Skip(line_no, fmt::format("num_gpus: must be a whole number in 1..{}, got '{}'",
                                             kMaxGpusPerJob, gpus_text)));
      continue;
    }
    TraceJob job;
    job.name = fmt::format("philly-{}", line_no);
    job.tenant = std::string(cells[column[3]]);
    job.submit_time = *submit;
    job.devices = static_cast<int>(*gpus);
    job.duration = *duration;
    job.line = line_no;
    trace.jobs.push_back(std::move(job));
  }
  // The trace's own cluster, for `suanpan sim` without --cluster or --pool: the original machine
  // list when it sits beside the job list (not the revised one: it is Philly's own file).
  const std::filesystem::path machines =
      std::filesystem::path(path).parent_path() / "cluster_machine_list.csv";
  std::error_code ec;
  if (std::filesystem::is_regular_file(machines, ec)) {
    SP_ASSIGN_OR_RETURN(ClusterShape shape, ReadPhillyMachineList(machines.string()));
    trace.cluster = std::move(shape);
  }
  FinishTrace(trace, options);
  return trace;
}

StatusOr<ClusterShape> ReadPhillyMachineList(const std::string& path) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  LineSplitter lines(text);
  FieldSplitter fields(',');
  std::optional<std::vector<std::string_view>> header = NextHeader(lines, fields);
  if (!header) return InvalidArgumentError(fmt::format("{}: empty: no header row", path));
  const size_t header_line = lines.line_number();
  const std::optional<size_t> gpu_column = FindColumn(*header, "number of GPUs");
  if (!gpu_column) {
    return InvalidArgumentError(fmt::format(
        "{}:{}: header: no 'number of GPUs' column; not a Philly machine list", path, header_line));
  }
  const std::optional<size_t> id_column = FindColumn(*header, "machineId");
  const size_t width = header->size();
  std::set<std::string_view> ids;
  ClusterShape shape;
  int nodes = 0;
  while (std::optional<std::string_view> line = lines.Next()) {
    if (IsBlank(*line)) continue;
    const size_t line_no = lines.line_number();
    const std::vector<std::string_view>& cells = fields.Split(*line);
    if (cells.size() != width) {
      return InvalidArgumentError(fmt::format("{}:{}: row has {} fields, the header has {}", path,
                                              line_no, cells.size(), width));
    }
    if (id_column && !ids.insert(cells[*id_column]).second) {
      return InvalidArgumentError(fmt::format("{}:{}: machineId: duplicate machine '{}'", path,
                                              line_no, cells[*id_column]));
    }
    const std::optional<int64_t> gpus = ParseInt(cells[*gpu_column]);
    if (!gpus || *gpus < 0 || *gpus > 1024) {
      return InvalidArgumentError(
          fmt::format("{}:{}: number of GPUs: must be a whole number in 0..1024, got '{}'", path,
                      line_no, cells[*gpu_column]));
    }
    if (*gpus == 0) continue;  // never reported a GPU: useless to a GPU scheduler
    ++shape.nodes_by_devices[static_cast<int>(*gpus)];
    ++nodes;
  }
  if (nodes == 0) {
    return InvalidArgumentError(fmt::format("{}: no machine with GPUs", path));
  }
  shape.devices_per_node = shape.nodes_by_devices.rbegin()->first;
  shape.nodes_per_switch = std::min(nodes, kNodesPerSwitch);
  shape.switches = (nodes + kNodesPerSwitch - 1) / kNodesPerSwitch;
  return shape;
}

}  // namespace suanpan::sim
