#include "backends/agent/protocol.h"

#include <fmt/format.h>

#include <cctype>
#include <limits>
#include <set>

namespace suanpan::protocol {
namespace {

using Json = nlohmann::json;

// Field readers: exact types and ranges; a number that does not fit is an error, not a wrap.
class Reader {
 public:
  Reader(const Json& doc, std::string where) : doc_(doc), where_(std::move(where)) {}

  Status Known(const std::set<std::string>& fields) const {
    if (!doc_.is_object()) return FieldError(Name(""), "must be a JSON object");
    for (const auto& [k, v] : doc_.items()) {
      (void)v;
      if (!fields.count(k)) {
        std::string known;
        for (const std::string& f : fields) known += (known.empty() ? "" : ", ") + f;
        return FieldError(Name(k), fmt::format("unknown field (known: {})", known));
      }
    }
    return OkStatus();
  }
  StatusOr<int64_t> Int(const std::string& f, int64_t lo, int64_t hi, bool required,
                        int64_t fallback = 0) const {
    auto it = doc_.find(f);
    if (it == doc_.end() || it->is_null()) {
      if (required) return FieldError(Name(f), "is required");
      return fallback;
    }
    if (!it->is_number_integer()) return FieldError(Name(f), "must be an integer");
    if (it->is_number_unsigned() &&
        it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return FieldError(Name(f), fmt::format("must be in {}..{}", lo, hi));
    }
    const int64_t v = it->get<int64_t>();
    if (v < lo || v > hi)
      return FieldError(Name(f), fmt::format("must be in {}..{}, got {}", lo, hi, v));
    return v;
  }
  StatusOr<uint64_t> UInt(const std::string& f, bool required) const {
    auto it = doc_.find(f);
    if (it == doc_.end() || it->is_null()) {
      if (required) return FieldError(Name(f), "is required");
      return uint64_t{0};
    }
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
      return FieldError(Name(f), "must be a non-negative integer");
    }
    return it->get<uint64_t>();
  }
  StatusOr<std::string> Str(const std::string& f, size_t max_len, bool required) const {
    auto it = doc_.find(f);
    if (it == doc_.end() || it->is_null()) {
      if (required) return FieldError(Name(f), "is required");
      return std::string();
    }
    if (!it->is_string()) return FieldError(Name(f), "must be a string");
    const std::string& s = it->get_ref<const std::string&>();
    if (s.size() > max_len)
      return FieldError(Name(f), fmt::format("must be at most {} bytes", max_len));
    return s;
  }
  StatusOr<bool> Bool(const std::string& f) const {
    auto it = doc_.find(f);
    if (it == doc_.end() || it->is_null()) return false;
    if (!it->is_boolean()) return FieldError(Name(f), "must be true or false");
    return it->get<bool>();
  }
  const Json* Array(const std::string& f) const {
    auto it = doc_.find(f);
    return it != doc_.end() && it->is_array() ? &*it : nullptr;
  }
  std::string Name(const std::string& f) const {
    if (where_.empty()) return f.empty() ? "body" : f;
    return f.empty() ? where_ : where_ + "." + f;
  }

 private:
  const Json& doc_;
  std::string where_;
};

}  // namespace

std::string VisibleDevicesVariable(const std::string& vendor) {
  if (vendor == "Huawei") return "ASCEND_RT_VISIBLE_DEVICES";
  if (vendor == "Cambricon") return "MLU_VISIBLE_DEVICES";
  return "CUDA_VISIBLE_DEVICES";
}

Json Encode(const Assignment& a) {
  Json j{{"job", a.job},
         {"name", a.name},
         {"tenant", a.tenant},
         {"attempt", a.attempt},
         {"rank", a.rank},
         {"world_size", a.world_size},
         {"devices", a.devices},
         {"device_type", a.device_type},
         {"visible_devices_variable", a.visible_devices_variable},
         {"master_addr", a.master_addr},
         {"master_port", a.master_port},
         {"state", a.state},
         {"command", a.command},
         {"env", a.env},
         {"workdir", a.workdir},
         {"image", a.image},
         {"mounts", a.mounts},
         {"cpu_milli", a.cpu_milli},
         {"memory_mib", a.memory_mib}};
  j["runtime_limit"] = a.runtime_limit ? Json(*a.runtime_limit) : Json(nullptr);
  return j;
}

