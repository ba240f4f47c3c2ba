#pragma once
// TOML through toml++ with its exceptions turned into a Status: a syntax error is
// InvalidArgument "NAME:LINE: TOML syntax: what", the form every reader of a file reports.

#include <toml++/toml.h>

#include <string>
#include <string_view>

#include "base/status.h"

namespace suanpan::config {

// Parses `text`; `name` (a path, usually) starts the error message.
StatusOr<toml::table> ParseToml(std::string_view text, std::string_view name);
// Reads (config::ReadFile) and parses the file at `path`.
StatusOr<toml::table> ParseTomlFile(const std::string& path);

}  // namespace suanpan::config
