#pragma once
// What the JSON request readers share (control/tenants.cc, api/routes/money.cc).

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/status.h"

namespace suanpan::control {

// `body` must be an object whose keys are all in `known`; an unknown key is a FieldError naming
// it (under `prefix`, as "quota.H100.min") and listing the known ones.
Status KnownFields(const nlohmann::json& body, std::initializer_list<std::string_view> known,
                   const std::string& prefix = "");

}  // namespace suanpan::control
