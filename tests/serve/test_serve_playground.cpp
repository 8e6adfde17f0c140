// mtlgrad serve's playground: the same numbers as `mtlgrad run` for the same config (metrics.csv and
// final_params.json against the API's answer, bit for bit), continuation through the returned
// state, one step checked by hand with finite differences, the landscape by hand, the caps and
// errors, and concurrent requests.
#include "test_util.hpp"
#include "serve/serve_util.hpp"

#include <cmath>
#include <fstream>
#include <thread>

#include "mtlgrad/core/interrupt.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/run/experiment.hpp"

using namespace mtlgrad;
using namespace mtlgrad::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json toy(const std::string& aggregator, const json& optimizer, std::vector<double> start = {-8.5, 7.5}) {
  return {{"name", "t"},
          {"seed", 3},
          {"model", {{"name", "toy2d"}, {"start", start}}},
          {"aggregator", {{"name", aggregator}}},
          {"optimizer", optimizer},
          {"plots", false}};  // no gnuplot: the numbers are the point
}

json post(const serve::Api& api, const json& body, int expect = 200) {
  const Answer a = call(api, "POST", "/api/playground/run", body.dump());
  REQUIRE_MESSAGE(a.status == expect, a.body.substr(0, 300));
  return a.json();
}

// metrics.csv as columns of doubles (the file writes %.17g: they read back exactly).
std::map<std::string, std::vector<double>> read_metrics(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> names;
  std::stringstream h(line);
  for (std::string c; std::getline(h, c, ',');) names.push_back(c);
  std::map<std::string, std::vector<double>> cols;
  while (std::getline(in, line)) {
    std::stringstream s(line);
    std::size_t k = 0;
    for (std::string c; std::getline(s, c, ',');) cols[names.at(k++)].push_back(std::strtod(c.c_str(), nullptr));
  }
  return cols;
}

void same_as_run(const json& config, std::size_t steps, std::size_t every) {
  const std::string dir = serve_scratch("same_as_run");
  json c = config;
  c["steps"] = steps;
  c["log_every"] = every;
  run_experiment(c, dir);
  const auto file = read_metrics(dir + "/metrics.csv");
  const serve::Api api(dir);
  const json r = post(api, {{"config", config}, {"steps", steps}, {"every", every}});
  // The same columns in the same order as metrics.csv's header.
  std::ifstream in(dir + "/metrics.csv");
  std::string header;
  std::getline(in, header);
  std::string order;
  for (const auto& n : r["order"]) order += (order.empty() ? "" : ",") + n.get<std::string>();
  CHECK(order == header);
  for (const auto& name : r["order"]) {
    const auto& mine = r["columns"][name.get<std::string>()];
    const auto& theirs = file.at(name.get<std::string>());
    REQUIRE(mine.size() == theirs.size());
    for (std::size_t k = 0; k < theirs.size(); ++k) {
      CAPTURE(name);
      CAPTURE(k);
      if (std::isnan(theirs[k])) CHECK(mine[k].is_null());
      else CHECK(mine[k].get<double>() == theirs[k]);  // bit for bit
    }
  }
  const json params = json::parse(read_file(dir + "/final_params.json"));
  CHECK(r["end"] == params["x"]["data"]);
  CHECK(r["steps"] == steps);
  json resolved = json::parse(read_file(dir + "/config.json"));  // the run's, with its steps and log_every
  resolved.erase("steps");
  resolved.erase("log_every");
  CHECK(r["config"] == resolved);
  fs::remove_all(dir);
}

}  // namespace

TEST_CASE("the playground's path is mtlgrad run's, column for column and bit for bit") {
  SUBCASE("pcgrad + adam") { same_as_run(toy("pcgrad", {{"name", "adam"}, {"lr", 0.01}}), 600, 50); }
  SUBCASE("a memory stage (λ columns) + nag") {
    same_as_run(toy("adam-pcgrad", {{"name", "nag"}, {"lr", 0.01}}, {9, 9}), 400, 7);
  }
  SUBCASE("mgda + sgd, every step") { same_as_run(toy("mgda", {{"name", "sgd"}, {"lr", 0.05}}, {-8.5, -5}), 120, 1); }
}

