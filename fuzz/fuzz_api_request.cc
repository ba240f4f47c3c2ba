// Fuzzes the API's request path (routing, query and body decoding, auth, every route's input
// checks) through the real Router on a control plane that runs operations inline. Input: the
// first byte picks the caller (none, admin, tenant, agent); then "METHOD TARGET\n", header lines
// "name: value\n" up to an empty line, then the body. Any input gets exactly one response with
// a status in 200..599, never a crash or a hang, and errors are JSON naming a code.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/api.h"
#include "base/clock.h"
#include "control/control_plane.h"
#include "control/metrics.h"
#include "fuzz/fuzz_pool.h"
#include "store/store.h"

namespace {

using Json = nlohmann::json;

class FixedClock final : public suanpan::Clock {
 public:
  int64_t NowMs() const override { return 1'800'000'000'000; }
};

struct World {
  FixedClock clock;
  suanpan::control::Metrics metrics;
  std::unique_ptr<suanpan::control::ControlPlane> plane;
  std::unique_ptr<suanpan::api::Api> api;
  std::string tokens[4];
};

suanpan::api::HttpResponse Call(World& w, suanpan::api::HttpRequest r) {
  suanpan::api::HttpResponse out;
  int answers = 0;
  w.api->Handle(std::move(r), [&](suanpan::api::HttpResponse resp) {
    out = std::move(resp);
    ++answers;
  });
  // Long-polls answer later (the plane is not started): treat "no answer yet" as fine.
  if (answers > 1) __builtin_trap();
  if (answers == 0) out.status = 200;
  return out;
}

World& TheWorld() {
  static World* w = [] {
    auto* world = new World;
    const auto dir =
        std::filesystem::temp_directory_path() / ("suanpan_fuzz_api_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    static const std::filesystem::path cleanup = dir;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(cleanup, ec);
    });
    auto store = suanpan::store::OpenSqliteStore((dir / "s.db").string());
    if (!store.ok()) __builtin_trap();
    auto plane = suanpan::control::ControlPlane::Open(suanpan::fuzz::FuzzPool(), std::move(*store),
                                                      suanpan::control::ControlOptions{},
                                                      world->clock, &world->metrics);
    if (!plane.ok()) __builtin_trap();
    world->plane = std::move(*plane);
    auto admin =
        world->plane->Run([](suanpan::control::ControlPlane& p) { return p.EnsureAdminToken(""); });
    if (!admin.ok() || !*admin) __builtin_trap();
    world->tokens[1] = **admin;
    world->api = std::make_unique<suanpan::api::Api>(*world->plane, world->metrics, nullptr,
                                                     suanpan::api::ApiOptions{{0, 0}, false});
    const std::string tenant = suanpan::fuzz::FuzzPool().tenants()[0].name;
    const std::string node = suanpan::fuzz::FuzzPool().nodes()[0].name;
    auto make = [&](const Json& body) {
      suanpan::api::HttpRequest r;
      r.method = "POST";
      r.path = r.target = "/v1/tokens";
      r.headers["authorization"] = "Bearer " + world->tokens[1];
      r.body = body.dump();
      auto resp = Call(*world, std::move(r));
      return Json::parse(resp.body, nullptr, false).value("token", "");
    };
    world->tokens[2] = make({{"name", "t"}, {"role", "tenant"}, {"tenant", tenant}});
    world->tokens[3] = make({{"name", "a"}, {"role", "agent"}, {"node", node}});
    return world;
  }();
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  World& w = TheWorld();
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  suanpan::api::HttpRequest r;
  const size_t eol = in.find('\n');
  const std::string_view line = in.substr(0, eol);
  const size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return 0;
  r.method = std::string(line.substr(0, sp));
  r.target = std::string(line.substr(sp + 1));
  const size_t q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  in = eol == std::string_view::npos ? std::string_view() : in.substr(eol + 1);
  while (!in.empty()) {
    const size_t e = in.find('\n');
    const std::string_view h = in.substr(0, e);
    in = e == std::string_view::npos ? std::string_view() : in.substr(e + 1);
    if (h.empty()) break;
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(h.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value(h.substr(colon + 1));
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[name] = value;
  }
  r.body = std::string(in);
  if (const int who = data[0] % 4; who > 0) r.headers["authorization"] = "Bearer " + w.tokens[who];
  const suanpan::api::HttpResponse resp = Call(w, std::move(r));
  if (resp.status < 200 || resp.status > 599) __builtin_trap();
  if (resp.status >= 400 && resp.content_type == "application/json") {
    const Json body = Json::parse(resp.body, nullptr, false);
    if (body.is_discarded() || !body.contains("error") || !body["error"]["code"].is_string()) {
      __builtin_trap();
    }
  }
  return 0;
}
