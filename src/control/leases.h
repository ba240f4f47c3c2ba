#pragma once
// Node liveness: an agent's heartbeat renews its node's lease; when the lease lapses the node is
// lost (it takes no new work: the host holds it whole) until its agent heartbeats again. A node
// whose agent never registered since start-up has no lease at all ("none").

#include <cstdint>
#include <string>
#include <vector>

namespace suanpan::control {

class NodeLeases {
 public:
  explicit NodeLeases(size_t nodes) : live_(nodes) {}

  struct Live {
    int64_t lease_until_ms = 0;  // 0: no agent has registered since start-up
    bool lost = false;
    std::string address;  // reported by its agent (MASTER_ADDR of gangs ranked 0 there)
  };
  const Live& at(size_t node) const { return live_[node]; }

  enum class Renewal { kRenewed, kFirst, kBack };
  // A heartbeat: the lease runs to `until_ms`.
  Renewal Renew(size_t node, int64_t until_ms, const std::string& address);
  // Gives a node whose jobs ran before a restart one lease to come back (else it is lost).
  void Grant(size_t node, int64_t until_ms) { live_[node].lease_until_ms = until_ms; }
  // Alive nodes whose lease has lapsed at `now_ms`. O(nodes).
  std::vector<size_t> Lapsed(int64_t now_ms) const;
  void MarkLost(size_t node) { live_[node].lost = true; }
  void MarkBack(size_t node) { live_[node].lost = false; }
  void Clear(size_t node) { live_[node] = Live{}; }
  // "alive", "lost" or "none".
  const char* AgentState(size_t node) const;

 private:
  std::vector<Live> live_;
};

}  // namespace suanpan::control