TEST_CASE("a path continued with the returned state is the path run at once") {
  const serve::Api api(fs::temp_directory_path().string());
  const json config = toy("adam-pcgrad", {{"name", "adam"}, {"lr", 0.01}});
  const json whole = post(api, {{"config", config}, {"steps", 500}, {"every", 500}});
  const json first = post(api, {{"config", config}, {"steps", 200}, {"every", 100}});
  CHECK(first["first_step"] == 0);
  CHECK(first["columns"]["step"] == json({1.0, 100.0, 200.0}));
  const json second = post(api, {{"config", config}, {"steps", 300}, {"every", 100}, {"state", first["state"]}});
  CHECK(second["first_step"] == 200);
  CHECK(second["columns"]["step"] == json({300.0, 400.0, 500.0}));
  CHECK(second["start"] == first["end"]);
  CHECK(second["end"] == whole["end"]);
  CHECK(second["state"] == whole["state"]);
  // A state that is not a trainer's: 400 naming it.
  const Answer bad = call(api, "POST", "/api/playground/run",
                          json{{"config", config}, {"steps", 1}, {"state", {{"step", "x"}}}}.dump());
  CHECK(bad.status == 400);
  CHECK_MESSAGE(bad.error().rfind("state: ", 0) == 0, bad.error());
}

TEST_CASE("one step of sum + sgd is x − lr·∇(f1 + f2), the gradient by central differences") {
  // f1 + f2 by hand from the definition (toy2d.hpp), in double: independent of the tape.
  auto f = [](double x1, double x2) {
    const double th = std::tanh(-x2);
    const double f1l = std::log(std::max(std::abs(0.5 * (-x1 - 7) - th), 5e-6)) + 6;
    const double f2l = std::log(std::max(std::abs(0.5 * (-x1 + 3) + th + 2), 5e-6)) + 6;
    const double c1 = std::max(std::tanh(0.5 * x2), 0.0), c2 = std::max(std::tanh(-0.5 * x2), 0.0);
    const double f1s = ((-x1 + 7) * (-x1 + 7) + 0.1 * (-x2 - 8) * (-x2 - 8)) / 10 - 20;
    const double f2s = ((-x1 - 7) * (-x1 - 7) + 0.1 * (-x2 - 8) * (-x2 - 8)) / 10 - 20;
    return c1 * f1l + c2 * f1s + c1 * f2l + c2 * f2s;
  };
  const serve::Api api(fs::temp_directory_path().string());
  for (const auto& s : std::vector<std::array<double, 2>>{{-8.5, 7.5}, {9, 9}, {-8.5, -5}, {2, 0.5}}) {
    const json r = post(api, {{"config", toy("sum", {{"name", "sgd"}, {"lr", 0.1}}, {s[0], s[1]})}, {"steps", 1}});
    const double h = 1e-6;
    const double g1 = (f(s[0] + h, s[1]) - f(s[0] - h, s[1])) / (2 * h), g2 = (f(s[0], s[1] + h) - f(s[0], s[1] - h)) / (2 * h);
    const double tol = sizeof(real) == 8 ? 1e-7 : 1e-4;
    CAPTURE(s[0]);
    CAPTURE(s[1]);
    CHECK(std::abs(r["end"][0].get<double>() - (s[0] - 0.1 * g1)) < tol);
    CHECK(std::abs(r["end"][1].get<double>() - (s[1] - 0.1 * g2)) < tol);
    CHECK(std::abs(r["columns"]["loss_f1"][0].get<double>() + r["columns"]["loss_f2"][0].get<double>() - f(s[0], s[1])) < tol * 100);
  }
}

