#pragma once
// Exact quantities (STYLE.md 5): device shares in integer milli-devices, memory in MiB, CPU in
// milli-cores, money in integer micro-yuan (1 yuan = 1,000,000), time in integer seconds.
// Each is its own type, so a MiB never adds to a milli-device; conversions are explicit.

#include <compare>
#include <cstdint>
#include <limits>
#include <optional>

namespace suanpan {

template <typename Tag>
class Quantity {
 public:
  constexpr Quantity() = default;
  constexpr explicit Quantity(int64_t value) : value_(value) {}
  constexpr int64_t value() const { return value_; }

  constexpr auto operator<=>(const Quantity&) const = default;
  constexpr Quantity operator+(Quantity o) const { return Quantity(value_ + o.value_); }
  constexpr Quantity operator-(Quantity o) const { return Quantity(value_ - o.value_); }
  constexpr Quantity operator-() const { return Quantity(-value_); }
  constexpr Quantity operator*(int64_t k) const { return Quantity(value_ * k); }
  constexpr Quantity& operator+=(Quantity o) {
    value_ += o.value_;
    return *this;
  }
  constexpr Quantity& operator-=(Quantity o) {
    value_ -= o.value_;
    return *this;
  }
  static constexpr Quantity Zero() { return Quantity(0); }
  static constexpr Quantity Max() { return Quantity(std::numeric_limits<int64_t>::max()); }

 private:
  int64_t value_ = 0;
};

using MilliDevices = Quantity<struct MilliDevicesTag>;
using MilliCpu = Quantity<struct MilliCpuTag>;
using MiB = Quantity<struct MiBTag>;
using MicroYuan = Quantity<struct MicroYuanTag>;
// A duration, or a point in time as seconds since the pool's origin (the trace start in the
// simulator, the Unix epoch in the live server). Time is always passed in, never read.
using Seconds = Quantity<struct SecondsTag>;
using Time = Seconds;

inline constexpr int64_t kMilliPerDevice = 1000;
inline constexpr Time kNever = Time::Max();

constexpr MilliDevices WholeDevices(int64_t n) { return MilliDevices(n * kMilliPerDevice); }

// Overflow-checked arithmetic for values that come from input.
inline std::optional<int64_t> CheckedMul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}
inline std::optional<int64_t> CheckedAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// Cost of holding `share` for `duration` at `price_per_device_hour`, rounded down to a micro-yuan.
// Exact: the product is formed in 128 bits. 1 device-hour at 12.5 yuan = 12,500,000 micro-yuan.
inline MicroYuan CostOf(MicroYuan price_per_device_hour, MilliDevices share, Seconds duration) {
  __int128 p =
      static_cast<__int128>(price_per_device_hour.value()) * share.value() * duration.value();
  return MicroYuan(static_cast<int64_t>(p / (kMilliPerDevice * 3600)));
}

// The same for `ms` milliseconds: the one rating rule for device time (live runs are metered to
// the millisecond). CostOfMs(p, s, 1000 * t) == CostOf(p, s, Seconds(t)).
inline MicroYuan CostOfMs(MicroYuan price_per_device_hour, MilliDevices share, int64_t ms) {
  __int128 p = static_cast<__int128>(price_per_device_hour.value()) * share.value() * ms;
  return MicroYuan(static_cast<int64_t>(p / (int64_t{kMilliPerDevice} * 3600 * 1000)));
}

}  // namespace suanpan
