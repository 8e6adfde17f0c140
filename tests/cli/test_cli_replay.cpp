// mtlgrad run --record and mtlgrad replay through the real binary: the table, the files, the
// run's own stage reproduced, and one-line errors with exit code 1 for bad records and stages.
#include "test_util.hpp"
#include "cli/cli_util.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "mtlgrad/run/record.hpp"

using nlohmann::json;
namespace fs = std::filesystem;
using mtlgrad::test::run_process_in;

TEST_SUITE("cli") {

TEST_CASE("mtlgrad replay: a recorded toy run, its own stage identical, bad records one-line errors") {
  const fs::path dir = fs::temp_directory_path() / ("mtlgrad_cli_replay_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "toy.json") << R"({"name": "toy", "model": {"name": "toy2d", "start": [-8.5, 7.5]},
    "aggregator": "pcgrad", "optimizer": {"name": "adam", "lr": 0.01}, "steps": 20, "log_every": 5, "plots": false})";
  auto run = run_process_in({MTLGRAD_CLI, "run", "toy.json", "--record", "--out", "r", "--quiet"}, dir);
  REQUIRE_MESSAGE(run.code == 0, run.err);
  REQUIRE(fs::exists(dir / "r" / "gradients.rec"));
  auto rep = run_process_in({MTLGRAD_CLI, "replay", "r", "--aggregator", "pcgrad", "--aggregator",
                             R"({"name": "cagrad", "c": 0.4})"}, dir);
  REQUIRE_MESSAGE(rep.code == 0, rep.err);
  CHECK(rep.out.find("pcgrad") != std::string::npos);
  CHECK(rep.out.find("identical") != std::string::npos);
  const json s = json::parse(mtlgrad::test::slurp(dir / "r" / "replay" / "replay.json"));
  CHECK(s["records"] == 20);
  CHECK(s["stages"][0]["same_as_recorded"] == true);
  CHECK(s["stages"][1]["options"]["c"] == double(mtlgrad::real(0.4)));  // 0.4 as the build's real

  // aggregate reads the record directly: pcgrad on the run's J and Rng gives the recorded d.
  auto agg = mtlgrad::test::run_cli("aggregate", R"({"aggregator": "pcgrad"})",
                                    "--from-record '" + (dir / "r" / "gradients.rec").string() + "' --record-out '" +
                                        (dir / "agg.rec").string() + "'");
  REQUIRE_MESSAGE(agg.code == 0, agg.err);
  const json out = json::parse(agg.out);
  REQUIRE(out["steps"].size() == 20);
  {
    mtlgrad::RecordReader reader((dir / "r" / "gradients.rec").string());
    mtlgrad::GradientRecord rec;
    for (std::size_t s = 0; reader.next(rec); ++s) {
      const auto d = out["steps"][s]["grad"].get<std::vector<double>>();
      REQUIRE(d.size() == rec.direction.size());
      for (std::size_t k = 0; k < d.size(); ++k) CHECK(d[k] == double(rec.direction.data()[k]));  // JSON keeps 17 digits
    }
  }
  // ... and its steps, recorded with --record-out, replay like a run's.
  fs::create_directories(dir / "agg");
  fs::copy_file(dir / "agg.rec", dir / "agg" / "gradients.rec");
  rep = run_process_in({MTLGRAD_CLI, "replay", "agg", "--aggregator", "pcgrad"}, dir);
  REQUIRE_MESSAGE(rep.code == 0, rep.err);
  CHECK(rep.out.find("identical") != std::string::npos);

  // A cut file: exit 1, one line naming the file and the offset.
  const std::string bytes = mtlgrad::test::slurp(dir / "r" / "gradients.rec");
  fs::create_directories(dir / "cut");
  std::ofstream(dir / "cut" / "gradients.rec", std::ios::binary) << bytes.substr(0, bytes.size() - 3);
  rep = run_process_in({MTLGRAD_CLI, "replay", "cut", "--aggregator", "sum"}, dir);
  CHECK(rep.code == 1);
  CHECK(rep.err.rfind("mtlgrad replay: error: cut/gradients.rec: truncated record", 0) == 0);
  CHECK(rep.err.find(" at offset ") != std::string::npos);
  CHECK(std::count(rep.err.begin(), rep.err.end(), '\n') == 1);
  // An unknown stage, no stage, no record.
  rep = run_process_in({MTLGRAD_CLI, "replay", "r", "--aggregator", "pcgrd"}, dir);
  CHECK(rep.code == 1);
  CHECK(rep.err.find("did you mean 'pcgrad'") != std::string::npos);
  rep = run_process_in({MTLGRAD_CLI, "replay", "r"}, dir);
  CHECK(rep.code == 2);
  rep = run_process_in({MTLGRAD_CLI, "replay", "nothing", "--aggregator", "sum"}, dir);
  CHECK(rep.code == 1);
  CHECK(rep.err.find("nothing/gradients.rec: cannot open") != std::string::npos);
  fs::remove_all(dir);
}

}  // TEST_SUITE
