// my-mtlgrad: the whole mtlgrad program (run, sweep, list, aggregate, optimize) with this
// project's data set, model, aggregator and optimizer usable by name.
#include "extensions.hpp"
#include "mtlgrad/cli/cli.hpp"

int main(int argc, char** argv) {
  register_my_model();
  register_my_aggregator();
  register_my_optimizer();
  return mtlgrad::cli::main(argc, argv);
}
