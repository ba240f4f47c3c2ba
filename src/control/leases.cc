#include "control/leases.h"

namespace suanpan::control {

NodeLeases::Renewal NodeLeases::Renew(size_t node, int64_t until_ms, const std::string& address) {
  Live& l = live_[node];
  if (!address.empty()) l.address = address.substr(0, 255);
  const bool first = l.lease_until_ms == 0;
  l.lease_until_ms = until_ms;
  if (l.lost) {
    l.lost = false;
    return Renewal::kBack;
  }
  return first ? Renewal::kFirst : Renewal::kRenewed;
}

std::vector<size_t> NodeLeases::Lapsed(int64_t now_ms) const {
  std::vector<size_t> out;
  for (size_t n = 0; n < live_.size(); ++n) {
    const Live& l = live_[n];
    if (l.lease_until_ms != 0 && !l.lost && now_ms > l.lease_until_ms) out.push_back(n);
  }
  return out;
}

const char* NodeLeases::AgentState(size_t node) const {
  const Live& l = live_[node];
  if (l.lost) return "lost";
  return l.lease_until_ms > 0 ? "alive" : "none";
}

}  // namespace suanpan::control
