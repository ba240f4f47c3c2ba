#pragma once
// `suanpan agent-exec`: the small process between the agent and a worker. The agent starts it in
// a new session (its pid is the process group of everything the worker starts) with the worker's
// environment and output file; it runs the command in `workdir`, waits for it, and writes the
// outcome to <dir>/status ({"exit_code": n} | {"signal": n} | {"reason": ..., "message": ...}).
//
// It outlives the agent, so an agent restart finds the worker running (or its status written)
// instead of losing it. Fencing: while the agent is alive it touches `fence` on every successful
// heartbeat; if the file is older than `fence_ms` (agent dead or cut off from the server), the
// supervisor kills the worker's process group, so work the server has given up on (and may run
// elsewhere) does not keep running here.

#include <string>
#include <vector>

namespace suanpan::agent {

struct SupervisorOptions {
  std::string dir;
  std::string fence;
  int64_t fence_ms = 0;  // 0: no fencing
  std::string workdir;
  std::vector<std::string> command;
};

// Returns the process exit status.
int RunSupervisor(const SupervisorOptions& options);

}  // namespace suanpan::agent
