#include "cli/client_commands.h"

#include <fmt/format.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <thread>
#include <tuple>

#include "cli/client_output.h"
#include "cli/table.h"
#include "client/http_client.h"
#include "config/toml_file.h"
#include "control/control_plane.h"

namespace suanpan::cli {
namespace {

using client::ApiClient;
using client::ClientConfig;
using client::ResolveClientConfig;
using client::UrlEncode;
using Json = nlohmann::json;

}  // namespace

int Error(std::FILE* err, const Status& s) {
  std::fprintf(err, "error: %s\n", s.message().c_str());
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

void PrintJson(std::FILE* out, const Json& j) { std::fprintf(out, "%s\n", j.dump(2).c_str()); }

std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "-";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

// "2026-11-26T06:30:00.123Z" -> "06:30:00" when today, else "11-26 06:30".
std::string ShortTime(const std::string& t) {
  if (t.size() < 19) return t;
  return t.substr(5, 5) + " " + t.substr(11, 8);
}

size_t TerminalWidth() {
  if (const char* c = std::getenv("COLUMNS")) {
    const long v = std::strtol(c, nullptr, 10);
    if (v > 20) return static_cast<size_t>(v);
  }
  return isatty(STDOUT_FILENO) ? 120 : 0;
}

namespace {

std::string RandomKey() {
  std::random_device rd;
  std::mt19937_64 g((static_cast<uint64_t>(rd()) << 32) ^ rd());
  return fmt::format("{:016x}{:016x}", g(), g());
}

StatusOr<Json> TomlToJson(const toml::node& node) {
  if (auto t = node.as_table()) {
    Json o = Json::object();
    for (const auto& [k, v] : *t) {
      SP_ASSIGN_OR_RETURN(o[std::string(k.str())], TomlToJson(v));
    }
    return o;
  }
  if (auto a = node.as_array()) {
    Json arr = Json::array();
    for (const auto& v : *a) {
      SP_ASSIGN_OR_RETURN(Json e, TomlToJson(v));
      arr.push_back(std::move(e));
    }
    return arr;
  }
  if (auto s = node.value<std::string>(); s && node.is_string()) return Json(*s);
  if (node.is_integer()) return Json(*node.value<int64_t>());
  if (node.is_floating_point()) return Json(*node.value<double>());
  if (node.is_boolean()) return Json(*node.value<bool>());
  return InvalidArgumentError(
      fmt::format("line {}: dates and times are not job fields", node.source().begin.line));
}

// A job file as JSON. For a TOML file, `lines` (when given) gets the line of each top-level key,
// so that an error the server names by field can point into the file.
StatusOr<Json> ReadJobFile(const std::string& path, std::map<std::string, int>* lines = nullptr) {
  std::ifstream in(path);
  if (!in)
    return InvalidArgumentError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const bool json = path.size() > 5 && path.substr(path.size() - 5) == ".json";
  if (json) {
    try {
      return Json::parse(text);
    } catch (const Json::parse_error& e) {
      // "file:2:10: syntax error while parsing ..." instead of the library's own prefix.
      const size_t at = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
      const size_t line =
          1 + static_cast<size_t>(std::count(text.begin(), text.begin() + at, '\n'));
      const size_t line_start = text.rfind('\n', at == 0 ? 0 : at - 1);
      const size_t column = line_start == std::string::npos || at == 0 ? at + 1 : at - line_start;
      std::string what = e.what();
      if (auto c = what.find("column "); c != std::string::npos) {
        if (auto colon = what.find(": ", c); colon != std::string::npos) {
          what = what.substr(colon + 2);
        }
      }
      return InvalidArgumentError(fmt::format("{}:{}:{}: {}", path, line, column, what));
    }
  }
  SP_ASSIGN_OR_RETURN(toml::table parsed, config::ParseToml(text, path));
  auto j = TomlToJson(parsed);
  if (!j.ok()) return j.status().WithPrefix(path);
  if (lines != nullptr) {
    for (auto&& [key, value] : parsed) {
      (*lines)[std::string(key.str())] = static_cast<int>(key.source().begin.line);
    }
  }
  return j;
}

}  // namespace

StatusOr<ApiClient*> Client(const ClientFlags& flags) {
  static std::unique_ptr<ApiClient> client;
  SP_ASSIGN_OR_RETURN(ClientConfig c,
                      ResolveClientConfig(flags.server, flags.token, flags.ca_file));
  client = std::make_unique<ApiClient>(c);
  return client.get();
}

namespace {

std::string JobsTable(const Json& items, size_t width) {
  Table t({"ID", "NAME", "TENANT", "STATE", "DEVICES", "WHERE", "SUBMITTED", "REASON"},
          {true, false, false, false, true, false, false, false});
  for (const Json& j : items) {
    std::string where = "-";
    if (j.contains("placement") && j["placement"].is_object() &&
        j["placement"]["ended"].is_null()) {
      const Json& p = j["placement"];
      where = fmt::format("{}/{}", Str(p, "provider"), Str(p, "cluster"));
    }
    std::string devices = Str(j, "devices");
    if (j.contains("spec") && j["spec"].contains("device_types")) {
      std::string types;
      for (const Json& ty : j["spec"]["device_types"])
        types += (types.empty() ? "" : "|") + ty.get<std::string>();
      devices += " " + types;
    }
    t.Add({std::to_string(j.value("id", uint64_t{0})), Str(j, "name"), Str(j, "tenant"),
           Str(j, "state"), devices, where, ShortTime(Str(j, "submitted")), Str(j, "reason")});
  }
  return t.Render(width);
}

}  // namespace

StatusOr<int64_t> ParseSeconds(std::string_view flag, std::string_view text) {
  auto bad = [&] {
    return InvalidArgumentError(
        fmt::format("{}: must be seconds or a duration such as 90s, 30m, 2h, 1d or 1h30m, got '{}'",
                    flag, text));
  };
  if (text.empty()) return bad();
  const bool negative = text.front() == '-';
  std::string_view rest = negative ? text.substr(1) : text;
  if (rest.empty()) return bad();
  int64_t total = 0;
  bool units = false;
  int64_t last_unit = std::numeric_limits<int64_t>::max();  // units must go d, h, m, s
  while (!rest.empty()) {
    size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits == 0 || digits > 12) return bad();
    const int64_t n = std::stoll(std::string(rest.substr(0, digits)));
    rest.remove_prefix(digits);
    if (rest.empty()) {
      if (units) return bad();  // "1h30": a number without its unit after a unit
      total = n;
      break;
    }
    int64_t unit = 0;
    switch (rest.front()) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      default:
        return bad();
    }
    rest.remove_prefix(1);
    if (unit >= last_unit) return bad();  // "1h1h", "30m1h"
    last_unit = unit;
    units = true;
    total += n * unit;  // at most 4 terms of 12 digits x 86,400: no overflow
  }
  return negative ? -total : total;
}

