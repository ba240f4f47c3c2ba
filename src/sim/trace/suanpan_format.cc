// suanpan's own job trace format (`suanpan sim --trace suanpan:FILE`), for traces written by hand,
// exported from another system or converted from a format we do not read.
//
// Two encodings of the same fields, chosen by the file extension:
//   .csv    a header row naming the columns, in any order, then one job per row:
//             name,tenant,submit_time,devices,duration[,workers][,device_type][,model]
//   .jsonl  one JSON object per line with the same keys:
//             {"name": "bert-1", "tenant": "nlp", "submit_time": 40, "devices": 16,
//              "duration": 7200, "workers": 2}
//
// | field       | required | meaning                                                        |
// |-------------|----------|----------------------------------------------------------------|
// | name        | yes      | job id; non-empty, unique in the file                          |
// | tenant      | yes      | user, team or VC the job is charged to; may be empty ("")      |
// | submit_time | yes      | arrival, seconds from any origin, >= 0; the first arrival of   |
// |             |          | the trace becomes 0                                            |
// | devices     | yes      | GPUs the job needs in all, a whole number in 1..100000         |
// | duration    | yes      | run time at full allocation in seconds, > 0                    |
// | workers     | no       | workers the devices are split over evenly (must divide         |
// |             |          | devices); empty, absent or 0: the simulator decides            |
// | device_type | no       | the GPU type the job runs on and `duration` was measured on    |
// |             |          | ("H100"); the job then runs only on that type. Empty or        |
// |             |          | absent: any type of the pool (the simulator scales `duration`  |
// |             |          | from its reference type)                                       |
// | model       | no       | model or job type name, free text                              |
//
// Times may be written as integers or decimals and are rounded to the nearest second, halves
// away from zero (40.5 -> 41). In JSONL, numbers must be JSON numbers (devices and workers whole
// ones: 8, not 8.0 or "8") and the text fields JSON strings; an optional key may be null.
// CSV: "\n" or "\r\n" line ends, blank lines ignored, spaces around fields trimmed, no quoting
// (so no field may contain a comma), no comments. Rows may come in any order; jobs are replayed in
// order of submit_time, ties in file order.
//
// Errors: an unknown or repeated column, a missing required column or a CSV without a header is
// fatal (an empty JSONL file is an empty trace). A bad row (wrong field count, bad value, unknown
// JSONL key, duplicate name) is reported as "file:line: field: what was wrong" and skipped, or
// fatal with --strict.
//
// Example (CSV), giving bert-1 and notebook submit time 0 and resnet-7 60 s:
//   name,tenant,submit_time,devices,duration,workers,device_type,model
//   resnet-7,vision,100,8,3600,1,H100,resnet50
//   bert-1,nlp,40,16,7200,2,,bert
//   notebook,,40,1,600,,,

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "sim/trace/csv.h"
#include "sim/trace/trace.h"

