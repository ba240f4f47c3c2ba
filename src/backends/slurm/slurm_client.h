#pragma once
// A partner's Slurm as suanpan talks to it: submit a batch job, list jobs and nodes, cancel.
// Two transports behind one interface: slurmrestd (REST API v0.0.38, JWT; the default) and the
// CLI (sbatch, squeue --json, sinfo --json, scancel) for partners who expose no REST daemon.
// Both list jobs and nodes in the same JSON (Slurm 22.05's openapi/v0.0.38 data parser), so one
// parser reads both.
//
// Errors: a request Slurm refuses (unknown partition, more GPUs than a node has) is
// InvalidArgument with Slurm's own words; an engine that cannot be reached, answers late or
// says its controller is down is Unavailable (the caller retries; the request may or may not
// have reached the controller, so a submit is only retried after a listing shows it absent).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/pool.h"

namespace suanpan::backends::slurm {

struct SubmitRequest {
  std::string script;  // the batch script (#!/bin/bash ...)
  std::string name, comment, partition, account, qos;
  int nodes = 1;
  int tasks_per_node = 1;
  std::string gres_per_node;  // "gpu:h100:2"; empty: none
  int cpus_per_task = 0;      // 0: the partition's default
  int64_t memory_per_node_mib = 0;
  int time_limit_minutes = 0;         // 0: the partition's default
  std::vector<std::string> nodelist;  // pin to these nodes (cli; rest: #SBATCH in the script)
  std::string work_dir, output, error;
  std::map<std::string, std::string> env;
};

struct JobInfo {
  uint64_t id = 0;
  std::string name, comment, state, reason, nodes, partition;
  std::vector<std::string> node_list;  // `nodes` expanded
  int64_t submit_s = 0, start_s = 0, end_s = 0;
  int exit_raw = 0;       // the wait status: exit code << 8 | signal
  int gpus_per_node = 0;  // from tres_per_node / gres
};

struct NodeInfo {
  std::string name, state, reason;
  std::vector<std::string> flags, partitions;
  int gpus = 0, gpus_used = 0;
};

class Client {
 public:
  virtual ~Client() = default;
  virtual std::string_view mode() const = 0;
  virtual StatusOr<uint64_t> Submit(const SubmitRequest& request) = 0;
  virtual StatusOr<std::vector<JobInfo>> Jobs() = 0;
  virtual StatusOr<std::vector<NodeInfo>> Nodes() = 0;
  // OK also when the job has ended or is unknown (nothing left to cancel).
  virtual Status Cancel(uint64_t id) = 0;
};

std::unique_ptr<Client> MakeClient(const core::EngineConfig& config);

// ---- parsing, shared by both transports (and unit-tested on real Slurm output) ----
StatusOr<std::vector<JobInfo>> ParseJobs(std::string_view json);
StatusOr<std::vector<NodeInfo>> ParseNodes(std::string_view json);
// Slurm hostlists: "sp-n[1-2,5],gpu07" -> sp-n1 sp-n2 sp-n5 gpu07.
std::vector<std::string> ExpandHostlist(std::string_view list);
// The GPU count of a GRES string: "gpu:h100:2", "gpu:2(S:0)", "gpu:h100:1(IDX:0),gpu:a100:2".
int GresCount(std::string_view gres);
// A POSIX shell word: 'it'\''s'.
std::string ShellQuote(std::string_view word);

}  // namespace suanpan::backends::slurm
