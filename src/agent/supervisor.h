#pragma once
// `suanpan agent-exec`: the small process between the agent and a worker. The agent starts it in
// a new session with a fixed environment (PATH only) and no fd beyond 0-2; it contains and runs
// the worker, pumps its output into <dir>/output.log (capped), waits for it, kills whatever it
// left, and writes the outcome to <dir>/status ({"exit_code": n} | {"signal": n} |
// {"reason": ..., "message": ...}) once nothing of the worker is left.
//
//   supervisor (root, child subreaper; cgroup owner; log pump)
//     └─ A: joins the worker's cgroup, [unshares pid + mount namespaces]
//          └─ B: pid 1 of the new namespace: a fresh /proc, forwards signals, reaps
//               └─ C: drops to the job's uid (no capabilities, no new privileges), enters its
//                     workdir beneath the sandbox (no symlinks, no ".."), closes every fd but
//                     0-2, execs the command with the job's environment only
//   (without namespaces, A is C)
//   An image job: A creates the workdir as the job's uid and becomes the OCI runtime (`runc
//   run`), which makes the namespaces and runs the worker in the image, in the worker's cgroup
//   (cgroupsPath; the runtime itself stays outside it, so that it can remove it at the end).
//
// It outlives the agent, so an agent restart finds the worker running (or its status written).
// Signals from the agent: SIGTERM = stop gracefully (forwarded to every process of the worker),
// SIGUSR1 = kill now (the whole cgroup). Fencing: while the agent is alive it touches `fence` on
// every successful heartbeat; if the file is older than `fence_ms`, the supervisor kills the
// worker, so that work the server has given up on (and may run elsewhere) stops here.

#include <sys/types.h>

#include <string>
#include <vector>

#include "agent/contain.h"
#include "agent/image.h"

namespace suanpan::agent {

struct SupervisorOptions {
  std::string dir;  // the worker's directory: status, output.log, env (read and removed)
  std::string fence;
  int64_t fence_ms = 0;  // 0: no fencing
  std::string sandbox;   // the job's directory on this node (HOME); empty: `dir`
  std::string workdir;   // relative to the sandbox
  uid_t uid = 0;         // 0: stay the supervisor's user
  gid_t gid = 0;
  std::string cgroup_base;  // empty: no cgroup
  std::string cgroup_name;
  CgroupLimits limits;
  int64_t log_cap_bytes = 0;         // 0: no cap
  bool isolate = false;              // own pid and mount namespaces, with a fresh /proc
  std::vector<std::string> command;  // empty for an image job: the image's entrypoint and cmd
  // The node's directories the job asked for (read-only unless said): bind-mounted at `target`
  // in an image job; re-mounted read-only in place (own mount namespace) otherwise.
  std::vector<ContainerSpec::Mount> mounts;
  // The worker's device files (its accelerators and their control files): the only devices
  // it may open (device cgroup), and in an image job the only ones that exist in its /dev.
  std::vector<std::string> device_files;
  bool restrict_devices = false;  // the node has device files: deny all but the worker's
  // An image job (agent/image.h): the worker runs in `image` under the OCI runtime `runtime`,
  // in the cgroup above (the runtime joins it), as `uid`, with the sandbox at /workspace.
  std::string image;
  ImageStoreOptions images;
  std::string runtime = "runc";
};

// Returns the process exit status.
int RunSupervisor(const SupervisorOptions& options);

// What the supervisor reads from <dir>/env: NUL-separated NAME=VALUE (written 0600 by the agent).
std::string EncodeEnvFile(const std::vector<std::string>& env);

}  // namespace suanpan::agent
