#pragma once
// Accelerator types as data. Each row of the built-in catalogue names the vendor data sheet its
// figures come from. Peak throughput is dense (no structured sparsity) FP16/BF16 tensor TFLOPS,
// stored in integer GFLOPS so that pool totals are exact sums.
//   H100 SXM5: 989.4 TFLOPS dense BF16 -> 989,400 GFLOPS; 20,000 of them = 19.79 EFLOPS.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/id.h"
#include "base/quantity.h"
#include "base/status.h"

namespace suanpan::core {

using DeviceTypeId = Id<struct DeviceTypeTag, uint16_t>;

struct DeviceType {
  std::string name;             // short name used in pool files and job requests: "H100"
  std::string vendor;           // "NVIDIA", "Huawei", ...
  std::string model;            // "H100 SXM5 80GB"
  MiB memory;                   // device memory
  int64_t fp16_gflops = 0;      // peak dense FP16/BF16 tensor throughput, GFLOPS
  int interconnect_domain = 1;  // devices in one NVLink/HCCS/MLU-Link domain (1: PCIe only)
  std::string interconnect;     // "NVLink 4", "HCCS", "PCIe"
  std::string source;           // where the figures come from
};

// An ordered set of device types; ids are positions. Lookups by name are case-sensitive.
class DeviceCatalog {
 public:
  // Adds a type; rejects an empty or duplicate name, zero memory or throughput.
  StatusOr<DeviceTypeId> Add(DeviceType type);
  // O(types): the catalogue holds tens of entries.
  std::optional<DeviceTypeId> Find(std::string_view name) const;
  const DeviceType& Get(DeviceTypeId id) const { return types_[id.value()]; }
  size_t size() const { return types_.size(); }
  const std::vector<DeviceType>& types() const { return types_; }
  // "H100, H800, A100, ..." for error messages.
  std::string Names() const;

 private:
  std::vector<DeviceType> types_;
};

// The built-in catalogue: H100, H800, H20, A100, A800, L40S, RTX 4090, Ascend 910B, MLU370-X8.
const DeviceCatalog& BuiltinDeviceCatalog();

}  // namespace suanpan::core
