#include "agent/agent.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "agent/contain.h"
#include "agent/discovery.h"
#include "agent/supervisor.h"
#include "backends/agent/protocol.h"
#include "base/text.h"
#include "client/http_client.h"

namespace suanpan::agent {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using Key = std::tuple<uint64_t, int, int>;  // job, attempt, rank

struct Worker {
  Key key;
  std::vector<int> devices;
  pid_t pid = -1;      // the supervisor; also the process group
  bool child = false;  // started by this agent process (waitpid works)
  fs::path dir;
  int64_t started_ms = 0;
  std::optional<int64_t> limit_s;
  bool running_reported = false;
  bool stopping = false;
  int64_t kill_at_ms = 0;
  bool limit_hit = false;
  bool exited = false;
  Json outcome;  // once exited: {"exit_code"} | {"signal"} | {"reason", "message"}
  int64_t shipped = 0;
  int uid = 0;  // what the worker runs as (0: the agent's user)
  fs::path sandbox;
};

std::string Dump(const Key& k) {
  return fmt::format("{}-{}-{}", std::get<0>(k), std::get<1>(k), std::get<2>(k));
}

bool ReadJson(const fs::path& p, Json* out) {
  std::ifstream in(p);
  if (!in) return false;
  *out = Json::parse(in, nullptr, false);
  return !out->is_discarded();
}

}  // namespace

struct Agent::Impl {
  AgentOptions o;
  std::vector<Device> devices;
  Host host;
  std::mutex mu;
  std::map<Key, Worker> workers;
  std::atomic<int> lease_seconds{10};
  std::atomic<bool> refused{false};
  // Set when the agent stops (asked to, or refused by the server): requests in flight on the
  // monitor and assignment threads are abandoned (ClientConfig::cancel).
  std::atomic<bool> halt{false};
  std::atomic<bool> registered{false};
  // Assigned workers not started yet: they wait until the workers they replace on the same
  // devices (preempted, cancelled) have exited, so two jobs never share a device.
  std::map<Key, std::pair<protocol::Assignment, std::map<uint64_t, std::vector<int>>>> waiting;
  // Workers reported ended while their assignment may still be listed: never started again.
  std::set<Key> finished;
  Status refusal;
  fs::path fence;
  int uid_base = 0;
  // The node has device files for its devices (real accelerators, or declared ones the
  // operator pointed --device-files at): workers may open their own only.
  bool has_device_files = false;
  // This agent's own cgroup subtree: <cgroup_base>/<node>-<hash of the work dir>, so that two
  // agents on one host (suanpan dev --nodes 2, tests) never touch each other's groups.
  std::string group_base;

  client::ApiClient Client() const {
    return client::ApiClient(client::ClientConfig{o.server, o.token, 35'000, &halt, o.ca_file,
                                                  o.client_cert, o.client_key});
  }

  // ---- starting and stopping workers (under mu) ----

  // The uid of a job's workers here: one per job (uid_base + slot), kept while any of its
  // workers lives, so that two jobs never share a uid (nor read each other's files).
  int UidFor(uint64_t job) {
    if (uid_base <= 0) return 0;
    for (const auto& [k, w] : workers) {
      if (std::get<0>(k) == job && w.uid > 0) return w.uid;
    }
    std::set<int> used;
    for (const auto& [k, w] : workers) used.insert(w.uid);
    for (int slot = 0; slot < o.uid_slots; ++slot) {
      if (!used.count(uid_base + slot)) return uid_base + slot;
    }
    return -1;
  }

