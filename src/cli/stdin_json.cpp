// read_stdin_json (commands.hpp): the standard input of aggregate and optimize, parsed.
#include <iostream>
#include <iterator>

#include "commands.hpp"
#include "mtlgrad/core/serialize.hpp"

namespace mtlgrad::cli {

nlohmann::json read_stdin_json(const std::string& command) {
  const std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  return parse_json(text, command + ": standard input");
}

}  // namespace mtlgrad::cli
