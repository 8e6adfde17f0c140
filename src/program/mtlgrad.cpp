// The mtlgrad program: the cli layer's main (a program of one's own does the same after
// registering its models and stages: docs/extending.md).
#include "mtlgrad/cli/cli.hpp"

int main(int argc, char** argv) { return mtlgrad::cli::main(argc, argv); }
