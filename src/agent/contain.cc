#include "agent/contain.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace suanpan::agent {
namespace {

bool WriteFile(const std::string& path, const std::string& value) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = ::write(fd, value.data(), value.size());
  const int e = errno;
  ::close(fd);
  errno = e;
  return n == static_cast<ssize_t>(value.size());
}

}  // namespace

std::string ReadKernelFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool HasController(const std::string& list, const std::string& c) {
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item == c) return true;
  }
  return false;
}

struct Mounts {
  std::vector<std::pair<std::string, std::string>> v1;  // controllers, mount point
  std::string unified;
  bool v2 = false;  // the unified tree has the memory and pids controllers
};

// The cgroup mounts, from /proc/self/mountinfo (co-mounted controllers share a hierarchy).
Mounts Detect() {
  Mounts m;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  static const char* kWanted[] = {"memory",  "pids",    "cpu",   "cpuacct",
                                  "freezer", "devices", "cpuset"};
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string w;
    while (ss >> w) f.push_back(w);
    size_t dash = 0;
    for (size_t i = 6; i < f.size(); ++i) {
      if (f[i] == "-") {
        dash = i;
        break;
      }
    }
    if (dash == 0 || dash + 3 >= f.size()) continue;
    const std::string& mnt = f[4];
    const std::string& type = f[dash + 1];
    if (type == "cgroup2") {
      if (m.unified.empty()) m.unified = mnt;
    } else if (type == "cgroup") {
      std::string controllers;
      for (const char* c : kWanted) {
        if (HasController(f[dash + 3], c))
          controllers += (controllers.empty() ? "" : ",") + std::string(c);
      }
      if (!controllers.empty()) m.v1.push_back({controllers, mnt});
    }
  }
  if (!m.unified.empty()) {
    const std::string c = ReadKernelFile(m.unified + "/cgroup.controllers");
    m.v2 = c.find("memory") != std::string::npos && c.find("pids") != std::string::npos;
  }
  return m;
}

bool MkdirP(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      const std::string part = dir.substr(0, i);
      if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) return false;
    }
  }
  return true;
}

}  // namespace

const Cgroup::Dir* Cgroup::Find(const std::string& controller) const {
  for (const Dir& d : dirs_) {
    if (HasController(d.controllers, controller)) return &d;
  }
  return nullptr;
}

