#pragma once
// What the client subcommands share (client_commands.cc, money_commands.cc): the API client of
// the flags, the one-line error, JSON and field output, the terminal's width.

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "cli/client_commands.h"
#include "client/http_client.h"

namespace suanpan::cli {

// The client for the flags (or the environment); one per process.
StatusOr<client::ApiClient*> Client(const ClientFlags& flags);
// "error: MESSAGE" on `err`; exit status 2 for bad input, else 1.
int Error(std::FILE* err, const Status& s);
void PrintJson(std::FILE* out, const nlohmann::json& j);
// A field as text: strings as they are, null or missing as "-", others as JSON.
std::string Str(const nlohmann::json& j, const char* key);
// Columns to fit tables to (0: no limit, not a terminal).
size_t TerminalWidth();

}  // namespace suanpan::cli
