// /v1/usage, /v1/queue.

#include "api/routes/routes.h"

namespace suanpan::api {

using control::Caller;
using control::ControlPlane;

void AddUsageRoutes(Router& r, const RouteContext&) {
  r.Add("GET", "/v1/queue", kPeople, Query({"limit"}),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(size_t limit, call.Size("limit", 100, 100'000, 1));
          return Answer(p.Queue(c, limit));
        });
  r.Add("GET", "/v1/usage", kPeopleAndPartners, Query({"tenant", "from", "to"}),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          control::UsageQuery q;
          q.tenant = call.Query("tenant");
          if (auto from = call.Query("from")) {
            auto ms = control::ParseTimeMs(*from);
            if (!ms.ok()) return ms.status().WithPrefix("from").WithField("from");
            q.from_ms = *ms;
          }
          if (auto to = call.Query("to")) {
            auto ms = control::ParseTimeMs(*to);
            if (!ms.ok()) return ms.status().WithPrefix("to").WithField("to");
            q.to_ms = *ms;
          }
          return Answer(p.Usage(c, q));
        });
}

}  // namespace suanpan::api
