#pragma once
// Invariants crash, input never does (STYLE.md 8). SP_CHECK is always on and is for programmer
// errors only: never for API bodies, trace rows, configs or agent reports, which get a Status.
//   SP_CHECK(index < size) << "index " << index;

#include <sstream>

namespace suanpan::internal {

class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  template <typename T>
  CheckFailure& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  std::ostringstream stream_;
};

// Lets `SP_CHECK(c) << x` compile to a void expression in both branches of the ternary.
struct Voidify {
  void operator&(const CheckFailure&) {}
};

}  // namespace suanpan::internal

#define SP_CHECK(condition)                      \
  (condition) ? (void)0                          \
              : ::suanpan::internal::Voidify() & \
                    ::suanpan::internal::CheckFailure(__FILE__, __LINE__, #condition)

#ifdef NDEBUG
#define SP_DCHECK(condition) \
  while (false) SP_CHECK(condition)
#else
#define SP_DCHECK(condition) SP_CHECK(condition)
#endif