int RunSubmit(const ClientFlags& flags, const SubmitOptions& o, std::FILE* out, std::FILE* err) {
  Json body = Json::object();
  std::map<std::string, int> file_lines;  // TOML job file: top-level key -> line
  if (!o.file.empty()) {
    auto j = ReadJobFile(o.file, &file_lines);
    if (!j.ok()) return Error(err, j.status());
    if (!j->is_object())
      return Error(err, InvalidArgumentError(o.file + ": must hold one job (an object)"));
    body = std::move(*j);
  }
  const Json from_file = body;
  if (!o.name.empty()) body["name"] = o.name;
  if (!o.tenant.empty()) body["tenant"] = o.tenant;
  if (!o.project.empty()) body["project"] = o.project;
  if (!o.kind.empty()) body["kind"] = o.kind;
  if (o.workers) body["workers"] = *o.workers;
  if (!o.devices.empty()) body["devices_per_worker"] = o.devices;
  if (!o.types.empty()) body["device_types"] = o.types;
  if (!o.priority_class.empty()) body["priority_class"] = o.priority_class;
  for (const auto& [flag, text, field] :
       {std::tuple{"--time", &o.runtime_limit, "runtime_limit"},
        std::tuple{"--estimate", &o.runtime_estimate, "runtime_estimate"}}) {
    if (!*text) continue;
    auto seconds = ParseSeconds(flag, **text);
    if (!seconds.ok()) return Error(err, seconds.status());
    if (*seconds == 0 && std::string_view(field) == "runtime_limit") {
      body.erase(field);  // -t 0: no limit
      continue;
    }
    body[field] = *seconds;
  }
  if (o.cpu) body["cpu_per_worker"] = *o.cpu;
  if (o.memory_gib) body["memory_gib_per_worker"] = *o.memory_gib;
  if (!o.preemptible.empty()) body["preemptible"] = o.preemptible == "true";
  if (!o.workdir.empty()) body["workdir"] = o.workdir;
  if (!o.image.empty()) body["image"] = o.image;
  if (!o.mounts.empty()) body["mounts"] = o.mounts;
  if (o.max_retries) body["max_retries"] = *o.max_retries;
  for (const std::string& kv : o.env) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error(err,
                   InvalidArgumentError(fmt::format("--env: must be NAME=VALUE, got '{}'", kv)));
    }
    body["env"][kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (!o.command.empty()) body["command"] = o.command;
  if (!body.contains("name")) {
    return Error(err, InvalidArgumentError("--name: a job needs a name (flag or job file)"));
  }
  auto client = Client(flags);
  if (!client.ok()) return Error(err, client.status());
  const std::string key = o.idempotency_key.empty() ? RandomKey() : o.idempotency_key;
  // The key makes a retry safe: if the first answer was lost, the second returns the same job.
  StatusOr<Json> job = InternalError("not sent");
  for (int attempt = 0; attempt < 3; ++attempt) {
    job = (*client)->Call("POST", "/v1/jobs", body, {{"Idempotency-Key", key}});
    if (job.ok() || job.status().code() != StatusCode::kUnavailable) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
  }
  if (!job.ok()) {
    // The server names the field ("device_types: unknown device type 'B200'"); when the value
    // came from the job file (not a flag), say where it is in the file.
    const std::string& message = job.status().message();
    const std::string field = message.substr(0, message.find_first_of(":.["));
    auto line = file_lines.find(field);
    if (job.status().code() == StatusCode::kInvalidArgument && line != file_lines.end() &&
        from_file.contains(field) && body[field] == from_file[field]) {
      return Error(err,
                   InvalidArgumentError(fmt::format("{}:{}: {}", o.file, line->second, message)));
    }
    return Error(err, job.status());
  }
  if (flags.output == "json") {
    PrintJson(out, *job);
  } else {
    const std::string project =
        (*job)["project"].is_string() ? "/" + (*job)["project"].get<std::string>() : "";
    std::fprintf(out, "submitted job %s (%s) for %s %s%s: %s\n", Str(*job, "id").c_str(),
                 Str(*job, "name").c_str(), project.empty() ? "tenant" : "project",
                 Str(*job, "tenant").c_str(), project.c_str(), Str(*job, "state").c_str());
  }
  return 0;
}

