#pragma once
// The server's Prometheus metrics (prometheus-cpp core; the API serializes them on /metrics).
// Families are created once; label sets are added on first use. Thread-safe (prometheus-cpp
// locks per family).

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>

namespace suanpan::control {

struct Metrics {
  Metrics();
  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Family<prometheus::Gauge>& jobs;               // {state}
  prometheus::Family<prometheus::Gauge>& queue;              // {tenant}
  prometheus::Family<prometheus::Gauge>& devices_allocated;  // {provider, device_type}
  prometheus::Family<prometheus::Gauge>& devices_free;       // {provider, device_type}
  prometheus::Histogram& round_seconds;
  prometheus::Histogram& decision_seconds;
  prometheus::Histogram& commit_seconds;
  prometheus::Histogram& commit_batch;
  prometheus::Family<prometheus::Histogram>& request_seconds;  // {route, method, code}
  prometheus::Family<prometheus::Counter>& decisions;          // {kind}
  prometheus::Counter& decisions_bind;
  prometheus::Counter& decisions_preempt;
  prometheus::Counter& decisions_reject;
  prometheus::Counter& explain_rounds;  // what-if rounds run for explanations
  prometheus::Counter& rate_limited;    // requests answered 429

  std::string Serialize() const;
  static prometheus::Histogram::BucketBoundaries LatencyBuckets();
};

}  // namespace suanpan::control
