// Fuzzes the API's job decoder (POST /v1/jobs bodies, job files, stored specs) against a small
// fixed pool: any bytes give a job or an error naming a problem, and a decoded job survives its
// own encoding (Encode(Decode(x)) decodes to the same canonical document).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "config/pool_file.h"
#include "control/job_codec.h"

namespace {

const suanpan::core::Pool& FuzzPool() {
  static const auto* pool = [] {
    auto parsed = suanpan::config::ParsePool(R"(
[[priority_classes]]
name = "low"
value = 0
[[priority_classes]]
name = "high"
value = 100
preemptible = false
[[providers]]
name = "p"
region = "r"
prices = { H100 = 10, RTX4090 = 2 }
[[providers.clusters]]
name = "c"
nodes_per_switch = 2
[[providers.clusters.node_groups]]
name = "g"
count = 4
device_type = "H100"
devices_per_node = 8
cpu_cores = 128
memory_gib = 1024
[[providers.clusters.node_groups]]
name = "h"
count = 2
device_type = "RTX4090"
devices_per_node = 4
cpu_cores = 32
memory_gib = 256
[[tenants]]
name = "a"
[[tenants]]
name = "b"
priority_classes = ["low"]
)",
                                             "fuzz-pool.toml");
    if (!parsed.ok()) __builtin_trap();
    return new suanpan::core::Pool(std::move(parsed->pool));
  }();
  return *pool;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json doc = nlohmann::json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded()) return 0;
  auto job = suanpan::control::DecodeJob(doc, FuzzPool());
  if (!job.ok()) {
    if (job.status().message().empty()) __builtin_trap();
    return 0;
  }
  const nlohmann::json canonical = suanpan::control::EncodeJob(*job, FuzzPool());
  auto again = suanpan::control::DecodeJob(canonical, FuzzPool());
  if (!again.ok()) __builtin_trap();
  if (suanpan::control::EncodeJob(*again, FuzzPool()) != canonical) __builtin_trap();
  return 0;
}