namespace suanpan::sim {
namespace {

enum Column : size_t {
  kName,
  kTenant,
  kSubmitTime,
  kDevices,
  kDuration,
  kWorkers,
  kDeviceType,
  kModel,
  kColumnCount
};
constexpr std::array<std::string_view, kColumnCount> kColumnNames = {
    "name", "tenant", "submit_time", "devices", "duration", "workers", "device_type", "model"};
constexpr size_t kRequiredCount = 5;  // name .. duration
constexpr bool IsText(size_t c) {
  return c == kName || c == kTenant || c == kDeviceType || c == kModel;
}
constexpr int64_t kMaxDevices = 100'000;

// One row's values as text; nullopt: column or key absent.
using RowValues = std::array<std::optional<std::string_view>, kColumnCount>;

// Checks one row and makes the job; InvalidArgument "field: what was wrong" when it is bad.
StatusOr<TraceJob> MakeJob(const RowValues& v) {
  auto text = [&v](Column c) { return v[c].value_or(std::string_view()); };
  auto bad = [](Column c, std::string message) {
    return InvalidArgumentError(fmt::format("{}: {}", kColumnNames[c], message));
  };
  for (size_t c = 0; c < kRequiredCount; ++c) {
    if (!v[c]) return bad(static_cast<Column>(c), "required");
  }
  TraceJob job;
  job.name = std::string(text(kName));
  if (job.name.empty()) return bad(kName, "must not be empty");
  job.tenant = std::string(text(kTenant));
  const std::optional<int64_t> submit = ParseSeconds(text(kSubmitTime));
  if (!submit || *submit < 0) {
    return bad(kSubmitTime, fmt::format("must be seconds >= 0, got '{}'", text(kSubmitTime)));
  }
  job.submit_time = *submit;
  const std::optional<int64_t> devices = ParseInt(text(kDevices));
  if (!devices || *devices < 1 || *devices > kMaxDevices) {
    return bad(kDevices, fmt::format("must be a whole number in 1..{}, got '{}'", kMaxDevices,
                                     text(kDevices)));
  }
  job.devices = static_cast<int>(*devices);
  const std::optional<int64_t> duration = ParseSeconds(text(kDuration));
  if (!duration || *duration < 1) {
    return bad(kDuration,
               fmt::format("must be seconds > 0 (at least 0.5), got '{}'", text(kDuration)));
  }
  job.duration = *duration;
  if (!text(kWorkers).empty()) {
    const std::optional<int64_t> workers = ParseInt(text(kWorkers));
    if (!workers || *workers < 0 || *workers > *devices) {
      return bad(kWorkers, fmt::format("must be a whole number in 0..devices ({}), got '{}'",
                                       *devices, text(kWorkers)));
    }
    if (*workers > 0 && *devices % *workers != 0) {
      return bad(kWorkers,
                 fmt::format("{} workers do not split {} devices evenly", *workers, *devices));
    }
    job.workers = static_cast<int>(*workers);
  }
  if (!text(kDeviceType).empty()) {
    job.duration_by_type.emplace(std::string(text(kDeviceType)), job.duration);
  }
  job.model = std::string(text(kModel));
  return job;
}

// Keeps names unique; the first line of each name is kept for the message.
class Names {
 public:
  std::optional<std::string> Duplicate(const std::string& name, size_t line) {
    const auto [it, inserted] = first_line_.emplace(name, line);
    if (inserted) return std::nullopt;
    return fmt::format("name: duplicate '{}' (first on line {})", name, it->second);
  }

