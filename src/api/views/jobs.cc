#include <fmt/format.h>

#include "api/views/views.h"
#include "control/control_plane.h"

namespace suanpan::api {

using Json = nlohmann::json;

Json TimeJson(std::optional<int64_t> ms) {
  return ms ? Json(control::FormatTimeMs(*ms)) : Json(nullptr);
}

std::string Yuan(int64_t micro) {
  const bool neg = micro < 0;
  if (neg) micro = -micro;
  return fmt::format("{}{}.{:02d}", neg ? "-" : "", micro / 1'000'000,
                     (micro % 1'000'000) / 10'000);
}

Json ToJson(const control::RunView& r) {
  Json workers = Json::array();
  for (const control::WorkerPlacementView& w : r.workers) {
    workers.push_back({{"node", w.node},
                       {"devices", w.devices},
                       {"share", w.share},
                       {"cpu", w.cpu},
                       {"memory", w.memory}});
  }
  return Json{{"attempt", r.attempt},
              {"provider", r.provider},
              {"cluster", r.cluster},
              {"device_type", r.device_type},
              {"started", control::FormatTimeMs(r.start_ms)},
              {"ended", TimeJson(r.end_ms)},
              {"workers", workers}};
}

Json ToJson(const control::JobView& j) {
  Json v{{"id", j.id},
         {"name", j.name},
         {"tenant", j.tenant},
         {"user", j.user},
         {"project", j.project.empty() ? Json(nullptr) : Json(j.project)},
         {"state", std::string(core::JobStateName(j.state))},
         {"reason", j.reason},
         {"submitted", control::FormatTimeMs(j.submit_ms)},
         {"updated", control::FormatTimeMs(j.updated_ms)},
         {"attempts", j.attempts},
         {"devices", j.devices},
         {"spec", j.spec}};
  v["exit_code"] = j.exit_code ? Json(*j.exit_code) : Json(nullptr);
  v["earliest_start"] = TimeJson(j.earliest_start_ms);
  v["placement"] = j.placement ? ToJson(*j.placement) : Json(nullptr);
  v["cost_yuan"] = Yuan(j.cost_micro);
  return v;
}

Json ToJson(const control::JobPage& page) {
  Json items = Json::array();
  for (const control::JobView& j : page.items) items.push_back(ToJson(j));
  Json out{{"items", items},
           {"next_after", page.next_after ? Json(*page.next_after) : Json(nullptr)}};
  if (page.next_before) out["next_before"] = *page.next_before;
  return out;
}

Json ToJson(const std::vector<control::EventView>& events) {
  Json items = Json::array();
  for (const control::EventView& e : events) {
    items.push_back({{"seq", e.seq},
                     {"time", control::FormatTimeMs(e.time_ms)},
                     {"kind", e.kind},
                     {"message", e.message}});
  }
  return Json{{"items", items}};
}

Json ToJson(const control::ExplainView& e) {
  Json out{{"id", e.id}, {"state", std::string(core::JobStateName(e.state))}};
  out["pending"] = e.pending;
  out["reason"] = e.reason;
  if (!e.pending) return out;
  out["queued_since"] = TimeJson(e.queued_since_ms);
  out["earliest_start"] = TimeJson(e.earliest_start_ms);
  if (e.outcome) out["outcome"] = *e.outcome;
  if (e.position) out["position"] = *e.position;
  return out;
}

Json ToJson(const control::QueueView& q) {
  Json items = Json::array();
  for (const control::QueueEntryView& e : q.items) {
    items.push_back({{"position", e.position},
                     {"id", e.id},
                     {"name", e.name},
                     {"tenant", e.tenant},
                     {"devices", e.devices},
                     {"state", std::string(core::JobStateName(e.state))},
                     {"reason", e.reason},
                     {"earliest_start", TimeJson(e.earliest_start_ms)}});
  }
  return Json{{"policy", q.policy}, {"length", q.length}, {"items", items}};
}

Json ToJson(const control::LogChunk& c) {
  return Json{{"attempt", c.attempt},         {"rank", c.rank}, {"offset", c.offset},
              {"next_offset", c.next_offset}, {"data", c.data}, {"done", c.done}};
}

}  // namespace suanpan::api
