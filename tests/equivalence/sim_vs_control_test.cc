// The simulator and the control plane run the same scheduling host (sched::Host), so one job
// sequence must get the same decisions from both. This test drives one scenario (submits,
// finishes, cancels, a lost node that comes back) through:
//   - the control plane: a fake clock, a real SQLite store, jobs submitted as JSON bodies through
//     SubmitJob, an in-process backend (`World`) that "runs" each launched attempt for the work
//     the job has left and reports its workers' exit through ReportWorker, cancels through
//     CancelJob, the node through NodeLost/NodeBack, and the loop's own Turn();
//   - the simulator: the same specs (read back from the control plane's job table), the same
//     durations, the cancels and node events as ExternalEvents.
// and compares every round that binds, preempts or rejects: time, and every decision in it
// (kind, job, placement, reason, earliest start), for fifo, fair_share and las with every
// placement. Then the jobs' ends and attempts. The node that goes is the busiest at that time in
// the control plane's run.

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "control/control_plane.h"
#include "sim/engine/simulator.h"
#include "testing/builders.h"

namespace suanpan {
namespace {

using control::ControlPlane;
using Json = nlohmann::json;

constexpr int64_t kT0 = 1'800'000'000;  // both run on the same absolute clock (seconds)

class FakeClock final : public Clock {
 public:
  int64_t NowMs() const override { return now_ms; }
  int64_t now_ms = kT0 * 1000;
};

// One line per decision, for readable differences.
std::string Describe(const sched::Decision& d) {
  std::string s = fmt::format("{} job {}", sched::DecisionKindName(d.kind), d.job.value());
  if (d.kind == sched::DecisionKind::kPreempt) s += fmt::format(" for {}", d.for_job.value());
  if (d.allocation) {
    s += fmt::format(" seg {}:", d.allocation->segment.value());
    for (const auto& w : d.allocation->workers) {
      s += fmt::format(" n{}[{:x}]{}m", w.node.value(), w.devices, w.per_device.value());
    }
  }
  if (d.earliest_start) s += fmt::format(" from +{}", d.earliest_start->value() - kT0);
  return s + " | " + d.reason;
}

struct RoundLog {
  int64_t t;
  std::vector<std::string> items;
};

void Log(std::vector<RoundLog>& log, Time t, const sched::Decisions& d) {
  bool acts = false;
  for (const sched::Decision& x : d.items) {
    acts |= x.kind == sched::DecisionKind::kBind || x.kind == sched::DecisionKind::kPreempt ||
            x.kind == sched::DecisionKind::kReject;
  }
  if (!acts) return;  // the plane's periodic rounds that change nothing
  RoundLog r{t.value() - kT0, {}};
  for (const sched::Decision& x : d.items) r.items.push_back(Describe(x));
  log.push_back(std::move(r));
}

std::vector<RoundLog> Acting(std::vector<RoundLog> rounds) {
  for (RoundLog& r : rounds) {
    std::erase_if(r.items, [](const std::string& i) { return i.starts_with("wait"); });
  }
  return rounds;
}

// The first round that differs, then the count.
void ExpectSameRounds(const std::vector<RoundLog>& a, const std::vector<RoundLog>& b,
                      const char* a_name, const char* b_name) {
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    ASSERT_EQ(a[i].t, b[i].t) << "round " << i << ": " << a_name << " vs " << b_name;
    ASSERT_EQ(a[i].items, b[i].items)
        << "round " << i << " at +" << a[i].t << ": " << a_name << " vs " << b_name;
  }
  ASSERT_EQ(a.size(), b.size()) << "rounds that act: " << a_name << " " << a.size() << ", "
                                << b_name << " " << b.size();
}

// The scenario: jobs with their duration, and what else happens.
struct ScenarioJob {
  int64_t submit;  // seconds after kT0
  Json body;
  int64_t duration;
};
struct Scenario {
  std::vector<ScenarioJob> jobs;
  std::vector<std::pair<int64_t, uint64_t>> cancels;  // (t, job id)
  int64_t node_down_at = 0, node_up_at = 0;
};

core::Pool MakePool() {
  // Two providers of different types and prices, nodes of 8 and of 4 devices, leaf switches of
  // 2 and 3 nodes; tenant "a" weighs twice and may hold at most 24 H100.
  return testing::TestPool()
      .Cluster("h", "H100", 6, 8, 2, 8, "p", 10.0)
      .Cluster("g", "A100", 4, 8, 2, 8, "q", 6.0)
      .Cluster("r", "A100", 6, 4, 3, 8, "q", 6.0)
      .Tenant("a", 2)
      .Tenant("b")
      .Tenant("c")
      .Quota("a", "H100", 0, 24)
      .Build();
}

Scenario MakeScenario(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  Scenario s;
  const char* tenants[] = {"a", "b", "c"};
  const char* sizes[] = {"1", "2", "4", "8", "0.5", "8"};
  int64_t t = 0;
  for (int i = 0; i < 120; ++i) {
    t += pick(16);
    ScenarioJob j;
    j.submit = t;
    j.duration = 20 + pick(600);
    const std::string size = sizes[pick(6)];
    const int workers = size == "8" && pick(3) == 0 ? 2 : 1;
    Json types = Json::array();
    switch (pick(3)) {
      case 0:
        types = {"H100"};
        break;
      case 1:
        types = {"A100"};
        break;
      default:
        types = {"H100", "A100"};
        break;
    }
    j.body = {{"name", fmt::format("j{}", i)},
              {"tenant", tenants[pick(3)]},
              {"workers", workers},
              {"devices_per_worker", size == "0.5" ? Json(0.5) : Json(std::stoi(size))},
              {"device_types", types},
              {"checkpoint_interval", 1},
              {"command", {"train"}}};
    if (pick(2) == 0) j.body["runtime_estimate"] = j.duration + pick(60);
    s.jobs.push_back(std::move(j));
  }
  // Cancels of jobs queued, running or over by then.
  for (int k = 0; k < 10; ++k) {
    const uint64_t id = 1 + static_cast<uint64_t>(pick(120));
    s.cancels.emplace_back(s.jobs[id - 1].submit + 1 + pick(300), id);
  }
  s.node_down_at = 400;
  s.node_up_at = 1100;
  return s;
}

// The world of the test: "runs" an attempt for the work its job has left (every second is kept:
// checkpoint_interval 1) and says when it ends. It outlives control planes (a restart).
class World {
 public:
  World(const FakeClock& clock, const Scenario& scenario) : clock_(clock) {
    for (size_t i = 0; i < scenario.jobs.size(); ++i) left_[i + 1] = scenario.jobs[i].duration;
  }
  void Launch(const control::JobRecord& job) {
    auto it = running_.find(job.id());
    if (it != running_.end() && it->second.attempt == job.attempts) return;  // idempotent
    const int64_t now = clock_.NowMs() / 1000 - kT0;
    running_[job.id()] = {job.attempts, now, now + left_[job.id()], seq_++,
                          static_cast<int>(job.workers.size())};
  }
  void Stop(const control::JobRecord& job, int attempt) {
    auto it = running_.find(job.id());
    if (it == running_.end() || it->second.attempt != attempt) return;
    left_[job.id()] -= clock_.NowMs() / 1000 - kT0 - it->second.start;
    running_.erase(it);
  }

