// mtlgrad serve's run browser: the listing of runs and sweeps, a run's files, CSV parsing while a
// run is still writing.
#include "test_util.hpp"
#include "serve/serve_util.hpp"

#include <fstream>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/run/experiment.hpp"

using namespace mtlgrad;
using namespace mtlgrad::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {
json toy(std::size_t steps, const std::string& aggregator) {
  return {{"seed", 1},
          {"model", {{"name", "toy2d"}, {"start", {-8.5, 7.5}}}},
          {"aggregator", aggregator},
          {"optimizer", {{"name", "adam"}, {"lr", 0.01}}},
          {"steps", steps},
          {"log_every", 10},
          {"plots", false}};
}
}  // namespace

TEST_CASE("the runs and sweeps under the folder, their files and their CSVs") {
  const std::string dir = serve_scratch("runs");
  run_experiment(toy(40, "sum"), dir + "/alone");
  // A sweep as `mtlgrad sweep` lays it out: sweep.json, one run folder per point, table.csv.
  run_experiment(toy(30, "sum"), dir + "/sw/aggregator.name=sum");
  run_experiment(toy(30, "pcgrad"), dir + "/sw/aggregator.name=pcgrad");
  write_file_atomic(dir + "/sw/sweep.json", "{\"grid\": [[\"aggregator.name\", [\"sum\", \"pcgrad\"]]]}\n");
  write_file_atomic(dir + "/sw/table.csv", "group,n,loss_f1\n\"aggregator.name=sum, x\",1,6.5\naggregator.name=pcgrad,1,nan\n");
  // A run still writing: config.json and part of metrics.csv, no summary.json.
  fs::create_directories(dir + "/live");
  write_file_atomic(dir + "/live/config.json", toy(100, "sum").dump());
  write_file_atomic(dir + "/live/metrics.csv", "step,loss_f1\n1,2.5\n10,2.25\n20,2.");
  fs::create_symlink(fs::temp_directory_path(), dir + "/link_out");  // not followed by the listing

  const serve::Api api(dir);
  const json list = call(api, "GET", "/api/runs").json();
  std::vector<std::string> runs, sweeps;
  for (const auto& r : list["runs"]) runs.push_back(r["path"]);
  for (const auto& s : list["sweeps"]) sweeps.push_back(s["path"]);
  CHECK(runs == std::vector<std::string>{"alone", "live", "sw/aggregator.name=pcgrad", "sw/aggregator.name=sum"});
  CHECK(sweeps == std::vector<std::string>{"sw"});
  CHECK(list["runs"][0]["status"] == "finished");
  CHECK(list["runs"][0]["steps"] == 40);
  CHECK(list["runs"][1]["status"] == "running");

  const json run = call(api, "GET", "/api/run?path=alone").json();
  CHECK(run["config"] == json::parse(read_file(dir + "/alone/config.json")));
  CHECK(run["summary"] == json::parse(read_file(dir + "/alone/summary.json")));
  CHECK(run["sweep_run"].is_null());
  const auto& files = run["files"];
  CHECK(std::find(files.begin(), files.end(), "alone/metrics.csv") != files.end());
  CHECK(std::find(files.begin(), files.end(), "alone/.lock") == files.end());

  // metrics.csv parsed: the header, every row, numbers exact (%.17g reads back).
  const json csv = call(api, "GET", "/api/csv?path=alone%2Fmetrics.csv").json();
  std::ifstream in(dir + "/alone/metrics.csv");
  std::string header, line;
  std::getline(in, header);
  CHECK(csv["columns"][0] == "step");
  CHECK(csv["columns"].size() == std::size_t(std::count(header.begin(), header.end(), ',') + 1));
  std::size_t rows = 0;
  while (std::getline(in, line)) {
    const std::string first = line.substr(0, line.find(','));
    CHECK(csv["rows"][rows][0].get<double>() == std::stod(first));
    const std::string second = line.substr(first.size() + 1, line.find(',', first.size() + 1) - first.size() - 1);
    CHECK(csv["rows"][rows][1].get<double>() == std::strtod(second.c_str(), nullptr));
    ++rows;
  }
  CHECK(rows == 5);  // steps 1, 10, 20, 30, 40
  CHECK(csv["rows"].size() == rows);

  // The live run: its unfinished last line is left out until its newline is written.
  json live = call(api, "GET", "/api/csv?path=live/metrics.csv").json();
  CHECK(live["rows"] == json::parse("[[1.0, 2.5], [10.0, 2.25]]"));
  {
    std::ofstream(dir + "/live/metrics.csv", std::ios::app) << "125\n";
  }
  live = call(api, "GET", "/api/csv?path=live/metrics.csv").json();
  CHECK(live["rows"] == json::parse("[[1.0, 2.5], [10.0, 2.25], [20.0, 2.125]]"));

  const json sweep = call(api, "GET", "/api/sweep?path=sw").json();
  CHECK(sweep["runs"].size() == 2);
  CHECK(sweep["sweep"]["grid"][0][0] == "aggregator.name");
  CHECK(sweep["table"]["columns"] == json({"group", "n", "loss_f1"}));
  CHECK(sweep["table"]["rows"] == json::parse(R"([["aggregator.name=sum, x", 1.0, 6.5], ["aggregator.name=pcgrad", 1.0, null]])"));
  CHECK(call(api, "GET", "/api/sweep?path=alone").status == 404);
  CHECK(call(api, "GET", "/api/csv?path=alone%2Fconfig.json").error() == "path: not a .csv file");

  // A file over the cap is refused, not read.
  serve::Limits small;
  small.max_file_bytes = 10;
  const Answer big = call(serve::Api(dir, small), "GET", "/api/file?path=alone/metrics.csv");
  CHECK(big.status == 413);
  CHECK(big.error().find("over this server's cap of 10") != std::string::npos);
  fs::remove_all(dir);
}
