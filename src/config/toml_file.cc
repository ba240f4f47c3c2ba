#include "config/toml_file.h"

#include <fmt/format.h>

#include "config/pool_file.h"

namespace suanpan::config {

StatusOr<toml::table> ParseToml(std::string_view text, std::string_view name) {
  try {
    return toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    return InvalidArgumentError(
        fmt::format("{}:{}: TOML syntax: {}", name, e.source().begin.line, e.description()));
  }
}

StatusOr<toml::table> ParseTomlFile(const std::string& path) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseToml(text, path);
}

}  // namespace suanpan::config
