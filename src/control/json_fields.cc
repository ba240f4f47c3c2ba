#include "control/json_fields.h"

#include <fmt/format.h>

namespace suanpan::control {

Status KnownFields(const nlohmann::json& body, std::initializer_list<std::string_view> known,
                   const std::string& prefix) {
  if (!body.is_object()) {
    return FieldError(prefix.empty() ? "body" : prefix, "must be a JSON object");
  }
  for (const auto& [k, v] : body.items()) {
    (void)v;
    bool ok = false;
    std::string list;
    for (std::string_view f : known) {
      ok = ok || k == f;
      list += fmt::format("{}{}", list.empty() ? "" : ", ", f);
    }
    if (!ok) {
      return FieldError(prefix.empty() ? k : prefix + "." + k,
                        fmt::format("unknown field (known: {})", list));
    }
  }
  return OkStatus();
}

}  // namespace suanpan::control
