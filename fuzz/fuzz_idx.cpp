// libFuzzer target: arbitrary bytes as an IDX file (fuzz/entry_points.hpp).
#include "fuzz/entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mtlgrad::fuzz::require_clear(mtlgrad::fuzz::idx(std::string(reinterpret_cast<const char*>(data), size)));
  return 0;
}
