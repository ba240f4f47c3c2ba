// Sia (SOSP '23) workloads: sia/workloads/**/workload-N.csv, header
// `name,time,application,num_replicas,batch_size` (by name, any order): job name, submission time
// in seconds from the workload start (floats in newtrace/, rounded to the nearest second), the
// application (cifar10, imagenet, yolov3, deepspeech2, bert; ncf is profiled too), GPUs and global
// batch size at submission. There is no run time in the file: a job trains until it has made its
// application's target progress, at a speed that comes from sia/throughput_profiles/<app>/.
// This reader turns that into a run time per GPU type for a *rigid* job (the requested GPUs and
// batch size, start to end), the way Sia's own simulator (job.py, applications.py) advances one:
//
//   1. Placement: the GPUs packed onto nodes of the type (4 per T4 / RTX 6000 node, 8 per V100,
//      A100, RTX 2080Ti node), written as Sia does, digits of GPUs per node in the smallest
//      rotation: 12 GPUs on T4 -> "444", on A100 -> "48".
//   2. Batch: local = ceil(B / N); accum = ceil(local / max_local) - 1 (max_local: the largest
//      profiled local batch of that placement); with 1 GPU and B above the smallest validated
//      batch, accum >= 1; atomic = ceil(local / (accum + 1)), capped by the largest local batch
//      profiled for N GPUs and by max_batch / (N (accum + 1)).
//   3. Iteration time: step_time and sync_time from placements-<type>.csv, linear in local_bsz
//      between the two nearest rows of that placement; t = step + (step - sync) * accum.
//   4. Progress (Pollux): validation-<batch>.csv gives per epoch e the progress P (in iterations
//      at the smallest validated batch b0) and gradient statistics. At batch b = N atomic
//      (accum + 1) an iteration yields gain = (var + sqr) / (var / (b / b0) + sqr) progress, with
//      sqr and var interpolated linearly in batch size. The job ends after max_epochs epochs
//      (Sia: bert 2, cifar10 100, deepspeech2 80, imagenet 90, ncf 10, yolov3 50), at
//      P = min over the validation files of their progress at that epoch.
//   5. run time = sum over epochs of (P[e+1] - P[e]) * t / gain_e * slowdown, with Sia's
//      calibration slowdowns (cifar10 1.8, ncf 1.5, the others 1.2).
// Example: saturn/workload-9.csv, cifar10-0, 6 GPUs at batch 2048, on RTX 2080Ti: placement "6",
// local = atomic = 342, no accumulation, t = 0.1339 s, 100 epochs -> 805 s (T4 1,615 s, V100
// 719 s, A100 334 s; RTX 6000 has no 6-GPU profile).
//
// GPU types (profile file suffix -> our name): rtx -> RTX2080Ti, aws -> T4 (or the unsuffixed
// files, identical to aws), azure -> V100, dgx-ext -> A100 (dgx if there is no dgx-ext), quad ->
// RTX6000. duration is the RTX2080Ti run time: Sia calibrates against the rtx cluster
// (simulator_config.py: calibrate_cluster = 'rtx'); if that is missing, the first of T4, V100,
// A100, RTX6000 that has one.
//
// Simplifications, each with its reason:
//   - Rigid jobs only. Sia and Pollux rescale jobs and retune batch sizes while they run; that
//     needs a goodput model inside the simulator, not a number in a trace. Gavel-style baselines
//     in Sia run jobs exactly like this.
//   - Only placements that are profiled are used; Sia falls back to a 3-D interpolation over
//     scalability-<type>.csv for others. Every packed placement of every job in the shipped
//     workloads is profiled, except RTX 6000 above 4 GPUs (one quad node was profiled), so those
//     jobs simply have no RTX6000 entry.
//   - Exact sums, one rounding to the nearest second at the end (Sia rounds each epoch).
//   - No restart cost (Sia charges 25-250 s per (re)start) and no interference: those belong to
//     the scheduler being simulated.
//   - Pipeline-parallel gpt_pmp is not supported (its own model); such rows are bad rows.
// Where the profiles are: the first throughput_profiles/ folder found in the workload's folder or
// one of its 4 parents (sia/workloads/scale/rate_10/ -> sia/, 3 up). In the original artifact the
// folder is sia-simulator/traces/; link or copy it under that name.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <system_error>
#include <tuple>

#include "sim/trace/csv.h"
#include "sim/trace/trace.h"

