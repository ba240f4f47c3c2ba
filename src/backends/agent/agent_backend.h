#pragma once
// backends/agent: suanpan's own node agents. An agent pulls its node's assignments (long-poll on
// a per-node version that changes whenever the node's list does) and reports its workers through
// the control plane's worker routes. Launch and Stop only change the lists and wake the waiting
// polls, after the decision is committed (Backend contract), so an agent never sees a decision
// the store could lose.

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "backends/agent/protocol.h"
#include "control/backend.h"
#include "control/control_plane.h"

namespace suanpan::backends {

class AgentBackend final : public control::Backend {
 public:
  using Reply = std::function<void(StatusOr<protocol::AssignmentList>)>;

  explicit AgentBackend(const control::ControlPlane& plane);

  std::string_view name() const override { return "agent"; }
  void Launch(const control::JobRecord& job) override;
  void Stop(const control::JobRecord& job, int attempt) override;
  void NodeChanged(uint32_t node) override;
  void Poll(int64_t now_ms) override;
  void Shutdown() override;

  // The node's assignments now (on the control thread). A tenant token may not ask; an agent
  // token only for its own node.
  StatusOr<protocol::AssignmentList> Assignments(const control::Caller& caller,
                                                 const std::string& node) const;
  // Long-poll: if the node's list is still at `since`, `reply` is called when it changes or
  // `wait_ms` has passed, and true is returned; otherwise false (answer at once).
  bool Wait(const control::Caller& caller, const std::string& node, uint64_t since, int64_t wait_ms,
            Reply reply);

 private:
  protocol::AssignmentList ListOf(size_t node) const;
  void Touch(size_t node) { ++versions_[node]; }

  const control::ControlPlane& plane_;
  std::vector<std::set<uint64_t>> node_jobs_;  // jobs holding devices on each node
  std::vector<uint64_t> versions_;
  struct Waiter {
    size_t node;
    uint64_t since;
    int64_t deadline_ms;
    Reply reply;
  };
  std::vector<Waiter> waiters_;
};

}  // namespace suanpan::backends
