#include "agent/discovery.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace suanpan::agent {
namespace {

// The few NVML entry points used, declared here (NVML is not in Debian main; see FIELD-NOTES).
using nvmlReturn_t = int;
using nvmlDevice_t = void*;
struct NvmlMemory {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
constexpr nvmlReturn_t kNvmlSuccess = 0;

}  // namespace

std::string CatalogTypeOf(const std::string& name) {
  std::string n;
  for (char c : name) {
    if (c != ' ' && c != '-') n += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  for (const char* t : {"H100", "H800", "H20", "A100", "A800", "L40S"}) {
    if (n.find(t) != std::string::npos) return t;
  }
  if (n.find("RTX4090") != std::string::npos) return "RTX4090";
  return "";
}

StatusOr<std::vector<Device>> ParseDeclaredDevices(const std::string& spec) {
  std::vector<Device> out;
  std::stringstream parts(spec);
  std::string part;
  while (std::getline(parts, part, ',')) {
    std::vector<std::string> f;
    std::stringstream fs(part);
    std::string x;
    while (std::getline(fs, x, ':')) f.push_back(x);
    if (f.size() < 2 || f.size() > 3 || f[0].empty()) {
      return InvalidArgumentError(
          fmt::format("devices: '{}' must be TYPE:COUNT or TYPE:COUNT:GIB", part));
    }
    char* end = nullptr;
    const long count = std::strtol(f[1].c_str(), &end, 10);
    if (*end != '\0' || count < 1 || count > 64) {
      return InvalidArgumentError(fmt::format("devices: count in '{}' must be 1..64", part));
    }
    long gib = 0;
    if (f.size() == 3) {
      gib = std::strtol(f[2].c_str(), &end, 10);
      if (*end != '\0' || gib < 1 || gib > 4096) {
        return InvalidArgumentError(fmt::format("devices: GiB in '{}' must be 1..4096", part));
      }
    }
    for (long i = 0; i < count; ++i) {
      out.push_back({static_cast<int>(out.size()), f[0], gib * 1024, "declared"});
    }
  }
  if (out.empty()) return InvalidArgumentError("devices: nothing declared");
  return out;
}

StatusOr<std::vector<Device>> DiscoverNvml() {
  void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr)
    return UnavailableError("NVML: libnvidia-ml.so.1 not found (no NVIDIA driver)");
  auto sym = [&](const char* name) { return dlsym(lib, name); };
  auto init = reinterpret_cast<nvmlReturn_t (*)()>(sym("nvmlInit_v2"));
  auto count = reinterpret_cast<nvmlReturn_t (*)(unsigned*)>(sym("nvmlDeviceGetCount_v2"));
  auto handle = reinterpret_cast<nvmlReturn_t (*)(unsigned, nvmlDevice_t*)>(
      sym("nvmlDeviceGetHandleByIndex_v2"));
  auto get_name =
      reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned)>(sym("nvmlDeviceGetName"));
  auto memory =
      reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, NvmlMemory*)>(sym("nvmlDeviceGetMemoryInfo"));
  auto shutdown = reinterpret_cast<nvmlReturn_t (*)()>(sym("nvmlShutdown"));
  if (!init || !count || !handle || !get_name || !memory || !shutdown) {
    dlclose(lib);
    return UnavailableError("NVML: a required function is missing from libnvidia-ml.so.1");
  }
  if (init() != kNvmlSuccess) {
    dlclose(lib);
    return UnavailableError("NVML: nvmlInit failed (driver not loaded?)");
  }
  std::vector<Device> out;
  unsigned n = 0;
  if (count(&n) == kNvmlSuccess) {
    for (unsigned i = 0; i < n; ++i) {
      nvmlDevice_t d = nullptr;
      if (handle(i, &d) != kNvmlSuccess) continue;
      char name[96] = {0};
      get_name(d, name, sizeof(name));
      NvmlMemory mem{};
      memory(d, &mem);
      out.push_back({static_cast<int>(i), CatalogTypeOf(name),
                     static_cast<int64_t>(mem.total / (1024 * 1024)), name});
    }
  }
  shutdown();
  dlclose(lib);
  return out;
}

Host DiscoverHost() {
  Host h;
  h.cpu_cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  std::ifstream mem("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (mem >> key >> kb >> unit) {
    if (key == "MemTotal:") {
      h.memory_mib = kb / 1024;
      break;
    }
  }
  char name[256] = {0};
  gethostname(name, sizeof(name) - 1);
  h.hostname = name;
  return h;
}

}  // namespace suanpan::agent
