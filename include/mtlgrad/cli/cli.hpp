#pragma once
/// @file cli.hpp
/// The mtlgrad command-line program as a function: `mtlgrad::cli::main(argc, argv)` runs
/// `run`, `sweep`, `list`, `aggregate` and `optimize` exactly as the installed `mtlgrad` binary
/// does, with whatever models, data sets and stages are registered when it is called. A program
/// of one's own registers its additions, then hands over:
///
///     int main(int argc, char** argv) {
///       mtlgrad::aggregators().add(my_stage_entry());
///       return mtlgrad::cli::main(argc, argv);
///     }
///
/// Machine-readable output (JSON, CSV) goes to stdout or the run directory; messages and progress
/// to stderr. Returns the exit code: 0 success, 1 an error (one line on stderr naming it), 2 a
/// usage error.

namespace mtlgrad::cli {

int main(int argc, char** argv);

}  // namespace mtlgrad::cli
