#pragma once
// The node agent: registers its node with the server, heartbeats (which renews the node's lease),
// pulls the node's assignments (long-poll), and runs each assigned worker as a process:
//
//   agent ──posix_spawn (new session)──► suanpan agent-exec ──fork/exec──► the worker command
//
// contained (agent/supervisor.h: its own cgroup, uid, pid and mount namespaces, no inherited
// fd), with an environment that is an allow-list (PATH, HOME, LANG, TMPDIR, the agent's
// `pass_env`) plus the job's variables, SUANPAN_JOB_ID, RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT and CUDA_VISIBLE_DEVICES / ASCEND_RT_VISIBLE_DEVICES for its devices),
// its working directory, and stdout/stderr in a file the agent ships to the server. A worker whose
// assignment disappears (cancel, preemption, a failed gang peer, a lost node) gets SIGTERM on its
// process group, then SIGKILL after the grace period; a worker past its runtime limit the same.
// Exit codes and signals are reported per worker; the server applies the gang and retry rules.
//
// State survives an agent restart: each worker has a directory (work_dir/workers/JOB-ATTEMPT-RANK)
// with meta.json, output.log and, once it ended, status. A restarted agent adopts the workers whose
// supervisor is still alive, reports those that ended meanwhile, and reports the others lost.
// Nothing is started twice: workers are keyed by (job, attempt, rank).

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace suanpan::agent {

struct AgentOptions {
  std::string server;  // http://host:port
  std::string token;   // an agent token for `node` (read from a 0600 file, never argv)
  std::string node;
  std::string work_dir = "suanpan-agent";
  std::string devices;  // declared "TYPE:COUNT[:GIB]"; empty: discover with NVML
  std::string address;  // what gang peers use as MASTER_ADDR; default: the hostname
  int grace_seconds = 10;
  std::string self_exe;  // the suanpan binary (for agent-exec); default /proc/self/exe
  // Containment (docs/security.md). Workers of one job run as uid_base + slot (a slot per job
  // running here); 0: as the agent's own user (an agent that is not root cannot switch).
  int uid_base = -1;  // -1: 200000 when the agent runs as root, else 0
  int uid_slots = 10000;
  bool isolate = true;                        // pid and mount namespaces (root only)
  std::string cgroup_base = "suanpan";        // empty: no cgroups
  int64_t pids_max = 4096;                    // per worker
  int64_t log_cap_bytes = int64_t{64} << 20;  // per worker attempt
  std::vector<std::string> pass_env;  // agent variables workers also get (NCCL_SOCKET_IFNAME)
  // TLS to the server: its CA (default: the system's), and this node's client certificate.
  std::string ca_file, client_cert, client_key;
  // Container images (agent/image.h): OCI layouts and archives by name, a registry to copy
  // missing ones from ("host:port[/prefix]"), and the OCI runtime that runs them.
  std::string image_dir;
  std::string registry;
  bool registry_tls_verify = true;
  std::string oci_runtime = "runc";
  // The node's directories jobs may ask for by name (datasets, models, shared scratch):
  // read-only unless `writable`. An image job sees one at /mnt/NAME; every job gets its path
  // in SUANPAN_MOUNT_<NAME>.
  struct Mount {
    std::string path;
    bool writable = false;
  };
  std::map<std::string, Mount> mounts;
  // The device files of device N ("{}" is N; default by vendor: /dev/nvidia{}, /dev/davinci{})
  // and the control files every worker with devices needs (default by vendor, those present).
  // Where they exist a worker may open its own devices only (device cgroup, or the runtime's).
  std::string device_files;
  std::optional<std::vector<std::string>> device_control_files;
};

class Agent {
 public:
  // Discovers devices and adopts the workers left by a previous run. InvalidArgument names a bad
  // option; Unavailable when no devices are declared and NVML finds none.
  static StatusOr<std::unique_ptr<Agent>> Create(AgentOptions options);
  ~Agent();
  // Runs until `stop` is set; returns an error if the server refuses the node (e.g. its devices
  // do not match the pool's declaration).
  Status Run(const std::atomic<bool>& stop);

  struct Impl;

 private:
  explicit Agent(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace suanpan::agent