namespace suanpan::sim {
namespace {

namespace fs = std::filesystem;

struct SiaApplication {
  const char* name;
  int max_epochs;   // Sia applications.py
  double slowdown;  // Sia simulator_config.py SLOWDOWNS
};
constexpr SiaApplication kApplications[] = {
    {"bert", 2, 1.2},      {"cifar10", 100, 1.8}, {"deepspeech2", 80, 1.2},
    {"imagenet", 90, 1.2}, {"ncf", 10, 1.5},      {"yolov3", 50, 1.2},
};

struct SiaGpuType {
  const char* name;
  int gpus_per_node;
  std::array<const char*, 2> files;  // first that exists wins; nullptr: none
};
// The first is the reference type for TraceJob::duration, the rest the fallback order.
constexpr std::array<SiaGpuType, 5> kGpuTypes = {{
    {"RTX2080Ti", 8, {"placements-rtx.csv", nullptr}},
    {"T4", 4, {"placements-aws.csv", "placements.csv"}},
    {"V100", 8, {"placements-azure.csv", nullptr}},
    {"A100", 8, {"placements-dgx-ext.csv", "placements-dgx.csv"}},
    {"RTX6000", 4, {"placements-quad.csv", nullptr}},
}};
constexpr int kMaxParentsSearched = 4;
constexpr int64_t kMaxReplicas = 100'000;

struct Validation {
  int64_t batch_size = 0;
  std::vector<double> progress, grad_sqr, grad_var;  // one entry per epoch
};

struct PlacementRow {
  std::string placement;  // GPUs per node as digits: "44" = 2 nodes x 4
  int64_t replicas = 0;   // digit sum
  double local_bsz = 0, step_time = 0, sync_time = 0;
};

struct Profile {
  const SiaApplication* app = nullptr;
  std::vector<Validation> validation;                                  // ascending batch size
  std::vector<double> epoch_progress;                                  // P[0] = 0 .. P[max_epochs]
  std::array<std::vector<PlacementRow>, kGpuTypes.size()> placements;  // empty: not profiled
};

// A header-driven numeric CSV (the profile files put their columns in different orders).
class ProfileCsv {
 public:
  static StatusOr<ProfileCsv> Read(const std::string& path,
                                   std::initializer_list<std::string_view> columns) {
    ProfileCsv csv;
    csv.path_ = path;
    SP_ASSIGN_OR_RETURN(csv.text_, ReadTextFile(path));
    SP_RETURN_IF_ERROR(csv.Init(columns));
    return csv;
  }
  // Calls row(line, cells-in-requested-order) for each data row.
  template <typename RowFn>
  Status ForEach(RowFn row) {
    LineSplitter lines(text_);
    FieldSplitter fields(',');
    bool header = true;
    std::vector<std::string_view> cells(index_.size());
    while (std::optional<std::string_view> line = lines.Next()) {
      if (IsBlank(*line)) continue;
      if (header) {
        header = false;
        continue;
      }
      const std::vector<std::string_view>& all = fields.Split(*line);
      if (all.size() != width_) {
        return InvalidArgumentError(fmt::format("{}:{}: row has {} fields, the header has {}",
                                                path_, lines.line_number(), all.size(), width_));
      }
      for (size_t i = 0; i < index_.size(); ++i) cells[i] = all[index_[i]];
      SP_RETURN_IF_ERROR(row(lines.line_number(), cells));
    }
    return OkStatus();
  }

 private:
  // Finds the requested columns in the header (the first non-blank line).
  Status Init(std::initializer_list<std::string_view> columns) {
    LineSplitter lines(text_);
    FieldSplitter fields(',');
    std::optional<std::string_view> line;
    while ((line = lines.Next()) && IsBlank(*line)) {
    }
    if (!line) return InvalidArgumentError(fmt::format("{}: empty: no header row", path_));
    const std::vector<std::string_view>& header = fields.Split(*line);
    width_ = header.size();
    for (std::string_view column : columns) {
      std::optional<size_t> c = FindColumn(header, column);
      if (!c) {
        return InvalidArgumentError(fmt::format("{}:{}: header: required column '{}' is missing",
                                                path_, lines.line_number(), column));
      }
      index_.push_back(*c);
    }
    return OkStatus();
  }

