#pragma once
// Containing a worker: its own cgroup (v2 where the unified tree has controllers, the v1
// hierarchies otherwise, plus the controller-less unified tree of a "hybrid" host for
// cgroup.kill), with the CPU, memory and pids limits of its request, and killed as a whole.
// The recipe (and what was tested on this project's machines) is in docs/security.md.
//
// A group is <hierarchy>/<base>/<name> in every hierarchy used; the agent names them after the
// worker (job-attempt-rank), so that a restarted agent can find, kill and remove what a dead
// supervisor left behind.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace suanpan::agent {

// A /proc or /sys file, whole, by read(2) ("" when it cannot be opened). Not ifstream: a /proc
// file whose process is gone mid-read fails with ESRCH, on which libstdc++'s filebuf throws from
// underflow, past an istreambuf_iterator.
std::string ReadKernelFile(const std::string& path);

struct CgroupLimits {
  int64_t memory_bytes = 0;  // 0: no limit
  int64_t pids = 0;          // 0: no limit
  int64_t cpu_milli = 0;     // 0: no limit; 1500: one and a half cores (CFS quota)
  // Device access (the v1 devices controller): when `restrict_devices`, every device is denied
  // but the harmless ones (null, zero, full, random, urandom, tty, console, ptmx, pts) and
  // `devices` (the worker's accelerators and their control files). On cgroup v2 device access
  // is an eBPF program; only OCI runtimes (image jobs) install one, see docs/security.md.
  struct Device {
    char type = 'c';  // 'c' or 'b'
    int64_t major = 0, minor = 0;
  };
  bool restrict_devices = false;
  std::vector<Device> devices;
};

class Cgroup {
 public:
  Cgroup() = default;
  // Creates the group in every hierarchy and writes the limits. Unavailable (with the reason)
  // when this process cannot (not root, no cgroup file system): the caller runs uncontained.
  static StatusOr<Cgroup> Create(const std::string& base, const std::string& name,
                                 const CgroupLimits& limits);
  // The group `name` as it exists now (possibly in no hierarchy at all).
  static Cgroup Open(const std::string& base, const std::string& name);
  // Names of the groups under <base> (in any hierarchy).
  static std::vector<std::string> List(const std::string& base);

  bool empty() const { return dirs_.empty() && unified_.empty(); }
  // Moves the calling process into the group (every hierarchy). Call in the child, before exec.
  Status AttachSelf() const;
  std::vector<pid_t> Pids() const;
  // Sends `sig` to every process in the group.
  void Signal(int sig) const;
  // Kills every process in the group: cgroup.kill where the unified tree has the group, else
  // freezer (freeze, SIGKILL each, thaw) so that nothing forks out of the snapshot.
  void KillAll() const;
  // Waits until no process is left (kills are asynchronous); false after `ms`.
  bool WaitEmpty(int ms) const;
  // Removes the group from every hierarchy (retries while the kernel still tears it down).
  void Remove() const;
  // "v1+hybrid memory,pids,cpu,freezer,..." for logs.
  std::string Describe() const;
  // The OOM kills counted in the group (memory.oom_control / memory.events).
  int64_t OomKills() const;
  // "/<base>/<name>": the group's path inside each hierarchy (an OCI runtime's cgroupsPath).
  const std::string& relative() const { return relative_; }

 private:
  struct Dir {
    std::string controllers;  // "memory" or "cpu,cpuacct"
    std::string path;
  };
  std::vector<Dir> dirs_;  // v1 hierarchies (or the v2 group when v2_)
  std::string unified_;    // the group in the unified tree (v2, or hybrid for cgroup.kill)
  bool v2_ = false;
  bool devices_restricted_ = false;
  std::string relative_;
  const Dir* Find(const std::string& controller) const;
  std::string TrackDir() const;
};

}  // namespace suanpan::agent
