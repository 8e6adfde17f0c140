// libFuzzer target: arbitrary bytes as a gradient record, gradients.rec (fuzz/entry_points.hpp).
#include "fuzz/entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mtlgrad::fuzz::require_clear(mtlgrad::fuzz::record(std::string(reinterpret_cast<const char*>(data), size)));
  return 0;
}