  std::string path_;
  std::string text_;
  size_t width_ = 0;
  std::vector<size_t> index_;
};

Status NumberError(const std::string& path, size_t line, std::string_view column,
                   std::string_view text) {
  return InvalidArgumentError(
      fmt::format("{}:{}: {}: not a number: '{}'", path, line, column, text));
}

StatusOr<Validation> ReadValidation(const std::string& path, int64_t batch_size) {
  SP_ASSIGN_OR_RETURN(ProfileCsv csv, ProfileCsv::Read(path, {"progress", "grad_sqr", "grad_var"}));
  Validation v;
  v.batch_size = batch_size;
  SP_RETURN_IF_ERROR(
      csv.ForEach([&](size_t line, const std::vector<std::string_view>& cells) -> Status {
        constexpr std::string_view kNames[] = {"progress", "grad_sqr", "grad_var"};
        std::vector<double>* out[] = {&v.progress, &v.grad_sqr, &v.grad_var};
        for (size_t i = 0; i < 3; ++i) {
          const std::optional<double> x = ParseDouble(cells[i]);
          if (!x) return NumberError(path, line, kNames[i], cells[i]);
          out[i]->push_back(*x);
        }
        return OkStatus();
      }));
  return v;
}

StatusOr<std::vector<PlacementRow>> ReadPlacements(const std::string& path) {
  SP_ASSIGN_OR_RETURN(ProfileCsv csv,
                      ProfileCsv::Read(path, {"placement", "local_bsz", "step_time", "sync_time"}));
  std::vector<PlacementRow> rows;
  SP_RETURN_IF_ERROR(
      csv.ForEach([&](size_t line, const std::vector<std::string_view>& cells) -> Status {
        PlacementRow row;
        const std::string_view placement = cells[0];
        if (placement.empty() || placement.size() > 64) {
          return InvalidArgumentError(
              fmt::format("{}:{}: placement: expected digits, got '{}'", path, line, placement));
        }
        for (char c : placement) {
          if (c < '1' || c > '9') {
            return InvalidArgumentError(fmt::format(
                "{}:{}: placement: expected digits 1-9, got '{}'", path, line, placement));
          }
          row.replicas += c - '0';
        }
        row.placement = std::string(placement);
        constexpr std::string_view kNames[] = {"local_bsz", "step_time", "sync_time"};
        double* out[] = {&row.local_bsz, &row.step_time, &row.sync_time};
        for (size_t i = 0; i < 3; ++i) {
          const std::optional<double> x = ParseDouble(cells[i + 1]);
          if (!x) return NumberError(path, line, kNames[i], cells[i + 1]);
          *out[i] = *x;
        }
        rows.push_back(std::move(row));
        return OkStatus();
      }));
  // Rows of one placement ascending in local_bsz, for the interpolation.
  std::stable_sort(rows.begin(), rows.end(), [](const PlacementRow& a, const PlacementRow& b) {
    return std::tie(a.placement, a.local_bsz) < std::tie(b.placement, b.local_bsz);
  });
  return rows;
}

// Loads <root>/<app>/. NotFound when the application has no profile folder; other errors mean a
// broken profile.
StatusOr<Profile> ReadProfile(const fs::path& root, const SiaApplication& app) {
  const fs::path dir = root / app.name;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return NotFoundError(fmt::format("no profile folder {}", dir.string()));
  }
  Profile profile;
  profile.app = &app;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    constexpr std::string_view kPrefix = "validation-", kSuffix = ".csv";
    if (file.size() <= kPrefix.size() + kSuffix.size() || !file.starts_with(kPrefix) ||
        !file.ends_with(kSuffix)) {
      continue;
    }
    const std::optional<int64_t> batch = ParseInt(std::string_view(file).substr(
        kPrefix.size(), file.size() - kPrefix.size() - kSuffix.size()));
    if (!batch || *batch < 1) continue;
    SP_ASSIGN_OR_RETURN(Validation v, ReadValidation(it->path().string(), *batch));
    profile.validation.push_back(std::move(v));
  }
  if (ec) {
    return InvalidArgumentError(fmt::format("{}: cannot list: {}", dir.string(), ec.message()));
  }
  if (profile.validation.empty()) {
    return InvalidArgumentError(fmt::format("{}: no validation-<batch>.csv files", dir.string()));
  }
  std::sort(profile.validation.begin(), profile.validation.end(),
            [](const Validation& a, const Validation& b) { return a.batch_size < b.batch_size; });
  const size_t epochs = static_cast<size_t>(app.max_epochs);
  profile.epoch_progress.assign(1, 0.0);
  for (size_t e = 1; e <= epochs; ++e) {
    double p = 0;
    for (size_t i = 0; i < profile.validation.size(); ++i) {
      const Validation& v = profile.validation[i];
      if (v.progress.size() < epochs) {
        return InvalidArgumentError(fmt::format("{}: validation-{}.csv has {} epochs, {} needs {}",
                                                dir.string(), v.batch_size, v.progress.size(),
                                                app.name, epochs));
      }
      p = i == 0 ? v.progress[e - 1] : std::min(p, v.progress[e - 1]);
    }
    profile.epoch_progress.push_back(p);
  }
  for (size_t t = 0; t < kGpuTypes.size(); ++t) {
    for (const char* name : kGpuTypes[t].files) {
      if (name == nullptr) continue;
      const fs::path file = dir / name;
      if (!fs::is_regular_file(file, ec)) continue;
      SP_ASSIGN_OR_RETURN(profile.placements[t], ReadPlacements(file.string()));
      break;
    }
  }
  return profile;
}

