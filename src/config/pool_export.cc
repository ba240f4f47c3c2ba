// Writes a pool back as a pool file (docs/pool-format.md): `suanpan pool export` prints the live
// configuration this way, and the reader (pool_toml.cc) reads it back to the same pool, which is
// what config_test checks (ParsePool(WritePool(p)) describes p, on every example pool).
//
// Written by hand rather than through toml++'s printer so that numbers keep the exact decimal
// form the reader wants back (fixed-point devices, yuan to the micro-yuan) and so that node
// groups, tenants and projects read as a person would have written them.

#include <fmt/format.h>

#include <filesystem>

#include "config/pool_file.h"

namespace suanpan::config {
namespace {

// A TOML basic string.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// An exact decimal of `value / scale`: 8000 / 1000 -> "8", 500 / 1000 -> "0.5".
std::string Decimal(int64_t value, int64_t scale) {
  std::string sign = value < 0 ? "-" : "";
  const uint64_t v = value < 0 ? static_cast<uint64_t>(-(value + 1)) + 1 : value;
  const uint64_t whole = v / static_cast<uint64_t>(scale), frac = v % static_cast<uint64_t>(scale);
  if (frac == 0) return sign + std::to_string(whole);
  int digits = 0;
  for (int64_t s = scale; s > 1; s /= 10) ++digits;
  std::string f = fmt::format("{:0{}}", frac, digits);
  while (!f.empty() && f.back() == '0') f.pop_back();
  return fmt::format("{}{}.{}", sign, whole, f);
}

// MiB as GiB, exactly (a binary fraction is a finite decimal): 1536 -> "1.5".
std::string Gib(int64_t mib) {
  if (mib % 1024 == 0) return std::to_string(mib / 1024);
  std::string f =
      fmt::format("{:010}", (mib % 1024) * int64_t{9765625});  // x / 1024 = x * 5^10 / 10^10
  while (!f.empty() && f.back() == '0') f.pop_back();
  return fmt::format("{}.{}", mib / 1024, f);
}

// A path as the reader will read it from anywhere: absolute.
std::string AbsolutePath(const std::string& p) {
  return p.empty() ? p : std::filesystem::absolute(p).lexically_normal().string();
}

std::string QuotaTable(const core::Pool& pool, const std::vector<core::Quota>& quotas) {
  std::string out;
  for (size_t t = 0; t < quotas.size(); ++t) {
    const core::Quota& q = quotas[t];
    if (q.guaranteed.value() == 0 && q.max == MilliDevices::Max()) continue;
    std::string entry = "guaranteed = " + Decimal(q.guaranteed.value(), kMilliPerDevice);
    if (q.max != MilliDevices::Max()) entry += ", max = " + Decimal(q.max.value(), kMilliPerDevice);
    out +=
        fmt::format("{}{} = {{ {} }}", out.empty() ? "" : ", ",
                    pool.catalog().Get(core::DeviceTypeId(static_cast<uint16_t>(t))).name, entry);
  }
  return out.empty() ? "" : "{ " + out + " }";
}

std::string StringList(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + Quote(s);
  return "[" + out + "]";
}

}  // namespace

std::string WritePool(const core::Pool& pool, const sched::PolicyConfig& policy,
                      const std::string& header, const PriceLookup& price) {
  std::string out;
  if (!header.empty()) {
    for (size_t at = 0; at < header.size();) {
      size_t nl = header.find('\n', at);
      if (nl == std::string::npos) nl = header.size();
      out += "# " + header.substr(at, nl - at) + "\n";
      at = nl + 1;
    }
    out += "\n";
  }
  const core::DeviceCatalog builtin = core::BuiltinDeviceCatalog();
  for (size_t t = 0; t < pool.catalog().size(); ++t) {
    const core::DeviceType& d = pool.catalog().Get(core::DeviceTypeId(static_cast<uint16_t>(t)));
    if (builtin.Find(d.name)) continue;  // the built-in types need no entry
    out += "[[device_types]]\n";
    out += fmt::format("name = {}\n", Quote(d.name));
    if (!d.vendor.empty()) out += fmt::format("vendor = {}\n", Quote(d.vendor));
    out += fmt::format("model = {}\n", Quote(d.model));
    out += fmt::format("memory_gib = {}\n", Gib(d.memory.value()));
    out += fmt::format("fp16_tflops = {}\n", Decimal(d.fp16_gflops, 1000));
    out += fmt::format("interconnect_domain = {}\n", d.interconnect_domain);
    if (!d.interconnect.empty()) out += fmt::format("interconnect = {}\n", Quote(d.interconnect));
    if (!d.source.empty()) out += fmt::format("source = {}\n", Quote(d.source));
    out += "\n";
  }
  for (const core::PriorityClass& pc : pool.priority_classes()) {
    out += fmt::format("[[priority_classes]]\nname = {}\nvalue = {}\npreemptible = {}\n\n",
                       Quote(pc.name), pc.value, pc.preemptible ? "true" : "false");
  }
  out += "[policy]\n";
  out += fmt::format("queue = {}\nplacement = {}\n", Quote(policy.queue), Quote(policy.placement));
  out += fmt::format("preemption = {}\nbackfill = {}\nblocking = {}\n",
                     policy.preemption ? "true" : "false", policy.backfill ? "true" : "false",
                     policy.blocking ? "true" : "false");
  out += fmt::format("fair_share_half_life_hours = {}\n",
                     Decimal(policy.fair_share_half_life.value() * 1000 / 3600, 1000));
  std::string las;
  for (int64_t l : policy.las_thresholds) las += fmt::format("{}{}", las.empty() ? "" : ", ", l);
  out += fmt::format("las_thresholds_device_seconds = [{}]\n", las);
  if (policy.estimate_depth != 0)
    out += fmt::format("estimate_depth = {}\n", policy.estimate_depth);
  out += "\n";

  for (size_t p = 0; p < pool.providers().size(); ++p) {
    const core::Provider& prov = pool.providers()[p];
    const core::ProviderId pid(static_cast<uint32_t>(p));
    out += "[[providers]]\n";
    out += fmt::format("name = {}\nregion = {}\nbackend = {}\n", Quote(prov.name),
                       Quote(prov.region), Quote(core::BackendKindName(prov.backend)));
    if (prov.margin_permille != 0) {
      out += fmt::format("margin_percent = {}\n", Decimal(prov.margin_permille, 10));
    }
    std::string prices;
    for (size_t t = 0; t < prov.price_per_device_hour.size(); ++t) {
      const core::DeviceTypeId type(static_cast<uint16_t>(t));
      std::optional<MicroYuan> yuan = prov.price_per_device_hour[t];
      if (price) yuan = price(pid, type, yuan);
      if (!yuan) continue;
      prices += fmt::format("{}{} = {}", prices.empty() ? "" : ", ", pool.catalog().Get(type).name,
                            Decimal(yuan->value(), 1'000'000));
    }
    if (!prices.empty()) out += fmt::format("prices = {{ {} }}\n", prices);
    if (prov.engine) {
      const core::EngineConfig& e = *prov.engine;
      out += "\n[providers.slurm]\n";
      out += fmt::format("mode = {}\n", Quote(e.mode));
      if (!e.url.empty()) out += fmt::format("url = {}\n", Quote(e.url));
      out += fmt::format("user = {}\n", Quote(e.user));
      if (!e.token_file.empty())
        out += fmt::format("token_file = {}\n", Quote(AbsolutePath(e.token_file)));
      if (!e.cli_dir.empty()) out += fmt::format("cli_dir = {}\n", Quote(e.cli_dir));
      if (!e.conf.empty()) out += fmt::format("conf = {}\n", Quote(AbsolutePath(e.conf)));
      if (!e.partition.empty()) out += fmt::format("partition = {}\n", Quote(e.partition));
      if (!e.account.empty()) out += fmt::format("account = {}\n", Quote(e.account));
      if (!e.qos.empty()) out += fmt::format("qos = {}\n", Quote(e.qos));
      if (!e.nodes.empty()) out += fmt::format("nodes = {}\n", StringList(e.nodes));
      out += fmt::format("output_dir = {}\n", Quote(AbsolutePath(e.output_dir)));
      if (!e.work_dir.empty()) out += fmt::format("work_dir = {}\n", Quote(e.work_dir));
      out += fmt::format("poll_seconds = {}\ntimeout_seconds = {}\n", e.poll_seconds,
                         e.timeout_seconds);
      if (!e.gres.empty()) {
        std::string g;
        for (const auto& [type, name] : e.gres) {
          g += fmt::format("{}{} = {}", g.empty() ? "" : ", ", type, Quote(name));
        }
        out += fmt::format("gres = {{ {} }}\n", g);
      }
    }
    for (core::ClusterId cid : prov.clusters) {
      const core::Cluster& c = pool.cluster(cid);
      out += "\n[[providers.clusters]]\n";
      out += fmt::format("name = {}\nnodes_per_switch = {}\nswitches_per_block = {}\n",
                         Quote(c.name), c.nodes_per_switch, c.switches_per_block);
      // Node groups: runs of consecutive nodes of one group (each group was laid out in order).
      for (size_t i = 0; i < c.nodes.size();) {
        const core::Node& first = pool.node(c.nodes[i]);
        size_t j = i + 1;
        while (j < c.nodes.size() && pool.node(c.nodes[j]).group == first.group) ++j;
        const core::NodeShape& shape = first.shape;
        out += "\n[[providers.clusters.node_groups]]\n";
        out += fmt::format("name = {}\ncount = {}\ndevice_type = {}\ndevices_per_node = {}\n",
                           Quote(first.group), j - i, Quote(pool.catalog().Get(shape.type).name),
                           shape.devices);
        out += fmt::format("interconnect_domain = {}\n", shape.domain_size);
        out += fmt::format("cpu_cores = {}\nmemory_gib = {}\n", Decimal(shape.cpu.value(), 1000),
                           Gib(shape.memory.value()));
        i = j;
      }
    }
    out += "\n";
  }

  for (const core::Tenant& t : pool.tenants()) {
    out += "[[tenants]]\n";
    out += fmt::format("name = {}\nweight = {}\n", Quote(t.name), t.weight);
    if (!t.priority_classes.empty()) {
      out += fmt::format("priority_classes = {}\n", StringList(t.priority_classes));
    }
    if (const std::string q = QuotaTable(pool, t.quota); !q.empty()) {
      out += fmt::format("quota = {}\n", q);
    }
    if (t.retired) out += "retired = true\n";
    for (const core::Project& p : t.projects) {
      out += "\n[[tenants.projects]]\n";
      out += fmt::format("name = {}\nweight = {}\n", Quote(p.name), p.weight);
      if (const std::string q = QuotaTable(pool, p.quota); !q.empty()) {
        out += fmt::format("quota = {}\n", q);
      }
      if (p.retired) out += "retired = true\n";
    }
    out += "\n";
  }
  return out;
}

}  // namespace suanpan::config