int RunJobs(const ClientFlags& flags, const JobsOptions& o, std::FILE* out, std::FILE* err) {
  auto client = Client(flags);
  if (!client.ok()) return Error(err, client.status());
  if (o.limit < 0) {
    return Error(err, InvalidArgumentError(
                          fmt::format("--limit: must be 0 (all) or more, got {}", o.limit)));
  }
  // --limit 0: every job, fetched page by page.
  const int page = o.limit == 0 ? 1000 : o.limit;
  std::string query = fmt::format("?limit={}", page);
  if (!o.tenant.empty()) query += "&tenant=" + UrlEncode(o.tenant);
  if (!o.state.empty()) {
    query += "&state=" + UrlEncode(o.state);
  } else if (!o.all) {
    query += "&state=pending,admitted,running,preempted,lost";
  }
  const bool terminal = isatty(fileno(out)) != 0;
  for (;;) {
    auto r = (*client)->Call("GET", "/v1/jobs" + query);
    if (!r.ok()) return Error(err, r.status());
    while (o.limit == 0 && !(*r)["next_after"].is_null()) {
      auto more = (*client)->Call(
          "GET", fmt::format("/v1/jobs{}&after={}", query, (*r)["next_after"].dump()));
      if (!more.ok()) return Error(err, more.status());
      for (Json& item : (*more)["items"]) (*r)["items"].push_back(std::move(item));
      (*r)["next_after"] = (*more)["next_after"];
    }
    if (flags.output == "json") {
      PrintJson(out, *r);
    } else {
      if (o.watch && terminal) std::fprintf(out, "\033[H\033[2J");
      const Json& items = (*r)["items"];
      if (items.empty()) {
        std::fprintf(
            out, "no jobs%s\n",
            o.all || !o.state.empty() ? "" : " queued or running (--all shows finished ones)");
      } else {
        std::fputs(JobsTable(items, TerminalWidth()).c_str(), out);
        if (!(*r)["next_after"].is_null()) {
          std::fprintf(out, "(first %d shown, oldest first; --limit N shows more, 0 all)\n",
                       o.limit);
        }
      }
    }
    std::fflush(out);
    if (!o.watch) return 0;
    std::this_thread::sleep_for(std::chrono::seconds(o.watch_seconds));
  }
}