TEST_CASE("the landscape is f1 + f2 on the grid, with the Pareto set") {
  const serve::Api api(fs::temp_directory_path().string());
  const Answer a = call(api, "GET", "/api/playground/landscape?model=toy2d&n=3");
  REQUIRE(a.status == 200);
  const json l = a.json();
  CHECK(l["lo"] == -10.0);
  CHECK(l["hi"] == 10.0);
  REQUIRE(l["values"].size() == 9);
  // Row 0 is x2 = −10, where c1 = 0 and c2 = tanh(5): f1 + f2 = tanh(5)·(f1_sq + f2_sq).
  const double c2 = std::tanh(5.0), sq = 0.1 * 4;
  const double at0 = c2 * (((49 + sq) / 10 - 20) * 2);                                   // x1 = 0
  const double at10 = c2 * (((9 + sq) / 10 - 20) + ((289 + sq) / 10 - 20));              // x1 = ±10
  const double tol = sizeof(real) == 8 ? 1e-12 : 1e-4;
  CHECK(std::abs(l["values"][1].get<double>() - at0) < tol * 30);
  CHECK(std::abs(l["values"][0].get<double>() - at10) < tol * 30);
  CHECK(std::abs(l["values"][2].get<double>() - at10) < tol * 30);
  // Row 1 is x2 = 0: c1 = c2 = 0.
  CHECK(l["values"][4].get<double>() == 0.0);
  // The Pareto set, by hand: below x2 = 0, w f1 + (1 − w) f2 = c(x2)·(A + 0.01(x2 + 8)² − 20) with
  // c = tanh(−x2/2), minimised over x1 at x1 = 7(2w − 1), where A = 19.6 w(1 − w); x2 is the root
  // in (−9, −8) of its derivative in x2, found here by bisection: A = 0 at the ends, 4.9 in the middle.
  const auto x2_of = [](double A) {
    const auto h = [A](double x2) {
      const double c = std::tanh(-x2 / 2);
      return -0.5 * (1 - c * c) * (A + 0.01 * (x2 + 8) * (x2 + 8) - 20) + c * 0.02 * (x2 + 8);
    };
    double lo = -9, hi = -8;
    for (int k = 0; k < 100; ++k) (h((lo + hi) / 2) < 0 ? lo : hi) = (lo + hi) / 2;
    return (lo + hi) / 2;
  };
  const json& set = l["pareto_set"];
  REQUIRE(set.size() % 2 == 1);
  const double ptol = sizeof(real) == 8 ? 1e-6 : 1e-3;
  CHECK(set.front()[0].get<double>() == -7.0);
  CHECK(set.back()[0].get<double>() == 7.0);
  CHECK(std::abs(set.front()[1].get<double>() - x2_of(0)) < ptol);
  CHECK(std::abs(set.back()[1].get<double>() - x2_of(0)) < ptol);
  CHECK(std::abs(set[set.size() / 2][0].get<double>()) < ptol);
  CHECK(std::abs(set[set.size() / 2][1].get<double>() - x2_of(4.9)) < ptol);
  CHECK(call(api, "GET", "/api/playground/landscape?n=1").status == 400);
  CHECK(call(api, "GET", "/api/playground/landscape?n=202").error() == "n: 202 grid points per side; allowed 2 to 201");
  CHECK(call(api, "GET", "/api/playground/landscape?n=-3").status == 400);
  CHECK(call(api, "GET", "/api/playground/landscape?model=hps_mlp").error().find("not a model of the plane") != std::string::npos);
}

