#include "mtlgrad/run/replay.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "mtlgrad/core/blas.hpp"
#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/mtl/certificates.hpp"
#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/solvers.hpp"
#include "mtlgrad/run/plots.hpp"
#include "mtlgrad/run/record.hpp"

namespace mtlgrad {
namespace {
namespace fs = std::filesystem;

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

real dot(const Tensor& a, const Tensor& b) { return blas::dot(a.size(), a.data(), b.data()); }

// F (T×T) with F Fᵀ = G: the stand-in for J of a gramian record.
void gramian_factor(const Tensor& G, Tensor& F) {
  std::vector<real> values;
  Tensor V;
  solvers::symmetric_eigen(G, values, V);
  const std::size_t T = G.shape(0);
  F.resize({T, T});
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) F(i, j) = V(i, j) * std::sqrt(std::max(values[j], real(0)));
}

struct Stage {
  std::unique_ptr<Aggregator> agg;
  std::string label;
  Aggregation out;
  Certificate cert;
  // replay.json's sums
  std::size_t steps = 0, hurt_steps = 0, same = 0;
  double dnorm = 0, margin = 0, gap = 0, min_margin = std::numeric_limits<double>::infinity();
  std::vector<double> cos_sum;
  nlohmann::json first_hurt = nullptr;
};

// Names from the record's metadata become CSV columns and cells: a hand-made file's commas, quotes
// and control characters are replaced by '_'.
std::string csv_safe(std::string name) {
  for (char& c : name)
    if (c == ',' || c == '"' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  return name;
}

std::vector<std::string> task_names(const RecordHeader& h, const std::string& file) {
  std::vector<std::string> names;
  const auto it = h.meta.find("tasks");
  if (it != h.meta.end() && it->is_array() && it->size() == h.T)
    for (const auto& n : *it) {
      names.push_back(csv_safe(n.is_string() ? n.get<std::string>() : ""));
    }
  for (std::size_t i = 0; i < h.T; ++i)
    if (names.size() <= i || names[i].empty()) {
      names.assign(h.T, "");
      for (std::size_t k = 0; k < h.T; ++k) names[k] = "task" + std::to_string(k);
      std::fprintf(stderr, "mtlgrad replay: %s: the metadata has no task names; using task0..task%zu\n", file.c_str(),
                   h.T - 1);
      break;
    }
  return names;
}

std::vector<ColumnGroup> column_groups(const RecordHeader& h) {
  std::vector<ColumnGroup> groups;
  const auto it = h.meta.find("groups");
  if (it == h.meta.end() || !it->is_array() || h.content != RecordContent::jacobian) return groups;
  for (const auto& g : *it) {
    if (!g.is_object() || !g.contains("name") || !g["name"].is_string() || !g.contains("begin") ||
        !g["begin"].is_number_unsigned() || !g.contains("end") || !g["end"].is_number_unsigned())
      return {};
    ColumnGroup c{csv_safe(g["name"].get<std::string>()), g["begin"].get<std::size_t>(), g["end"].get<std::size_t>()};
    if (c.begin > c.end || c.end > h.P) return {};
    groups.push_back(c);
  }
  return groups;
}

std::string plot_script(const std::vector<Stage>& stages, std::size_t T) {
  std::string s = "set terminal " + gnuplot_terminal() + " size 900,900\nset output 'replay.png.tmp'\n"
                  "set datafile separator ','\nset key outside right\nset multiplot layout 3,1\nset xlabel 'step'\n";
  auto panel = [&](const char* title, const char* column) {
    s += std::string("set title '") + title + "'\nplot ";
    for (std::size_t k = 0; k < stages.size(); ++k)
      s += (k ? ", " : "") + std::string("'replay.csv' using 1:(strcol(2) eq ") + gnuplot_string(stages[k].label) +
           " ? column('" + column + "') : 1/0) with points title " + gnuplot_string(stages[k].label);
    s += "\n";
  };
  panel("norm of the direction", "dnorm");
  panel("non-conflict margin min_i cos(g_i, d)", "cert_margin");
  panel("tasks the step is expected to hurt (g_i . d < 0)", "cert_hurt");
  (void)T;
  return s + "unset multiplot\nunset output\n";
}

std::string heatmap_script(const std::vector<ColumnGroup>& groups, std::size_t rows) {
  std::string tics;
  for (std::size_t g = 0; g < groups.size(); ++g)
    tics += (g ? ", " : "") + gnuplot_string(groups[g].name) + " " + std::to_string(g);
  const std::string h = std::to_string(300 + 24 * groups.size());
  return "set terminal " + gnuplot_terminal() + " size 900," + h +
         "\nset output 'layer_conflicts.png.tmp'\nset title 'conflict rate per parameter (pairs i < j with g_i . g_j < 0 on its columns)'\n"
         "set xlabel 'record'\nset ytics (" + tics + ") noenhanced\nset cbrange [0:1]\n"
         "set palette defined (0 'white', 1 'red')\nset xrange [-0.5:" + std::to_string(rows) +
         "-0.5]\nplot 'layer_conflicts.dat' matrix with image notitle\nunset output\n";
}

}  // namespace

nlohmann::json parse_stage_spec(const std::string& text) {
  if (!text.empty() && text.front() == '{') return parse_json(text, "--aggregator " + text);
  return text;
}

nlohmann::json replay_record(const std::string& run_dir, const std::vector<nlohmann::json>& specs,
                             const std::string& out_dir) {
  if (specs.empty()) throw ConfigError("replay: no stage given (--aggregator SPEC, once per stage)");
  const std::string file = run_dir + "/gradients.rec";
  RecordReader reader(file);
  const RecordHeader& h = reader.header();
  const std::size_t T = h.T, S = specs.size();
  const auto names = task_names(h, file);
  const auto groups = column_groups(h);
  const bool jac = h.content == RecordContent::jacobian;
  // OpenBLAS's results depend on its thread count: the stages run with the run's ("threads" of its
  // config.json, 1 when absent), the caller's count restored after.
  int threads = 1;
  try {
    threads = parse_json(read_file(run_dir + "/config.json"), run_dir + "/config.json").value("threads", 1);
  } catch (const std::exception&) {
    threads = 1;  // a record copied without its config: the default
  }
  struct BlasThreads {
    int before = blas::threads();
    ~BlasThreads() { blas::set_threads(before); }
  } restore;
  blas::set_threads(std::clamp(threads, 1, 256));

  std::vector<Stage> stages(S);
  for (std::size_t k = 0; k < S; ++k) {
    stages[k].agg = make_aggregator(specs[k], "--aggregator[" + std::to_string(k) + "]");
    std::string label = stages[k].agg->name();
    std::size_t same_name = 1;
    for (std::size_t q = 0; q < k; ++q) same_name += stages[q].agg->name() == label;
    stages[k].label = same_name > 1 ? label + "#" + std::to_string(same_name) : label;
    stages[k].cos_sum.assign(S, 0);
    if (stages[k].agg->wants_losses_after_step())
      std::fprintf(stderr, "mtlgrad replay: note: %s wants the losses after each step, which a record does not hold; "
                           "it gets none\n", stages[k].label.c_str());
  }

  std::string csv = "step,stage,dnorm";
  for (const auto& n : names) csv += ",w_" + n;
  for (const auto& s : stages) csv += ",cos_" + s.label;
  for (const auto& c : certificate_names()) csv += "," + c;
  csv += ",same_as_recorded\n";
  std::string hurt_csv = "stage,step,task,cos\n", layers_csv = "step", layers_dat;
  for (const auto& g : groups) layers_csv += "," + g.name;
  layers_csv += "\n";
  std::vector<std::vector<real>> layer_rows;

  GradientRecord r;
  Tensor G, F;
  Certifier certifier;
  std::vector<real> Jd, rates;
  std::size_t records = 0;
  std::uint64_t at = reader.offset();
  while (reader.next(r)) {
    ++records;
    const std::string where = file + ": record of step " + std::to_string(r.step) + " (offset " + std::to_string(at) + ")";
    const Tensor* J = &r.J;
    if (jac) {
      gramian(r.J, G);
    } else {
      gramian_factor(r.G, F);
      J = &F;
      gramian(F, G);
    }
    for (auto& s : stages) {
      Rng rng;
      try {
        rng.load_state(r.rng);
      } catch (const std::exception& e) {
        throw std::runtime_error(where + ": bad Rng state: " + e.what());
      }
      try {
        s.agg->observe_losses(r.losses);
        s.agg->aggregate_with_gramian(*J, G, rng, s.out);
      } catch (const std::invalid_argument& e) {
        throw std::runtime_error(where + ": " + s.label + ": " + e.what());
      }
      if (!all_finite(s.out.direction))
        throw std::runtime_error(where + ": the direction of " + s.label + " is not finite");
    }
    for (std::size_t k = 0; k < S; ++k) {
      Stage& s = stages[k];
      const Tensor& d = s.out.direction;
      const real dd = dot(d, d), dnorm = std::sqrt(dd);
      Certifier::jacobian_times(*J, d, Jd);
      certifier.certify(G, Jd, dd, r.losses, s.cert);
      std::string row = std::to_string(r.step) + "," + s.label + "," + num(dnorm);
      for (std::size_t i = 0; i < T; ++i) row += "," + num(s.out.weights.size() == T ? s.out.weights[i] : NAN);
      for (std::size_t q = 0; q < S; ++q) {
        const Tensor& e = stages[q].out.direction;
        const real n = dnorm * std::sqrt(dot(e, e));
        const real c = n > 0 ? dot(d, e) / n : real(0);
        s.cos_sum[q] += c;
        row += "," + num(c);
      }
      for (real v : certificate_values(s.cert)) row += "," + num(v);
      bool same = false;
      if (jac) {
        same = d.size() == r.direction.size() && std::memcmp(d.data(), r.direction.data(), d.size() * sizeof(real)) == 0;
        row += same ? ",1" : ",0";
      } else {
        row += ",nan";
      }
      csv += row + "\n";
      ++s.steps;
      s.same += same;
      s.dnorm += dnorm;
      s.margin += s.cert.margin;
      s.min_margin = std::min(s.min_margin, double(s.cert.margin));
      s.gap += s.cert.gap;
      if (s.cert.hurt) {
        ++s.hurt_steps;
        nlohmann::json tasks = nlohmann::json::array();
        for (std::size_t i = 0; i < T; ++i)
          if (Jd[i] < 0) {
            const real n = std::sqrt(std::max(G(i, i), real(0))) * dnorm;
            hurt_csv += s.label + "," + std::to_string(r.step) + "," + names[i] + "," + num(n > 0 ? Jd[i] / n : 0) + "\n";
            tasks.push_back(names[i]);
          }
        if (s.first_hurt.is_null()) s.first_hurt = {{"step", r.step}, {"tasks", tasks}};
      }
    }
    if (!groups.empty()) {
      group_conflict_rates(r.J, groups, rates);
      layers_csv += std::to_string(r.step);
      for (real v : rates) layers_csv += "," + num(v);
      layers_csv += "\n";
      layer_rows.push_back(rates);
    }
    at = reader.offset();
  }
  if (records == 0) throw std::runtime_error(file + ": no record after the header (offset " + std::to_string(at) + ")");

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw std::runtime_error("cannot create " + out_dir + ": " + ec.message());
  write_file_atomic(out_dir + "/replay.csv", csv);
  write_file_atomic(out_dir + "/replay_hurt.csv", hurt_csv);

  nlohmann::json summary = {{"record", file},
                            {"records", records},
                            {"content", jac ? "jacobian" : "gramian"},
                            {"recorded_stage", h.meta.value("aggregator", nlohmann::json())},
                            {"tasks", names}};
  nlohmann::json out_stages = nlohmann::json::array();
  for (const auto& s : stages) {
    const double n = double(s.steps);
    nlohmann::json cos = nlohmann::json::object();
    for (std::size_t q = 0; q < S; ++q) cos[stages[q].label] = s.cos_sum[q] / n;
    out_stages.push_back({{"stage", s.label},
                          {"options", s.agg->options()},
                          {"steps", s.steps},
                          {"mean_dnorm", s.dnorm / n},
                          {"mean_margin", s.margin / n},
                          {"min_margin", s.min_margin},
                          {"steps_hurting_a_task", s.hurt_steps},
                          {"first_hurt", s.first_hurt},
                          {"mean_gap", s.gap / n},
                          {"mean_cos", cos},
                          {"same_as_recorded", jac ? nlohmann::json(s.same == s.steps) : nlohmann::json()}});
  }
  summary["stages"] = out_stages;

  std::vector<std::string> plots;
  const GnuplotRun run = run_gnuplot(out_dir, "replay", plot_script(stages, T), {"replay.png"});
  if (run.drawn) plots.push_back("replay.png");
  else summary["plots_not_drawn"] = run.why;
  if (!groups.empty()) write_file_atomic(out_dir + "/layer_conflicts.csv", layers_csv);
  // gnuplot's image needs two rows at least.
  if (groups.size() >= 2) {
    // gnuplot's matrix: one row per group, one column per record.
    for (std::size_t g = 0; g < groups.size(); ++g) {
      for (std::size_t t = 0; t < layer_rows.size(); ++t) layers_dat += (t ? " " : "") + num(layer_rows[t][g]);
      layers_dat += "\n";
    }
    write_file_atomic(out_dir + "/layer_conflicts.dat", layers_dat);
    const GnuplotRun hm = run_gnuplot(out_dir, "layer_conflicts", heatmap_script(groups, layer_rows.size()),
                                      {"layer_conflicts.png"});
    if (hm.drawn) plots.push_back("layer_conflicts.png");
  }
  summary["plots"] = plots;
  write_file_atomic(out_dir + "/replay.json", summary.dump(2) + "\n");
  return summary;
}

}  // namespace mtlgrad
