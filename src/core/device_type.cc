#include "core/device_type.h"

#include <fmt/format.h>

namespace suanpan::core {

StatusOr<DeviceTypeId> DeviceCatalog::Add(DeviceType type) {
  if (type.name.empty()) return InvalidArgumentError("device type: name: must not be empty");
  if (Find(type.name)) {
    return AlreadyExistsError(fmt::format("device type: name: duplicate '{}'", type.name));
  }
  if (type.memory.value() <= 0) {
    return InvalidArgumentError(fmt::format("device type '{}': memory: must be > 0, got {}",
                                            type.name, type.memory.value()));
  }
  if (type.fp16_gflops <= 0) {
    return InvalidArgumentError(fmt::format("device type '{}': fp16_tflops: must be > 0, got {}",
                                            type.name, type.fp16_gflops));
  }
  if (type.interconnect_domain < 1 || type.interconnect_domain > 1024) {
    return InvalidArgumentError(
        fmt::format("device type '{}': interconnect_domain: must be in 1..1024, got {}", type.name,
                    type.interconnect_domain));
  }
  if (types_.size() >= 1000) return ResourceExhaustedError("device type: more than 1000 types");
  types_.push_back(std::move(type));
  return DeviceTypeId(static_cast<uint16_t>(types_.size() - 1));
}

std::optional<DeviceTypeId> DeviceCatalog::Find(std::string_view name) const {
  for (size_t i = 0; i < types_.size(); ++i) {
    if (types_[i].name == name) return DeviceTypeId(static_cast<uint16_t>(i));
  }
  return std::nullopt;
}

std::string DeviceCatalog::Names() const {
  std::string out;
  for (const DeviceType& t : types_) {
    if (!out.empty()) out += ", ";
    out += t.name;
  }
  return out;
}

namespace {

DeviceCatalog MakeBuiltin() {
  // Figures: peak dense FP16/BF16 tensor TFLOPS (without sparsity) as printed in each vendor's
  // data sheet; memory as sold in the pooled servers.
  const DeviceType rows[] = {
      {"H100", "NVIDIA", "H100 SXM5 80GB", MiB(80 * 1024), 989'400, 8, "NVLink 4 (900 GB/s)",
       "NVIDIA H100 Tensor Core GPU datasheet: BF16/FP16 Tensor 1,979 TFLOPS with sparsity"},
      {"H800", "NVIDIA", "H800 SXM5 80GB", MiB(80 * 1024), 989'400, 8, "NVLink (400 GB/s)",
       "NVIDIA H800 datasheet: same Hopper SXM5 compute as H100, NVLink cut to 400 GB/s"},
      {"H20", "NVIDIA", "H20 96GB", MiB(96 * 1024), 148'000, 8, "NVLink (900 GB/s)",
       "NVIDIA HGX H20 product brief: FP16/BF16 Tensor 148 TFLOPS dense"},
      {"A100", "NVIDIA", "A100 SXM4 80GB", MiB(80 * 1024), 312'000, 8, "NVLink 3 (600 GB/s)",
       "NVIDIA A100 Tensor Core GPU datasheet: BF16/FP16 Tensor 312 TFLOPS (624 sparse)"},
      {"A800", "NVIDIA", "A800 SXM4 80GB", MiB(80 * 1024), 312'000, 8, "NVLink (400 GB/s)",
       "NVIDIA A800 datasheet: A100 compute, NVLink cut to 400 GB/s"},
      {"L40S", "NVIDIA", "L40S 48GB", MiB(48 * 1024), 362'050, 1, "PCIe Gen4",
       "NVIDIA L40S datasheet: BF16/FP16 Tensor 362.05 TFLOPS (733 sparse)"},
      {"RTX4090", "NVIDIA", "GeForce RTX 4090 24GB", MiB(24 * 1024), 165'200, 1, "PCIe Gen4",
       "NVIDIA Ada Lovelace architecture whitepaper: FP16 Tensor w/ FP32 accumulate 165.2 TFLOPS"},
      {"Ascend910B", "Huawei", "Ascend 910B 64GB", MiB(64 * 1024), 313'000, 8, "HCCS",
       "Huawei Atlas 800T A2 datasheet: 8 x Ascend 910B, ~2.5 PFLOPS FP16 per server"},
      {"MLU370", "Cambricon", "MLU370-X8 48GB", MiB(48 * 1024), 96'000, 4, "MLU-Link",
       "Cambricon MLU370-X8 product page: FP16/BF16 96 TFLOPS, 48 GB LPDDR5"},
  };
  DeviceCatalog catalog;
  for (const DeviceType& row : rows) SP_CHECK(catalog.Add(row).ok()) << row.name;
  return catalog;
}

}  // namespace

const DeviceCatalog& BuiltinDeviceCatalog() {
  static const DeviceCatalog* catalog = new DeviceCatalog(MakeBuiltin());
  return *catalog;
}

}  // namespace suanpan::core
