#pragma once
// The API's routes, one file per resource. Each Add*Routes registers its routes on the router.

#include "api/router.h"
#include "backends/agent/agent_backend.h"

namespace suanpan::api {

struct RouteContext {
  control::Metrics& metrics;
  backends::AgentBackend* agents = nullptr;  // the node agents' backend (assignments)
};

void AddSystemRoutes(Router& router, const RouteContext& context);
void AddPoolRoutes(Router& router, const RouteContext& context);
void AddJobRoutes(Router& router, const RouteContext& context);
void AddAgentRoutes(Router& router, const RouteContext& context);
void AddTokenRoutes(Router& router, const RouteContext& context);
void AddUsageRoutes(Router& router, const RouteContext& context);
void AddMoneyRoutes(Router& router, const RouteContext& context);

inline constexpr control::Role kAdmin = control::Role::kAdmin;
inline constexpr control::Role kTenant = control::Role::kTenant;
inline constexpr control::Role kAgent = control::Role::kAgent;
inline const std::vector<control::Role> kEveryone = {kAdmin, kTenant, kAgent};
inline constexpr control::Role kPartner = control::Role::kPartner;
inline const std::vector<control::Role> kPeople = {kAdmin, kTenant};
// Routes a compute partner also reads (its own provider's part: control says which).
inline const std::vector<control::Role> kPeopleAndPartners = {kAdmin, kTenant, kPartner};

// A route's typed result as its reply.
template <typename T>
StatusOr<std::optional<Reply>> Answer(const StatusOr<T>& result, int status = 0);

}  // namespace suanpan::api

#include "api/views/views.h"

namespace suanpan::api {
template <typename T>
StatusOr<std::optional<Reply>> Answer(const StatusOr<T>& result, int status) {
  if (!result.ok()) return result.status();
  return std::optional<Reply>(JsonReply(ToJson(*result), status));
}
}  // namespace suanpan::api
