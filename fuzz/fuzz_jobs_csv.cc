// Fuzzes the job list reader against a small fixed pool: any bytes must give jobs or an error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_pool.h"

using suanpan::fuzz::FuzzPool;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = suanpan::config::ParseJobs(text, "fuzz.csv", FuzzPool());
  if (!result.ok() && result.status().message().empty()) __builtin_trap();
  return 0;
}
