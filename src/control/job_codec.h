#pragma once
// Jobs as JSON: the body of POST /v1/jobs, the job file of `suanpan submit`, and the spec column
// of the store are one document:
//
//   {"name": "sft-70b", "tenant": "t01", "kind": "training", "workers": 2,
//    "devices_per_worker": 8, "device_types": ["H100", "H800"], "priority_class": "high",
//    "runtime_limit": 86400, "command": ["torchrun", "train.py"], "env": {"NCCL_DEBUG": "WARN"}}
//
// DecodeJob checks every field (type, range, unknown keys) and the whole spec against the pool
// (core::ValidateJob). Errors are InvalidArgument "field: problem, got value", so that the API
// can report the field. Encode(Decode(x)) is canonical: defaults filled, tenant by name.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/job.h"
#include "core/pool.h"

namespace suanpan::control {

// What a job runs; opaque to the scheduler, carried out by the agent.
struct Launch {
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  std::string workdir;
  std::string image;                // OCI image "NAME[:TAG]" the agent runs it in; "": none
  std::vector<std::string> mounts;  // names of node directories (datasets, models) it reads
  int max_retries = 0;
};

struct DecodedJob {
  core::JobSpec spec;  // id and submit_time are left to the caller
  Launch launch;
  std::string priority_class;  // as given; empty: the default priority 0
};

StatusOr<DecodedJob> DecodeJob(const nlohmann::json& doc, const core::Pool& pool);
nlohmann::json EncodeJob(const DecodedJob& job, const core::Pool& pool);

}  // namespace suanpan::control
