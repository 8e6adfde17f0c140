// libFuzzer targets fuzz_aggregate and fuzz_optimize: arbitrary bytes as the standard input of
// `mtlgrad aggregate` / `mtlgrad optimize`, run through the commands themselves (src/cli), with
// std::cin reading the bytes and std::cout discarded. FUZZ_COMMAND selects the command.
#include <iostream>
#include <sstream>

#include "fuzz/entry_points.hpp"
#include "src/cli/commands.hpp"

namespace {

struct NullBuffer : std::streambuf {
  int overflow(int c) override { return c; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static NullBuffer null;
  static std::streambuf* const out = std::cout.rdbuf(&null);
  (void)out;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  std::streambuf* const saved = std::cin.rdbuf(in.rdbuf());
  mtlgrad::fuzz::require_clear(mtlgrad::fuzz::classify([] { (void)mtlgrad::cli::FUZZ_COMMAND({}); }));
  std::cin.rdbuf(saved);
  return 0;
}
