#include "backends/slurm/slurm_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "os/process.h"

namespace suanpan::backends::slurm {
namespace {

using Json = nlohmann::json;
using os::Ran;
using os::RunCommand;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// The last line of a command's error output, without the "sbatch: error: " prefixes.
std::string Complaint(const std::string& err) {
  std::string last;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) {
    if (!Trim(line).empty()) last = Trim(line);
  }
  for (const char* p : {"sbatch: error: ", "scancel: error: ", "squeue: error: ", "sinfo: error: ",
                        "Batch job submission failed: "}) {
    if (last.rfind(p, 0) == 0) last = last.substr(std::strlen(p));
    const size_t at = last.find(p);
    if (at != std::string::npos) last = last.substr(at + std::strlen(p));
  }
  return last;
}

bool Transient(std::string_view message) {
  for (const char* p :
       {"Unable to contact", "Socket timed out", "Zero Bytes", "connect failure",
        "Connection refused", "slurm_load", "Communication", "timed out", "Transport endpoint"}) {
    if (message.find(p) != std::string_view::npos) return true;
  }
  return false;
}

// Slurm's error codes: ESLURM_* (2000..2999) are refusals of the request itself; the rest
// (communication 1000s, 1800s, 5000s) are the transport's.
Status ErrorsOf(const Json& doc, const std::string& what) {
  if (!doc.is_object() || !doc.contains("errors") || !doc["errors"].is_array() ||
      doc["errors"].empty()) {
    return OkStatus();
  }
  const Json& e = doc["errors"][0];
  const int code = e.value("error_code", e.value("error_number", 0));
  std::string message = e.value("error", std::string());
  const std::string description = e.value("description", std::string());
  if (!description.empty() && message != description) {
    message = message.empty() ? description : fmt::format("{} ({})", message, description);
  }
  if (code >= 2000 && code < 3000 && !Transient(message)) return InvalidArgumentError(message);
  return UnavailableError(fmt::format("{}: {}", what, message.empty() ? "error" : message));
}

// ---------------------------------------------------------------------------------------------
// The CLI.

class CliClient final : public Client {
 public:
  explicit CliClient(const core::EngineConfig& c) : c_(c) {
    if (!c_.conf.empty()) env_["SLURM_CONF"] = c_.conf;
  }
  std::string_view mode() const override { return "cli"; }

  StatusOr<uint64_t> Submit(const SubmitRequest& r) override {
    std::vector<std::string> argv = {Bin("sbatch"),
                                     "--parsable",
                                     "--job-name=" + r.name,
                                     "--comment=" + r.comment,
                                     fmt::format("--nodes={}", r.nodes),
                                     fmt::format("--ntasks-per-node={}", r.tasks_per_node)};
    if (!r.partition.empty()) argv.push_back("--partition=" + r.partition);
    if (!r.account.empty()) argv.push_back("--account=" + r.account);
    if (!r.qos.empty()) argv.push_back("--qos=" + r.qos);
    if (!r.gres_per_node.empty()) argv.push_back("--gres=" + r.gres_per_node);
    if (r.cpus_per_task > 0) argv.push_back(fmt::format("--cpus-per-task={}", r.cpus_per_task));
    if (r.memory_per_node_mib > 0) argv.push_back(fmt::format("--mem={}", r.memory_per_node_mib));
    if (r.time_limit_minutes > 0) argv.push_back(fmt::format("--time={}", r.time_limit_minutes));
    if (!r.nodelist.empty()) {
      std::string list;
      for (const std::string& n : r.nodelist) list += (list.empty() ? "" : ",") + n;
      argv.push_back("--nodelist=" + list);
    }
    if (!r.work_dir.empty()) argv.push_back("--chdir=" + r.work_dir);
    if (!r.output.empty()) argv.push_back("--output=" + r.output);
    if (!r.error.empty()) argv.push_back("--error=" + r.error);
    // Only what the script exports: the server's own environment stays out of the job.
    argv.push_back("--export=NONE");
    SP_ASSIGN_OR_RETURN(Ran ran, RunCommand(argv, r.script, env_, c_.timeout_seconds));
    if (ran.timed_out) {
      return UnavailableError(fmt::format("sbatch: no answer in {} s", c_.timeout_seconds));
    }
    if (WIFEXITED(ran.status) && WEXITSTATUS(ran.status) == 0) {
      const std::string id = Trim(ran.out).substr(0, Trim(ran.out).find(';'));
      char* end = nullptr;
      const unsigned long long v = std::strtoull(id.c_str(), &end, 10);
      if (!id.empty() && *end == '\0' && v > 0) return static_cast<uint64_t>(v);
      return UnavailableError(fmt::format("sbatch: unexpected answer '{}'", Trim(ran.out)));
    }
    const std::string why = Complaint(ran.err);
    if (Transient(why) || why.empty()) {
      return UnavailableError(fmt::format("sbatch: {}", why.empty() ? "failed" : why));
    }
    return InvalidArgumentError(why);
  }

