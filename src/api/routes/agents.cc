// What node agents call: heartbeats, assignments (long-poll), worker reports and worker logs.
// Bodies are decoded by the one agent protocol (backends/agent/protocol.h).

#include <fmt/format.h>

#include "api/routes/routes.h"

namespace suanpan::api {

using control::Caller;
using control::ControlPlane;
using Json = nlohmann::json;

void AddAgentRoutes(Router& r, const RouteContext& ctx) {
  backends::AgentBackend* agents = ctx.agents;
  r.Add("GET", "/v1/nodes/{name}/assignments", {kAdmin, kAgent}, Query({"since", "wait"}),
        [agents](ControlPlane&, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          if (agents == nullptr) return FailedPreconditionError("this server runs no agents");
          SP_ASSIGN_OR_RETURN(size_t since, call.Size("since", 0, SIZE_MAX - 1));
          SP_ASSIGN_OR_RETURN(size_t wait, call.Size("wait", 0, 60));
          const std::string node = call.params.at("name");
          SP_ASSIGN_OR_RETURN(protocol::AssignmentList now, agents->Assignments(c, node));
          // Long-poll: nothing newer than `since` yet, so the answer comes when it changes.
          auto later = call.later;
          if (agents->Wait(c, node, since, static_cast<int64_t>(wait) * 1000,
                           [later](StatusOr<protocol::AssignmentList> list) {
                             if (!list.ok()) {
                               later(list.status());
                             } else {
                               later(JsonReply(protocol::Encode(*list)));
                             }
                           })) {
            return std::optional<Reply>();
          }
          return std::optional<Reply>(JsonReply(protocol::Encode(now)));
        });
  r.Add("POST", "/v1/nodes/{name}/heartbeat", {kAdmin, kAgent}, Urgent(Body()),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(protocol::Heartbeat hb, protocol::DecodeHeartbeat(call.body));
          SP_ASSIGN_OR_RETURN(protocol::HeartbeatReply reply,
                              p.Heartbeat(c, call.params.at("name"), hb));
          return std::optional<Reply>(JsonReply(protocol::Encode(reply)));
        });
  r.Add("POST", "/v1/jobs/{id}/workers/{rank}/status", {kAdmin, kAgent}, Body(),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(uint64_t id, call.Id("id"));
          SP_ASSIGN_OR_RETURN(size_t rank, call.Index("rank"));
          SP_ASSIGN_OR_RETURN(protocol::WorkerReport report,
                              protocol::DecodeWorkerReport(call.body));
          return Answer(p.ReportWorker(c, id, static_cast<int>(rank), report));
        });
  r.Add("POST", "/v1/jobs/{id}/workers/{rank}/logs", {kAdmin, kAgent}, Raw({"attempt", "offset"}),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(uint64_t id, call.Id("id"));
          SP_ASSIGN_OR_RETURN(size_t rank, call.Index("rank"));
          if (!call.query.count("attempt")) return FieldError("attempt", "is required");
          SP_ASSIGN_OR_RETURN(size_t attempt, call.Size("attempt", 0, 1'000'000, 1));
          SP_ASSIGN_OR_RETURN(size_t offset, call.Size("offset", 0, size_t{1} << 40));
          SP_ASSIGN_OR_RETURN(
              int64_t size,
              p.AppendWorkerLog(c, id, static_cast<int>(rank), static_cast<int>(attempt),
                                static_cast<int64_t>(offset), call.raw));
          return std::optional<Reply>(JsonReply(Json{{"size", size}}));
        });
}

}  // namespace suanpan::api
