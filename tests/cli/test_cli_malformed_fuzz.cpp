// The kept fuzz inputs (tests/fixtures/fuzz/<target>/: seeds and the inputs that once crashed a
// target) replayed in the normal test build through the fuzz targets' entry points: configs and
// IDX files in-process (fuzz/entry_points.hpp), the standard input of aggregate and optimize
// through the real binary. Each must be accepted or end in a clear error — never a signal, an
// uncaught exception or a raw nlohmann::json message.
#include "test_util.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fuzz/entry_points.hpp"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<fs::path> kept_inputs(const std::string& target) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(mtlgrad::test::fixture_path("fuzz/" + target)))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

void replay_in_process(const std::string& target, mtlgrad::fuzz::Outcome (*entry)(const std::string&)) {
  const auto files = kept_inputs(target);
  CHECK(files.size() >= 3);
  for (const auto& f : files) {
    CAPTURE(f.string());
    const auto o = entry(slurp(f));
    CHECK_MESSAGE(o.clear, o.message);
  }
}

void replay_through_binary(const std::string& command) {
  const auto files = kept_inputs("fuzz_" + command);
  CHECK(files.size() >= 3);
  const fs::path err = fs::temp_directory_path() / ("mtlgrad_fuzz_replay_" + std::to_string(::getpid()));
  for (const auto& f : files) {
    CAPTURE(f.string());
    const std::string shell = std::string("'") + MTLGRAD_CLI + "' " + command + " < '" + f.string() +
                              "' > /dev/null 2> '" + err.string() + "'";
    const int status = std::system(shell.c_str());
    const std::string message = slurp(err);
    CAPTURE(message);
    REQUIRE(WIFEXITED(status));
    const int code = WEXITSTATUS(status);
    CHECK((code == 0 || code == 1));
    if (code == 1) {
      const std::string prefix = "mtlgrad " + command + ": error: ";
      CHECK(message.rfind(prefix, 0) == 0);
      CHECK(message.compare(prefix.size(), 15, "[json.exception") != 0);
    }
  }
  fs::remove(err);
}

}  // namespace

TEST_SUITE("cli") {

TEST_CASE("fuzz regressions: configs (fuzz_config)") { replay_in_process("fuzz_config", mtlgrad::fuzz::config); }

TEST_CASE("fuzz regressions: IDX files (fuzz_idx)") { replay_in_process("fuzz_idx", mtlgrad::fuzz::idx); }
TEST_CASE("fuzz regressions: gradient records (fuzz_record)") { replay_in_process("fuzz_record", mtlgrad::fuzz::record); }

TEST_CASE("fuzz regressions: aggregate input (fuzz_aggregate)") { replay_through_binary("aggregate"); }

TEST_CASE("fuzz regressions: optimize input (fuzz_optimize)") { replay_through_binary("optimize"); }

}  // TEST_SUITE
