// `mtlgrad sweep`, run as a program: a 2×2 toy grid in parallel (per-run lines on stderr, the run
// directories, the table), --merge, and usage errors with their messages.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "test_util.hpp"

namespace fs = std::filesystem;

namespace {

struct Result {
  int code = -1;
  std::string out, err;
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Result sweep(const std::string& args) {
  const fs::path tmp = fs::temp_directory_path() / ("mtlgrad_cli_sweep_io_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  const std::string cmd = std::string("cd '") + MTLGRAD_SOURCE_DIR + "' && '" + MTLGRAD_CLI + "' sweep " + args +
                          " > '" + (tmp / "out").string() + "' 2> '" + (tmp / "err").string() + "'";
  const int status = std::system(cmd.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_all(tmp / "out");
  r.err = read_all(tmp / "err");
  fs::remove_all(tmp);
  return r;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_SUITE("cli sweep") {

TEST_CASE("mtlgrad sweep runs a 2x2 toy grid and prints one line per run and writes the table") {
  const fs::path dir = fs::temp_directory_path() / ("mtlgrad_cli_sweep_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string common = "models/configs/toy2d.json --set steps=30 --set log_every=10 --no-plots --jobs 2 "
                             "--grid aggregator.name=sum,pcgrad --grid 'model.start=[-8.5,7.5],[9,9]' --out '" +
                             dir.string() + "'";
  const Result r = sweep(common);
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(count(r.err, "/4] ") == 4);
  CHECK(r.err.find("final losses") != std::string::npos);
  for (const char* run : {"aggregator.name=sum,model.start=_-8.5,7.5_", "aggregator.name=sum,model.start=_9,9_",
                          "aggregator.name=pcgrad,model.start=_-8.5,7.5_", "aggregator.name=pcgrad,model.start=_9,9_"})
    CHECK_MESSAGE(fs::exists(dir / run / "summary.json"), run);
  const std::string md = read_all(dir / "table.md");
  CHECK(count(md, "| 1 |") == 4);  // four groups of one run each
  const std::string csv = read_all(dir / "table.csv");
  CHECK(csv.rfind("group,aggregator.name,model.start,n,loss_f1_mean,loss_f1_std,loss_f2_mean,loss_f2_std\n", 0) == 0);
  CHECK(csv.find("\n\"aggregator.name=sum,model.start=[9,9]\",sum,\"[9,9]\",1,") != std::string::npos);

  // Rerun: nothing left to do.
  const Result again = sweep(common);
  CHECK(again.code == 0);
  CHECK(again.err.find("0 ran, 4 already finished, 0 failed") != std::string::npos);

  // --merge into another directory gives the same table.
  const fs::path merged = dir / "merged";
  const Result m = sweep("--merge '" + dir.string() + "' --out '" + merged.string() + "'");
  CHECK(m.code == 0);
  CHECK(read_all(merged / "table.csv") == csv);
  fs::remove_all(dir);
}

TEST_CASE("the config may follow the options: one value per --grid and --set") {
  const fs::path dir = fs::temp_directory_path() / ("mtlgrad_cli_sweep_order_" + std::to_string(::getpid()));
  const Result r = sweep("--grid seed=1 --set steps=3 models/configs/toy2d.json --no-plots --out '" + dir.string() + "'");
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(fs::exists(dir / "seed=1" / "summary.json"));
  fs::remove_all(dir);
}

TEST_CASE("mtlgrad sweep reports bad arguments clearly") {
  Result r = sweep("models/configs/toy2d.json --grid seed");
  CHECK(r.code == 2);
  CHECK(r.err.find("mtlgrad sweep: error: --grid seed: no '=' (expected key.path=v1,v2,...") != std::string::npos);
  r = sweep("models/configs/toy2d.json --grid seed=1 --shard 3/2");
  CHECK(r.code == 2);
  CHECK(r.err.find("--shard 3/2: expected i/n with 0 <= i < n") != std::string::npos);
  r = sweep("--grid seed=1");
  CHECK(r.code == 2);
  CHECK(r.err.find("a config is required (or --merge DIR...)") != std::string::npos);
  r = sweep("--merge /nonexistent/sweep");
  CHECK(r.code == 1);
  CHECK(r.err.find("sweep: /nonexistent/sweep is not a directory") != std::string::npos);
  r = sweep("models/configs/toy2d.json --grid agregator.name=sum --out /tmp/never");
  CHECK(r.code == 1);
  CHECK(r.err.find("agregator") != std::string::npos);
  CHECK(r.err.find("aggregator") != std::string::npos);  // did you mean
}

}  // TEST_SUITE