  void Launch(const protocol::Assignment& a,
              const std::map<uint64_t, std::vector<int>>& local_ranks) {
    const Key key{a.job, a.attempt, a.rank};
    Worker w;
    w.key = key;
    w.devices = a.devices;
    w.dir = fs::path(o.work_dir) / "workers" / Dump(key);
    w.sandbox = fs::path(o.work_dir) / "sandboxes" / fmt::format("{}-{}", a.job, a.attempt);
    w.started_ms = NowMs();
    w.limit_s = a.runtime_limit;
    std::error_code ec;
    fs::create_directories(w.dir, ec);
    ::chmod(w.dir.c_str(), 0700);
    w.uid = UidFor(a.job);
    if (w.uid < 0) {
      w.exited = true;
      w.outcome = {{"reason", "start_failed"},
                   {"message", "no free uid on this node for another job"}};
      workers[key] = std::move(w);
      return;
    }
    if (!fs::exists(w.sandbox, ec)) {
      fs::create_directories(w.sandbox, ec);
      ::chmod(w.sandbox.c_str(), 0700);
      if (w.uid > 0 && ::chown(w.sandbox.c_str(), w.uid, w.uid) != 0) {
        spdlog::warn("cannot give {} to uid {}: {}", w.sandbox.string(), w.uid,
                     std::strerror(errno));
      }
    }
    const bool image = !a.image.empty();
    // The node's directories the job asked for, by name.
    std::vector<std::string> mount_args;
    std::map<std::string, std::string> mount_vars;
    for (const std::string& name : a.mounts) {
      auto it = o.mounts.find(name);
      if (it == o.mounts.end()) {
        std::string offered;
        for (const auto& [n, m] : o.mounts) offered += (offered.empty() ? "" : ", ") + n;
        w.exited = true;
        w.outcome = {{"reason", "start_failed"},
                     {"message", fmt::format("mount '{}' is not offered on node {} (offered: {})",
                                             name, o.node, offered.empty() ? "none" : offered)}};
        workers[key] = std::move(w);
        return;
      }
      // "MODE:TARGET:SOURCE": TARGET (/mnt/NAME, or empty for a job on the host) has no ':'.
      const std::string target = image ? "/mnt/" + name : "";
      mount_args.push_back(
          fmt::format("{}:{}:{}", it->second.writable ? "rw" : "ro", target, it->second.path));
      std::string var = "SUANPAN_MOUNT_";
      for (char c : name)
        var += std::isalnum(static_cast<unsigned char>(c)) ? std::toupper(c) : '_';
      mount_vars[var] = image ? target : it->second.path;
    }
    // An allow-list, not the agent's environment (which may hold secrets): the basics, the
    // variables the operator passes on, then the job's own. An image brings its own PATH.
    std::map<std::string, std::string> vars;
    if (!image) {
      vars["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
      vars["LANG"] = "C.UTF-8";
    }
    vars["HOME"] = image ? "/workspace" : fs::absolute(w.sandbox, ec).string();
    vars["TMPDIR"] = image ? "/tmp" : vars["HOME"];
    for (const std::string& name : o.pass_env) {
      if (const char* v = std::getenv(name.c_str())) vars[name] = v;
    }
    for (const auto& [k, v] : a.env) vars[k] = v;
    for (const auto& [k, v] : mount_vars) vars[k] = v;
    std::string devs;
    for (int d : a.devices) devs += (devs.empty() ? "" : ",") + std::to_string(d);
    const auto& locals = local_ranks.at(std::get<0>(key));
    const int local_rank = static_cast<int>(
        std::find(locals.begin(), locals.end(), std::get<2>(key)) - locals.begin());
    vars[a.visible_devices_variable] = devs;
    if (a.visible_devices_variable == "CUDA_VISIBLE_DEVICES")
      vars["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID";
    vars["SUANPAN_JOB_ID"] = std::to_string(std::get<0>(key));
    vars["SUANPAN_JOB_NAME"] = a.name;
    vars["SUANPAN_TENANT"] = a.tenant;
    vars["SUANPAN_ATTEMPT"] = std::to_string(std::get<1>(key));
    vars["SUANPAN_NODE"] = o.node;
    vars["RANK"] = std::to_string(std::get<2>(key));
    vars["WORLD_SIZE"] = std::to_string(a.world_size);
    vars["LOCAL_RANK"] = std::to_string(local_rank);
    vars["LOCAL_WORLD_SIZE"] = std::to_string(locals.size());
    vars["MASTER_ADDR"] = a.master_addr;
    vars["MASTER_PORT"] = std::to_string(a.master_port);
    std::vector<std::string> env;
    for (const auto& [k, v] : vars) env.push_back(k + "=" + v);
    {
      // The job's environment (its secrets) goes by a 0600 file, never argv.
      const std::string text = EncodeEnvFile(env);
      const int fd =
          ::open((w.dir / "env").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      const bool ok =
          fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
      if (fd >= 0) ::close(fd);
      if (!ok) {
        w.exited = true;
        w.outcome = {{"reason", "start_failed"},
                     {"message", fmt::format("cannot write {}/env", w.dir.string())}};
        workers[key] = std::move(w);
        return;
      }
    }

    std::vector<std::string> args = {
        o.self_exe,   "agent-exec",
        "--dir",      w.dir.string(),
        "--fence",    fence.string(),
        "--fence-ms", std::to_string(std::max(1, lease_seconds.load() - 1) * 1000),
        "--sandbox",  w.sandbox.string(),
        "--log-cap",  std::to_string(o.log_cap_bytes),
        "--pids",     std::to_string(o.pids_max)};
    if (!a.workdir.empty()) {
      args.push_back("--workdir");
      args.push_back(a.workdir);
    }
    if (w.uid > 0) {
      args.push_back("--uid");
      args.push_back(std::to_string(w.uid));
    }
    if (!o.cgroup_base.empty()) {
      args.push_back("--cgroup");
      args.push_back(group_base + "/" + Dump(key));
    }
    if (a.cpu_milli > 0) {
      args.push_back("--cpu-milli");
      args.push_back(std::to_string(a.cpu_milli));
    }
    if (a.memory_mib > 0) {
      args.push_back("--memory-mib");
      args.push_back(std::to_string(a.memory_mib));
    }
    if (o.isolate) args.push_back("--isolate");
    for (const std::string& m : mount_args) {
      args.push_back("--mount");
      args.push_back(m);
    }
    for (const std::string& f : DeviceFiles(a)) {
      args.push_back("--device-file");
      args.push_back(f);
    }
    if (has_device_files) args.push_back("--restrict-devices");
    if (image) {
      args.insert(args.end(),
                  {"--image", a.image, "--image-cache", (fs::path(o.work_dir) / "images").string(),
                   "--runtime", o.oci_runtime});
      if (!o.image_dir.empty()) args.insert(args.end(), {"--image-dir", o.image_dir});
      if (!o.registry.empty()) args.insert(args.end(), {"--registry", o.registry});
      if (!o.registry_tls_verify) args.push_back("--registry-insecure");
    }
    args.push_back("--");
    for (const std::string& c : a.command) args.push_back(c);
    std::vector<char*> argv, envp;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    // The supervisor (root) starts with a fixed environment: nothing of the tenant's
    // (LD_PRELOAD, ...) reaches it.
    std::string fixed_path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    envp.push_back(fixed_path.data());
    envp.push_back(nullptr);

    const std::string log = (w.dir / "supervisor.log").string();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    // No fd of the agent (its connections to the server) crosses into the supervisor.
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, o.self_exe.c_str(), &fa, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      w.exited = true;
      w.outcome = {{"reason", "start_failed"},
                   {"message", fmt::format("spawn: {}", std::strerror(rc))}};
    } else {
      w.pid = pid;
      w.child = true;
      std::ofstream(w.dir / "meta.json") << Json{
          {"job", std::get<0>(key)},
          {"attempt", std::get<1>(key)},
          {"rank", std::get<2>(key)},
          {"pid", pid},
          {"started_ms", w.started_ms},
          {"devices", w.devices},
          {"uid", w.uid},
          {"sandbox", w.sandbox.string()},
          {"limit_s", w.limit_s
                          ? Json(*w.limit_s)
                          : Json(nullptr)}}.dump();
      spdlog::info("worker started job={} attempt={} rank={} pid={} devices={}", std::get<0>(key),
                   std::get<1>(key), std::get<2>(key), pid, devs);
    }
    workers[key] = std::move(w);
  }

  // The device files of `index` and the control files, for the vendor of an assignment.
  std::string DevicePattern(const std::string& visible_variable) const {
    if (!o.device_files.empty()) return o.device_files;
    return visible_variable == "ASCEND_RT_VISIBLE_DEVICES" ? "/dev/davinci{}" : "/dev/nvidia{}";
  }
  std::vector<std::string> DeviceFiles(const protocol::Assignment& a) const {
    std::vector<std::string> out;
    if (a.devices.empty()) return out;
    const std::string pattern = DevicePattern(a.visible_devices_variable);
    for (int d : a.devices) {
      std::string f = pattern;
      const size_t at = f.find("{}");
      if (at != std::string::npos) f.replace(at, 2, std::to_string(d));
      out.push_back(f);
    }
    std::vector<std::string> control;
    if (o.device_control_files) {
      control = *o.device_control_files;
    } else if (a.visible_devices_variable == "ASCEND_RT_VISIBLE_DEVICES") {
      control = {"/dev/davinci_manager", "/dev/devmm_svm", "/dev/hisi_hdc"};
    } else {
      control = {"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools",
                 "/dev/nvidia-modeset"};
    }
    for (const std::string& c : control) {
      struct stat st {};
      if (::stat(c.c_str(), &st) == 0) out.push_back(c);
    }
    return out;
  }

  void LaunchWaiting() {
    for (auto it = waiting.begin(); it != waiting.end();) {
      bool busy = false;
      // A worker waits only for those it replaces (stopping: preempted, cancelled) on its
      // devices. Workers the server placed together on one device (fractions) run together.
      for (int d : it->second.first.devices) {
        for (const auto& [k, w] : workers) {
          if (!w.exited && w.stopping &&
              std::find(w.devices.begin(), w.devices.end(), d) != w.devices.end()) {
            busy = true;
          }
        }
      }
      if (busy) {
        ++it;
        continue;
      }
      Launch(it->second.first, it->second.second);
      it = waiting.erase(it);
    }
  }

  void Stop(Worker& w, const char* why) {
    if (w.exited || w.stopping || w.pid <= 0) return;
    spdlog::info("worker stopping job={} attempt={} rank={}: {}", std::get<0>(w.key),
                 std::get<1>(w.key), std::get<2>(w.key), why);
    ::kill(w.pid, SIGTERM);  // the supervisor passes it to every process of the worker
    w.stopping = true;
    w.kill_at_ms = NowMs() + o.grace_seconds * 1000;
  }

  // After the grace period: the supervisor kills the whole worker; if the supervisor is gone,
  // the agent kills what is left in the worker's cgroup itself.
  void KillNow(Worker& w) {
    if (::kill(w.pid, SIGUSR1) != 0 && !o.cgroup_base.empty()) {
      Cgroup g = Cgroup::Open(group_base, Dump(w.key));
      g.KillAll();
    }
  }

  // Groups left by supervisors that died with their worker's processes in them (an agent
  // crash, a kill -9 of the supervisor): killed and removed at start.
  void CollectStaleGroups() {
    if (o.cgroup_base.empty() || ::geteuid() != 0) return;
    std::set<std::string> live;
    for (const auto& [k, w] : workers) {
      if (!w.exited) live.insert(Dump(k));
    }
    for (const std::string& name : Cgroup::List(group_base)) {
      if (live.count(name)) continue;
      Cgroup g = Cgroup::Open(group_base, name);
      g.KillAll();
      g.WaitEmpty(1000);
      g.Remove();
      spdlog::info("removed a stale worker cgroup {}/{}", group_base, name);
    }
  }

  // A job's sandbox goes once none of its workers here is left.
  void RemoveSandboxIfDone(const Worker& done) {
    if (done.sandbox.empty()) return;
    for (const auto& [k, w] : workers) {
      if (&w != &done && w.sandbox == done.sandbox) return;
    }
    std::error_code ec;
    fs::remove_all(done.sandbox, ec);
  }

  void Adopt() {
    const fs::path root = fs::path(o.work_dir) / "workers";
    std::error_code ec;
    if (!fs::exists(root, ec)) return;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
      Json meta;
      if (!ReadJson(entry.path() / "meta.json", &meta)) {
        fs::remove_all(entry.path(), ec);
        continue;
      }
      Worker w;
      w.key = {meta["job"].get<uint64_t>(), meta["attempt"].get<int>(), meta["rank"].get<int>()};
      w.dir = entry.path();
      w.pid = meta["pid"].get<pid_t>();
      w.started_ms = meta["started_ms"].get<int64_t>();
      if (meta.contains("devices")) w.devices = meta["devices"].get<std::vector<int>>();
      if (meta["uid"].is_number_integer()) w.uid = meta["uid"].get<int>();
      if (meta["sandbox"].is_string()) w.sandbox = meta["sandbox"].get<std::string>();
      if (meta["limit_s"].is_number_integer()) w.limit_s = meta["limit_s"].get<int64_t>();
      w.running_reported = true;
      Json status;
      std::string cmdline;
      std::ifstream(fmt::format("/proc/{}/cmdline", w.pid)) >> cmdline;
      if (ReadJson(w.dir / "status", &status)) {
        w.exited = true;
        w.outcome = status;
      } else if (::kill(w.pid, 0) == 0 && cmdline.find("agent-exec") != std::string::npos) {
        spdlog::info("worker adopted job={} attempt={} rank={} pid={}", std::get<0>(w.key),
                     std::get<1>(w.key), std::get<2>(w.key), w.pid);
      } else {
        w.exited = true;
        w.outcome = {{"reason", "lost"},
                     {"message", "its process was gone when the agent restarted"}};
      }
      workers[w.key] = std::move(w);
    }
  }

  // ---- the monitor: exits, logs, limits, reports (called every 50 ms) ----

  void Reap(Worker& w) {
    if (w.exited || w.pid <= 0) return;
    bool gone = false;
    if (w.child) {
      int status = 0;
      gone = ::waitpid(w.pid, &status, WNOHANG) == w.pid;
    } else {
      gone = ::kill(w.pid, 0) != 0;
    }
    if (!gone) return;
    w.exited = true;
    Json status;
    if (ReadJson(w.dir / "status", &status)) {
      w.outcome = status;
    } else {
      w.outcome = {{"signal", SIGKILL}};
    }
    if (w.limit_hit) {
      w.outcome = {{"reason", "runtime_limit"},
                   {"message", fmt::format("stopped after {} s", *w.limit_s)}};
    }
  }

  // Ships what the worker wrote since the last call; false when the server refused it for good
  // (4xx: the job is gone), so that the caller stops trying.
  bool ShipLogs(client::ApiClient& api, Worker& w) {
    std::ifstream in(w.dir / "output.log", std::ios::binary);
    if (!in) return true;
    in.seekg(w.shipped);
    std::string chunk(256 * 1024, '\0');
    for (int i = 0; i < 8; ++i) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      const std::streamsize n = in.gcount();
      if (n <= 0) return true;
      const auto& [job, attempt, rank] = w.key;
      auto r = api.SendRaw("POST",
                           fmt::format("/v1/jobs/{}/workers/{}/logs?attempt={}&offset={}", job,
                                       rank, attempt, w.shipped),
                           std::string(chunk.data(), static_cast<size_t>(n)));
      if (!r.ok() || r->status >= 500) return true;  // try again later
      if (r->status == 200 && r->body.is_object() && r->body.contains("size")) {
        w.shipped = r->body["size"].get<int64_t>();
      } else {
        return false;  // 404/409: the server does not want it (the job is gone)
      }
      if (n < static_cast<std::streamsize>(chunk.size())) return true;
      in.clear();
      in.seekg(w.shipped);
    }
    return true;
  }

