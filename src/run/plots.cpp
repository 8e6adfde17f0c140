#include "mtlgrad/run/plots.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "mtlgrad/autograd/tape.hpp"
#include "mtlgrad/core/interrupt.hpp"
#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/process.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "plots_detail.hpp"

namespace mtlgrad {
namespace fs = std::filesystem;

using namespace plots_detail;


namespace {

constexpr double kGnuplotSeconds = 60;

}  // namespace

std::string gnuplot_terminal() {
  static std::mutex mutex;
  static std::map<std::string, std::string> probed;  // gnuplot's path -> its png terminal
  const std::string gnuplot = find_executable("gnuplot");
  if (gnuplot.empty()) return "";
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = probed.find(gnuplot);
    if (it != probed.end()) return it->second;
  }
  ProcessOptions o;
  o.capture = true;
  o.timeout_seconds = 10;
  const ProcessResult r = run_process({gnuplot, "-e", "set terminal"}, o);
  if (r.status == ProcessResult::Status::interrupted) return "";  // not known: probe again next time
  std::string term;
  if (r.ok() && r.output.find("pngcairo") != std::string::npos) term = "pngcairo";
  else if (r.ok() && r.output.find(" png ") != std::string::npos) term = "png";
  std::lock_guard<std::mutex> lock(mutex);
  probed[gnuplot] = term;
  return term;
}

std::string gnuplot_string(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\'') q += "\xe2\x80\x99";  // U+2019: gnuplot's '' fails at the start and when repeated
    else if (u < 0x20 || u == 0x7f) q += '?';
    else q += c;
  }
  return q + "'";
}

GnuplotRun run_gnuplot(const std::string& dir, const std::string& stem, const std::string& script,
                       const std::vector<std::string>& outputs) {
  GnuplotRun run;
  const std::string log = stem + ".gplog";
  try {
    write_file_atomic(dir + "/" + stem + ".gp", script);
    const std::string gnuplot = find_executable("gnuplot");
    if (gnuplot.empty()) run.why = "gnuplot is not installed";
    else if (gnuplot_terminal().empty()) run.why = interrupt_signal() ? "interrupted" : "gnuplot has no png terminal";
    if (!run.why.empty()) {
      write_file_atomic(dir + "/" + log, "not drawn: " + run.why + "\n");
      return run;
    }
    ProcessOptions o;
    o.cwd = dir;
    o.output_file = dir + "/" + log;
    o.timeout_seconds = kGnuplotSeconds;
    const ProcessResult p = run_process({gnuplot, stem + ".gp"}, o);
    std::error_code ec;
    for (const auto& png : outputs) {
      const std::string tmp = dir + "/" + png + ".tmp";
      if (p.ok() && fs::exists(tmp)) fs::rename(tmp, dir + "/" + png, ec);
      else fs::remove(tmp, ec);
    }
    if (p.status == ProcessResult::Status::interrupted) run.why = "interrupted";
    else if (!p.ok()) run.why = "gnuplot failed (" + p.describe() + "; see " + log + ")";
    else if (ec) run.why = "cannot rename the plot into place: " + ec.message();
    run.drawn = run.why.empty();
  } catch (const std::exception& e) {
    run.why = e.what();
  }
  return run;
}

std::string landscape_data(const PlaneLandscape& landscape, std::size_t n) {
  const double lo = landscape.lo, hi = landscape.hi;
  Tensor pts = xt::zeros<real>({n * n, std::size_t(2)});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      pts(i * n + j, 0) = real(lo + (hi - lo) * double(i) / double(n - 1));
      pts(i * n + j, 1) = real(lo + (hi - lo) * double(j) / double(n - 1));
    }
  const std::vector<double> v = landscape.value(pts);
  std::string s;
  char buf[96];
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t k = i * n + j;
      std::snprintf(buf, sizeof buf, "%.6g %.6g %.6g\n", double(pts(k, 0)), double(pts(k, 1)),
                    v[k]);
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
  s << preamble("loss.png", 900, 560) << "set datafile separator ','\nset title " << gnuplot_string("training loss per task — " + name)
    << " noenhanced\nset xlabel 'step'\nset ylabel 'loss'\nset grid\nset key top right\n"
    << (all_positive(c, cols) ? "set logscale y\n" : "") << "plot ";
  for (std::size_t k = 0; k < tasks.size(); ++k)
    s << (k ? ", " : "") << "'metrics.csv' skip 1 using 1:" << cols[k] + 1 << " with lines lw 2 title " << gnuplot_string(tasks[k]);
  s << "\n";
  bool ok = run_gnuplot(dir, "loss", s.str(), {"loss.png"}).drawn;
  const PlaneLandscape* land = landscape_of(dir);
  if (land && c.col("x_0") >= 0 && c.col("x_1") >= 0) {
    try {
      write_file_atomic(dir + "/trajectory.dat", path_data(c));
    } catch (const std::exception&) {
      return false;
    }
    std::ostringstream t;
    t << landscape_background(dir, *land) << preamble("trajectory.png", 760, 700) << "set title "
      << gnuplot_string(model_name(dir) + ": path of x over " + land->value_label + " — " + name)
      << " noenhanced\nset key below\nplot " << landscape_layers(*land) << path_clauses("trajectory.dat", 0, c.rows.size(), "path (circle: start, diamond: end)", 1)
      << "\n";
    ok = run_gnuplot(dir, "trajectory", t.str(), {"trajectory.png"}).drawn && ok;
  }
  return ok;
}

std::vector<std::string> run_plots(const std::string& dir) {
  std::vector<std::string> pngs;
  for (const char* f : {"loss.png", "trajectory.png"})
    if (fs::exists(dir + "/" + f)) pngs.push_back(f);
  return pngs;
}

namespace {

class PlotsObserver : public RunObserver {
 public:
  explicit PlotsObserver(bool enabled) : enabled_(enabled) {}
  void on_end(Trainer&, const std::string& out_dir, nlohmann::json& summary) override {
    if (!enabled_) return;
    plot_run(out_dir);
    summary["plots"] = run_plots(out_dir);
  }

 private:
  bool enabled_;
};

}  // namespace

ObserverEntry plots_observer_entry() {
  ObserverEntry e;
  e.key = "plots";
  e.summary = "PNG plots of the run with gnuplot where installed: loss.png, trajectory.png for a model with a landscape, e.g. toy2d (never fails a run)";
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
