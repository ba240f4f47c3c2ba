// Fuzzes the pool file reader: any bytes must give a pool or an error, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/pool_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = suanpan::config::ParsePool(text, "fuzz.toml");
  if (!result.ok() && result.status().message().empty()) __builtin_trap();
  return 0;
}