// "GPUs per node" digits of N GPUs packed on nodes of `per_node`, in the smallest rotation (Sia's
// normal form): 10 on 4 -> "244", 12 on 8 -> "48".
std::string PackedPlacement(int64_t gpus, int per_node) {
  std::string digits;
  for (int64_t left = gpus; left > 0; left -= std::min<int64_t>(left, per_node)) {
    digits.push_back(static_cast<char>('0' + std::min<int64_t>(left, per_node)));
  }
  std::string best = digits;
  for (size_t i = 1; i < digits.size(); ++i) {
    std::string rotated = digits.substr(i) + digits.substr(0, i);
    if (rotated < best) best = std::move(rotated);
  }
  return best;
}

// Run time in seconds, unrounded, of a rigid job of `gpus` GPUs at global batch `batch` on one
// GPU type; nullopt when the profile cannot say. Steps 1-5 of the file comment.
// O(rows of the type + epochs x log validation files).
std::optional<double> RunSeconds(const Profile& profile, const std::vector<PlacementRow>& rows,
                                 int per_node, int64_t gpus, int64_t batch) {
  if (rows.empty() || gpus > 64 * per_node) return std::nullopt;
  const std::string placement = PackedPlacement(gpus, per_node);
  const auto first = std::find_if(rows.begin(), rows.end(),
                                  [&](const PlacementRow& r) { return r.placement == placement; });
  if (first == rows.end()) return std::nullopt;
  auto last = first;
  while (last != rows.end() && last->placement == placement) ++last;
  double same_gpus_max = -1;  // Sia's memory cap: largest local batch profiled for N GPUs
  for (const PlacementRow& r : rows) {
    if (r.replicas == gpus) same_gpus_max = std::max(same_gpus_max, r.local_bsz);
  }
  const double max_local = (last - 1)->local_bsz;
  if (!(max_local > 0)) return std::nullopt;
  const int64_t init_batch = profile.validation.front().batch_size;
  const int64_t max_batch = profile.validation.back().batch_size;
  const int64_t local = (batch + gpus - 1) / gpus;
  int64_t accum =
      static_cast<int64_t>(std::ceil(static_cast<double>(local) / max_local - 1e-8)) - 1;
  if (gpus == 1 && batch > init_batch) accum = std::max<int64_t>(1, accum);
  accum = std::max<int64_t>(0, accum);
  int64_t atomic = (local + accum) / (accum + 1);
  if (same_gpus_max >= 0) {
    atomic = std::min(atomic, static_cast<int64_t>(std::floor(same_gpus_max)));
  }
  atomic = std::min(atomic, max_batch / (gpus * (accum + 1)));
  const double x = static_cast<double>(atomic);
  if (atomic < 1 || x < first->local_bsz || x > max_local) return std::nullopt;
  auto hi = first;
  while (hi->local_bsz < x) ++hi;  // stops: x <= max_local
  double step = hi->step_time, sync = hi->sync_time;
  if (hi->local_bsz != x) {
    const auto lo = hi - 1;
    const double w = (x - lo->local_bsz) / (hi->local_bsz - lo->local_bsz);
    step = lo->step_time + w * (hi->step_time - lo->step_time);
    sync = lo->sync_time + w * (hi->sync_time - lo->sync_time);
  }
  const double iteration = step + (step - sync) * static_cast<double>(accum);
  if (!(iteration > 0)) return std::nullopt;

  const int64_t used_batch =
      std::clamp<int64_t>(gpus * atomic * (accum + 1), init_batch, max_batch);
  const double scale = static_cast<double>(used_batch) / static_cast<double>(init_batch);
  const auto upper =
      std::lower_bound(profile.validation.begin(), profile.validation.end(), used_batch,
                       [](const Validation& v, int64_t b) { return v.batch_size < b; });
  const auto lower = upper->batch_size == used_batch ? upper : upper - 1;
  const double b = static_cast<double>(used_batch);
  const double lo_b = static_cast<double>(lower->batch_size);
  const double hi_b = static_cast<double>(upper->batch_size);
  auto at = [&](const std::vector<double> Validation::*column, size_t epoch) {
    if (lower == upper) return ((*lower).*column)[epoch];
    return ((b - lo_b) * ((*upper).*column)[epoch] + (hi_b - b) * ((*lower).*column)[epoch]) /
           (hi_b - lo_b);
  };
  double seconds = 0;
  for (size_t e = 0; e + 1 < profile.epoch_progress.size(); ++e) {
    const double sqr = at(&Validation::grad_sqr, e);
    const double var = at(&Validation::grad_var, e);
    const double gain = (var + sqr) / (var / scale + sqr);
    if (!std::isfinite(gain) || !(gain > 0)) return std::nullopt;
    seconds += (profile.epoch_progress[e + 1] - profile.epoch_progress[e]) * iteration / gain *
               profile.app->slowdown;
  }
  return seconds;
}

