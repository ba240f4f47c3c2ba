#pragma once
// What a node has: accelerators from NVML (loaded at run time with dlopen; no build dependency,
// and a machine without NVIDIA's driver simply has none), or declared in the agent's options
// ("H100:8", "Ascend910B:8:64" = type, count, GiB each) for machines without accelerators or
// whose accelerators NVML cannot see. CPU cores and memory come from the OS.

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace suanpan::agent {

struct Device {
  int index = 0;
  std::string type;  // a device type of the catalogue: "H100", "RTX4090", ...
  int64_t memory_mib = 0;
  std::string name;  // as the driver says it ("NVIDIA H100 80GB HBM3"), or "declared"
};

// Parses "TYPE:COUNT[:GIB]" (several joined by ','). InvalidArgument names the part.
StatusOr<std::vector<Device>> ParseDeclaredDevices(const std::string& spec);
// NVIDIA devices through libnvidia-ml.so.1; Unavailable when the library or driver is absent.
StatusOr<std::vector<Device>> DiscoverNvml();
// "NVIDIA H100 80GB HBM3" -> "H100"; "NVIDIA GeForce RTX 4090" -> "RTX4090"; "" when unknown.
std::string CatalogTypeOf(const std::string& nvml_name);

struct Host {
  int cpu_cores = 0;
  int64_t memory_mib = 0;
  std::string hostname;
};
Host DiscoverHost();

}  // namespace suanpan::agent
