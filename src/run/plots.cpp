#include "mtlgrad/run/plots.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "mtlgrad/autograd/tape.hpp"
#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/models/toy2d.hpp"
#include "plots_detail.hpp"

namespace mtlgrad {
namespace fs = std::filesystem;

using namespace plots_detail;


const std::string& gnuplot_terminal() {
  static const std::string term = [] {
    FILE* p = ::popen("gnuplot -e 'set terminal' 2>&1", "r");
    if (!p) return std::string();
    std::string out;
    char buf[256];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    if (::pclose(p) != 0) return std::string();
    if (out.find("pngcairo") != std::string::npos) return std::string("pngcairo");
    if (out.find(" png ") != std::string::npos) return std::string("png");
    return std::string();
  }();
  return term;
}

bool run_gnuplot(const std::string& dir, const std::string& stem, const std::string& script) {
  try {
    write_file_atomic(dir + "/" + stem + ".gp", script);
    if (gnuplot_terminal().empty()) {
      write_file_atomic(dir + "/" + stem + ".gplog", "gnuplot with a png terminal not found: not drawn\n");
      return false;
    }
    const std::string cmd = "cd " + quote_shell(dir) + " && gnuplot " + quote_shell(stem + ".gp") + " > " +
                            quote_shell(stem + ".gplog") + " 2>&1";
    return std::system(cmd.c_str()) == 0;
  } catch (const std::exception&) {
    return false;
  }
}

std::string toy_contour_data(double lo, double hi, std::size_t n) {
  Tensor pts = xt::zeros<real>({n * n, std::size_t(2)});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      pts(i * n + j, 0) = real(lo + (hi - lo) * double(i) / double(n - 1));
      pts(i * n + j, 1) = real(lo + (hi - lo) * double(j) / double(n - 1));
    }
  Tape tape;
  const auto f = models::Toy2d::objectives(tape.constant(pts));
  std::string s;
  char buf[96];
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t k = i * n + j;
      std::snprintf(buf, sizeof buf, "%.6g %.6g %.6g\n", double(pts(k, 0)), double(pts(k, 1)),
                    double(f[0].value()(k, 0) + f[1].value()(k, 0)));
      s += buf;
    }
    s += "\n";
  }
  return s;
}

bool plot_run(const std::string& dir) {
  const Csv c = read_csv(dir + "/metrics.csv");
  const auto tasks = loss_columns(c);
  if (tasks.empty() || c.rows.empty()) return false;
  std::vector<int> cols;
  for (const auto& t : tasks) cols.push_back(c.col("loss_" + t));
  const std::string name = fs::path(dir).filename().string();
  std::ostringstream s;
  s << preamble("loss.png", 900, 560) << "set datafile separator ','\nset title " << gq("training loss per task — " + name)
    << " noenhanced\nset xlabel 'step'\nset ylabel 'loss'\nset grid\nset key top right\n"
    << (all_positive(c, cols) ? "set logscale y\n" : "") << "plot ";
  for (std::size_t k = 0; k < tasks.size(); ++k)
    s << (k ? ", " : "") << "'metrics.csv' skip 1 using 1:" << cols[k] + 1 << " with lines lw 2 title " << gq(tasks[k]);
  s << "\n";
  bool ok = run_gnuplot(dir, "loss", s.str());
  if (model_name(dir) == "toy2d" && c.col("x_0") >= 0 && c.col("x_1") >= 0) {
    try {
      write_file_atomic(dir + "/trajectory.dat", path_data(c));
    } catch (const std::exception&) {
      return false;
    }
    std::ostringstream t;
    t << toy_background(dir) << preamble("trajectory.png", 760, 700) << "set title "
      << gq("toy2d: path of x over f_1 + f_2 — " + name) << " noenhanced\nset key below\nplot "
      << toy_layers() << path_clauses("trajectory.dat", 0, c.rows.size(), "path (circle: start, diamond: end)", 1)
      << "\n";
    ok = run_gnuplot(dir, "trajectory", t.str()) && ok;
  }
  return ok;
}

namespace {

class PlotsObserver : public RunObserver {
 public:
  explicit PlotsObserver(bool enabled) : enabled_(enabled) {}
  void on_end(Trainer&, const std::string& out_dir, nlohmann::json& summary) override {
    if (!enabled_) return;
    plot_run(out_dir);
    nlohmann::json pngs = nlohmann::json::array();
    for (const char* f : {"loss.png", "trajectory.png"})
      if (fs::exists(out_dir + "/" + f)) pngs.push_back(f);
    summary["plots"] = pngs;
  }

 private:
  bool enabled_;
};

}  // namespace

ObserverEntry plots_observer_entry() {
  ObserverEntry e;
  e.key = "plots";
  e.summary = "PNG plots of the run with gnuplot where installed: loss.png, trajectory.png for toy2d (never fails a run)";
  e.defaults = {{"enabled", true}};
  e.always = true;
  e.make = [](const nlohmann::json& section, const std::string& path, Trainer&) -> std::unique_ptr<RunObserver> {
    OptionReader r(section, path);
    const bool enabled = r.get<bool>("enabled", true);
    r.finish();
    return std::make_unique<PlotsObserver>(enabled);
  };
  return e;
}

}  // namespace mtlgrad