  // Returns true when the worker can be forgotten.
  bool Report(client::ApiClient& api, Worker& w) {
    const auto& [job, attempt, rank] = w.key;
    const std::string path = fmt::format("/v1/jobs/{}/workers/{}/status", job, rank);
    // A worker that started and ended between two ticks is reported started first, so that the
    // server sees every worker run (and the job go through running) however short it was.
    const bool started =
        w.pid > 0 && !(w.exited && w.outcome.value("reason", "") == "start_failed");
    if (!w.running_reported && started) {
      protocol::WorkerReport running;
      running.attempt = attempt;
      running.state = protocol::WorkerReport::State::kRunning;
      auto r = api.Send("POST", path, protocol::Encode(running));
      if (r.ok() && r->status == 200) w.running_reported = true;
      if (r.ok() && (r->status == 409 || r->status == 404)) Stop(w, "the attempt is over");
    }
    if (!w.exited) return false;
    // The whole output goes to the server before the exit is reported (and the file removed).
    if (ShipLogs(api, w)) {
      std::error_code ec;
      const auto size = fs::file_size(w.dir / "output.log", ec);
      if (!ec && w.shipped < static_cast<int64_t>(size)) return false;
    }
    protocol::WorkerReport ended;
    ended.attempt = attempt;
    ended.state = protocol::WorkerReport::State::kExited;
    if (w.outcome.contains("exit_code") && w.outcome["exit_code"].is_number_integer()) {
      ended.exit_code = w.outcome["exit_code"].get<int>();
    }
    if (w.outcome.contains("signal") && w.outcome["signal"].is_number_integer()) {
      ended.signal = w.outcome["signal"].get<int>();
    }
    ended.reason = w.outcome.value("reason", "");
    ended.message = w.outcome.value("message", "");
    auto r = api.Send("POST", path, protocol::Encode(ended));
    if (!r.ok() || r->status >= 500) return false;  // retry on the next tick
    spdlog::info("worker ended job={} attempt={} rank={} outcome={} server={}", job, attempt, rank,
                 w.outcome.dump(), r->status);
    finished.insert(w.key);
    std::error_code ec;
    fs::remove_all(w.dir, ec);
    RemoveSandboxIfDone(w);
    return true;
  }

