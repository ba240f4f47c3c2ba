#include "control/job_codec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "backends/agent/protocol.h"
#include "base/text.h"
#include "config/job_fields.h"

namespace suanpan::control {
namespace {

using nlohmann::json;
constexpr int64_t kTenYears = int64_t{10} * 365 * 24 * 3600;

const std::set<std::string, std::less<>> kFields = {"name",
                                                    "tenant",
                                                    "project",
                                                    "kind",
                                                    "workers",
                                                    "devices_per_worker",
                                                    "device_types",
                                                    "priority_class",
                                                    "preemptible",
                                                    "cpu_per_worker",
                                                    "memory_gib_per_worker",
                                                    "runtime_limit",
                                                    "runtime_estimate",
                                                    "checkpoint_interval",
                                                    "restore_cost",
                                                    "datasets",
                                                    "command",
                                                    "env",
                                                    "workdir",
                                                    "image",
                                                    "mounts",
                                                    "max_retries"};

// What a wrong value was, for an error message: scalars as written (cut at 64 bytes), arrays and
// objects by kind and size only (never dumped: a dump recurses as deep as the input nests).
std::string Show(const json& v) {
  if (v.is_array()) return fmt::format("a list of {} item(s)", v.size());
  if (v.is_object()) return fmt::format("an object of {} key(s)", v.size());
  std::string s = v.dump();
  if (s.size() > 64) s = s.substr(0, 61) + "...";
  return s;
}

// A relative path without "..", "." or empty components, resolved by the agent inside the job's
// sandbox.
Status CheckWorkdir(const std::string& w) {
  if (w.empty()) return OkStatus();
  if (w.find('\0') != std::string::npos) return FieldError("workdir", "must not contain NUL");
  if (w.front() == '/') {
    return FieldError("workdir", fmt::format("must be a path inside the job's sandbox (relative, "
                                             "e.g. 'sft/run1'), got '{}'",
                                             w.substr(0, 64)));
  }
  size_t i = 0;
  while (i <= w.size()) {
    size_t j = w.find('/', i);
    if (j == std::string::npos) j = w.size();
    const std::string_view part(w.data() + i, j - i);
    if (part == ".." || part == ".") {
      return FieldError("workdir", fmt::format("must not contain '{}' components, got '{}'", part,
                                               w.substr(0, 64)));
    }
    i = j + 1;
  }
  return OkStatus();
}

// POSIX portable variable names ([A-Za-z_][A-Za-z0-9_]*); values without NUL.
Status CheckEnv(const std::string& k, const std::string& v) {
  bool ok = !k.empty() && k.size() <= 256 && !std::isdigit(static_cast<unsigned char>(k[0]));
  for (char c : k) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!ok) {
    std::string shown;
    for (char c : k.substr(0, 64)) {
      shown +=
          static_cast<unsigned char>(c) < 0x20 ? fmt::format("\\x{:02x}", c) : std::string(1, c);
    }
    return FieldError("env", fmt::format("bad variable name '{}' (letters, digits and _, not "
                                         "starting with a digit)",
                                         shown));
  }
  if (k.rfind("SUANPAN_", 0) == 0) {
    return FieldError(fmt::format("env.{}", k), "SUANPAN_* variables are set by the agent");
  }
  if (v.find('\0') != std::string::npos) {
    return FieldError(fmt::format("env.{}", k), "must not contain NUL");
  }
  return OkStatus();
}

StatusOr<std::string> String(const json& doc, std::string_view field, bool required,
                             size_t max_len = 256) {
  auto it = doc.find(field);
  if (it == doc.end() || it->is_null()) {
    if (required) return FieldError(field, "is required");
    return std::string();
  }
  if (!it->is_string())
    return FieldError(field, fmt::format("must be a string, got {}", Show(*it)));
  const std::string& s = it->get_ref<const std::string&>();
  if (s.size() > max_len) {
    return FieldError(field,
                      fmt::format("must be at most {} characters, got {}", max_len, s.size()));
  }
  return s;
}

StatusOr<std::optional<int64_t>> Integer(const json& doc, std::string_view field, int64_t lo,
                                         int64_t hi) {
  auto it = doc.find(field);
  if (it == doc.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer()) {
    return FieldError(field, fmt::format("must be an integer, got {}", Show(*it)));
  }
  const int64_t v =
      it->is_number_unsigned() && it->get<uint64_t>() > INT64_MAX ? INT64_MAX : it->get<int64_t>();
  if (v < lo || v > hi)
    return FieldError(field, fmt::format("must be in {}..{}, got {}", lo, hi, v));
  return std::optional<int64_t>(v);
}

StatusOr<std::vector<std::string>> StringList(const json& doc, std::string_view field,
                                              size_t max_items) {
  std::vector<std::string> out;
  auto it = doc.find(field);
  if (it == doc.end() || it->is_null()) return out;
  if (!it->is_array()) {
    return FieldError(field, fmt::format("must be a list of strings, got {}", Show(*it)));
  }
  if (it->size() > max_items) {
    return FieldError(field,
                      fmt::format("must have at most {} items, got {}", max_items, it->size()));
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const json& e = (*it)[i];
    if (!e.is_string()) {
      return FieldError(fmt::format("{}[{}]", field, i),
                        fmt::format("must be a string, got {}", Show(e)));
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace

StatusOr<DecodedJob> DecodeJob(const json& doc, const core::Pool& pool) {
  if (!doc.is_object()) return FieldError("body", "must be a JSON object");
  for (const auto& [key, value] : doc.items()) {
    (void)value;
    if (!kFields.count(key)) {
      return FieldError(key, fmt::format("unknown field (known: name, tenant, project, kind, "
                                         "workers, "
                                         "devices_per_worker, device_types, priority_class, "
                                         "preemptible, cpu_per_worker, memory_gib_per_worker, "
                                         "runtime_limit, runtime_estimate, checkpoint_interval, "
                                         "restore_cost, datasets, command, env, workdir, "
                                         "image, mounts, max_retries)"));
    }
  }
  DecodedJob out;
  core::JobSpec& job = out.spec;
  SP_ASSIGN_OR_RETURN(job.name, String(doc, "name", true, size_t{1} << 20));
  SP_RETURN_IF_ERROR(CheckDisplayName("name", job.name, 128));
  SP_ASSIGN_OR_RETURN(std::string tenant, String(doc, "tenant", true, 128));
  auto tenant_id = pool.FindTenant(tenant);
  if (!tenant_id) return FieldError("tenant", fmt::format("unknown tenant '{}'", tenant));
  job.tenant = *tenant_id;
  SP_ASSIGN_OR_RETURN(std::string project, String(doc, "project", false, 128));
  if (!project.empty()) {
    auto project_id = pool.FindProject(*tenant_id, project);
    if (!project_id) {
      std::string known;
      for (const core::Project& p : pool.tenant(*tenant_id).projects) {
        known += (known.empty() ? "" : ", ") + p.name;
      }
      return FieldError("project", fmt::format("tenant '{}' has no project '{}' (its projects: {})",
                                               tenant, project, known.empty() ? "none" : known));
    }
    job.project = *project_id;
  }
  SP_ASSIGN_OR_RETURN(std::string kind, String(doc, "kind", false));
  if (!kind.empty()) {
    auto k = core::ParseJobKind(kind);
    if (!k) {
      return FieldError("kind", fmt::format("must be training, batch, inference or interactive, "
                                            "got '{}'",
                                            kind));
    }
    job.kind = *k;
  }
  SP_ASSIGN_OR_RETURN(auto workers, Integer(doc, "workers", 1, 100'000));
  job.workers = static_cast<int>(workers.value_or(1));

  auto dpw = doc.find("devices_per_worker");
  if (dpw == doc.end() || dpw->is_null()) return FieldError("devices_per_worker", "is required");
  std::string dpw_text;
  if (dpw->is_number_integer()) {
    dpw_text = dpw->dump();
  } else if (dpw->is_number_float()) {
    const double d = dpw->get<double>();
    if (!std::isfinite(d)) return FieldError("devices_per_worker", "must be a finite number");
    dpw_text = fmt::format("{}", d);
  } else if (dpw->is_string()) {
    dpw_text = dpw->get<std::string>();
  } else {
    return FieldError("devices_per_worker", fmt::format("must be a number, got {}", Show(*dpw)));
  }
  SP_RETURN_IF_ERROR(config::SetDevicesPerWorker(dpw_text, job.worker));

  SP_ASSIGN_OR_RETURN(std::vector<std::string> types, StringList(doc, "device_types", 16));
  if (doc.contains("device_types") && types.empty()) {
    return FieldError("device_types", "must name at least one device type");
  }
  if (types.empty()) {
    // Not given: any type the pool has (the scheduler then prefers the cheapest that fits).
    for (size_t t = 0; t < pool.catalog().size(); ++t) {
      if (!pool.ShapesOf(core::DeviceTypeId(t)).empty()) {
        types.push_back(pool.catalog().Get(core::DeviceTypeId(t)).name);
      }
    }
  }
  for (const std::string& t : types) {
    auto id = pool.catalog().Find(t);
    if (!id) {
      return FieldError("device_types", fmt::format("unknown device type '{}' (known: {})", t,
                                                    pool.catalog().Names()));
    }
    job.worker.types.push_back(*id);
  }

  SP_ASSIGN_OR_RETURN(out.priority_class, String(doc, "priority_class", false));
  std::optional<bool> preemptible;
  if (auto pre = doc.find("preemptible"); pre != doc.end() && !pre->is_null()) {
    if (!pre->is_boolean()) {
      return FieldError("preemptible", fmt::format("must be true or false, got {}", Show(*pre)));
    }
    preemptible = pre->get<bool>();
  }
  SP_RETURN_IF_ERROR(config::SetPriority(pool, out.priority_class, preemptible, job));
  SP_ASSIGN_OR_RETURN(auto cpu, Integer(doc, "cpu_per_worker", 0, 100'000));
  job.worker.cpu = MilliCpu(cpu.value_or(0) * 1000);
  SP_ASSIGN_OR_RETURN(auto mem, Integer(doc, "memory_gib_per_worker", 0, 100'000'000));
  job.worker.memory = MiB(mem.value_or(0) * 1024);
  SP_ASSIGN_OR_RETURN(auto limit, Integer(doc, "runtime_limit", 1, kTenYears));
  if (limit) job.runtime_limit = Seconds(*limit);
  SP_ASSIGN_OR_RETURN(auto estimate, Integer(doc, "runtime_estimate", 1, kTenYears));
  if (estimate) job.runtime_estimate = Seconds(*estimate);
  SP_ASSIGN_OR_RETURN(auto ckpt, Integer(doc, "checkpoint_interval", 0, kTenYears));
  job.checkpoint_interval = Seconds(ckpt.value_or(0));
  SP_ASSIGN_OR_RETURN(auto restore, Integer(doc, "restore_cost", 0, kTenYears));
  job.restore_cost = Seconds(restore.value_or(0));
  SP_ASSIGN_OR_RETURN(job.datasets, StringList(doc, "datasets", 64));

  SP_ASSIGN_OR_RETURN(out.launch.command, StringList(doc, "command", 4096));
  auto env = doc.find("env");
  if (env != doc.end() && !env->is_null()) {
    if (!env->is_object())
      return FieldError("env", fmt::format("must be an object of strings, got {}", Show(*env)));
    if (env->size() > 1024) return FieldError("env", "must have at most 1024 variables");
    for (const auto& [k, v] : env->items()) {
      if (!v.is_string())
        return FieldError(fmt::format("env.{}", k),
                          fmt::format("must be a string, got {}", Show(v)));
      SP_RETURN_IF_ERROR(CheckEnv(k, v.get_ref<const std::string&>()));
      out.launch.env[k] = v.get<std::string>();
    }
  }
  SP_ASSIGN_OR_RETURN(out.launch.workdir, String(doc, "workdir", false, 4096));
  SP_RETURN_IF_ERROR(CheckWorkdir(out.launch.workdir));
  SP_ASSIGN_OR_RETURN(out.launch.image, String(doc, "image", false, 255));
  if (!out.launch.image.empty()) {
    auto ref = protocol::ParseImageRef(out.launch.image);
    if (!ref.ok()) return FieldError("image", ref.status().message());
  }
  SP_ASSIGN_OR_RETURN(out.launch.mounts, StringList(doc, "mounts", 64));
  for (const std::string& m : out.launch.mounts) {
    if (!IsSafeToken(m, 64) || m.find(':') != std::string::npos) {
      return FieldError("mounts", fmt::format("must be names the node offers (letters, digits, "
                                              "'-', '_', '.'), got '{}'",
                                              EscapeForTerminal(m.substr(0, 64))));
    }
  }
  SP_ASSIGN_OR_RETURN(auto retries, Integer(doc, "max_retries", 0, 100));
  out.launch.max_retries = static_cast<int>(retries.value_or(0));

  SP_RETURN_IF_ERROR(core::ValidateJob(job, pool));
  return out;
}

json EncodeJob(const DecodedJob& job, const core::Pool& pool) {
  const core::JobSpec& spec = job.spec;
  const Launch& launch = job.launch;
  json j;
  j["name"] = spec.name;
  j["tenant"] = pool.tenant(spec.tenant).name;
  if (spec.project) j["project"] = pool.tenant(spec.tenant).projects[spec.project->value()].name;
  j["kind"] = std::string(core::JobKindName(spec.kind));
  j["workers"] = spec.workers;
  if (spec.worker.devices > 0) {
    j["devices_per_worker"] = spec.worker.devices;
  } else {
    j["devices_per_worker"] = core::FormatDevices(spec.worker.fraction);
  }
  json types = json::array();
  for (auto t : spec.worker.types) types.push_back(pool.catalog().Get(t).name);
  j["device_types"] = types;
  if (!job.priority_class.empty()) j["priority_class"] = job.priority_class;
  j["preemptible"] = spec.preemptible;
  if (spec.worker.cpu.value() > 0) j["cpu_per_worker"] = spec.worker.cpu.value() / 1000;
  if (spec.worker.memory.value() > 0)
    j["memory_gib_per_worker"] = spec.worker.memory.value() / 1024;
  if (spec.runtime_limit) j["runtime_limit"] = spec.runtime_limit->value();
  if (spec.runtime_estimate) j["runtime_estimate"] = spec.runtime_estimate->value();
  if (spec.checkpoint_interval.value() > 0)
    j["checkpoint_interval"] = spec.checkpoint_interval.value();
  if (spec.restore_cost.value() > 0) j["restore_cost"] = spec.restore_cost.value();
  if (!spec.datasets.empty()) j["datasets"] = spec.datasets;
  j["command"] = launch.command;
  if (!launch.env.empty()) j["env"] = launch.env;
  if (!launch.workdir.empty()) j["workdir"] = launch.workdir;
  if (!launch.image.empty()) j["image"] = launch.image;
  if (!launch.mounts.empty()) j["mounts"] = launch.mounts;
  if (launch.max_retries > 0) j["max_retries"] = launch.max_retries;
  return j;
}

}  // namespace suanpan::control
