#pragma once
// Time as an interface (STYLE.md 4): the control plane reads the wall clock through Clock, the
// simulator has its own simulated clock, tests pass a clock they advance by hand.

#include <cstdint>

namespace suanpan {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMs() const = 0;
};

}  // namespace suanpan