Json Encode(const AssignmentList& list) {
  Json items = Json::array();
  for (const Assignment& a : list.items) items.push_back(Encode(a));
  return Json{
      {"node", list.node}, {"version", list.version}, {"lost", list.lost}, {"items", items}};
}

Json Encode(const Heartbeat& h) {
  Json devices = Json::array();
  for (const DeviceInfo& d : h.devices) {
    devices.push_back(
        {{"index", d.index}, {"type", d.type}, {"memory_mib", d.memory_mib}, {"name", d.name}});
  }
  return Json{{"devices", devices},
              {"address", h.address},
              {"cpu_cores", h.cpu_cores},
              {"memory_mib", h.memory_mib},
              {"agent_version", h.agent_version},
              {"workers", h.workers}};
}

Json Encode(const HeartbeatReply& r) {
  return Json{{"node", r.node}, {"lease_seconds", r.lease_seconds}, {"version", r.version}};
}

Json Encode(const WorkerReport& r) {
  Json j{{"attempt", r.attempt},
         {"state", r.state == WorkerReport::State::kRunning ? "running" : "exited"}};
  if (r.exit_code) j["exit_code"] = *r.exit_code;
  if (r.signal) j["signal"] = *r.signal;
  if (!r.reason.empty()) j["reason"] = r.reason;
  if (!r.message.empty()) j["message"] = r.message;
  return j;
}

