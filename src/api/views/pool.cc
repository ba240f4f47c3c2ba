#include "api/views/views.h"
#include "control/control_plane.h"

namespace suanpan::api {

using Json = nlohmann::json;

Json ToJson(const std::vector<control::ProviderView>& providers) {
  Json items = Json::array();
  for (const control::ProviderView& p : providers) {
    Json devices = Json::object();
    for (const auto& [type, d] : p.devices) devices[type] = {{"total", d.total}, {"free", d.free}};
    Json prices = Json::object();
    for (const auto& [type, micro] : p.price_micro_per_hour) prices[type] = Yuan(micro);
    Json item = {{"name", p.name},       {"region", p.region},
                 {"backend", p.backend}, {"clusters", p.clusters},
                 {"devices", devices},   {"price_yuan_per_device_hour", prices}};
    if (p.engine) {
      const control::EngineView& e = *p.engine;
      Json capacity = Json::object();
      for (const auto& [type, tf] : e.devices) {
        capacity[type] = {{"total", tf.first}, {"free", tf.second}};
      }
      item["engine"] = {{"kind", e.kind},
                        {"mode", e.mode},
                        {"state", e.state},
                        {"message", e.message},
                        {"since", control::FormatTimeMs(e.since_ms)},
                        {"last_poll", e.last_poll_ms ? Json(control::FormatTimeMs(e.last_poll_ms))
                                                     : Json(nullptr)},
                        {"devices", capacity},
                        {"jobs", {{"pending", e.pending}, {"running", e.running}}}};
    }
    items.push_back(std::move(item));
  }
  return Json{{"items", items}};
}

Json ToJson(const std::vector<control::ClusterView>& clusters) {
  Json items = Json::array();
  for (const control::ClusterView& c : clusters) {
    Json devices = Json::object();
    for (const auto& [type, d] : c.devices) devices[type] = {{"total", d.total}, {"free", d.free}};
    items.push_back({{"name", c.name},
                     {"provider", c.provider},
                     {"nodes", c.nodes},
                     {"leaf_switches", c.leaf_switches},
                     {"blocks", c.blocks},
                     {"devices", devices}});
  }
  return Json{{"items", items}};
}

Json ToJson(const control::NodeView& n) {
  Json v{{"name", n.name},
         {"provider", n.provider},
         {"cluster", n.cluster},
         {"group", n.group},
         {"device_type", n.device_type},
         {"devices", n.devices},
         {"free_devices", n.free_devices},
         {"domain_size", n.domain_size},
         {"leaf_switch", n.leaf_switch},
         {"block", n.block},
         {"cpu", n.cpu_cores},
         {"memory_gib", n.memory_gib},
         {"agent", n.agent}};
  if (n.agent_address) v["agent_address"] = *n.agent_address;
  v["free_milli"] = n.free_share;
  v["cordoned"] = n.cordoned;
  v["external_devices"] = n.external;
  if (n.detail) {
    Json jobs = Json::array();
    for (const auto& [id, devices] : n.jobs) jobs.push_back({{"id", id}, {"devices", devices}});
    v["jobs"] = std::move(jobs);
    v["other_jobs"] = n.other_jobs;
  }
  return v;
}

Json ToJson(const control::NodePage& page) {
  Json items = Json::array();
  for (const control::NodeView& n : page.items) items.push_back(ToJson(n));
  return Json{{"total", page.total}, {"offset", page.offset}, {"items", items}};
}

namespace {

Json QuotasJson(const std::vector<control::QuotaView>& views) {
  Json quotas = Json::array();
  for (const control::QuotaView& q : views) {
    Json e{{"device_type", q.device_type}, {"guaranteed", q.guaranteed}, {"used", q.used}};
    e["max"] = q.max ? Json(*q.max) : Json(nullptr);
    quotas.push_back(std::move(e));
  }
  return quotas;
}

}  // namespace

Json ToJson(const control::TenantView& t) {
  Json projects = Json::array();
  for (const control::ProjectView& p : t.projects) {
    projects.push_back(Json{{"name", p.name},
                            {"weight", p.weight},
                            {"quotas", QuotasJson(p.quotas)},
                            {"queued_jobs", p.queued_jobs},
                            {"jobs_holding_devices", p.jobs_holding_devices},
                            {"retired", p.retired}});
  }
  return Json{{"name", t.name},
              {"weight", t.weight},
              {"priority_classes", t.priority_classes},
              {"quotas", QuotasJson(t.quotas)},
              {"queued_jobs", t.queued_jobs},
              {"jobs_holding_devices", t.jobs_holding_devices},
              {"retired", t.retired},
              {"projects", projects},
              {"fair_share", {{"dominant_share", t.fair_share}, {"rank", t.fair_share_rank}}}};
}

Json ToJson(const std::vector<control::TenantView>& tenants) {
  Json items = Json::array();
  for (const control::TenantView& t : tenants) items.push_back(ToJson(t));
  return Json{{"items", items}};
}

Json ToJson(const control::UsageView& u) {
  Json items = Json::array();
  for (const control::UsageLine& l : u.items) {
    items.push_back({{"tenant", l.tenant},
                     {"project", l.project.empty() ? Json(nullptr) : Json(l.project)},
                     {"user", l.user},
                     {"provider", l.provider},
                     {"device_type", l.device_type},
                     {"device_hours", l.device_hours},
                     {"cost_yuan", Yuan(l.cost_micro)}});
  }
  return Json{{"from", control::FormatTimeMs(u.from_ms)},
              {"to", control::FormatTimeMs(u.to_ms)},
              {"items", items},
              {"total_cost_yuan", Yuan(u.total_cost_micro)}};
}

Json ToJson(const std::vector<control::TokenView>& tokens) {
  Json items = Json::array();
  for (const control::TokenView& t : tokens) {
    items.push_back(
        {{"name", t.name},
         {"role", t.role},
         {"scope", t.scope},
         {"created", control::FormatTimeMs(t.created_ms)},
         {"revoked", t.revoked},
         {"expires", t.expires_ms ? Json(control::FormatTimeMs(*t.expires_ms)) : Json(nullptr)},
         {"expired", t.expired},
         {"projects", t.projects}});
  }
  return Json{{"items", items}};
}

Json ToJson(const control::CreatedToken& t) {
  return Json{{"name", t.name}, {"role", t.role}, {"scope", t.scope}, {"token", t.secret}};
}

Json ToJson(const control::WhoamiView& w) {
  return Json{{"token", w.token}, {"role", w.role}, {"scope", w.scope}};
}

}  // namespace suanpan::api
