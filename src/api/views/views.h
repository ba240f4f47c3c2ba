#pragma once
// The control plane's typed records as JSON, one file per resource (views/*.cc). The JSON shapes
// are those of src/api/openapi.json.

#include <nlohmann/json.hpp>
#include <vector>

#include "backends/agent/protocol.h"
#include "control/views.h"

namespace suanpan::api {

// Times as RFC 3339 (2026-11-26T06:30:00.123Z); money as yuan with two decimals ("12.50").
nlohmann::json TimeJson(std::optional<int64_t> ms);
std::string Yuan(int64_t micro);

nlohmann::json ToJson(const control::JobView& v);
nlohmann::json ToJson(const control::RunView& v);
nlohmann::json ToJson(const control::JobPage& v);
nlohmann::json ToJson(const std::vector<control::EventView>& v);
nlohmann::json ToJson(const control::ExplainView& v);
nlohmann::json ToJson(const control::QueueView& v);
nlohmann::json ToJson(const control::LogChunk& v);

nlohmann::json ToJson(const std::vector<control::ProviderView>& v);
nlohmann::json ToJson(const std::vector<control::ClusterView>& v);
nlohmann::json ToJson(const control::NodeView& v);
nlohmann::json ToJson(const control::NodePage& v);

nlohmann::json ToJson(const control::TenantView& v);
nlohmann::json ToJson(const std::vector<control::TenantView>& v);

nlohmann::json ToJson(const control::UsageView& v);

nlohmann::json ToJson(const control::OverviewView& v);
nlohmann::json ToJson(const control::UtilizationView& v);

nlohmann::json ToJson(const std::vector<control::TokenView>& v);
nlohmann::json ToJson(const control::CreatedToken& v);
nlohmann::json ToJson(const control::WhoamiView& v);

}  // namespace suanpan::api
