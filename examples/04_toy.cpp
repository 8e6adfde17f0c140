// The two-objective toy of CAGrad (Liu et al. 2021, arXiv 2110.14048; docs/algorithms.md, "The 2-D toy"): Adam
// (lr 1e-3) with three spatial stages — sum, mean and pcgrad — from the paper's three starts.
// Prints where each run ends and its distance to the segment {x2 = −8.3552, x1 ∈ [−7, 7]}, the
// usual picture of the Pareto set (the exact set is a curve within 0.08 of it: docs/benchmark.md);
// with gnuplot installed it also draws the paths over the contour of f1 + f2 (the CAGrad figure).
//
//     example_04_toy [STEPS=100000] [OUT_DIR=runs/example_04_toy]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include "mtlgrad/models/toy2d.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/mtl/trainer.hpp"
#include "mtlgrad/run/plots.hpp"

using mtlgrad::real;

namespace {

constexpr double kParetoX2 = -8.3552;

/// Euclidean distance from (x1, x2) to the segment x2 = −8.3552, x1 ∈ [−7, 7] (the exact Pareto
/// curve, x2 from −8.3551 at x1 = 0 to −8.4345 at x1 = ±7, is summary.json's "pareto").
double pareto_distance(double x1, double x2) {
  const double dx = std::max(0.0, std::abs(x1) - 7.0), dy = x2 - kParetoX2;
  return std::sqrt(dx * dx + dy * dy);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t steps = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
  const std::string out = argc > 2 ? argv[2] : "runs/example_04_toy";  // under runs/, as mtlgrad run
  std::filesystem::create_directories(out);
  const double starts[3][2] = {{-8.5, 7.5}, {-8.5, -5}, {9, 9}};
  const char* stages[3] = {"sum", "mean", "pcgrad"};

  std::ostringstream script;
  script << "set terminal " << (mtlgrad::gnuplot_terminal().empty() ? "png" : mtlgrad::gnuplot_terminal())
         << " size 1500,560\nset output 'trajectories.png.tmp'\n"
         << "set contour base\nset cntrparam levels 24\nunset surface\nset view map\n"
         << "set table 'contour_lines.dat'\nsplot 'contour.dat' using 1:2:3 with lines notitle\nunset table\n"
         << "unset contour\nset xrange [-10:10]\nset yrange [-10:10]\nset size ratio -1\nset xlabel 'x_1'\n"
         << "set ylabel 'x_2'\nunset colorbox\nset palette defined (0 '#ffffff', 1 '#e3eef8', 2 '#b9d4ea', 3 '#8fb8dc')\n"
         << "set multiplot layout 1,3 title 'CAGrad toy: Adam (lr 1e-3), " << steps
         << " steps from three starts; red = Pareto set, o = start, diamond = end'\n";
  std::printf("%-7s %-14s %-24s %s\n", "stage", "start", "end (x1, x2)", "distance to the Pareto set");
  for (const char* stage : stages) {
    script << "set title '" << stage << "'\nset key below\nplot 'contour.dat' using 1:2:3 with image notitle, "
           << "'contour_lines.dat' with lines lc rgb '#888888' lw 0.5 notitle, "
           << "'-' using 1:2 with lines lc rgb '#d62728' lw 4 title 'Pareto set'";
    std::string paths;
    for (int s = 0; s < 3; ++s) {
      mtlgrad::models::Toy2d toy({real(starts[s][0]), real(starts[s][1])});
      mtlgrad::Trainer trainer(toy, mtlgrad::make_aggregator({{"name", stage}}),
                               mtlgrad::make_optimizer({{"name", "adam"}, {"lr", 1e-3}}), {}, mtlgrad::Rng(0));
      const std::string data = std::string(stage) + "_" + std::to_string(s) + ".dat";
      std::ostringstream path;
      std::size_t rows = 0;
      for (std::size_t t = 0; t <= steps; ++t) {
        if (t % 100 == 0 || t == steps) {
          path << double(toy.x().value(0, 0)) << " " << double(toy.x().value(0, 1)) << "\n";
          ++rows;
        }
        if (t < steps) trainer.step();
      }
      mtlgrad::write_file_atomic(out + "/" + data, path.str());
      const double x1 = toy.x().value(0, 0), x2 = toy.x().value(0, 1);
      char start[32], end[40];
      std::snprintf(start, sizeof start, "(%g, %g)", starts[s][0], starts[s][1]);
      std::snprintf(end, sizeof end, "(%.4f, %.4f)", x1, x2);
      std::printf("%-7s %-14s %-24s %.4f\n", stage, start, end, pareto_distance(x1, x2));
      script << ", '" << data << "' using 1:2 with lines lw 2 lc " << s + 1 << " title 'start " << start << "', '"
             << data << "' every ::0::0 using 1:2 with points pt 7 ps 1.3 lc " << s + 1 << " notitle, '" << data
             << "' every ::" << rows - 1 << " using 1:2 with points pt 13 ps 2 lc " << s + 1 << " notitle";
    }
    script << "\n-7 " << kParetoX2 << "\n7 " << kParetoX2 << "\ne\n";
  }
  script << "unset multiplot\n";
  mtlgrad::write_file_atomic(out + "/contour.dat", mtlgrad::landscape_data(mtlgrad::models::toy2d_landscape(), 101));
  const mtlgrad::GnuplotRun plot = mtlgrad::run_gnuplot(out, "trajectories", script.str(), {"trajectories.png"});
  if (plot.drawn)
    std::printf("\ntrajectories over the contour of f1 + f2: %s/trajectories.png\n", out.c_str());
  else
    std::printf("\nnot drawn (%s): run 'gnuplot trajectories.gp' in %s\n", plot.why.c_str(), out.c_str());
  return 0;
}