 private:
  std::map<std::string, size_t, std::less<>> first_line_;
};

StatusOr<Trace> ReadCsv(const std::string& path, std::string_view text,
                        const ReadOptions& options) {
  Trace trace;
  RowProblems problems(path, options, trace);
  LineSplitter lines(text);
  FieldSplitter fields(',');
  std::vector<Column> columns;  // column of each CSV position
  bool header = true;
  Names names;
  trace.jobs.reserve(CountLines(text));
  while (std::optional<std::string_view> line = lines.Next()) {
    if (IsBlank(*line)) continue;
    const size_t line_no = lines.line_number();
    const std::vector<std::string_view>& cells = fields.Split(*line);
    if (header) {
      header = false;
      std::array<bool, kColumnCount> seen = {};
      for (std::string_view cell : cells) {
        const auto known = std::find(kColumnNames.begin(), kColumnNames.end(), cell);
        if (known == kColumnNames.end()) {
          return InvalidArgumentError(fmt::format("{}:{}: header: unknown column '{}' (known: {})",
                                                  path, line_no, cell,
                                                  fmt::join(kColumnNames, ", ")));
        }
        const auto c = static_cast<Column>(known - kColumnNames.begin());
        if (seen[c]) {
          return InvalidArgumentError(
              fmt::format("{}:{}: header: duplicate column '{}'", path, line_no, cell));
        }
        seen[c] = true;
        columns.push_back(c);
      }
      for (size_t c = 0; c < kRequiredCount; ++c) {
        if (!seen[c]) {
          return InvalidArgumentError(fmt::format("{}:{}: header: required column '{}' is missing",
                                                  path, line_no, kColumnNames[c]));
        }
      }
      continue;
    }
    ++trace.rows;
    if (cells.size() != columns.size()) {
      SP_RETURN_IF_ERROR(problems.Skip(line_no, fmt::format("row has {} fields, the header has {}",
                                                            cells.size(), columns.size())));
      continue;
    }
    RowValues values;
    for (size_t i = 0; i < cells.size(); ++i) values[columns[i]] = cells[i];
    StatusOr<TraceJob> job = MakeJob(values);
    if (!job.ok()) {
      SP_RETURN_IF_ERROR(problems.Skip(line_no, job.status().message()));
      continue;
    }
    if (std::optional<std::string> dup = names.Duplicate(job->name, line_no)) {
      SP_RETURN_IF_ERROR(problems.Skip(line_no, *dup));
      continue;
    }
    job->line = line_no;
    trace.jobs.push_back(std::move(job).value());
  }
  if (header) return InvalidArgumentError(fmt::format("{}: empty: no header row", path));
  FinishTrace(trace, options);
  return trace;
}

// One JSONL object's values as text (numbers re-printed by the JSON library), or the reason the
// line is bad.
StatusOr<RowValues> JsonValues(const nlohmann::json& object,
                               std::array<std::string, kColumnCount>& storage) {
  RowValues values;
  for (const auto& item : object.items()) {
    const auto known = std::find(kColumnNames.begin(), kColumnNames.end(), item.key());
    if (known == kColumnNames.end()) {
      return InvalidArgumentError(
          fmt::format("{}: unknown key (known: {})", item.key(), fmt::join(kColumnNames, ", ")));
    }
    const auto c = static_cast<size_t>(known - kColumnNames.begin());
    const nlohmann::json& value = item.value();
    if (value.is_null() && c >= kRequiredCount) continue;  // optional and null: absent
    if (IsText(c)) {
      if (!value.is_string()) {
        return InvalidArgumentError(fmt::format("{}: must be a string", item.key()));
      }
      storage[c] = value.get<std::string>();
    } else {
      if (!value.is_number()) {
        return InvalidArgumentError(fmt::format("{}: must be a number", item.key()));
      }
      storage[c] = value.dump();  // 40 -> "40", 40.5 -> "40.5", 8.0 -> "8.0"
    }
    values[c] = storage[c];
  }
  return values;
}

StatusOr<Trace> ReadJsonl(const std::string& path, std::string_view text,
                          const ReadOptions& options) {
  Trace trace;
  RowProblems problems(path, options, trace);
  LineSplitter lines(text);
  Names names;
  std::array<std::string, kColumnCount> storage;
  trace.jobs.reserve(CountLines(text));
  while (std::optional<std::string_view> line = lines.Next()) {
    if (IsBlank(*line)) continue;
    const size_t line_no = lines.line_number();
    ++trace.rows;
    const nlohmann::json object = nlohmann::json::parse(*line, nullptr, false);
    if (object.is_discarded() || !object.is_object()) {
      SP_RETURN_IF_ERROR(problems.Skip(line_no, "not a JSON object"));
      continue;
    }
    StatusOr<RowValues> values = JsonValues(object, storage);
    StatusOr<TraceJob> job = values.ok() ? MakeJob(*values) : StatusOr<TraceJob>(values.status());
    if (!job.ok()) {
      SP_RETURN_IF_ERROR(problems.Skip(line_no, job.status().message()));
      continue;
    }
    if (std::optional<std::string> dup = names.Duplicate(job->name, line_no)) {
      SP_RETURN_IF_ERROR(problems.Skip(line_no, *dup));
      continue;
    }
    job->line = line_no;
    trace.jobs.push_back(std::move(job).value());
  }
  FinishTrace(trace, options);
  return trace;
}

}  // namespace

StatusOr<Trace> ReadSuanpan(const std::string& path, const ReadOptions& options) {
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension != ".csv" && extension != ".jsonl") {
    return InvalidArgumentError(fmt::format(
        "{}: a suanpan trace is a .csv or a .jsonl file, got extension '{}'", path, extension));
  }
  SP_ASSIGN_OR_RETURN(const std::string text, ReadTextFile(path));
  if (extension == ".csv") return ReadCsv(path, text, options);
  return ReadJsonl(path, text, options);
}

}  // namespace suanpan::sim