  StatusOr<std::vector<JobInfo>> Jobs() override {
    SP_ASSIGN_OR_RETURN(std::string out, Json("squeue", {"--json", "--all"}));
    return ParseJobs(out);
  }
  StatusOr<std::vector<NodeInfo>> Nodes() override {
    SP_ASSIGN_OR_RETURN(std::string out, Json("sinfo", {"--json"}));
    return ParseNodes(out);
  }
  Status Cancel(uint64_t id) override {
    SP_ASSIGN_OR_RETURN(
        Ran ran, RunCommand({Bin("scancel"), std::to_string(id)}, "", env_, c_.timeout_seconds));
    if (ran.timed_out) return UnavailableError("scancel: no answer");
    if (WIFEXITED(ran.status) && WEXITSTATUS(ran.status) == 0) return OkStatus();
    const std::string why = Complaint(ran.err);
    if (why.find("Invalid job id") != std::string::npos ||
        why.find("already completing or completed") != std::string::npos) {
      return OkStatus();
    }
    return UnavailableError(fmt::format("scancel {}: {}", id, why));
  }

 private:
  std::string Bin(const std::string& name) const {
    return c_.cli_dir.empty() ? name : c_.cli_dir + "/" + name;
  }
  StatusOr<std::string> Json(const std::string& cmd, std::vector<std::string> args) {
    args.insert(args.begin(), Bin(cmd));
    SP_ASSIGN_OR_RETURN(Ran ran, RunCommand(args, "", env_, c_.timeout_seconds));
    if (ran.timed_out) {
      return UnavailableError(fmt::format("{}: no answer in {} s", cmd, c_.timeout_seconds));
    }
    if (!WIFEXITED(ran.status) || WEXITSTATUS(ran.status) != 0) {
      return UnavailableError(fmt::format("{}: {}", cmd, Complaint(ran.err)));
    }
    return ran.out;
  }

  core::EngineConfig c_;
  std::map<std::string, std::string> env_;
};

// ---------------------------------------------------------------------------------------------
// slurmrestd.

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

class RestClient final : public Client {
 public:
  explicit RestClient(const core::EngineConfig& c) : c_(c) {
    static const bool init = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == 0; }();
    (void)init;
    if (c_.url.rfind("unix:", 0) == 0) {
      socket_ = c_.url.substr(5);
      base_ = "http://slurmrestd";
    } else {
      base_ = c_.url;
      while (!base_.empty() && base_.back() == '/') base_.pop_back();
    }
  }
  std::string_view mode() const override { return "rest"; }

  StatusOr<uint64_t> Submit(const SubmitRequest& r) override {
    Json job = {{"name", r.name},
                {"comment", r.comment},
                {"nodes", r.nodes},
                {"tasks_per_node", r.tasks_per_node},
                {"tasks", r.nodes * r.tasks_per_node},
                {"current_working_directory", r.work_dir.empty() ? "/tmp" : r.work_dir},
                {"environment", r.env.empty() ? Json{{"PATH", "/usr/bin:/bin"}} : Json(r.env)}};
    if (!r.partition.empty()) job["partition"] = r.partition;
    if (!r.account.empty()) job["account"] = r.account;
    if (!r.qos.empty()) job["qos"] = r.qos;
    if (!r.gres_per_node.empty()) job["gres"] = r.gres_per_node;
    if (r.cpus_per_task > 0) job["cpus_per_task"] = r.cpus_per_task;
    if (r.memory_per_node_mib > 0) job["memory_per_node"] = r.memory_per_node_mib;
    if (r.time_limit_minutes > 0) job["time_limit"] = r.time_limit_minutes;
    if (!r.output.empty()) job["standard_output"] = r.output;
    if (!r.error.empty()) job["standard_error"] = r.error;
    SP_ASSIGN_OR_RETURN(Json doc, Call("POST", "/slurm/v0.0.38/job/submit",
                                       Json{{"script", r.script}, {"job", job}}.dump()));
    SP_RETURN_IF_ERROR(ErrorsOf(doc, "submit"));
    if (!doc.contains("job_id") || !doc["job_id"].is_number_unsigned()) {
      return UnavailableError("submit: the answer has no job_id");
    }
    return doc["job_id"].get<uint64_t>();
  }
  StatusOr<std::vector<JobInfo>> Jobs() override {
    SP_ASSIGN_OR_RETURN(std::string body, Raw("GET", "/slurm/v0.0.38/jobs", ""));
    return ParseJobs(body);
  }
  StatusOr<std::vector<NodeInfo>> Nodes() override {
    SP_ASSIGN_OR_RETURN(std::string body, Raw("GET", "/slurm/v0.0.38/nodes", ""));
    return ParseNodes(body);
  }
  Status Cancel(uint64_t id) override {
    auto doc = Call("DELETE", fmt::format("/slurm/v0.0.38/job/{}", id), "");
    if (!doc.ok()) return doc.status();
    Status s = ErrorsOf(*doc, "cancel");
    if (s.ok() || s.message().find("Invalid job id") != std::string::npos ||
        s.message().find("already completing or completed") != std::string::npos) {
      return OkStatus();
    }
    return s.code() == StatusCode::kInvalidArgument ? UnavailableError(s.message()) : s;
  }

