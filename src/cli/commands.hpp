#pragma once
// The subcommands of the mtlgrad program. Each takes the arguments after its name and returns the
// exit code; an exception escaping it is reported by main() as "mtlgrad <command>: error: <what>"
// with exit code 1. Usage errors return 2.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mtlgrad::cli {

using Args = std::vector<std::string>;

int cmd_optimize(const Args& args);   // src/cli/cmd_optimize.cpp
int cmd_aggregate(const Args& args);  // src/cli/cmd_aggregate.cpp
int cmd_run(const Args& args);        // src/cli/cmd_run.cpp
int cmd_list(const Args& args);       // src/cli/cmd_list.cpp
/// The tables of docs/options.md (`mtlgrad list --markdown`).
std::string list_markdown();
int cmd_sweep(const Args& args);      // src/cli/cmd_sweep.cpp

/// Reads all of standard input and parses it as JSON; a parse error throws std::invalid_argument
/// naming the byte offset and what the parser expected.
nlohmann::json read_stdin_json(const std::string& command);

}  // namespace mtlgrad::cli