TEST_CASE("the playground refuses what it cannot run, naming it") {
  serve::Limits limits;
  limits.max_steps = 1000;
  limits.max_rows = 101;
  const serve::Api api(fs::temp_directory_path().string(), limits);
  const json good = toy("pcgrad", "adam");
  auto error = [&](const json& body) {
    const Answer a = call(api, "POST", "/api/playground/run", body.dump());
    CHECK(a.status == 400);
    CHECK(a.json()["status"] == 400);
    return a.error();
  };
  CHECK(error({{"config", good}, {"steps", 1001}}).find("steps: 1001 is out of range (expected 1 to 1000 per request") == 0);
  CHECK(error({{"config", good}, {"steps", 0}}).find("steps: 0 is out of range") == 0);
  CHECK(error({{"config", good}, {"steps", 1000}, {"every", 1}}).find("every: ") == 0);  // 1000 rows > 101
  CHECK(error({{"config", good}}) == "config: missing required key 'steps'");
  CHECK(error({{"config", good}, {"steps", 10}, {"stpes", 1}}).find("stpes: unknown key") != std::string::npos);
  CHECK(error({{"config", 3}, {"steps", 10}}).find("config: expected an object") == 0);
  json other = good;
  other["model"] = {{"name", "hps_mlp"}};
  CHECK(error({{"config", other}, {"steps", 10}}).find("config.model.name: 'hps_mlp' is not a model of the plane; the playground runs: toy2d") == 0);
  json typo = good;
  typo["aggregator"] = "pcgard";
  CHECK(error({{"config", typo}, {"steps", 10}}).find("aggregator") != std::string::npos);
  json lr = good;
  lr["optimizer"] = {{"name", "adam"}, {"lr", -1}};
  CHECK(error({{"config", lr}, {"steps", 10}}) == "config: optimizer: adam: lr = -1 is out of range (expected >= 0)");
  // A diverging path comes back up to its last finite step, with the message.
  // (weight decay 1e30 with lr 1 multiplies x by −1e30 a step: past the largest double within 11.)
  json wild = toy("sum", {{"name", "sgd"}, {"lr", 1}, {"weight_decay", 1e30}}, {9, -4});
  const json r = post(api, {{"config", wild}, {"steps", 30}});
  CHECK(r["diverged"].get<std::string>().rfind("step ", 0) == 0);
  CHECK(r["steps"].get<std::size_t>() < 30);
  CHECK(r.contains("diverged"));
  CHECK(!r.contains("state"));
  // Stopping: a request in progress ends with 503 once SIGINT is recorded.
  request_interrupt(2);
  const Answer stopping = call(api, "POST", "/api/playground/run", json{{"config", good}, {"steps", 10}}.dump());
  clear_interrupt();
  CHECK(stopping.status == 503);
  CHECK(stopping.error() == "the server is stopping");
}

TEST_CASE("concurrent requests give the answers of serial ones") {
  const std::string dir = serve_scratch("concurrent");
  json c = toy("pcgrad", {{"name", "adam"}, {"lr", 0.01}});
  c["steps"] = 50;
  run_experiment(c, dir + "/run");
  const serve::Api api(dir);
  const std::vector<std::pair<std::string, std::string>> requests = {
      {"/api/playground/run", json{{"config", toy("pcgrad", "adam")}, {"steps", 300}}.dump()},
      {"/api/playground/run", json{{"config", toy("adam-pcgrad", "nag", {9, 9})}, {"steps", 300}}.dump()},
      {"/api/playground/landscape?n=41", ""},
      {"/api/runs", ""},
      {"/api/csv?path=run%2Fmetrics.csv", ""},
      {"/api/file?path=..%2Fx", ""},
  };
  std::vector<std::string> serial;
  for (const auto& [target, body] : requests) serial.push_back(call(api, body.empty() ? "GET" : "POST", target, body).body);
  constexpr int kThreads = 8, kRounds = 6;
  std::vector<std::string> got(kThreads * kRounds * requests.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < kRounds; ++k)
        for (std::size_t i = 0; i < requests.size(); ++i) {
          const std::size_t j = (i + std::size_t(t)) % requests.size();  // each thread in another order
          got[(t * kRounds + k) * requests.size() + j] =
              call(api, requests[j].second.empty() ? "GET" : "POST", requests[j].first, requests[j].second).body;
        }
    });
  for (auto& th : threads) th.join();
  for (std::size_t k = 0; k < got.size(); ++k) {
    CAPTURE(k);
    CHECK(got[k] == serial[k % requests.size()]);
  }
  fs::remove_all(dir);
}
