// Fuzzes the simulator's money file reader (and its check against a pool): any bytes must give
// opening funds or an error, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/money_file.h"
#include "fuzz/fuzz_pool.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto file = suanpan::config::ParseMoneyFile(text, "fuzz.toml");
  if (!file.ok()) {
    if (file.status().message().empty()) __builtin_trap();
    return 0;
  }
  auto funds = file->Resolve(suanpan::fuzz::FuzzPool());
  if (!funds.ok() && funds.status().message().empty()) __builtin_trap();
  return 0;
}