StatusOr<Cgroup> Cgroup::Create(const std::string& base, const std::string& name,
                                const CgroupLimits& limits) {
  if (::geteuid() != 0) return UnavailableError("cgroups: the agent does not run as root");
  const Mounts m = Detect();
  Cgroup g;
  g.relative_ = "/" + base + "/" + name;
  auto fail = [&](const std::string& what) -> Status {
    const std::string why = std::strerror(errno);
    g.Remove();
    return UnavailableError(fmt::format("cgroups: {}: {}", what, why));
  };
  if (m.v2) {
    g.v2_ = true;
    std::string path = m.unified;
    WriteFile(path + "/cgroup.subtree_control", "+memory +pids +cpu");
    std::stringstream ss(base);
    std::string part;
    while (std::getline(ss, part, '/')) {
      if (part.empty()) continue;
      path += "/" + part;
      ::mkdir(path.c_str(), 0755);
      WriteFile(path + "/cgroup.subtree_control", "+memory +pids +cpu");
    }
    g.unified_ = path + "/" + name;
    if (::mkdir(g.unified_.c_str(), 0755) != 0 && errno != EEXIST) {
      g.unified_.clear();
      return fail("mkdir " + path + "/" + name);
    }
    if (limits.memory_bytes > 0) {
      WriteFile(g.unified_ + "/memory.max", std::to_string(limits.memory_bytes));
      WriteFile(g.unified_ + "/memory.swap.max", "0");
      WriteFile(g.unified_ + "/memory.oom.group", "1");
    }
    if (limits.pids > 0) WriteFile(g.unified_ + "/pids.max", std::to_string(limits.pids));
    if (limits.cpu_milli > 0) {
      WriteFile(g.unified_ + "/cpu.max", fmt::format("{} 100000", limits.cpu_milli * 100));
    }
    return g;
  }
  if (m.v1.empty()) return UnavailableError("cgroups: no cgroup file system is mounted");
  for (const auto& [controllers, mnt] : m.v1) {
    const std::string parent = mnt + "/" + base;
    if (!MkdirP(parent)) return fail("mkdir " + parent);
    if (HasController(controllers, "cpuset")) {
      // A new cpuset group starts empty, and attaching to it fails (ENOSPC): each level of
      // <base> inherits from the one above.
      std::string above = mnt, level = mnt;
      std::stringstream parts(base);
      std::string part;
      while (std::getline(parts, part, '/')) {
        if (part.empty()) continue;
        level += "/" + part;
        for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
          if (Trim(ReadKernelFile(level + "/" + f)).empty()) {
            WriteFile(level + "/" + f, Trim(ReadKernelFile(above + "/" + f)));
          }
        }
        above = level;
      }
    }
    Dir d{controllers, parent + "/" + name};
    // Another worker's supervisor may remove an empty parent between the two mkdirs: retry.
    bool made = false;
    for (int t = 0; t < 5 && !made; ++t) {
      made = ::mkdir(d.path.c_str(), 0755) == 0 || errno == EEXIST;
      if (!made && errno == ENOENT) MkdirP(parent);
    }
    if (!made) return fail("mkdir " + d.path);
    g.dirs_.push_back(d);
    if (HasController(controllers, "cpuset")) {
      for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
        WriteFile(d.path + "/" + f, Trim(ReadKernelFile(parent + "/" + f)));
      }
    }
  }
  if (const Dir* d = g.Find("memory"); d && limits.memory_bytes > 0) {
    if (!WriteFile(d->path + "/memory.limit_in_bytes", std::to_string(limits.memory_bytes))) {
      return fail("memory.limit_in_bytes");
    }
    WriteFile(d->path + "/memory.memsw.limit_in_bytes", std::to_string(limits.memory_bytes));
  }
  if (const Dir* d = g.Find("pids"); d && limits.pids > 0) {
    if (!WriteFile(d->path + "/pids.max", std::to_string(limits.pids))) return fail("pids.max");
  }
  if (const Dir* d = g.Find("cpu"); d && limits.cpu_milli > 0) {
    WriteFile(d->path + "/cpu.cfs_period_us", "100000");
    if (!WriteFile(d->path + "/cpu.cfs_quota_us", std::to_string(limits.cpu_milli * 100))) {
      return fail("cpu.cfs_quota_us");
    }
  }
  if (const Dir* d = g.Find("devices"); d && limits.restrict_devices) {
    if (!WriteFile(d->path + "/devices.deny", "a")) return fail("devices.deny");
    std::vector<std::string> allow = {"c 1:3 rwm",   "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
                                      "c 1:9 rwm",   "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm",
                                      "c 136:* rwm", "c *:* m",   "b *:* m"};
    for (const CgroupLimits::Device& dev : limits.devices) {
      allow.push_back(fmt::format("{} {}:{} rw", dev.type, dev.major, dev.minor));
    }
    for (const std::string& rule : allow) {
      if (!WriteFile(d->path + "/devices.allow", rule)) return fail("devices.allow " + rule);
    }
    g.devices_restricted_ = true;
  }
  // Hybrid: a group in the controller-less unified tree too, for cgroup.kill.
  if (!m.unified.empty()) {
    const std::string parent = m.unified + "/" + base;
    if (MkdirP(parent)) {
      const std::string u = parent + "/" + name;
      if (::mkdir(u.c_str(), 0755) == 0 || errno == EEXIST) g.unified_ = u;
    }
  }
  return g;
}

Cgroup Cgroup::Open(const std::string& base, const std::string& name) {
  const Mounts m = Detect();
  Cgroup g;
  struct stat st {};
  if (m.v2) {
    g.v2_ = true;
    const std::string u = m.unified + "/" + base + "/" + name;
    if (::stat(u.c_str(), &st) == 0) g.unified_ = u;
    return g;
  }
  for (const auto& [controllers, mnt] : m.v1) {
    const std::string p = mnt + "/" + base + "/" + name;
    if (::stat(p.c_str(), &st) == 0) g.dirs_.push_back({controllers, p});
  }
  if (!m.unified.empty()) {
    const std::string u = m.unified + "/" + base + "/" + name;
    if (::stat(u.c_str(), &st) == 0) g.unified_ = u;
  }
  return g;
}

