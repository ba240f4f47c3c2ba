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
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace suanpan::control {

struct JobRecord;

// A delegated engine as its backend sees it (GET /v1/providers, `suanpan providers`).
struct EngineView {
  std::string kind;     // slurm
  std::string mode;     // rest | cli
  std::string state;    // up | degraded | starting
  std::string message;  // why degraded (the engine's or the transport's error)
  int64_t since_ms = 0;
  int64_t last_poll_ms = 0;
  // By device type: what the engine reports (total, free for suanpan after the partner's own
  // work and nodes that are down).
  std::map<std::string, std::pair<int, int>> devices;
  int pending = 0, running = 0;  // suanpan's jobs in the engine's queue
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  // Whether a node it serves takes work only while an agent holds its lease (suanpan's agents).
  // An engine backend says false: it keeps its nodes' capacity itself
  // (ControlPlane::SetEngineHold).
  virtual bool NeedsAgents() const { return true; }
  // The control thread runs (after the backends were added and their jobs launched again).
  virtual void Start() {}
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
  // Why the job's current attempt has not started, as the engine says ("" if it does not know).
  virtual std::string WhyNotStarted(const JobRecord& job) const {
    (void)job;
    return {};
  }
  virtual std::optional<EngineView> Engine() const { return std::nullopt; }
};

}  // namespace suanpan::control
