#pragma once
// backends/: what carries a bound job out (ARCHITECTURE.md). The control plane decides and
// commits; a backend starts the decided workers, stops them, and tells the control plane what
// happened. Each provider is served by one backend (managed providers: suanpan's own agents,
// backends/agent; delegated ones: the partner's engine).
//
// Contract. Every call runs on the control thread. Launch and Stop are called only after the
// decision they carry out is durable (committed), and are idempotent: the same (job, attempt)
// launched twice starts its workers once. A backend never changes control state itself; it
// reports through the control plane's entry points (worker reports, run start and end).

#include <cstdint>
#include <string_view>

namespace suanpan::control {

struct JobRecord;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  // The job's current attempt is bound (its run row is committed): start its workers.
  virtual void Launch(const JobRecord& job) = 0;
  // The attempt ended for the control plane (cancelled, preempted, failed, lost, finished):
  // stop whatever of it still runs.
  virtual void Stop(const JobRecord& job, int attempt) = 0;
  // A node it serves changed state (lost, back in service).
  virtual void NodeChanged(uint32_t node) { (void)node; }
  // Once per turn of the control loop, after the turn's commit: deliver what is due (long-poll
  // answers, engine polls).
  virtual void Poll(int64_t now_ms) = 0;
  // The server stops: answer what waits.
  virtual void Shutdown() = 0;
};

}  // namespace suanpan::control