int RunHistory(const ClientFlags& flags, const HistoryOptions& o, std::FILE* out, std::FILE* err) {
  std::optional<int64_t> from, to;
  for (const auto& [flag, text, bound] :
       {std::tuple{"--from", &o.from, &from}, std::tuple{"--to", &o.to, &to}}) {
    if (text->empty()) continue;
    auto ms = control::ParseTimeMs(*text);
    if (!ms.ok()) return Error(err, ms.status().WithPrefix(flag));
    *bound = *ms;
  }
  auto client = Client(flags);
  if (!client.ok()) return Error(err, client.status());
  std::string query = "?limit=1000&state=succeeded,failed,cancelled";
  if (!o.tenant.empty()) query += "&tenant=" + UrlEncode(o.tenant);
  int64_t written = 0, never_ran = 0, fractional = 0;
  std::optional<uint64_t> after;
  do {
    auto page = (*client)->Call(
        "GET", "/v1/jobs" + query + (after ? fmt::format("&after={}", *after) : ""));
    if (!page.ok()) return Error(err, page.status());
    for (const Json& j : (*page)["items"]) {
      auto submitted = control::ParseTimeMs(Str(j, "submitted"));
      if (!submitted.ok()) return Error(err, submitted.status());
      if ((from && *submitted < *from) || (to && *submitted >= *to)) continue;
      const Json& p = j["placement"];
      if (!p.is_object() || p["ended"].is_null()) {
        ++never_ran;  // cancelled before it started
        continue;
      }
      const std::string devices = Str(j, "devices");
      if (devices.find('.') != std::string::npos) {
        ++fractional;  // the trace format counts whole devices
        continue;
      }
      auto started = control::ParseTimeMs(Str(p, "started"));
      auto ended = control::ParseTimeMs(Str(p, "ended"));
      if (!started.ok() || !ended.ok()) return Error(err, InternalError("bad run times"));
      Json row{{"name", std::to_string(j.value("id", uint64_t{0}))},
               {"tenant", Str(j, "tenant")},
               {"submit_time", *submitted / 1000},
               {"devices", std::stoll(devices)},
               {"duration", std::max<int64_t>(1, (*ended - *started + 500) / 1000)},
               {"workers", j["spec"].value("workers", 1)},
               {"device_type", Str(p, "device_type")},
               {"model", Str(j, "name")}};
      std::fprintf(out, "%s\n", row.dump().c_str());
      ++written;
    }
    after.reset();
    if (!(*page)["next_after"].is_null()) after = (*page)["next_after"].get<uint64_t>();
  } while (after);
  std::fprintf(err, "%lld jobs written; left out: %lld that never ran, %lld fractional\n",
               static_cast<long long>(written), static_cast<long long>(never_ran),
               static_cast<long long>(fractional));
  return 0;
}