 private:
  StatusOr<Json> Call(const std::string& method, const std::string& path, const std::string& body) {
    SP_ASSIGN_OR_RETURN(std::string raw, Raw(method, path, body));
    Json doc = Json::parse(raw, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      return UnavailableError(fmt::format("{} {}: not JSON: {}", method, path, raw.substr(0, 200)));
    }
    return doc;
  }
  StatusOr<std::string> Raw(const std::string& method, const std::string& path,
                            const std::string& body) {
    std::string token;
    if (!c_.token_file.empty()) {
      std::ifstream in(c_.token_file);
      std::getline(in, token);
      if (!in && token.empty()) {
        return UnavailableError(fmt::format("token_file {}: cannot read it", c_.token_file));
      }
      token = Trim(token);
      if (token.rfind("SLURM_JWT=", 0) == 0) token = token.substr(10);
    }
    CURL* curl = curl_easy_init();
    if (curl == nullptr) return UnavailableError("curl_easy_init failed");
    std::string out;
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Accept: application/json");
    const std::string user = "X-SLURM-USER-NAME: " + c_.user;
    const std::string tok = "X-SLURM-USER-TOKEN: " + token;
    headers = curl_slist_append(headers, user.c_str());
    if (!token.empty()) headers = curl_slist_append(headers, tok.c_str());
    const std::string url = base_ + path;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    if (!socket_.empty()) curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket_.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (method == "POST") {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(c_.timeout_seconds));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    const CURLcode rc = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
      return UnavailableError(fmt::format("{} {}: {}", method, url, curl_easy_strerror(rc)));
    }
    if (code == 401 || code == 403) {
      return UnavailableError(
          fmt::format("{} {}: HTTP {} (token or user refused)", method, url, code));
    }
    if (code >= 500 || code == 200 || code == 400 || code == 404) {
      // Slurm answers errors with 500 and a JSON body; its "errors" say which kind.
      Json doc = Json::parse(out, nullptr, false);
      if (!doc.is_discarded()) {
        if (code != 200 && method == "GET") {
          Status s = ErrorsOf(doc, method + " " + path);
          if (!s.ok()) return UnavailableError(s.message());
        }
        return out;
      }
    }
    return UnavailableError(
        fmt::format("{} {}: HTTP {}: {}", method, url, code, out.substr(0, 200)));
  }

  core::EngineConfig c_;
  std::string base_, socket_;
};

int64_t Int(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  return it->get<int64_t>();
}
std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

}  // namespace

std::unique_ptr<Client> MakeClient(const core::EngineConfig& config) {
  signal(SIGPIPE, SIG_IGN);  // sbatch reading its script may exit early: a write error, not death
  if (config.mode == "cli") return std::make_unique<CliClient>(config);
  return std::make_unique<RestClient>(config);
}

std::vector<std::string> ExpandHostlist(std::string_view list) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < list.size()) {
    // One item: prefix[ranges]suffix, up to a comma outside brackets.
    size_t j = i;
    int depth = 0;
    while (j < list.size() && (depth > 0 || list[j] != ',')) {
      if (list[j] == '[') ++depth;
      if (list[j] == ']') --depth;
      ++j;
    }
    const std::string_view item = list.substr(i, j - i);
    const size_t open = item.find('[');
    const size_t close = item.find(']');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
      if (!item.empty()) out.emplace_back(item);
    } else {
      const std::string prefix(item.substr(0, open));
      const std::string suffix(item.substr(close + 1));
      std::string_view ranges = item.substr(open + 1, close - open - 1);
      while (!ranges.empty()) {
        const size_t comma = ranges.find(',');
        const std::string_view r = ranges.substr(0, comma);
        const size_t dash = r.find('-');
        const std::string a(r.substr(0, dash));
        const std::string b(dash == std::string_view::npos ? a : std::string(r.substr(dash + 1)));
        const long lo = std::strtol(a.c_str(), nullptr, 10),
                   hi = std::strtol(b.c_str(), nullptr, 10);
        for (long v = lo; v <= hi && v - lo < 100000; ++v) {
          std::string num = std::to_string(v);
          while (num.size() < a.size()) num = "0" + num;  // zero padding: gpu[01-03]
          out.push_back(prefix + num + suffix);
        }
        if (comma == std::string_view::npos) break;
        ranges.remove_prefix(comma + 1);
      }
    }
    i = j + 1;
  }
  return out;
}

