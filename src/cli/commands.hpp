#pragma once
// The subcommands of the mtlgrad program. Each takes the arguments after its name and returns the
// exit code; an exception escaping it is reported by main() as "mtlgrad <command>: error: <what>"
// with exit code 1. Usage errors return 2 (or throw UsageError). main() checks that the output
// reached stdout: a write error is exit code 1 with a message.
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mtlgrad::cli {

using Args = std::vector<std::string>;

/// A wrong command line (not a wrong input): main() prints it and exits with code 2.
struct UsageError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

int cmd_optimize(const Args& args);   // src/cli/cmd_optimize.cpp
int cmd_aggregate(const Args& args);  // src/cli/cmd_aggregate.cpp
int cmd_run(const Args& args);        // src/cli/cmd_run.cpp
int cmd_list(const Args& args);       // src/cli/cmd_list.cpp
/// The tables of docs/options.md (`mtlgrad list --markdown`).
std::string list_markdown();
int cmd_sweep(const Args& args);      // src/cli/cmd_sweep.cpp
int cmd_serve(const Args& args);      // src/cli/cmd_serve.cpp
int cmd_replay(const Args& args);     // src/cli/cmd_replay.cpp

/// The config file with the --set overrides applied (cmd_run.cpp; also the sweep's base config).
nlohmann::json load_config(const std::string& path, const std::vector<std::string>& sets);

/// `prefix` + the config's "name" (default "run"), the run directory when --out is not given. A
/// name that is not one folder name (empty, "." or "..", with '/' or a control character) would
/// leave `prefix` or break the path: a ConfigError naming the key `name` and --out.
std::string default_out_dir(const nlohmann::json& config, const std::string& prefix);

/// Reads all of standard input and parses it as JSON; a parse error throws std::invalid_argument
/// naming the byte offset and what the parser expected.
nlohmann::json read_stdin_json(const std::string& command);

}  // namespace mtlgrad::cli