  struct Run {
    int attempt;
    int64_t start, end;
    uint64_t seq;
    int workers;
  };
  std::optional<int64_t> NextEnd() const {
    std::optional<int64_t> t;
    for (const auto& [id, r] : running_) t = t ? std::min(*t, r.end) : r.end;
    return t;
  }
  // Runs ending at `t`, in launch order (the simulator's order for finishes at one instant).
  std::vector<std::pair<uint64_t, Run>> EndingAt(int64_t t) const {
    std::vector<std::pair<uint64_t, Run>> out;
    for (const auto& [id, r] : running_) {
      if (r.end == t) out.emplace_back(id, r);
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.second.seq < b.second.seq; });
    return out;
  }

 private:
  const FakeClock& clock_;
  std::map<uint64_t, int64_t> left_;
  std::map<uint64_t, Run> running_;
  uint64_t seq_ = 0;
};

// The in-process backend: carries the plane's launches and stops to the world.
class WorldBackend final : public control::Backend {
 public:
  explicit WorldBackend(World& world) : world_(world) {}
  std::string_view name() const override { return "world"; }
  void Launch(const control::JobRecord& job) override { world_.Launch(job); }
  void Stop(const control::JobRecord& job, int attempt) override { world_.Stop(job, attempt); }
  void Poll(int64_t) override {}
  void Shutdown() override {}

