#include "mtlgrad/optim/optimizer_options.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace mtlgrad {

std::string format_real(real v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // the shortest text that reads back as `real`
  return std::string(buf, r.ptr);
}

void check_option(bool ok, const std::string& who, const std::string& option, real value,
                  const std::string& expected) {
  if (ok) return;
  throw std::invalid_argument(who + ": " + option + " = " + format_real(value) +
                              " is out of range (expected " + expected + ")");
}

void check_nonnegative(const std::string& who, const std::string& option, real v) {
  check_option(v >= 0 && std::isfinite(double(v)), who, option, v, ">= 0");
}

void check_below_one(const std::string& who, const std::string& option, real v, const std::string& what) {
  check_option(v >= 0 && v < 1, who, option, v, "0 <= " + what + " < 1");
}

}  // namespace mtlgrad
