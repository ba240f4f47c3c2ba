// Fuzzes the API's job decoder (POST /v1/jobs bodies, job files, stored specs) against a small
// fixed pool: any bytes give a job or an error naming a problem, and a decoded job survives its
// own encoding (Encode(Decode(x)) decodes to the same canonical document).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "control/job_codec.h"
#include "fuzz/fuzz_pool.h"

using suanpan::fuzz::FuzzPool;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json doc = nlohmann::json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded()) return 0;
  auto job = suanpan::control::DecodeJob(doc, FuzzPool());
  if (!job.ok()) {
    if (job.status().message().empty()) __builtin_trap();
    return 0;
  }
  const nlohmann::json canonical = suanpan::control::EncodeJob(*job, FuzzPool());
  auto again = suanpan::control::DecodeJob(canonical, FuzzPool());
  if (!again.ok()) __builtin_trap();
  if (suanpan::control::EncodeJob(*again, FuzzPool()) != canonical) __builtin_trap();
  return 0;
}
