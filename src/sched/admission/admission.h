#pragma once
// admission/: whether a job may start now, and in which of its candidate segments.
//   admission/quota: a tenant's use of a device type plus the job must stay within its quota max
//   for that type. Use beyond `guaranteed` is borrowing: allowed while capacity is idle, taken
//   back by preemption when an owner needs its guarantee (preemption/gang). A job larger than
//   the max of every acceptable type can never run (Infeasible). A project's job must also stay
//   within its project's max (core::Project): both bounds apply, the tighter one binds.

#include <string>
#include <string_view>
#include <vector>

#include "sched/round.h"

namespace suanpan::sched {

struct Admission {
  enum class Verdict { kAdmitted, kWait, kNever };
  Verdict verdict = Verdict::kAdmitted;
  std::vector<Candidate> admitted;  // kAdmitted: the candidates the job may use now, in order
  std::string reason;               // kWait, kNever: why, for a person
};

class AdmissionPolicy {
 public:
  virtual ~AdmissionPolicy() = default;
  virtual std::string_view name() const = 0;
  // O(candidates).
  virtual Admission Admit(const ClusterState& state, const core::JobSpec& job,
                          const std::vector<Candidate>& candidates) const = 0;
  // True when the job cannot be admitted now and only a release of its tenant's devices (or a
  // change of its quota) can change that, so that a host may set it aside until then instead of
  // handing it to every round. O(acceptable types).
  virtual bool BlockedUntilRelease(const ClusterState& state, const core::JobSpec& job) const = 0;
};

const AdmissionPolicy& QuotaAdmission();

}  // namespace suanpan::sched