std::vector<std::string> Cgroup::List(const std::string& base) {
  const Mounts m = Detect();
  std::set<std::string> names;
  std::vector<std::string> roots;
  for (const auto& [controllers, mnt] : m.v1) roots.push_back(mnt + "/" + base);
  if (!m.unified.empty()) roots.push_back(m.unified + "/" + base);
  for (const std::string& root : roots) {
    DIR* d = ::opendir(root.c_str());
    if (d == nullptr) continue;
    while (dirent* e = ::readdir(d)) {
      if (e->d_type == DT_DIR && e->d_name[0] != '.') names.insert(e->d_name);
    }
    ::closedir(d);
  }
  return {names.begin(), names.end()};
}

Status Cgroup::AttachSelf() const {
  const std::string pid = std::to_string(::getpid());
  for (const Dir& d : dirs_) {
    if (!WriteFile(d.path + "/cgroup.procs", pid)) {
      return UnavailableError(
          fmt::format("cgroups: cannot join {}: {}", d.path, std::strerror(errno)));
    }
  }
  if (!unified_.empty() && !WriteFile(unified_ + "/cgroup.procs", pid) && v2_) {
    return UnavailableError(
        fmt::format("cgroups: cannot join {}: {}", unified_, std::strerror(errno)));
  }
  return OkStatus();
}

std::string Cgroup::TrackDir() const {
  if (v2_) return unified_;
  if (const Dir* d = Find("freezer")) return d->path;
  if (const Dir* d = Find("pids")) return d->path;
  if (!dirs_.empty()) return dirs_.front().path;
  return unified_;
}

std::vector<pid_t> Cgroup::Pids() const {
  std::vector<pid_t> out;
  const std::string dir = TrackDir();
  if (dir.empty()) return out;
  std::stringstream ss(ReadKernelFile(dir + "/cgroup.procs"));
  pid_t p = 0;
  while (ss >> p) out.push_back(p);
  return out;
}

void Cgroup::Signal(int sig) const {
  for (pid_t p : Pids()) ::kill(p, sig);
}

void Cgroup::KillAll() const {
  if (!unified_.empty() && WriteFile(unified_ + "/cgroup.kill", "1")) return;
  const Dir* freezer = v2_ ? nullptr : Find("freezer");
  for (int round = 0; round < 50; ++round) {
    if (freezer != nullptr) {
      WriteFile(freezer->path + "/freezer.state", "FROZEN");
      for (int i = 0; i < 1000; ++i) {  // FREEZING can last a moment
        if (ReadKernelFile(freezer->path + "/freezer.state").rfind("FROZEN", 0) == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    } else if (v2_) {
      WriteFile(unified_ + "/cgroup.freeze", "1");
    }
    const std::vector<pid_t> pids = Pids();
    for (pid_t p : pids) ::kill(p, SIGKILL);
    if (freezer != nullptr) {
      WriteFile(freezer->path + "/freezer.state", "THAWED");  // SIGKILL acts at thaw
    } else if (v2_) {
      WriteFile(unified_ + "/cgroup.freeze", "0");
    }
    if (pids.empty()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool Cgroup::WaitEmpty(int ms) const {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  for (;;) {
    if (Pids().empty()) return true;
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void Cgroup::Remove() const {
  std::vector<std::string> all;
  for (const Dir& d : dirs_) all.push_back(d.path);
  if (!unified_.empty()) all.push_back(unified_);
  for (const std::string& p : all) {
    for (int t = 0; t < 200; ++t) {
      if (::rmdir(p.c_str()) == 0 || errno == ENOENT) break;
      if (errno != EBUSY) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // The agent's subtree goes with its last group (it is made again for the next one).
    const size_t slash = p.rfind('/');
    if (slash != std::string::npos) ::rmdir(p.substr(0, slash).c_str());
  }
}

std::string Cgroup::Describe() const {
  if (v2_) return "v2 " + unified_;
  std::string out = unified_.empty() ? "v1" : "v1+hybrid";
  for (const Dir& d : dirs_) out += " " + d.controllers;
  if (devices_restricted_) out += " (devices: its own only)";
  return out;
}

int64_t Cgroup::OomKills() const {
  std::string text;
  if (v2_) {
    text = ReadKernelFile(unified_ + "/memory.events");
  } else if (const Dir* d = Find("memory")) {
    text = ReadKernelFile(d->path + "/memory.oom_control");
  }
  const size_t at = text.find("oom_kill ");
  return at == std::string::npos ? 0 : std::atoll(text.c_str() + at + 9);
}

}  // namespace suanpan::agent
