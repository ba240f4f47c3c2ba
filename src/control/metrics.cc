#include "control/metrics.h"

#include <prometheus/text_serializer.h>

namespace suanpan::control {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

prometheus::Histogram::BucketBoundaries Metrics::LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

Metrics::Metrics()
    : registry(std::make_shared<prometheus::Registry>()),
      jobs(BuildGauge().Name("suanpan_jobs").Help("Jobs by state").Register(*registry)),
      queue(BuildGauge()
                .Name("suanpan_queue_length")
                .Help("Queued (pending or preempted) jobs per tenant")
                .Register(*registry)),
      devices_allocated(BuildGauge()
                            .Name("suanpan_devices_allocated")
                            .Help("Allocated devices per provider and device type")
                            .Register(*registry)),
      devices_free(BuildGauge()
                       .Name("suanpan_devices_free")
                       .Help("Free devices per provider and device type")
                       .Register(*registry)),
      round_seconds(BuildHistogram()
                        .Name("suanpan_schedule_round_seconds")
                        .Help("Duration of one scheduling round")
                        .Register(*registry)
                        .Add({}, LatencyBuckets())),
      decision_seconds(BuildHistogram()
                           .Name("suanpan_schedule_decision_latency_seconds")
                           .Help("From a job entering the queue to its first persisted decision")
                           .Register(*registry)
                           .Add({}, LatencyBuckets())),
      commit_seconds(BuildHistogram()
                         .Name("suanpan_store_commit_seconds")
                         .Help("Store commit latency (one transaction, one fsync)")
                         .Register(*registry)
                         .Add({}, LatencyBuckets())),
      commit_batch(BuildHistogram()
                       .Name("suanpan_store_commit_rows")
                       .Help("Rows written per commit (group commit batch size)")
                       .Register(*registry)
                       .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128,
                                                                        256, 1024, 4096})),
      request_seconds(BuildHistogram()
                          .Name("suanpan_api_request_seconds")
                          .Help("API request latency by route, method and status code")
                          .Register(*registry)),
      decisions(BuildCounter()
                    .Name("suanpan_schedule_decisions_total")
                    .Help("Scheduling decisions by kind")
                    .Register(*registry)),
      decisions_bind(decisions.Add({{"kind", "bind"}})),
      decisions_preempt(decisions.Add({{"kind", "preempt"}})),
      decisions_reject(decisions.Add({{"kind", "reject"}})),
      explain_rounds(BuildCounter()
                         .Name("suanpan_explain_rounds_total")
                         .Help("What-if rounds run to explain waiting jobs (cached per second)")
                         .Register(*registry)
                         .Add({})),
      rate_limited(BuildCounter()
                       .Name("suanpan_api_rate_limited_total")
                       .Help("Requests refused with 429 (per-token rate limit)")
                       .Register(*registry)
                       .Add({})) {}

std::string Metrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(registry->Collect());
}

}  // namespace suanpan::control