 private:
  World& world_;
};

struct Outcome {
  std::vector<RoundLog> rounds;
  std::map<uint64_t, std::string> end;  // job -> succeeded / cancelled / failed / waiting
  std::map<uint64_t, int> attempts;
  std::vector<sim::SimJob> jobs;  // the specs, for the simulator
  core::NodeId lost_node;         // the node taken down, and how many jobs it held
  int lost_jobs = 0;
  // With a restart: the queue order just before and just after it.
  std::vector<uint64_t> order_before, order_after;
};

class SimVsControl : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() /
        fmt::format("suanpan_equiv_{}_{}", getpid(),
                    GetParam().substr(0, 4) + std::to_string(std::hash<std::string>{}(GetParam())));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  sched::PolicyConfig Policy() const {
    sched::PolicyConfig p;
    const std::string param = GetParam();
    p.queue = param.substr(0, param.find('/'));
    p.placement = param.substr(param.find('/') + 1);
    p.wait_details = 1000;
    // Short, so that past use weighs as much as present use within the scenario's half hour.
    p.fair_share_half_life = Seconds(300);
    return p;
  }

  // `restart_at`: after the first instant at or past it, the plane is closed and opened again
  // from its store (the world keeps running, as a cluster does while its server restarts).
  Outcome RunControl(const Scenario& s, std::optional<int64_t> restart_at = std::nullopt) {
    Outcome out;
    FakeClock clock;
    control::ControlOptions options;
    options.policy = Policy();
    options.schedule_interval_ms = 0;
    options.wait_details = 1000;
    options.require_agents = false;  // the world runs the jobs, no agents
    options.log_dir = (dir_ / "logs").string();
    options.on_round = [&](Time t, const sched::Decisions& d) { Log(out.rounds, t, d); };
    World w(clock, s);
    const std::string db = (dir_ / (restart_at ? "restarted.db" : "s.db")).string();
    auto open = [&]() -> std::unique_ptr<ControlPlane> {
      auto store = store::OpenSqliteStore(db);
      EXPECT_TRUE(store.ok()) << store.status().ToString();
      auto opened = ControlPlane::Open(MakePool(), std::move(*store), options, clock, nullptr);
      EXPECT_TRUE(opened.ok()) << opened.status().ToString();
      if (!opened.ok()) return nullptr;
      (*opened)->AddBackend(std::make_unique<WorldBackend>(w),
                            {core::ProviderId(0), core::ProviderId(1)});
      return std::move(*opened);
    };
    const control::Caller admin{control::Role::kAdmin, "", "admin"};
    // The queue as `suanpan queue` shows it.
    auto order = [&](ControlPlane& p) {
      std::vector<uint64_t> ids;
      auto view = p.Run([&](ControlPlane& cp) { return cp.Queue(admin, 10'000); });
      EXPECT_TRUE(view.ok()) << view.status().ToString();
      if (view.ok()) {
        for (const control::QueueEntryView& e : view->items) ids.push_back(e.id);
      }
      return ids;
    };
    std::unique_ptr<ControlPlane> held = open();
    if (!held) return out;
    core::NodeId node;

    size_t next_submit = 0, next_cancel = 0;
    auto cancels = s.cancels;
    std::stable_sort(cancels.begin(), cancels.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    bool down = false, up = false;
    while (true) {
      std::optional<int64_t> t;
      auto at = [&](std::optional<int64_t> x) {
        if (x) t = t ? std::min(*t, *x) : *x;
      };
      if (next_submit < s.jobs.size()) at(s.jobs[next_submit].submit);
      if (next_cancel < cancels.size()) at(cancels[next_cancel].first);
      if (!down) at(s.node_down_at);
      if (!up) at(s.node_up_at);
      at(w.NextEnd());
      if (auto due = held->NextDueMs()) at(*due / 1000 - kT0);
      if (!t) break;
      clock.now_ms = (kT0 + *t) * 1000;
      held->Run([&](ControlPlane& p) {
        // As the simulator orders one instant: finishes, then the other events, then arrivals.
        for (const auto& [id, run] : w.EndingAt(*t)) {
          for (int rank = 0; rank < run.workers; ++rank) {
            protocol::WorkerReport r;
            r.attempt = run.attempt;
            r.state = protocol::WorkerReport::State::kExited;
            r.exit_code = 0;
            auto reported = p.ReportWorker(admin, id, rank, r);
            EXPECT_TRUE(reported.ok()) << reported.status().ToString();
          }
        }
        if (!down && s.node_down_at == *t) {
          // The busiest node goes (the simulator is told which).
          size_t most = 0;
          for (uint32_t n = 0; n < p.pool().nodes().size(); ++n) {
            const size_t jobs = p.host().JobsOn(core::NodeId(n)).size();
            if (jobs > most) {
              most = jobs;
              node = core::NodeId(n);
            }
          }
          out.lost_node = node;
          out.lost_jobs = static_cast<int>(most);
          p.NodeLost(node, "the test takes it down");
          down = true;
        }
        if (!up && s.node_up_at == *t) {
          p.NodeBack(node, "the test brings it back");
          up = true;
        }
        while (next_cancel < cancels.size() && cancels[next_cancel].first == *t) {
          (void)p.CancelJob(admin, cancels[next_cancel++].second);  // may have ended already
        }
        while (next_submit < s.jobs.size() && s.jobs[next_submit].submit == *t) {
          auto r = p.SubmitJob(admin, s.jobs[next_submit++].body, std::nullopt);
          EXPECT_TRUE(r.ok()) << r.status().ToString();
        }
        p.Turn();
        return 0;
      });
      if (restart_at && *t >= *restart_at) {
        restart_at.reset();
        out.order_before = order(*held);
        held.reset();
        held = open();
        if (!held) return out;
        out.order_after = order(*held);
        if (std::getenv("EQUIV_DEBUG")) {
          fmt::print("before: {}\nafter:  {}\n", fmt::join(out.order_before, " "),
                     fmt::join(out.order_after, " "));
        }
      }
      if (*t > 100'000) break;  // a livelock would be a failure below
    }
    ControlPlane& plane = *held;
    for (const auto& [id, job] : plane.jobs().all()) {
      out.end[id] =
          core::IsTerminal(job->state) ? std::string(core::JobStateName(job->state)) : "waiting";
      out.attempts[id] = job->attempts;
      if (std::getenv("EQUIV_DEBUG")) {
        fmt::print("job {} {} attempts {} reason {}\n", id, core::JobStateName(job->state),
                   job->attempts, job->reason);
      }
      sim::SimJob sj;
      sj.spec = job->spec();
      sj.duration_by_type.assign(plane.pool().catalog().size(), s.jobs[id - 1].duration);
      out.jobs.push_back(std::move(sj));
    }
    return out;
  }

  Outcome RunSim(const Scenario& s, const std::vector<sim::SimJob>& jobs, core::NodeId node) {
    Outcome out;
    const core::Pool pool = MakePool();
    sim::SimConfig config;
    config.policy = Policy();
    for (const auto& [t, id] : s.cancels) {
      config.events.push_back(
          {sim::ExternalEvent::Kind::kCancel, Time(kT0 + t), core::JobId(id), core::NodeId(0)});
    }
    // At one instant the control plane's driver takes the node down, then up, then cancels.
    std::stable_sort(config.events.begin(), config.events.end(),
                     [](const auto& a, const auto& b) { return a.t < b.t; });
    std::vector<sim::ExternalEvent> events = {
        {sim::ExternalEvent::Kind::kNodeDown, Time(kT0 + s.node_down_at), core::JobId(0), node},
        {sim::ExternalEvent::Kind::kNodeUp, Time(kT0 + s.node_up_at), core::JobId(0), node}};
    events.insert(events.end(), config.events.begin(), config.events.end());
    config.events = events;
    config.on_round = [&](Time t, const sched::Decisions& d) { Log(out.rounds, t, d); };
    auto result = sim::Simulate(pool, jobs, config);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (!result.ok()) return out;
    for (size_t i = 0; i < result->jobs.size(); ++i) {
      const sim::JobOutcome& o = result->jobs[i];
      std::string end = "waiting";
      if (o.finished) end = "succeeded";
      if (o.cancelled) end = "cancelled";
      out.end[i + 1] = end;
      out.attempts[i + 1] = o.attempts;
    }
    return out;
  }

  std::filesystem::path dir_;
};

TEST_P(SimVsControl, SameDecisionsReasonsAndPlacements) {
  const Scenario s = MakeScenario(7);
  const Outcome live = RunControl(s);
  ASSERT_EQ(live.jobs.size(), s.jobs.size());
  Outcome sim = RunSim(s, live.jobs, live.lost_node);
  EXPECT_GT(live.lost_jobs, 0) << "the lost node should have held work";

  // The scenario is not trivial: binds, cancels, work lost with the node.
  int binds = 0, preempts = 0;
  for (const RoundLog& r : live.rounds) {
    for (const std::string& i : r.items) {
      binds += i.starts_with("bind");
      preempts += i.starts_with("preempt");
    }
  }
  EXPECT_GT(binds, 110);
  if (std::getenv("EQUIV_DEBUG")) {
    size_t h = 0;
    for (const RoundLog& r : live.rounds) {
      for (const std::string& i : r.items) h = h * 31 + std::hash<std::string>{}(i);
    }
    fmt::print("{}: rounds {} binds {} preempts {} digest {:x}\n", GetParam(), live.rounds.size(),
               binds, preempts, h);
  }
  if (GetParam().starts_with("las")) {
    EXPECT_GT(preempts, 0);
  }

  ExpectSameRounds(sim.rounds, live.rounds, "simulator", "control plane");
  EXPECT_EQ(sim.end, live.end);
  EXPECT_EQ(sim.attempts, live.attempts);
  int cancelled = 0, succeeded = 0;
  for (const auto& [id, end] : live.end) {
    cancelled += end == "cancelled";
    succeeded += end == "succeeded";
  }
  EXPECT_GT(cancelled, 0);
  EXPECT_GT(succeeded, 100);
}

// A restart in the middle (jobs queued, running, some preempted, the fair-share memory and the
// attained service of both non-trivial) changes nothing: the queue order just after it equals
// the order just before it, and every later decision is the one the plane takes without it.
TEST_P(SimVsControl, ARestartChangesNoDecision) {
  const Scenario s = MakeScenario(7);
  const Outcome straight = RunControl(s);
  const Outcome restarted = RunControl(s, 700);
  ASSERT_FALSE(restarted.order_before.empty()) << "the queue should not be empty at the restart";
  EXPECT_EQ(restarted.order_after, restarted.order_before);
  // Decisions that act. (Which waiting jobs a round lists depends on which ones the host had set
  // aside, and a restarted host reconsiders them all once: their waits are listed again.)
  ExpectSameRounds(Acting(restarted.rounds), Acting(straight.rounds), "restarted", "straight");
  EXPECT_EQ(restarted.end, straight.end);
  EXPECT_EQ(restarted.attempts, straight.attempts);
}

std::vector<std::string> Policies() {
  std::vector<std::string> out;
  for (const char* q : {"fifo", "fair_share", "las"}) {
    for (const char* p : {"first_fit", "best_fit", "topology_pack", "frag_aware"}) {
      out.push_back(std::string(q) + "/" + p);
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, SimVsControl, ::testing::ValuesIn(Policies()),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '/', '_');
                           return n;
                         });

}  // namespace
}  // namespace suanpan
