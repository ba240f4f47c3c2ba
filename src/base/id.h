#pragma once
// Strong IDs: dense indexes into the pool's tables (node 0..N-1, tenant 0..T-1), so that a NodeId
// never indexes the tenant table. Dense indexes let the scheduler keep per-entity state in
// vectors instead of hash maps (and so iterate in a deterministic order).

#include <compare>
#include <cstdint>
#include <functional>
#include <limits>

namespace suanpan {

template <typename Tag, typename Int = uint32_t>
class Id {
 public:
  constexpr Id() = default;
  constexpr explicit Id(Int value) : value_(value) {}
  constexpr Int value() const { return value_; }
  constexpr bool valid() const { return value_ != kInvalid; }
  constexpr auto operator<=>(const Id&) const = default;
  static constexpr Id Invalid() { return Id(); }

 private:
  static constexpr Int kInvalid = std::numeric_limits<Int>::max();
  Int value_ = kInvalid;
};

}  // namespace suanpan

template <typename Tag, typename Int>
struct std::hash<suanpan::Id<Tag, Int>> {
  size_t operator()(suanpan::Id<Tag, Int> id) const { return std::hash<Int>()(id.value()); }
};
