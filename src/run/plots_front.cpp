// front.png of a sweep over a model whose Pareto set is known (plots.hpp): the final loss vectors
// of each group's runs over the true front.
#include <algorithm>
#include <sstream>

#include "mtlgrad/run/plots.hpp"
#include "mtlgrad/run/sweep_table.hpp"
#include "plots_detail.hpp"

namespace mtlgrad {
using namespace plots_detail;

bool plot_sweep_front(const SweepTable& table, const std::string& dir) {
  if (table.rows.empty() || table.rows.front().run_dirs.empty()) return false;
  const std::string& first = table.rows.front().run_dirs.front();
  std::vector<std::vector<double>> front;
  try {
    // The true front of the first run's model (every run of a sweep has the same model options
    // but its start, which does not move the front).
    const auto cfg = nlohmann::json::parse(read_file(first + "/config.json"));
    const auto* e = model_registry().find(model_name(first));
    if (!e || !e->extra.pareto || e->extra.needs_data) return false;
    ModelContext ctx{Rng(0), Rng(0), nullptr, 1};
    auto model = make_model(cfg.at("model"), "model", ctx);
    front = e->extra.pareto->front(*model, 400);
  } catch (const std::exception&) {
    return false;
  }
  const std::size_t m = front.empty() ? 0 : front.front().size();
  if (m != 2 && m != 3) return false;
  // Panels: the groups of every key but model.start (the starts of one method share a panel).
  auto [labels, runs] = panels_without_start(table, true);
  // front.dat: block 0 the true front, then one block of final loss vectors per panel.
  std::ostringstream dat;
  for (const auto& f : front) {
    for (std::size_t k = 0; k < m; ++k) dat << (k ? " " : "") << f[k];
    dat << "\n";
  }
  for (const auto& panel : runs) {
    dat << "\n\n";
    std::size_t n = 0;
    for (const auto& d : panel) {
      try {
        const auto s = nlohmann::json::parse(read_file(d + "/summary.json"));
        const auto& l = s.at("final_losses");
        if (l.size() != m) continue;
        for (std::size_t k = 0; k < m; ++k) dat << (k ? " " : "") << l[k].get<double>();
        dat << "\n";
        ++n;
      } catch (const std::exception&) {
      }
    }
    if (!n) dat << (m == 2 ? "NaN NaN\n" : "NaN NaN NaN\n");  // an empty block would merge with the next
  }
  try {
    write_file_atomic(dir + "/front.dat", dat.str());
  } catch (const std::exception&) {
    return false;
  }
  const std::size_t P = labels.size(), across = std::min<std::size_t>(P, 4), down = (P + across - 1) / across;
  std::ostringstream s;
  s << preamble("front.png", int(380 * across), int(340 * down)) << "set multiplot layout " << down << "," << across
    << " title " << gnuplot_string(model_name(first) + ": final losses (blue) over the true Pareto front (red)")
    << " noenhanced\nunset key\nset grid\nset xlabel 'f_1'\nset ylabel 'f_2'\n";
  if (m == 3) s << "set zlabel 'f_3'\nset view 60,30\nset ticslevel 0\n";
  for (std::size_t p = 0; p < P; ++p) {
    s << "set title " << gnuplot_string(labels[p]) << " noenhanced\n"
      << (m == 2 ? "plot 'front.dat' index 0 using 1:2 with lines lw 3 lc rgb '#d62728', 'front.dat' index "
                 : "splot 'front.dat' index 0 using 1:2:3 with points pt 7 ps 0.3 lc rgb '#d62728', 'front.dat' index ")
      << p + 1 << (m == 2 ? " using 1:2" : " using 1:2:3") << " with points pt 7 ps 1 lc rgb '#1f77b4'\n";
  }
  s << "unset multiplot\n";
  return run_gnuplot(dir, "front", s.str(), {"front.png"}).drawn;
}

}  // namespace mtlgrad
