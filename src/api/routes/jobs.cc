// /v1/jobs: submit, list, get, cancel, events, explain, logs, and an admin's hand-set state.

#include <fmt/format.h>

#include "api/routes/routes.h"

namespace suanpan::api {

using control::Caller;
using control::ControlPlane;
using Json = nlohmann::json;

void AddJobRoutes(Router& r, const RouteContext&) {
  r.Add("POST", "/v1/jobs", kPeople, Body(201),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(control::SubmitResult res,
                              p.SubmitJob(c, call.body, call.idempotency_key));
          // A retry with the same Idempotency-Key answers 200 with the job it made.
          return std::optional<Reply>(JsonReply(ToJson(res.job), res.created ? 0 : 200));
        });
  r.Add("GET", "/v1/jobs", kPeopleAndPartners,
        Query({"tenant", "state", "name", "after", "before", "order", "limit"}),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          control::JobFilter f;
          f.tenant = call.Query("tenant");
          f.name = call.Query("name");
          SP_ASSIGN_OR_RETURN(f.after, call.Size("after", 0, SIZE_MAX - 1));
          if (auto order = call.Query("order")) {
            if (*order != "oldest" && *order != "newest") {
              return FieldError("order",
                                fmt::format("unknown order '{}' (oldest, newest)", *order));
            }
            f.newest_first = *order == "newest";
          }
          if (call.Query("before")) {
            if (!f.newest_first) {
              return FieldError("before",
                                "before pages order=newest (oldest first pages with after)");
            }
            SP_ASSIGN_OR_RETURN(f.before, call.Size("before", 0, SIZE_MAX - 1));
          }
          if (f.newest_first && call.Query("after")) {
            return FieldError("after", "after pages order=oldest (newest first pages with before)");
          }
          SP_ASSIGN_OR_RETURN(f.limit, call.Size("limit", 100, 10'000, 1));
          if (auto states = call.Query("state")) {
            size_t i = 0;
            while (i <= states->size()) {
              size_t j = states->find(',', i);
              if (j == std::string::npos) j = states->size();
              const std::string s = states->substr(i, j - i);
              auto st = core::ParseJobState(s);
              if (!st) {
                return FieldError("state",
                                  fmt::format("unknown state '{}' (pending, admitted, running, "
                                              "preempted, succeeded, failed, cancelled, lost)",
                                              s));
              }
              f.states.insert(*st);
              i = j + 1;
            }
          }
          return Answer(p.ListJobs(c, std::move(f)));
        });
  r.Add("GET", "/v1/jobs/{id}", {kAdmin, kTenant, kAgent, kPartner}, {},
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(uint64_t id, call.Id("id"));
          return Answer(p.GetJob(c, id));
        });
  r.Add("POST", "/v1/jobs/{id}/cancel", kPeople, {},
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(uint64_t id, call.Id("id"));
          return Answer(p.CancelJob(c, id));
        });
  r.Add("GET", "/v1/jobs/{id}/events", kEveryone, {},
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(uint64_t id, call.Id("id"));
          return Answer(p.JobEvents(c, id));
        });
  r.Add("GET", "/v1/jobs/{id}/explain", kPeople, {},
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(uint64_t id, call.Id("id"));
          return Answer(p.ExplainJob(c, id));
        });
  // An admin sets a job's state by hand (a job run outside suanpan). Agents report their workers
  // (POST /v1/jobs/{id}/workers/{rank}/status), never a whole job's state.
  r.Add("POST", "/v1/jobs/{id}/status", {kAdmin}, Body(),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(uint64_t id, call.Id("id"));
          const Json& body = call.body;
          if (!body.is_object()) return FieldError("body", "must be a JSON object");
          for (const auto& [k, v] : body.items()) {
            (void)v;
            if (k != "state" && k != "exit_code" && k != "message") {
              return FieldError(k, "unknown field (known: state, exit_code, message)");
            }
          }
          auto st = body.find("state");
          if (st == body.end() || !st->is_string()) return FieldError("state", "must be a string");
          std::optional<int> code;
          if (auto c2 = body.find("exit_code"); c2 != body.end() && !c2->is_null()) {
            if (!c2->is_number_integer() || c2->get<int64_t>() < -255 || c2->get<int64_t>() > 255) {
              return FieldError("exit_code", "must be an integer in -255..255");
            }
            code = c2->get<int>();
          }
          std::string message;
          if (auto m = body.find("message"); m != body.end() && !m->is_null()) {
            if (!m->is_string()) return FieldError("message", "must be a string");
            message = m->get<std::string>().substr(0, 1024);
          }
          return Answer(p.ReportJobStatus(c, id, st->get<std::string>(), code, message));
        });
  r.Add("GET", "/v1/jobs/{id}/logs", kPeople, Query({"worker", "attempt", "offset"}),
        [](ControlPlane& p, const Caller& c, Call& call) -> StatusOr<std::optional<Reply>> {
          SP_ASSIGN_OR_RETURN(uint64_t id, call.Id("id"));
          SP_ASSIGN_OR_RETURN(size_t worker, call.Size("worker", 0, 100'000));
          SP_ASSIGN_OR_RETURN(size_t offset, call.Size("offset", 0, size_t{1} << 40));
          std::optional<int> attempt;
          if (call.query.count("attempt")) {
            SP_ASSIGN_OR_RETURN(size_t a, call.Size("attempt", 0, 1'000'000, 1));
            attempt = static_cast<int>(a);
          }
          return Answer(p.ReadWorkerLog(c, id, static_cast<int>(worker), attempt,
                                        static_cast<int64_t>(offset)));
        });
}

}  // namespace suanpan::api