int RunJob(const ClientFlags& flags, uint64_t id, std::FILE* out, std::FILE* err) {
  auto client = Client(flags);
  if (!client.ok()) return Error(err, client.status());
  auto job = (*client)->Call("GET", fmt::format("/v1/jobs/{}", id));
  if (!job.ok()) return Error(err, job.status());
  auto events = (*client)->Call("GET", fmt::format("/v1/jobs/{}/events", id));
  if (!events.ok()) return Error(err, events.status());
  std::optional<Json> why;
  const std::string state = Str(*job, "state");
  if (state == "pending" || state == "preempted") {
    auto e = (*client)->Call("GET", fmt::format("/v1/jobs/{}/explain", id));
    if (!e.ok()) return Error(err, e.status());
    why = std::move(*e);
  }
  if (flags.output == "json") {
    Json all = *job;
    all["events"] = (*events)["items"];
    if (why) all["explain"] = *why;
    PrintJson(out, all);
    return 0;
  }
  const Json& spec = (*job)["spec"];
  std::string types;
  for (const Json& t : spec["device_types"])
    types += (types.empty() ? "" : ", ") + t.get<std::string>();
  std::fprintf(out, "Job %s: %s\n", Str(*job, "id").c_str(), Str(*job, "name").c_str());
  if ((*job)["project"].is_string()) {
    std::fprintf(out, "  tenant:     %s (project %s)\n", Str(*job, "tenant").c_str(),
                 Str(*job, "project").c_str());
  } else {
    std::fprintf(out, "  tenant:     %s\n", Str(*job, "tenant").c_str());
  }
  if (why) {
    std::fprintf(out, "  state:      %s\n", state.c_str());
  } else {
    std::fprintf(out, "  state:      %s (%s)\n", state.c_str(), Str(*job, "reason").c_str());
  }
  std::fprintf(out, "  shape:      %s x %s devices of %s (%s devices in all)\n",
               Str(spec, "workers").c_str(), Str(spec, "devices_per_worker").c_str(), types.c_str(),
               Str(*job, "devices").c_str());
  const std::string user = Str(*job, "user").empty() ? "-" : Str(*job, "user");
  std::fprintf(out, "  submitted:  %s by %s   attempts: %s   exit code: %s\n",
               Str(*job, "submitted").c_str(), user.c_str(), Str(*job, "attempts").c_str(),
               Str(*job, "exit_code").c_str());
  // The job's options beyond the shape, when set.
  std::string asked;
  auto add = [&](const std::string& part) { asked += (asked.empty() ? "" : "   ") + part; };
  auto has = [&](const char* key) { return spec.contains(key) && !spec[key].is_null(); };
  if (has("kind")) add("kind " + Str(spec, "kind"));
  if (has("priority_class")) add("class " + Str(spec, "priority_class"));
  if (has("preemptible")) add(std::string("preemptible ") + Str(spec, "preemptible"));
  if (has("runtime_limit")) add("limit " + Str(spec, "runtime_limit") + " s");
  if (has("runtime_estimate")) add("estimate " + Str(spec, "runtime_estimate") + " s");
  if (has("max_retries")) add("max retries " + Str(spec, "max_retries"));
  if (!asked.empty()) std::fprintf(out, "  options:    %s\n", asked.c_str());
  if (spec.contains("command") && !spec["command"].empty()) {
    std::string cmd;
    for (const Json& c : spec["command"]) cmd += (cmd.empty() ? "" : " ") + c.get<std::string>();
    std::fprintf(out, "  command:    %s\n", cmd.c_str());
  }
  if (has("workdir")) std::fprintf(out, "  workdir:    %s\n", Str(spec, "workdir").c_str());
  if (has("image")) std::fprintf(out, "  image:      %s\n", Str(spec, "image").c_str());
  if (has("mounts")) std::fprintf(out, "  mounts:     %s\n", spec["mounts"].dump().c_str());
  if (has("env") && spec["env"].is_object() && !spec["env"].empty()) {
    std::string env;
    for (const auto& [k, v] : spec["env"].items()) {
      env += (env.empty() ? "" : " ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    }
    std::fprintf(out, "  env:        %s\n", env.c_str());
  }
  if ((*job)["placement"].is_object()) {
    const Json& p = (*job)["placement"];
    std::fprintf(out, "  placement:  attempt %s on %s/%s (%s), started %s%s\n",
                 Str(p, "attempt").c_str(), Str(p, "provider").c_str(), Str(p, "cluster").c_str(),
                 Str(p, "device_type").c_str(), Str(p, "started").c_str(),
                 p["ended"].is_null() ? "" : (", ended " + Str(p, "ended")).c_str());
    int rank = 0;
    for (const Json& w : p["workers"]) {
      std::string devs;
      for (const Json& d : w["devices"]) devs += (devs.empty() ? "" : ",") + d.dump();
      std::fprintf(out, "    rank %d: %s devices [%s]\n", rank++, Str(w, "node").c_str(),
                   devs.c_str());
    }
  }
  if (why) {
    std::fprintf(out, "  why pending: %s\n", Str(*why, "reason").c_str());
    if (why->contains("position"))
      std::fprintf(out, "  position:   %s in the queue\n", Str(*why, "position").c_str());
    std::fprintf(
        out, "  expected start: %s\n",
        (*why)["earliest_start"].is_null() ? "unknown" : Str(*why, "earliest_start").c_str());
  }
  std::fprintf(out, "Events:\n");
  Table t({"TIME", "EVENT", "MESSAGE"});
  for (const Json& e : (*events)["items"])
    t.Add({Str(e, "time"), Str(e, "kind"), Str(e, "message")});
  std::fputs(t.Render(TerminalWidth()).c_str(), out);
  return 0;
}

int RunCancel(const ClientFlags& flags, const std::vector<uint64_t>& ids, std::FILE* out,
              std::FILE* err) {
  auto client = Client(flags);
  if (!client.ok()) return Error(err, client.status());
  int rc = 0;
  for (uint64_t id : ids) {
    auto r = (*client)->Call("POST", fmt::format("/v1/jobs/{}/cancel", id));
    if (!r.ok()) {
      rc = Error(err, r.status());
      continue;
    }
    if (flags.output == "json") {
      PrintJson(out, *r);
    } else {
      std::fprintf(out, "cancelled job %llu (%s)\n", static_cast<unsigned long long>(id),
                   Str(*r, "name").c_str());
    }
  }
  return rc;
}

int RunQueue(const ClientFlags& flags, int limit, std::FILE* out, std::FILE* err) {
  auto client = Client(flags);
  if (!client.ok()) return Error(err, client.status());
  auto r = (*client)->Call("GET", fmt::format("/v1/queue?limit={}", limit));
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  const std::string length = Str(*r, "length");
  std::fprintf(out, "queue (%s order): %s job%s waiting\n", Str(*r, "policy").c_str(),
               length.c_str(), length == "1" ? "" : "s");
  Table t({"POS", "ID", "NAME", "TENANT", "DEVICES", "EXPECTED START", "REASON"},
          {true, true, false, false, true, false, false});
  for (const Json& e : (*r)["items"]) {
    t.Add({Str(e, "position"), Str(e, "id"), Str(e, "name"), Str(e, "tenant"), Str(e, "devices"),
           Str(e, "earliest_start"), Str(e, "reason")});
  }
  std::fputs(t.Render(TerminalWidth()).c_str(), out);
  return 0;
}

int RunNodes(const ClientFlags& flags, const std::map<std::string, std::string>& filter, int limit,
             std::FILE* out, std::FILE* err) {
  auto client = Client(flags);
  if (!client.ok()) return Error(err, client.status());
  std::string query = fmt::format("?limit={}", limit);
  for (const auto& [k, v] : filter) query += "&" + k + "=" + UrlEncode(v);
  auto r = (*client)->Call("GET", "/v1/nodes" + query);
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  Table t({"NODE", "PROVIDER", "CLUSTER", "TYPE", "DEVICES", "FREE", "SWITCH", "CPU", "MEM GiB",
           "AGENT"},
          {false, false, false, false, true, true, false, true, true, false});
  for (const Json& n : (*r)["items"]) {
    t.Add({Str(n, "name"), Str(n, "provider"), Str(n, "cluster"), Str(n, "device_type"),
           Str(n, "devices"), Str(n, "free_devices"), Str(n, "leaf_switch"), Str(n, "cpu"),
           Str(n, "memory_gib"), Str(n, "agent")});
  }
  std::fputs(t.Render(TerminalWidth()).c_str(), out);
  const size_t total = (*r)["total"].get<size_t>();
  if (total > (*r)["items"].size()) {
    std::fprintf(out, "(%zu of %s nodes; --limit, --provider, --cluster, --type narrow it)\n",
                 (*r)["items"].size(), Thousands(static_cast<int64_t>(total)).c_str());
  }
  return 0;
}

int RunProviders(const ClientFlags& flags, std::FILE* out, std::FILE* err) {
  auto client = Client(flags);
  if (!client.ok()) return Error(err, client.status());
  auto r = (*client)->Call("GET", "/v1/providers");
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  Table t({"PROVIDER", "REGION", "BACKEND", "TYPE", "DEVICES", "FREE", "YUAN/DEVICE-HOUR"},
          {false, false, false, false, true, true, true});
  std::string engines;
  for (const Json& p : (*r)["items"]) {
    for (const auto& [type, d] : p["devices"].items()) {
      const Json& prices = p["price_yuan_per_device_hour"];
      t.Add({Str(p, "name"), Str(p, "region"), Str(p, "backend"), type,
             Thousands(d["total"].get<int64_t>()), Thousands(d["free"].get<int64_t>()),
             prices.contains(type) ? prices[type].get<std::string>() : "-"});
    }
    // A delegated provider's engine, as its backend last saw it.
    if (p.contains("engine") && p["engine"].is_object()) {
      const Json& e = p["engine"];
      std::string cap;
      for (const auto& [type, d] : e["devices"].items()) {
        cap += fmt::format("{}{} {}/{} free", cap.empty() ? "" : ", ", type,
                           d["free"].get<int64_t>(), d["total"].get<int64_t>());
      }
      engines += fmt::format(
          "{}: {} ({}) {} since {}; Slurm reports {}; suanpan jobs there: {} "
          "pending, {} running{}\n",
          Str(p, "name"), Str(e, "kind"), Str(e, "mode"), Str(e, "state"), Str(e, "since"),
          cap.empty() ? "nothing yet" : cap, e["jobs"]["pending"].get<int>(),
          e["jobs"]["running"].get<int>(),
          Str(e, "message").empty() ? "" : "; " + Str(e, "message"));
    }
  }
  std::fputs(t.Render(TerminalWidth()).c_str(), out);
  if (!engines.empty()) std::fprintf(out, "\n%s", engines.c_str());
  return 0;
}

int RunTenants(const ClientFlags& flags, std::FILE* out, std::FILE* err) {
  auto client = Client(flags);
  if (!client.ok()) return Error(err, client.status());
  auto r = (*client)->Call("GET", "/v1/tenants");
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  Table t({"TENANT", "STATE", "WEIGHT", "QUEUED", "HOLDING", "QUOTAS (type used/guaranteed/max)"},
          {false, false, true, true, true, false});
  for (const Json& tn : (*r)["items"]) {
    std::string quotas;
    for (const Json& q : tn["quotas"]) {
      quotas += fmt::format("{}{} {}/{}/{}", quotas.empty() ? "" : ", ", Str(q, "device_type"),
                            Str(q, "used"), Str(q, "guaranteed"),
                            q["max"].is_null() ? "-" : Str(q, "max"));
    }
    t.Add({Str(tn, "name"), tn.value("retired", false) ? "retired" : "active", Str(tn, "weight"),
           Str(tn, "queued_jobs"), Str(tn, "jobs_holding_devices"), quotas.empty() ? "-" : quotas});
  }
  std::fputs(t.Render(TerminalWidth()).c_str(), out);
  return 0;
}

int RunUsage(const ClientFlags& flags, const UsageOptions& o, std::FILE* out, std::FILE* err) {
  auto client = Client(flags);
  if (!client.ok()) return Error(err, client.status());
  std::vector<std::string> keys;
  {
    std::string by = o.by;
    size_t i = 0;
    while (i <= by.size()) {
      size_t j = by.find(',', i);
      if (j == std::string::npos) j = by.size();
      const std::string k = by.substr(i, j - i);
      const std::string key = k == "type" ? "device_type" : k;
      if (key != "tenant" && key != "project" && key != "user" && key != "provider" &&
          key != "device_type") {
        return Error(err,
                     InvalidArgumentError(fmt::format(
                         "--by: must list tenant, project, user, provider or type, got '{}'", k)));
      }
      keys.push_back(key);
      i = j + 1;
    }
  }
  std::string query;
  auto add = [&](const char* k, const std::string& v) {
    if (!v.empty()) query += (query.empty() ? "?" : "&") + std::string(k) + "=" + UrlEncode(v);
  };
  add("tenant", o.tenant);
  add("from", o.from);
  add("to", o.to);
  auto r = (*client)->Call("GET", "/v1/usage" + query);
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  // Group the server's rows (tenant x user x provider x type) by the requested keys.
  std::map<std::vector<std::string>, std::pair<double, double>> groups;
  for (const Json& e : (*r)["items"]) {
    std::vector<std::string> g;
    for (const std::string& k : keys) {
      // Jobs outside projects: "-".
      g.push_back(k == "project" && !e[k].is_string() ? "-" : Str(e, k.c_str()));
    }
    auto& v = groups[g];
    v.first += e["device_hours"].get<double>();
    v.second += std::stod(e["cost_yuan"].get<std::string>());
  }
  std::vector<std::string> header;
  std::vector<bool> right;
  for (const std::string& k : keys) {
    header.push_back(k == "device_type" ? "TYPE"
                     : k == "tenant"    ? "TENANT"
                     : k == "project"   ? "PROJECT"
                     : k == "user"      ? "USER"
                                        : "PROVIDER");
    right.push_back(false);
  }
  header.push_back("DEVICE-HOURS");
  header.push_back("COST (YUAN)");
  right.push_back(true);
  right.push_back(true);
  Table t(header, right);
  for (const auto& [g, v] : groups) {
    std::vector<std::string> row = g;
    row.push_back(fmt::format("{:.3f}", v.first));
    row.push_back(fmt::format("{:.2f}", v.second));
    t.Add(row);
  }
  std::fprintf(out, "usage from %s to %s\n", Str(*r, "from").c_str(), Str(*r, "to").c_str());
  std::fputs(t.Render(TerminalWidth()).c_str(), out);
  std::fprintf(out, "total cost: %s yuan\n", Str(*r, "total_cost_yuan").c_str());
  return 0;
}

int RunToken(const ClientFlags& flags, const TokenOptions& o, std::FILE* out, std::FILE* err) {
  auto client = Client(flags);
  if (!client.ok()) return Error(err, client.status());
  if (o.action == "create") {
    Json body{{"name", o.name}, {"role", o.role}};
    if (!o.tenant.empty()) body["tenant"] = o.tenant;
    if (!o.node.empty()) body["node"] = o.node;
    if (!o.provider.empty()) body["provider"] = o.provider;
    if (!o.projects.empty()) body["projects"] = o.projects;
    if (!o.expires.empty()) {
      // A duration from now (30d, 12h), or a date or time (with '-') the server reads.
      StatusOr<int64_t> secs = InvalidArgumentError("a time");
      if (o.expires.find('-') == std::string::npos) {
        secs = ParseSeconds("--expires", o.expires);
        if (!secs.ok()) return Error(err, secs.status());
      }
      body["expires"] =
          secs.ok() ? control::FormatTimeMs(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count() +
                                            *secs * 1000)
                    : o.expires;
    }
    auto r = (*client)->Call("POST", "/v1/tokens", body);
    if (!r.ok()) return Error(err, r.status());
    if (flags.output == "json") {
      PrintJson(out, *r);
    } else {
      std::fprintf(out, "%s\n", Str(*r, "token").c_str());
      std::fprintf(err, "token '%s' (%s%s%s): shown once, keep it safe\n", Str(*r, "name").c_str(),
                   Str(*r, "role").c_str(), Str(*r, "scope") == "" ? "" : " ",
                   Str(*r, "scope").c_str());
    }
    return 0;
  }
  if (o.action == "revoke") {
    auto r = (*client)->Call("DELETE", "/v1/tokens/" + UrlEncode(o.name));
    if (!r.ok()) return Error(err, r.status());
    std::fprintf(out, "revoked token '%s'\n", o.name.c_str());
    return 0;
  }
  auto r = (*client)->Call("GET", "/v1/tokens");
  if (!r.ok()) return Error(err, r.status());
  if (flags.output == "json") {
    PrintJson(out, *r);
    return 0;
  }
  Table t({"NAME", "ROLE", "SCOPE", "CREATED", "EXPIRES", "STATE"});
  for (const Json& k : (*r)["items"]) {
    const std::string state = k.value("revoked", false)   ? "revoked"
                              : k.value("expired", false) ? "expired"
                                                          : "active";
    std::string scope = Str(k, "scope");
    if (k.contains("projects") && !k["projects"].empty()) {
      std::string projects;
      for (const Json& p : k["projects"]) {
        projects += (projects.empty() ? "" : ",") + p.get<std::string>();
      }
      scope += "/" + projects;
    }
    t.Add({Str(k, "name"), Str(k, "role"), scope, Str(k, "created"),
           k["expires"].is_null() ? "never" : Str(k, "expires"), state});
  }
  std::fputs(t.Render(TerminalWidth()).c_str(), out);
  return 0;
}

}  // namespace suanpan::cli
