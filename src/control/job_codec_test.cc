#include "control/job_codec.h"

#include <gtest/gtest.h>

#include "testing/builders.h"

namespace suanpan::control {
namespace {

using Json = nlohmann::json;

core::Pool Pool() {
  return testing::TestPool()
      .Cluster("c", "H100", 4, 8)
      .Cluster("r", "RTX4090", 2, 4)
      .Tenant("a")
      .Build();
}

TEST(JobCodecTest, EncodeOfDecodeIsCanonicalAndStable) {
  const core::Pool pool = Pool();
  Json in = {{"name", "sft"},
             {"tenant", "a"},
             {"kind", "training"},
             {"workers", 2},
             {"devices_per_worker", 8},
             {"device_types", {"H100"}},
             {"runtime_limit", 3600},
             {"command", {"torchrun", "train.py"}},
             {"env", {{"NCCL_DEBUG", "WARN"}}}};
  auto d = DecodeJob(in, pool);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->spec.workers, 2);
  EXPECT_EQ(d->spec.worker.devices, 8);
  EXPECT_EQ(d->spec.runtime_limit, Seconds(3600));
  Json out = EncodeJob(*d, pool);
  auto again = DecodeJob(out, pool);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(EncodeJob(*again, pool), out);
  EXPECT_EQ(out["preemptible"], true);  // defaults are written out
}

TEST(JobCodecTest, FractionsAreExact) {
  const core::Pool pool = Pool();
  for (const Json& v : {Json(0.25), Json("0.25")}) {
    auto d = DecodeJob(Json{{"name", "nb"},
                            {"tenant", "a"},
                            {"devices_per_worker", v},
                            {"device_types", {"RTX4090"}}},
                       pool);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(d->spec.worker.fraction, MilliDevices(250));
    EXPECT_EQ(EncodeJob(*d, pool)["devices_per_worker"], "0.250");
  }
}

TEST(JobCodecTest, ErrorsNameTheField) {
  const core::Pool pool = Pool();
  const Json base = {
      {"name", "x"}, {"tenant", "a"}, {"devices_per_worker", 1}, {"device_types", {"H100"}}};
  struct Case {
    Json patch;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{{"tenant", "zz"}}, "tenant"},
      {{{"workers", 0}}, "workers"},
      {{{"workers", 1.5}}, "workers"},
      {{{"devices_per_worker", "lots"}}, "devices_per_worker"},
      {{{"device_types", {"H100", "TPU"}}}, "device_types"},
      {{{"max_retries", 101}}, "max_retries"},
      {{{"preemptible", "yes"}}, "preemptible"},
      {{{"datasets", {1}}}, "datasets[0]"},
      {{{"surprise", true}}, "surprise"},
      {{{"workers", 5}, {"devices_per_worker", 8}}, "workers"},  // 40 H100 > the 32 of cluster c
  };
  for (const Case& c : cases) {
    Json body = base;
    body.update(c.patch);
    auto d = DecodeJob(body, pool);
    ASSERT_FALSE(d.ok()) << body.dump();
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(d.status().field(), c.field) << d.status().message();
  }
}

}  // namespace
}  // namespace suanpan::control
