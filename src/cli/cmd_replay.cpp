// mtlgrad replay RUN_DIR --aggregator SPEC [--aggregator SPEC ...] [--out DIR]
#include <cstdio>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "mtlgrad/run/replay.hpp"

namespace mtlgrad::cli {

int cmd_replay(const Args& args) {
  CLI::App app{"Replays spatial stages on the gradient record of a run (gradients.rec: a run with a \"record\" "
               "section or `mtlgrad run --record`), each on the identical stream in step order, and writes per "
               "stage and step the direction's norm, the weights, the cosines between the stages' directions "
               "and the certificates (replay.csv, replay_hurt.csv, layer_conflicts.csv, replay.json, plots). "
               "Replaying the run's own stage reproduces its recorded directions bit for bit.",
               "mtlgrad replay"};
  std::string run_dir, out;
  std::vector<std::string> specs;
  app.add_option("run_dir", run_dir, "the run directory holding gradients.rec")->required();
  app.add_option("--aggregator", specs, "a stage: a name (pcgrad) or a JSON spec ('{\"name\": \"cagrad\", \"c\": 0.4}'); "
                                        "repeat for more")
      ->required();
  app.add_option("--out", out, "where the replay's files go (default: RUN_DIR/replay)");
  std::vector<std::string> argv(args.rbegin(), args.rend());
  try {
    app.parse(argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  std::vector<nlohmann::json> stages;
  for (const auto& s : specs) stages.push_back(parse_stage_spec(s));
  if (out.empty()) out = run_dir + "/replay";
  const nlohmann::json summary = replay_record(run_dir, stages, out);
  // The table: one line per stage.
  std::printf("%-16s %8s %12s %12s %12s %10s %12s %9s\n", "stage", "steps", "mean |d|", "mean margin", "min margin",
              "hurt steps", "mean gap", "recorded");
  for (const auto& s : summary["stages"]) {
    const auto& same = s["same_as_recorded"];
    std::printf("%-16s %8zu %12.5g %12.5g %12.5g %10zu %12.5g %9s\n", s["stage"].get<std::string>().c_str(),
                s["steps"].get<std::size_t>(), s["mean_dnorm"].get<double>(), s["mean_margin"].get<double>(),
                s["min_margin"].get<double>(), s["steps_hurting_a_task"].get<std::size_t>(), s["mean_gap"].get<double>(),
                same.is_null() ? "-" : same.get<bool>() ? "identical" : "differs");
    if (!s["first_hurt"].is_null())
      std::printf("  first hurt: step %s, task(s) %s\n", s["first_hurt"]["step"].dump().c_str(),
                  s["first_hurt"]["tasks"].dump().c_str());
  }
  std::printf("files: %s/replay.csv, replay_hurt.csv, replay.json", out.c_str());
  for (const auto& p : summary["plots"]) std::printf(", %s", p.get<std::string>().c_str());
  std::printf("\n");
  return 0;
}

}  // namespace mtlgrad::cli
