#pragma once
// Running a program with a deadline: its input written, its output and errors read, killed
// (with its process group) when the deadline passes. Used where suanpan drives another tool: a
// partner's Slurm CLI (FIELD-NOTES: squeue/sinfo block for minutes while slurmctld is down),
// headless Chromium for invoice PDFs.

#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace suanpan::os {

struct Ran {
  int status = -1;  // wait status
  bool timed_out = false;
  std::string out, err;
};

// Starts argv[0] (searched in PATH) in its own process group with the environment plus `env`;
// Unavailable when it cannot start.
StatusOr<Ran> RunCommand(const std::vector<std::string>& argv, const std::string& input,
                         const std::map<std::string, std::string>& env, int timeout_seconds);

}  // namespace suanpan::os
