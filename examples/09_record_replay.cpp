// 09 — record a run's gradients, replay four stages on the identical stream, certify each step
// (docs/diagnostics.md). An MMoE run (six tasks of controlled relatedness, hps_mlp) trained with
// the plain sum records every step's J; sum, pcgrad, mgda and cagrad then run on the same J at
// every step, and the certificates say which step of which stage would have raised which task's
// loss, and how far each point was from Pareto-stationary.
#include <cstdio>
#include <filesystem>
#include <string>

#include "mtlgrad/run/experiment.hpp"
#include "mtlgrad/run/replay.hpp"

using namespace mtlgrad;

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : (std::filesystem::temp_directory_path() / "mtlgrad_example_09").string();
  // Six tasks of low relatedness (p = 0.1): their gradients often conflict.
  const nlohmann::json config = {
      {"name", "mmoe-record"},
      {"seed", 1},
      {"model", {{"name", "hps_mlp"}, {"trunk", {16}}, {"activation", "tanh"}}},
      {"data", {{"name", "mmoe"}, {"n", 1000}, {"n_test", 100}, {"dim", 16}, {"tasks", 6}, {"p", 0.1}, {"seed", 3}}},
      {"batch_size", 32},
      {"steps", 200},
      {"log_every", 10},
      {"aggregator", "sum"},
      {"optimizer", {{"name", "sgd"}, {"lr", 0.05}}},
      {"plots", false},
      {"record", {{"every", 1}}}};
  RunOptions o;
  o.force = true;
  run_experiment(config, dir, o);
  const nlohmann::json s = replay_record(dir, {"sum", "pcgrad", "mgda", {{"name", "cagrad"}, {"c", 0.4}}}, dir + "/replay");

  std::printf("%zu recorded steps of %s, tasks %s\n\n", s["records"].get<std::size_t>(),
              s["recorded_stage"]["name"].get<std::string>().c_str(), s["tasks"].dump().c_str());
  std::printf("%-8s %9s %12s %12s %11s %10s %9s %9s %9s\n", "stage", "mean |d|", "mean margin", "min margin",
              "hurt steps", "mean gap", "cos sum", "cos mgda", "recorded");
  for (const auto& st : s["stages"]) {
    const auto& same = st["same_as_recorded"];
    std::printf("%-8s %9.4f %12.4f %12.4f %11zu %10.4f %9.4f %9.4f %9s\n", st["stage"].get<std::string>().c_str(),
                st["mean_dnorm"].get<double>(), st["mean_margin"].get<double>(), st["min_margin"].get<double>(),
                st["steps_hurting_a_task"].get<std::size_t>(), st["mean_gap"].get<double>(),
                st["mean_cos"]["sum"].get<double>(), st["mean_cos"]["mgda"].get<double>(),
                same.get<bool>() ? "identical" : "differs");
  }
  std::printf("\nfirst step at which each stage's direction would raise a task's loss (g_i . d < 0):\n");
  for (const auto& st : s["stages"]) {
    if (st["first_hurt"].is_null()) std::printf("  %-8s never\n", st["stage"].get<std::string>().c_str());
    else
      std::printf("  %-8s step %s, %s\n", st["stage"].get<std::string>().c_str(), st["first_hurt"]["step"].dump().c_str(),
                  st["first_hurt"]["tasks"].dump().c_str());
  }
  std::printf("\nper step and stage: %s/replay/replay.csv; every hurt task: replay_hurt.csv\n", dir.c_str());
  return 0;
}
