// GET /v1/overview and /v1/utilization (control/dashboard.cc) as JSON. Devices are decimal
// numbers of devices (a quarter of a GPU is 0.25), throughput in peak dense FP16 PFLOPS.

#include <cmath>

#include "api/views/views.h"

namespace suanpan::api {

using Json = nlohmann::json;

namespace {

double Devices(int64_t milli) { return static_cast<double>(milli) / 1000.0; }
double Pflops(int64_t gflops) { return std::round(static_cast<double>(gflops) / 1e3) / 1e3; }

Json StatesJson(const control::DeviceStates& d) {
  return Json{{"total", Devices(d.total)},
              {"allocated", Devices(d.allocated)},
              {"external", Devices(d.external)},
              {"down", Devices(d.down)},
              {"free", Devices(d.free)},
              {"pflops", Pflops(d.fp16_gflops)},
              {"pflops_allocated", Pflops(d.fp16_gflops_allocated)}};
}

Json StatesMap(const std::map<std::string, control::DeviceStates>& m) {
  Json out = Json::object();
  for (const auto& [k, d] : m) out[k] = StatesJson(d);
  return out;
}

}  // namespace

Json ToJson(const control::OverviewView& v) {
  Json providers = Json::array();
  for (const control::ProviderOverview& p : v.providers) {
    providers.push_back({{"name", p.name},
                         {"region", p.region},
                         {"backend", p.backend},
                         {"state", p.state},
                         {"message", p.message},
                         {"nodes", p.nodes},
                         {"nodes_down", p.nodes_down},
                         {"devices", StatesJson(p.devices)},
                         {"by_type", StatesMap(p.by_type)}});
  }
  Json tenants = Json::array();
  for (const control::TenantQueueView& t : v.tenants) {
    tenants.push_back({{"tenant", t.tenant},
                       {"queued", t.queued},
                       {"running", t.running},
                       {"oldest_wait_seconds", t.oldest_wait_ms / 1000},
                       {"mean_wait_seconds", t.mean_wait_ms / 1000},
                       {"waiting_for_funds", t.waiting_for_funds}});
  }
  Json alerts = Json::array();
  for (const control::AlertView& a : v.alerts) {
    alerts.push_back({{"severity", a.severity},
                      {"kind", a.kind},
                      {"message", a.message},
                      {"subject", a.subject}});
  }
  // No "time": an unchanged hub gives the same body, so a polling page gets 304s.
  return Json{{"devices", StatesJson(v.devices)},
              {"providers", providers},
              {"by_region", StatesMap(v.by_region)},
              {"by_type", StatesMap(v.by_type)},
              {"jobs", {{"queued", v.queued}, {"running", v.running}}},
              {"tenants", tenants},
              {"alerts", alerts}};
}

Json ToJson(const control::UtilizationView& v) {
  Json allocated = Json::object();
  for (const auto& [type, series] : v.allocated) allocated[type] = series;
  Json t = Json::array();
  for (int64_t ms : v.t_ms) t.push_back(ms / 1000);
  return Json{{"from", TimeJson(v.from_ms)},
              {"to", TimeJson(v.to_ms)},
              {"step_seconds", v.step_ms / 1000.0},
              {"devices", Devices(v.devices_milli)},
              {"t", t},
              {"allocated", allocated},
              {"queued", v.queued},
              {"cost_yuan", v.cost_yuan}};
}

}  // namespace suanpan::api