int GresCount(std::string_view gres) {
  int total = 0;
  while (!gres.empty()) {
    size_t comma = std::string_view::npos;
    int depth = 0;
    for (size_t k = 0; k < gres.size(); ++k) {
      if (gres[k] == '(') ++depth;
      if (gres[k] == ')') --depth;
      if (gres[k] == ',' && depth == 0) {
        comma = k;
        break;
      }
    }
    std::string_view item = gres.substr(0, comma);
    if (item.rfind("gres:", 0) == 0) item.remove_prefix(5);
    item = item.substr(0, item.find('('));
    if (item.rfind("gpu", 0) == 0) {
      const size_t colon = item.rfind(':');
      if (colon != std::string_view::npos) {
        const std::string n(item.substr(colon + 1));
        char* end = nullptr;
        const long v = std::strtol(n.c_str(), &end, 10);
        if (!n.empty() && *end == '\0' && v > 0) total += static_cast<int>(v);
      } else if (item == "gpu") {
        total += 1;
      }
    }
    if (comma == std::string_view::npos) break;
    gres.remove_prefix(comma + 1);
  }
  return total;
}

std::string ShellQuote(std::string_view word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

StatusOr<std::vector<JobInfo>> ParseJobs(std::string_view text) {
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return UnavailableError(fmt::format("jobs: not JSON: {}", text.substr(0, 200)));
  }
  Status errors = ErrorsOf(doc, "jobs");
  if (!errors.ok()) return UnavailableError(errors.message());
  if (!doc.contains("jobs") || !doc["jobs"].is_array()) return UnavailableError("jobs: no list");
  std::vector<JobInfo> out;
  for (const Json& j : doc["jobs"]) {
    JobInfo i;
    i.id = static_cast<uint64_t>(Int(j, "job_id"));
    i.name = Str(j, "name");
    i.comment = Str(j, "comment");
    i.state = Str(j, "job_state");
    i.reason = Str(j, "state_reason");
    if (i.reason == "None") i.reason.clear();
    const std::string description = Str(j, "state_description");
    if (!description.empty())
      i.reason = i.reason.empty() ? description : i.reason + ": " + description;
    i.nodes = Str(j, "nodes");
    i.node_list = ExpandHostlist(i.nodes);
    i.partition = Str(j, "partition");
    i.submit_s = Int(j, "submit_time");
    i.start_s = Int(j, "start_time");
    i.end_s = Int(j, "end_time");
    i.exit_raw = static_cast<int>(Int(j, "exit_code"));
    i.gpus_per_node = GresCount(Str(j, "tres_per_node"));
    out.push_back(std::move(i));
  }
  return out;
}

StatusOr<std::vector<NodeInfo>> ParseNodes(std::string_view text) {
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return UnavailableError(fmt::format("nodes: not JSON: {}", text.substr(0, 200)));
  }
  Status errors = ErrorsOf(doc, "nodes");
  if (!errors.ok()) return UnavailableError(errors.message());
  if (!doc.contains("nodes") || !doc["nodes"].is_array()) return UnavailableError("nodes: no list");
  std::vector<NodeInfo> out;
  for (const Json& n : doc["nodes"]) {
    NodeInfo i;
    i.name = Str(n, "name");
    i.state = Str(n, "state");
    i.reason = Str(n, "reason");
    if (n.contains("state_flags") && n["state_flags"].is_array()) {
      for (const Json& f : n["state_flags"]) {
        if (f.is_string()) i.flags.push_back(f.get<std::string>());
      }
    }
    if (n.contains("partitions") && n["partitions"].is_array()) {
      for (const Json& p : n["partitions"]) {
        if (p.is_string()) i.partitions.push_back(p.get<std::string>());
      }
    }
    i.gpus = GresCount(Str(n, "gres"));
    i.gpus_used = GresCount(Str(n, "gres_used"));
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace suanpan::backends::slurm