StatusOr<AssignmentList> DecodeAssignmentList(const Json& doc) {
  Reader r(doc, "");
  SP_RETURN_IF_ERROR(r.Known({"node", "version", "lost", "items"}));
  AssignmentList out;
  SP_ASSIGN_OR_RETURN(out.node, r.Str("node", 255, true));
  SP_ASSIGN_OR_RETURN(out.version, r.UInt("version", true));
  SP_ASSIGN_OR_RETURN(out.lost, r.Bool("lost"));
  const Json* items = r.Array("items");
  if (items == nullptr) return FieldError("items", "must be a list");
  for (size_t i = 0; i < items->size(); ++i) {
    const Json& item = (*items)[i];
    Reader a(item, fmt::format("items[{}]", i));
    SP_RETURN_IF_ERROR(a.Known({"job",         "name",        "tenant",
                                "attempt",     "rank",        "world_size",
                                "devices",     "device_type", "visible_devices_variable",
                                "master_addr", "master_port", "runtime_limit",
                                "state",       "command",     "env",
                                "workdir",     "image",       "mounts",
                                "cpu_milli",   "memory_mib"}));
    Assignment x;
    SP_ASSIGN_OR_RETURN(x.job, a.UInt("job", true));
    SP_ASSIGN_OR_RETURN(x.name, a.Str("name", 4096, true));
    SP_ASSIGN_OR_RETURN(x.tenant, a.Str("tenant", 4096, true));
    SP_ASSIGN_OR_RETURN(int64_t attempt, a.Int("attempt", 1, 1'000'000, true));
    SP_ASSIGN_OR_RETURN(int64_t rank, a.Int("rank", 0, 100'000, true));
    SP_ASSIGN_OR_RETURN(int64_t world, a.Int("world_size", 1, 100'000, true));
    x.attempt = static_cast<int>(attempt);
    x.rank = static_cast<int>(rank);
    x.world_size = static_cast<int>(world);
    if (const Json* devices = a.Array("devices")) {
      for (const Json& d : *devices) {
        if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > 63) {
          return FieldError(a.Name("devices"), "must be device indexes 0..63");
        }
        x.devices.push_back(d.get<int>());
      }
    }
    SP_ASSIGN_OR_RETURN(x.device_type, a.Str("device_type", 64, true));
    SP_ASSIGN_OR_RETURN(x.visible_devices_variable, a.Str("visible_devices_variable", 64, true));
    SP_ASSIGN_OR_RETURN(x.master_addr, a.Str("master_addr", 255, false));
    SP_ASSIGN_OR_RETURN(int64_t port, a.Int("master_port", 0, 65535, false));
    x.master_port = static_cast<int>(port);
    if (item.contains("runtime_limit") && !item["runtime_limit"].is_null()) {
      SP_ASSIGN_OR_RETURN(int64_t limit, a.Int("runtime_limit", 1, int64_t{1} << 40, true));
      x.runtime_limit = limit;
    }
    SP_ASSIGN_OR_RETURN(x.state, a.Str("state", 32, false));
    if (const Json* command = a.Array("command")) {
      for (const Json& c : *command) {
        if (!c.is_string()) return FieldError(a.Name("command"), "must be a list of strings");
        x.command.push_back(c.get<std::string>());
      }
    }
    if (auto env = item.find("env"); env != item.end() && !env->is_null()) {
      if (!env->is_object()) return FieldError(a.Name("env"), "must be an object of strings");
      for (const auto& [k, v] : env->items()) {
        if (!v.is_string()) return FieldError(a.Name("env." + k), "must be a string");
        x.env[k] = v.get<std::string>();
      }
    }
    SP_ASSIGN_OR_RETURN(x.workdir, a.Str("workdir", 4096, false));
    SP_ASSIGN_OR_RETURN(x.image, a.Str("image", 255, false));
    if (const Json* mounts = a.Array("mounts")) {
      for (const Json& m : *mounts) {
        if (!m.is_string() || m.get_ref<const std::string&>().size() > 64) {
          return FieldError(a.Name("mounts"), "must be a list of names");
        }
        x.mounts.push_back(m.get<std::string>());
      }
    }
    SP_ASSIGN_OR_RETURN(x.cpu_milli, a.Int("cpu_milli", 0, int64_t{1} << 40, false));
    SP_ASSIGN_OR_RETURN(x.memory_mib, a.Int("memory_mib", 0, int64_t{1} << 40, false));
    out.items.push_back(std::move(x));
  }
  return out;
}

StatusOr<Heartbeat> DecodeHeartbeat(const Json& doc) {
  Reader r(doc, "");
  SP_RETURN_IF_ERROR(
      r.Known({"devices", "address", "cpu_cores", "memory_mib", "agent_version", "workers"}));
  Heartbeat h;
  const Json* devices = r.Array("devices");
  if (devices == nullptr) return FieldError("devices", "must be a list of {\"type\": ...}");
  if (devices->size() > 1024) return FieldError("devices", "must list at most 1024 devices");
  for (size_t i = 0; i < devices->size(); ++i) {
    Reader d((*devices)[i], fmt::format("devices[{}]", i));
    if (!(*devices)[i].is_object() || !(*devices)[i].contains("type")) {
      return FieldError("devices", "each device needs a \"type\" string");
    }
    SP_RETURN_IF_ERROR(d.Known({"index", "type", "memory_mib", "name"}));
    DeviceInfo x;
    SP_ASSIGN_OR_RETURN(int64_t index, d.Int("index", 0, 1023, false, static_cast<int64_t>(i)));
    x.index = static_cast<int>(index);
    SP_ASSIGN_OR_RETURN(x.type, d.Str("type", 64, true));
    SP_ASSIGN_OR_RETURN(x.memory_mib, d.Int("memory_mib", 0, int64_t{1} << 40, false));
    SP_ASSIGN_OR_RETURN(x.name, d.Str("name", 255, false));
    h.devices.push_back(std::move(x));
  }
  SP_ASSIGN_OR_RETURN(h.address, r.Str("address", 255, false));
  SP_ASSIGN_OR_RETURN(h.cpu_cores, r.Int("cpu_cores", 0, 1 << 20, false));
  SP_ASSIGN_OR_RETURN(h.memory_mib, r.Int("memory_mib", 0, int64_t{1} << 40, false));
  SP_ASSIGN_OR_RETURN(h.agent_version, r.Str("agent_version", 64, false));
  if (const Json* workers = r.Array("workers")) {
    for (const Json& w : *workers) {
      if (w.is_string() && h.workers.size() < 4096) h.workers.push_back(w.get<std::string>());
    }
  }
  return h;
}

StatusOr<HeartbeatReply> DecodeHeartbeatReply(const Json& doc) {
  Reader r(doc, "");
  HeartbeatReply out;
  SP_ASSIGN_OR_RETURN(out.node, r.Str("node", 255, true));
  SP_ASSIGN_OR_RETURN(int64_t lease, r.Int("lease_seconds", 1, 3600, true));
  out.lease_seconds = static_cast<int>(lease);
  SP_ASSIGN_OR_RETURN(out.version, r.UInt("version", false));
  return out;
}

StatusOr<WorkerReport> DecodeWorkerReport(const Json& doc) {
  Reader r(doc, "");
  SP_RETURN_IF_ERROR(r.Known({"attempt", "state", "exit_code", "signal", "reason", "message"}));
  WorkerReport out;
  SP_ASSIGN_OR_RETURN(int64_t attempt, r.Int("attempt", 1, 1'000'000, true));
  out.attempt = static_cast<int>(attempt);
  SP_ASSIGN_OR_RETURN(std::string state, r.Str("state", 16, true));
  if (state == "running") {
    out.state = WorkerReport::State::kRunning;
  } else if (state == "exited") {
    out.state = WorkerReport::State::kExited;
  } else {
    return FieldError("state", fmt::format("must be running or exited, got '{}'", state));
  }
  if (doc.contains("exit_code") && !doc["exit_code"].is_null()) {
    SP_ASSIGN_OR_RETURN(int64_t code, r.Int("exit_code", -255, 255, true));
    out.exit_code = static_cast<int>(code);
  }
  if (doc.contains("signal") && !doc["signal"].is_null()) {
    SP_ASSIGN_OR_RETURN(int64_t sig, r.Int("signal", 1, 128, true));
    out.signal = static_cast<int>(sig);
  }
  SP_ASSIGN_OR_RETURN(out.reason, r.Str("reason", 32, false));
  if (!out.reason.empty() && out.reason != "runtime_limit" && out.reason != "start_failed" &&
      out.reason != "lost") {
    return FieldError(
        "reason", fmt::format("must be runtime_limit, start_failed or lost, got '{}'", out.reason));
  }
  SP_ASSIGN_OR_RETURN(out.message, r.Str("message", 1 << 16, false));
  if (out.message.size() > 512) out.message.resize(512);
  return out;
}

StatusOr<ImageRef> ParseImageRef(const std::string& text) {
  if (text.empty() || text.size() > 255) {
    return InvalidArgumentError(
        fmt::format("must be NAME[:TAG] of 1 to 255 characters, got {} bytes", text.size()));
  }
  ImageRef ref;
  const size_t colon = text.rfind(':');
  const size_t slash = text.rfind('/');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    ref.name = text.substr(0, colon);
    ref.tag = text.substr(colon + 1);
  } else {
    ref.name = text;
    ref.tag = "latest";
  }
  auto bad = [&](const std::string& why) {
    std::string shown;
    for (char c : text.substr(0, 64)) {
      shown += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
    }
    return InvalidArgumentError(fmt::format("{}, got '{}'", why, shown));
  };
  if (ref.name.empty() || ref.name.front() == '/' || ref.name.back() == '/') {
    return bad("the name must not be empty or start or end with '/'");
  }
  for (char c : ref.name) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
          c == '/')) {
      return bad("the name may hold lower-case letters, digits and . _ - / only");
    }
  }
  for (size_t i = 0; i <= ref.name.size();) {
    size_t j = ref.name.find('/', i);
    if (j == std::string::npos) j = ref.name.size();
    const std::string part = ref.name.substr(i, j - i);
    if (part.empty() || part == "." || part == ".." || part.front() == '.') {
      return bad("each part of the name must be non-empty and not start with '.'");
    }
    i = j + 1;
  }
  if (ref.tag.empty() || ref.tag.size() > 128) return bad("the tag must be 1 to 128 characters");
  for (char c : ref.tag) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return bad("the tag may hold letters, digits and . _ - only");
    }
  }
  if (ref.tag.front() == '.' || ref.tag.front() == '-') {
    return bad("the tag must start with a letter, digit or '_'");
  }
  return ref;
}

}  // namespace suanpan::protocol
