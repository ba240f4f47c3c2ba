#include "cli/node_commands.h"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/agent.h"
#include "agent/discovery.h"
#include "agent/supervisor.h"
#include "base/text.h"
#include "cli/server.h"
#include "client/http_client.h"

namespace suanpan::cli {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

void SetUpLogging(const std::string& level) {
  if (!spdlog::get("suanpan")) spdlog::set_default_logger(spdlog::stderr_color_mt("suanpan"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(level));
}

// Blocks SIGINT/SIGTERM in every thread and sets `stop` when one arrives.
std::thread StopOnSignal(std::atomic<bool>& stop, std::function<void()> also = nullptr) {
  const sigset_t set = BlockStopSignals();
  return std::thread([set, &stop, also] {
    int sig = 0;
    sigwait(&set, &sig);
    stop = true;
    if (also) also();
  });
}

}  // namespace

StatusOr<std::string> ReadSecretFile(const std::string& field, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return FieldError(field, fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  }
  if ((st.st_mode & 077) != 0) {
    return FieldError(field, fmt::format("{} may be read by others (mode {:04o}); chmod 600 {}",
                                         path, st.st_mode & 07777, path));
  }
  std::ifstream in(path);
  std::string secret;
  std::getline(in, secret);
  while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ')) secret.pop_back();
  if (secret.empty()) return FieldError(field, fmt::format("{} is empty", path));
  return secret;
}

StatusOr<std::map<std::string, agent::AgentOptions::Mount>> ParseMounts(
    const std::vector<std::string>& specs) {
  std::map<std::string, agent::AgentOptions::Mount> out;
  for (const std::string& m : specs) {
    const size_t eq = m.find('=');
    if (eq == std::string::npos || eq == 0) {
      return FieldError("mount", fmt::format("expected NAME=PATH[:rw], got '{}'", m));
    }
    std::string path = m.substr(eq + 1);
    bool writable = false;
    if (path.size() > 3 && path.compare(path.size() - 3, 3, ":rw") == 0) {
      writable = true;
      path.resize(path.size() - 3);
    } else if (path.size() > 3 && path.compare(path.size() - 3, 3, ":ro") == 0) {
      path.resize(path.size() - 3);
    }
    out[m.substr(0, eq)] = {fs::absolute(path).lexically_normal().string(), writable};
  }
  return out;
}

int RunAgent(const AgentCommandOptions& o) {
  SetUpLogging(o.log_level);
  ::umask(077);  // worker state, logs and the lease file are the agent's alone
  agent::AgentOptions ao;
  ao.server = o.server;
  ao.node = o.node;
  if (!o.token_on_argv.empty()) {
    std::fprintf(stderr,
                 "suanpan agent: --token: a token on the command line is readable by every "
                 "process on the node (/proc/PID/cmdline); write it to a file (chmod 600) and "
                 "pass --token-file FILE\n");
    return 2;
  }
  std::string token_file = o.token_file;
  if (token_file.empty()) {
    if (const char* f = std::getenv("SUANPAN_TOKEN_FILE")) token_file = f;
  }
  if (token_file.empty()) {
    std::fprintf(stderr, "suanpan agent: token: required (--token-file FILE, mode 0600)\n");
    return 2;
  }
  auto token = ReadSecretFile("token-file", token_file);
  if (!token.ok()) {
    std::fprintf(stderr, "suanpan agent: %s\n", token.status().message().c_str());
    return 2;
  }
  ao.token = *token;
  ao.uid_base = o.uid_base;
  ao.isolate = !o.no_isolate;
  ao.cgroup_base = o.cgroup_base;
  ao.log_cap_bytes = o.log_cap_mib << 20;
  ao.pass_env = o.pass_env;
  ao.ca_file = o.ca_file;
  ao.client_cert = o.client_cert;
  ao.client_key = o.client_key;
  ao.image_dir = o.image_dir;
  ao.registry = o.registry;
  ao.registry_tls_verify = !o.registry_insecure;
  if (!o.oci_runtime.empty()) ao.oci_runtime = o.oci_runtime;
  ao.device_files = o.device_files;
  if (o.device_control_set) ao.device_control_files = o.device_control_files;
  auto mounts = ParseMounts(o.mounts);
  if (!mounts.ok()) {
    std::fprintf(stderr, "suanpan agent: %s\n", mounts.status().message().c_str());
    return 2;
  }
  ao.mounts = std::move(*mounts);
  ao.devices = o.devices;
  ao.work_dir = o.work_dir;
  ao.address = o.address;
  ao.grace_seconds = o.grace_seconds;
  if (ao.server.empty()) {
    if (const char* s = std::getenv("SUANPAN_SERVER")) ao.server = s;
  }
  if (!ao.server.empty() && ao.server.rfind("http", 0) != 0) ao.server = "http://" + ao.server;
  auto a = agent::Agent::Create(ao);
  if (!a.ok()) {
    std::fprintf(stderr, "suanpan agent: %s\n", a.status().message().c_str());
    return 2;
  }
  std::atomic<bool> stop{false};
  std::thread waiter = StopOnSignal(stop);
  waiter.detach();
  Status s = (*a)->Run(stop);
  if (!s.ok()) {
    std::fprintf(stderr, "suanpan agent: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}

int RunAgentExec(int argc, char** argv) {
  agent::SupervisorOptions o;
  int i = 0;
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--isolate") {
      o.isolate = true;
      continue;
    }
    if (a == "--restrict-devices") {
      o.restrict_devices = true;
      continue;
    }
    if (a == "--registry-insecure") {
      o.images.registry_tls_verify = false;
      continue;
    }
    if (i + 1 >= argc) break;
    if (a == "--dir")
      o.dir = argv[++i];
    else if (a == "--fence")
      o.fence = argv[++i];
    else if (a == "--fence-ms")
      o.fence_ms = std::atoll(argv[++i]);
    else if (a == "--workdir")
      o.workdir = argv[++i];
    else if (a == "--sandbox")
      o.sandbox = argv[++i];
    else if (a == "--uid")
      o.uid = o.gid = static_cast<uid_t>(std::atoll(argv[++i]));
    else if (a == "--cpu-milli")
      o.limits.cpu_milli = std::atoll(argv[++i]);
    else if (a == "--memory-mib")
      o.limits.memory_bytes = std::atoll(argv[++i]) << 20;
    else if (a == "--pids")
      o.limits.pids = std::atoll(argv[++i]);
    else if (a == "--log-cap")
      o.log_cap_bytes = std::atoll(argv[++i]);
    else if (a == "--image")
      o.image = argv[++i];
    else if (a == "--image-dir")
      o.images.image_dir = argv[++i];
    else if (a == "--image-cache")
      o.images.cache_dir = argv[++i];
    else if (a == "--registry")
      o.images.registry = argv[++i];
    else if (a == "--runtime")
      o.runtime = argv[++i];
    else if (a == "--device-file")
      o.device_files.emplace_back(argv[++i]);
    else if (a == "--mount") {
      // "ro|rw:TARGET:SOURCE" (TARGET has no ':', SOURCE may)
      const std::string m = argv[++i];
      const size_t c1 = m.find(':'), c2 = c1 == std::string::npos ? c1 : m.find(':', c1 + 1);
      if (c2 == std::string::npos) continue;
      o.mounts.push_back(
          {m.substr(c2 + 1), m.substr(c1 + 1, c2 - c1 - 1), m.substr(0, c1) != "rw"});
    } else if (a == "--cgroup") {
      const std::string g = argv[++i];
      const size_t slash = g.rfind('/');
      o.cgroup_base = slash == std::string::npos ? "" : g.substr(0, slash);
      o.cgroup_name = slash == std::string::npos ? g : g.substr(slash + 1);
    }
  }
  for (; i < argc; ++i) o.command.emplace_back(argv[i]);
  if (o.dir.empty()) {
    std::fprintf(stderr,
                 "suanpan agent-exec: --dir is required (this command is run by the agent)\n");
    return 2;
  }
  return agent::RunSupervisor(o);
}

int RunLogs(const ClientFlags& flags, const LogsOptions& o, std::FILE* out, std::FILE* err) {
  auto config = client::ResolveClientConfig(flags.server, flags.token, flags.ca_file);
  if (!config.ok()) {
    std::fprintf(err, "error: %s\n", config.status().message().c_str());
    return 2;
  }
  client::ApiClient api(*config);
  int64_t offset = 0;
  for (;;) {
    std::string path = fmt::format("/v1/jobs/{}/logs?worker={}&offset={}", o.job, o.worker, offset);
    if (o.attempt > 0) path += fmt::format("&attempt={}", o.attempt);
    auto r = api.Call("GET", path);
    if (!r.ok()) {
      std::fprintf(err, "error: %s\n", r.status().message().c_str());
      return r.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
    }
    const std::string data = (*r)["data"].get<std::string>();
    // A worker's output may hold terminal escape sequences (titles, cursor moves, a fake
    // prompt): shown visibly unless --raw.
    const std::string shown = o.raw ? data : EscapeForTerminal(data);
    std::fwrite(shown.data(), 1, shown.size(), out);
    std::fflush(out);
    if (offset == 0 && data.empty() && !o.follow) {
      std::fprintf(err,
                   (*r)["done"].get<bool>()
                       ? "(worker %d of job %llu wrote no output)\n"
                       : "(no output from worker %d of job %llu yet; --follow waits for it)\n",
                   o.worker, static_cast<unsigned long long>(o.job));
    }
    offset = (*r)["next_offset"].get<int64_t>();
    if (!o.follow || (*r)["done"].get<bool>()) return 0;
    if (data.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

int RunDev(const DevOptions& o) {
  auto parsed_mounts = ParseMounts(o.mounts);
  if (!parsed_mounts.ok()) {
    std::fprintf(stderr, "suanpan dev: %s\n", parsed_mounts.status().message().c_str());
    return 2;
  }
  const auto mounts = *parsed_mounts;
  std::error_code ec;
  fs::create_directories(o.data_dir, ec);
  if (ec) {
    std::fprintf(stderr, "suanpan dev: cannot create %s: %s\n", o.data_dir.c_str(),
                 ec.message().c_str());
    return 2;
  }
  auto devices = agent::ParseDeclaredDevices(o.devices);
  if (!devices.ok()) {
    std::fprintf(stderr, "suanpan dev: %s\n", devices.status().message().c_str());
    return 2;
  }
  const std::string type = devices->front().type;
  const int per_node = static_cast<int>(devices->size());
  const agent::Host host = agent::DiscoverHost();
  // A pool of this machine: one provider, one cluster, `nodes` nodes of the declared devices in
  // one NVLink domain each; one tenant with no quota limits.
  const std::string pool_path = (fs::path(o.data_dir) / "pool.toml").string();
  std::ofstream(pool_path) << fmt::format(
      "# Written by `suanpan dev`: this machine as a pool.\n"
      "[[priority_classes]]\nname = \"normal\"\nvalue = 0\npreemptible = true\n\n"
      "[[priority_classes]]\nname = \"high\"\nvalue = 1000\npreemptible = false\n\n"
      "[policy]\nqueue = \"priority\"\nplacement = \"topology_pack\"\n\n"
      "[[providers]]\nname = \"local\"\nregion = \"localhost\"\nbackend = \"managed\"\n"
      "[providers.prices]\n{} = 10.0\n\n"
      "[[providers.clusters]]\nname = \"dev\"\nnodes_per_switch = 32\nswitches_per_block = 8\n\n"
      "[[providers.clusters.node_groups]]\nname = \"node\"\ncount = {}\ndevice_type = \"{}\"\n"
      "devices_per_node = {}\ninterconnect_domain = {}\ncpu_cores = {}\nmemory_gib = {}\n\n"
      "[[tenants]]\nname = \"dev\"\nweight = 1\n",
      type, o.nodes, type, per_node, per_node, std::max(1, host.cpu_cores),
      std::max<int64_t>(1, host.memory_mib / 1024));

  SetUpLogging(o.log_level);
  ::umask(077);  // store, logs, token files: 0600
  // Every thread (server, agents) starts with the stop signals blocked; the server thread waits
  // for them (RunServer) and returns, which stops the rest.
  BlockStopSignals();
  std::atomic<bool> stop{false};
  ServerOptions so;
  so.listen = o.listen;
  so.store = (fs::path(o.data_dir) / "suanpan.db").string();
  so.pool = pool_path;
  so.admin_token_file = (fs::path(o.data_dir) / "admin.token").string();
  so.port_file = (fs::path(o.data_dir) / "port").string();
  so.log_level = o.log_level;
  so.lease_seconds = o.lease_seconds;
  so.log_dir = (fs::path(o.data_dir) / "logs").string();
  so.oidc_issuer = o.oidc_issuer;
  so.oidc_audience = o.oidc_audience;
  so.oidc_client_id = o.oidc_client_id;
  so.oidc_scope = o.oidc_scope;
  fs::remove(so.port_file, ec);
  std::thread server([&] {
    RunServer(so);
    stop = true;
  });
  // Wait for the server, then make (or reuse) the tenant and agent tokens.
  int port = 0;
  for (int i = 0; i < 1000 && port == 0 && !stop; ++i) {
    std::ifstream in(so.port_file);
    in >> port;
    if (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (port == 0) {
    std::fprintf(stderr, "suanpan dev: the server did not start (see the messages above)\n");
    stop = true;
    kill(getpid(), SIGTERM);
    server.join();
    return 1;
  }
  const std::string url = fmt::format("http://127.0.0.1:{}", port);
  std::string admin;
  std::getline(std::ifstream(so.admin_token_file), admin);
  client::ApiClient api(client::ClientConfig{url, admin, 10'000});
  auto token = [&](const std::string& name, const Json& body) -> std::string {
    const fs::path file = fs::path(o.data_dir) / (name + ".token");
    std::string secret;
    std::getline(std::ifstream(file), secret);
    if (!secret.empty()) {
      client::ApiClient probe(client::ClientConfig{url, secret, 10'000});
      auto who = probe.Send("GET", "/v1/whoami");
      if (who.ok() && who->status == 200) return secret;
    }
    std::string unique = name;
    for (int i = 2;; ++i) {
      Json b = body;
      b["name"] = unique;
      auto r = api.Call("POST", "/v1/tokens", b);
      if (r.ok()) {
        secret = (*r)["token"].get<std::string>();
        break;
      }
      if (r.status().code() != StatusCode::kFailedPrecondition) {
        std::fprintf(stderr, "suanpan dev: %s\n", r.status().message().c_str());
        return "";
      }
      unique = fmt::format("{}-{}", name, i);
    }
    std::ofstream(file) << secret << "\n";
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, ec);
    return secret;
  };
  const std::string tenant = token("tenant", Json{{"role", "tenant"}, {"tenant", "dev"}});
  std::vector<std::thread> agents;
  std::vector<std::unique_ptr<agent::Agent>> agent_objects;
  for (int n = 0; n < o.nodes; ++n) {
    const std::string node = fmt::format("dev/node-{:04d}", n);
    const std::string t =
        token(fmt::format("agent-{}", n), Json{{"role", "agent"}, {"node", node}});
    agent::AgentOptions ao;
    ao.server = url;
    ao.token = t;
    ao.node = node;
    ao.devices = o.devices;
    ao.address = "127.0.0.1";
    ao.grace_seconds = 5;
    ao.work_dir = (fs::path(o.data_dir) / fmt::format("agent-{}", n)).string();
    if (!o.image_dir.empty()) ao.image_dir = fs::absolute(o.image_dir).string();
    ao.mounts = mounts;
    auto a = agent::Agent::Create(ao);
    if (!a.ok()) {
      std::fprintf(stderr, "suanpan dev: agent: %s\n", a.status().message().c_str());
      continue;
    }
    agent_objects.push_back(std::move(*a));
    agent::Agent* raw = agent_objects.back().get();
    agents.emplace_back([raw, &stop] {
      Status s = raw->Run(stop);
      if (!s.ok()) spdlog::error("agent: {}", s.message());
    });
  }
  std::printf(
      "suanpan dev: server %s, %d node(s) of %s, data in %s\n\n"
      "  dashboard:    %s/   (sign in with a token below)\n"
      "  admin token:  %s\n  tenant token: %s   (tenant \"dev\")\n\n"
      "Try, in another terminal:\n"
      "  export PATH=%s:$PATH SUANPAN_SERVER=%s SUANPAN_TOKEN=%s\n"
      "  suanpan submit -J hello -N 2 -G %d -- sh -c 'echo rank $RANK of $WORLD_SIZE on "
      "$CUDA_VISIBLE_DEVICES'\n"
      "  suanpan jobs --all\n"
      "  suanpan logs 1 --worker 1\n\n"
      "Ctrl-C stops the server and the agent (running workers stop with their lease).\n",
      url.c_str(), o.nodes, o.devices.c_str(), o.data_dir.c_str(), url.c_str(), admin.c_str(),
      tenant.c_str(), fs::read_symlink("/proc/self/exe", ec).parent_path().c_str(), url.c_str(),
      tenant.c_str(), std::max(1, per_node / 2));
  std::fflush(stdout);
  server.join();  // returns on SIGINT/SIGTERM
  stop = true;
  for (std::thread& t : agents) t.join();
  return 0;
}

}  // namespace suanpan::cli