StatusOr<fs::path> FindProfiles(const std::string& workload) {
  std::error_code ec;
  fs::path folder = fs::absolute(fs::path(workload), ec);
  if (ec) folder = fs::path(workload);
  folder = folder.lexically_normal().parent_path();
  std::vector<std::string> tried;
  for (int up = 0; up <= kMaxParentsSearched; ++up) {
    const fs::path candidate = folder / "throughput_profiles";
    if (fs::is_directory(candidate, ec)) return candidate;
    tried.push_back(candidate.string());
    if (!folder.has_parent_path() || folder.parent_path() == folder) break;
    folder = folder.parent_path();
  }
  return NotFoundError(fmt::format(
      "sia: throughput_profiles/ (job speeds) not found; looked at: {}", fmt::join(tried, ", ")));
}

}  // namespace

StatusOr<Trace> ReadSia(const std::string& path, const ReadOptions& options) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return InvalidArgumentError(fmt::format(
        "{}: is a directory; a Sia workload is one file (workload-N.csv); the files of a folder "
        "are alternative samples, not parts of one trace",
        path));
  }
  SP_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  SP_ASSIGN_OR_RETURN(const fs::path profiles_root, FindProfiles(path));
  Trace trace;
  RowProblems problems(path, options, trace);
  LineSplitter lines(text);
  FieldSplitter fields(',');
  std::vector<std::string_view> header;
  while (std::optional<std::string_view> line = lines.Next()) {
    if (!IsBlank(*line)) {
      header = fields.Split(*line);
      break;
    }
  }
  if (header.empty()) return InvalidArgumentError(fmt::format("{}: empty: no header row", path));
  const size_t header_line = lines.line_number();
  constexpr std::string_view kRequired[] = {"name", "time", "application", "num_replicas",
                                            "batch_size"};
  size_t column[5] = {};
  for (size_t i = 0; i < 5; ++i) {
    std::optional<size_t> c = FindColumn(header, kRequired[i]);
    if (!c) {
      return InvalidArgumentError(fmt::format("{}:{}: header: required column '{}' is missing",
                                              path, header_line, kRequired[i]));
    }
    column[i] = *c;
  }
  // Loaded on first use; a NotFound status records why an application has no profile.
  std::map<std::string, StatusOr<std::unique_ptr<Profile>>, std::less<>> profiles;
  std::map<std::tuple<std::string, int64_t, int64_t>, std::map<std::string, int64_t>> durations;
  trace.jobs.reserve(CountLines(text));
  while (std::optional<std::string_view> line = lines.Next()) {
    if (IsBlank(*line)) continue;
    const size_t line_no = lines.line_number();
    ++trace.rows;
    const std::vector<std::string_view>& cells = fields.Split(*line);
    if (cells.size() != header.size()) {
      SP_RETURN_IF_ERROR(problems.Skip(line_no, fmt::format("row has {} fields, the header has {}",
                                                            cells.size(), header.size())));
      continue;
    }
    const std::string_view name = cells[column[0]];
    const std::string_view application = cells[column[2]];
    if (name.empty()) {
      SP_RETURN_IF_ERROR(problems.Skip(line_no, "name: must not be empty"));
      continue;
    }
    const std::optional<int64_t> submit = ParseSeconds(cells[column[1]]);
    if (!submit || *submit < 0) {
      SP_RETURN_IF_ERROR(problems.Skip(
          line_no, fmt::format("time: must be seconds >= 0, got '{}'", cells[column[1]])));
      continue;
    }
    const std::optional<int64_t> gpus = ParseInt(cells[column[3]]);
    if (!gpus || *gpus < 1 || *gpus > kMaxReplicas) {
      SP_RETURN_IF_ERROR(problems.Skip(
          line_no, fmt::format("num_replicas: must be a whole number in 1..{}, got '{}'",
                               kMaxReplicas, cells[column[3]])));
      continue;
    }
    const std::optional<int64_t> batch = ParseInt(cells[column[4]]);
    if (!batch || *batch < 1 || *batch > 1'000'000'000) {
      SP_RETURN_IF_ERROR(problems.Skip(
          line_no,
          fmt::format("batch_size: must be a whole number >= 1, got '{}'", cells[column[4]])));
      continue;
    }
    auto slot = profiles.find(application);
    if (slot == profiles.end()) {
      const SiaApplication* app = nullptr;
      for (const SiaApplication& a : kApplications) {
        if (application == a.name) app = &a;
      }
      StatusOr<std::unique_ptr<Profile>> loaded = NotFoundError(
          application == "gpt_pmp"
              ? std::string("pipeline-parallel gpt_pmp is not supported")
              : fmt::format("unknown application (known: bert, cifar10, deepspeech2, imagenet, "
                            "ncf, yolov3)"));
      if (app != nullptr) {
        StatusOr<Profile> profile = ReadProfile(profiles_root, *app);
        if (profile.ok()) {
          loaded = std::make_unique<Profile>(std::move(profile).value());
        } else if (profile.status().code() == StatusCode::kNotFound) {
          loaded = profile.status();
        } else {
          return profile.status();  // a broken profile spoils every job of the application
        }
      }
      slot = profiles.emplace(std::string(application), std::move(loaded)).first;
    }
    if (!slot->second.ok()) {
      SP_RETURN_IF_ERROR(problems.Skip(line_no, fmt::format("application: '{}': {}", application,
                                                            slot->second.status().message())));
      continue;
    }
    const Profile& profile = *slot->second.value();
    auto key = std::make_tuple(std::string(application), *gpus, *batch);
    auto known = durations.find(key);
    if (known == durations.end()) {
      std::map<std::string, int64_t> by_type;
      for (size_t t = 0; t < kGpuTypes.size(); ++t) {
        const std::optional<double> seconds =
            RunSeconds(profile, profile.placements[t], kGpuTypes[t].gpus_per_node, *gpus, *batch);
        if (!seconds) continue;
        const std::optional<int64_t> rounded = RoundSeconds(*seconds);
        if (rounded) by_type[kGpuTypes[t].name] = std::max<int64_t>(1, *rounded);
      }
      known = durations.emplace(std::move(key), std::move(by_type)).first;
    }
    if (known->second.empty()) {
      SP_RETURN_IF_ERROR(problems.Skip(
          line_no, fmt::format("num_replicas: {} GPUs at batch_size {} is not profiled for '{}' "
                               "on any GPU type",
                               *gpus, *batch, application)));
      continue;
    }
    TraceJob job;
    job.name = std::string(name);
    job.submit_time = *submit;
    job.devices = static_cast<int>(*gpus);
    job.duration_by_type = known->second;
    for (const SiaGpuType& type : kGpuTypes) {  // the reference first
      const auto it = job.duration_by_type.find(type.name);
      if (it != job.duration_by_type.end()) {
        job.duration = it->second;
        break;
      }
    }
    job.model = std::string(application);
    job.line = line_no;
    trace.jobs.push_back(std::move(job));
  }
  FinishTrace(trace, options);
  return trace;
}

}  // namespace suanpan::sim