  // Heartbeats on their own thread and client, with a timeout under a third of the lease: slow
  // reports or log uploads never delay the lease (and the supervisors' fence) behind them.
  void Heartbeats(const std::atomic<bool>& stop) {
    client::ApiClient api(client::ClientConfig{o.server, o.token, 3'000, &stop, o.ca_file,
                                               o.client_cert, o.client_key});
    int64_t next_heartbeat = 0;
    while (!stop && !refused) {
      const int64_t now = NowMs();
      if (now >= next_heartbeat) {
        protocol::Heartbeat hb;
        hb.address = o.address;
        hb.cpu_cores = host.cpu_cores;
        hb.memory_mib = host.memory_mib;
        hb.agent_version = "0.1.0";
        for (const Device& d : devices)
          hb.devices.push_back({d.index, d.type, d.memory_mib, d.name});
        auto r = api.Send("POST", fmt::format("/v1/nodes/{}/heartbeat", client::UrlEncode(o.node)),
                          protocol::Encode(hb));
        std::optional<protocol::HeartbeatReply> reply;
        if (r.ok() && r->status == 200) {
          auto decoded = protocol::DecodeHeartbeatReply(r->body);
          if (decoded.ok()) reply = *decoded;
        }
        if (reply) {
          lease_seconds = reply->lease_seconds;
          std::ofstream(fence) << now;  // the supervisors' fence: renewed with the lease
          ::chmod(fence.c_str(), 0600);
          registered = true;
          next_heartbeat = now + std::max(1, lease_seconds.load()) * 1000 / 3;
        } else if (r.ok() && r->status >= 400 && r->status < 500) {
          std::string msg = r->raw;
          if (r->body.is_object() && r->body.contains("error"))
            msg = r->body["error"].value("message", r->raw);
          refusal =
              FailedPreconditionError(fmt::format("the server refused node {}: {}", o.node, msg));
          refused = true;
          halt = true;
          return;
        } else {
          next_heartbeat = now + 1000;
          if (!r.ok() && !stop) spdlog::warn("heartbeat failed: {}", r.status().message());
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    halt = true;
  }

  void Monitor(const std::atomic<bool>& stop) {
    client::ApiClient api = Client();
    int64_t next_logs = 0;
    while (!stop && !refused) {
      const int64_t now = NowMs();
      std::vector<Key> done;
      {
        std::lock_guard lock(mu);
        for (auto& [key, w] : workers) {
          Reap(w);
          if (!w.exited && w.limit_s && !w.limit_hit && now - w.started_ms > *w.limit_s * 1000) {
            w.limit_hit = true;
            Stop(w, "runtime limit");
          }
          if (w.stopping && !w.exited && now >= w.kill_at_ms) {
            KillNow(w);
            w.kill_at_ms = now + 1000;
          }
        }
        LaunchWaiting();
      }
      // Reports and logs go out without holding the lock over the network for long: work on a
      // snapshot of keys; the assignment thread only adds workers or marks them stopping.
      std::vector<Key> keys;
      {
        std::lock_guard lock(mu);
        for (auto& [key, w] : workers) keys.push_back(key);
      }
      for (const Key& key : keys) {
        std::lock_guard lock(mu);
        auto it = workers.find(key);
        if (it == workers.end()) continue;
        if (Report(api, it->second)) {
          done.push_back(key);
        } else if (now >= next_logs) {
          ShipLogs(api, it->second);
        }
      }
      if (now >= next_logs) next_logs = now + 200;
      {
        std::lock_guard lock(mu);
        for (const Key& k : done) workers.erase(k);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  void Assignments(const std::atomic<bool>& stop) {
    client::ApiClient api = Client();
    uint64_t since = 0;
    // Register (first heartbeat) before taking work: the server then knows this node's address.
    while (!stop && !refused && !registered)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    while (!stop && !refused) {
      auto r = api.Send("GET", fmt::format("/v1/nodes/{}/assignments?since={}&wait=20",
                                           client::UrlEncode(o.node), since));
      if (!r.ok() || r->status != 200) {
        if (r.ok() && r->status >= 400 && r->status < 500 && r->status != 404) {
          spdlog::warn("assignments: {}", r->raw);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      auto list = protocol::DecodeAssignmentList(r->body);
      if (!list.ok()) {
        spdlog::warn("assignments: the server sent what this agent cannot read: {}",
                     list.status().message());
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      since = list->version;
      std::map<Key, protocol::Assignment> desired;
      std::map<uint64_t, std::vector<int>> local_ranks;
      for (const protocol::Assignment& a : list->items) {
        const Key key{a.job, a.attempt, a.rank};
        desired[key] = a;
        local_ranks[std::get<0>(key)].push_back(std::get<2>(key));
      }
      for (auto& [job, ranks] : local_ranks) std::sort(ranks.begin(), ranks.end());
      std::lock_guard lock(mu);
      for (auto& [key, w] : workers) {
        if (!desired.count(key))
          Stop(w, "no longer assigned (cancelled, preempted or its gang ended)");
      }
      for (auto it = waiting.begin(); it != waiting.end();) {
        it = desired.count(it->first) ? std::next(it) : waiting.erase(it);
      }
      for (auto it = finished.begin(); it != finished.end();) {
        it = desired.count(*it) ? std::next(it) : finished.erase(it);
      }
      for (const auto& [key, a] : desired) {
        if (!workers.count(key) && !finished.count(key)) waiting[key] = {a, local_ranks};
      }
      LaunchWaiting();
    }
  }
};

Agent::Agent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Agent::~Agent() = default;

StatusOr<std::unique_ptr<Agent>> Agent::Create(AgentOptions o) {
  if (o.server.empty()) return InvalidArgumentError("server: required (--server URL)");
  if (o.node.empty()) return InvalidArgumentError("node: required (--node NAME)");
  if (o.token.empty()) return InvalidArgumentError("token: required (--token, an agent token)");
  auto impl = std::make_unique<Impl>();
  if (o.self_exe.empty()) {
    std::error_code ec;
    o.self_exe = fs::read_symlink("/proc/self/exe", ec).string();
  }
  impl->host = DiscoverHost();
  if (o.address.empty()) o.address = impl->host.hostname;
  if (!o.devices.empty()) {
    SP_ASSIGN_OR_RETURN(impl->devices, ParseDeclaredDevices(o.devices));
  } else {
    auto found = DiscoverNvml();
    if (!found.ok()) {
      return UnavailableError(
          fmt::format("{}; declare the node's devices with --devices TYPE:COUNT (e.g. H100:8)",
                      found.status().message()));
    }
    impl->devices = std::move(*found);
  }
  std::error_code ec;
  fs::create_directories(fs::path(o.work_dir) / "workers", ec);
  if (ec)
    return UnavailableError(
        fmt::format("work_dir: cannot create {}: {}", o.work_dir, ec.message()));
  // The job's sandboxes live below; the job's uid must pass through (0711), never list.
  ::chmod(o.work_dir.c_str(), 0711);
  fs::create_directories(fs::path(o.work_dir) / "sandboxes", ec);
  ::chmod((fs::path(o.work_dir) / "sandboxes").c_str(), 0711);
  ::chmod((fs::path(o.work_dir) / "workers").c_str(), 0700);
  if (o.uid_base < 0) o.uid_base = ::geteuid() == 0 ? 200000 : 0;
  if (o.uid_base > 0 && ::geteuid() != 0) {
    return InvalidArgumentError(
        "uid_base: only an agent running as root can run workers as "
        "other users (use --uid-base 0 to run them as this user)");
  }
  if (::geteuid() != 0) o.isolate = false;
  if (o.uid_base > 0) {
    // Workers run as other users: every directory above their sandboxes must let them pass
    // (a work dir under root's 0700 home would make every job fail to start).
    const fs::path sandboxes = fs::absolute(fs::path(o.work_dir) / "sandboxes", ec);
    for (fs::path p = sandboxes.parent_path(); !p.empty(); p = p.parent_path()) {
      struct stat st {};
      if (::stat(p.c_str(), &st) == 0 && (st.st_mode & S_IXOTH) == 0) {
        return InvalidArgumentError(fmt::format(
            "work_dir: workers run as uid {}+ and cannot pass through {} (mode {:04o}); use a "
            "work dir they can reach (e.g. /var/lib/suanpan-agent), chmod o+x {}, or --uid-base 0",
            o.uid_base, p.string(), st.st_mode & 07777, p.string()));
      }
      if (p == p.root_path()) break;
    }
  }
  impl->uid_base = o.uid_base;
  for (const Device& d : impl->devices) {
    for (const std::string& pattern :
         o.device_files.empty() ? std::vector<std::string>{"/dev/nvidia{}", "/dev/davinci{}"}
                                : std::vector<std::string>{o.device_files}) {
      std::string f = pattern;
      const size_t at = f.find("{}");
      if (at != std::string::npos) f.replace(at, 2, std::to_string(d.index));
      struct stat st {};
      if (::stat(f.c_str(), &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
        impl->has_device_files = true;
      }
    }
  }
  for (const auto& [name, m] : o.mounts) {
    if (!IsSafeToken(name, 64) || name.find(':') != std::string::npos) {
      return InvalidArgumentError(fmt::format(
          "mount: the name '{}' must be letters, digits, '-', '_' or '.'", name.substr(0, 64)));
    }
    std::error_code mec;
    if (m.path.empty() || m.path.front() != '/' || !fs::is_directory(m.path, mec)) {
      return InvalidArgumentError(
          fmt::format("mount {}: '{}' must be an absolute path of a directory", name, m.path));
    }
  }
  if (!o.cgroup_base.empty()) {
    std::string node;
    for (char c : o.node) node += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    const std::string where = fs::absolute(o.work_dir, ec).lexically_normal().string();
    impl->group_base = fmt::format("{}/{}-{:08x}", o.cgroup_base, node,
                                   static_cast<uint32_t>(std::hash<std::string>{}(where)));
  }
  impl->fence = fs::path(o.work_dir) / "lease";
  impl->o = std::move(o);
  impl->Adopt();
  impl->CollectStaleGroups();
  return std::unique_ptr<Agent>(new Agent(std::move(impl)));
}

Status Agent::Run(const std::atomic<bool>& stop) {
  spdlog::info("agent for node {} on {}: {} device(s), {} cores, {} MiB; server {}", impl_->o.node,
               impl_->host.hostname, impl_->devices.size(), impl_->host.cpu_cores,
               impl_->host.memory_mib, impl_->o.server);
  std::thread heartbeats([&] { impl_->Heartbeats(stop); });
  std::thread monitor([&] { impl_->Monitor(stop); });
  std::thread assignments([&] { impl_->Assignments(stop); });
  heartbeats.join();
  monitor.join();
  assignments.join();
  if (impl_->refused) return impl_->refusal;
  return OkStatus();
}

}  // namespace suanpan::agent
