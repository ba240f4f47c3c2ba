#pragma once
// The small fixed pool the job fuzzers decode against: two types, two tenants (one limited to
// the "low" class), a non-preemptible "high" class.
#include "config/pool_file.h"

namespace suanpan::fuzz {

inline const suanpan::core::Pool& FuzzPool() {
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

}  // namespace suanpan::fuzz
