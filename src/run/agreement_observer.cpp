#include "mtlgrad/run/agreement_observer.hpp"

#include <cmath>
#include <cstdio>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/mtl/agreement.hpp"
#include "mtlgrad/run/plots.hpp"

namespace mtlgrad {
namespace {

struct Options {
  AgreementOptions tracker;
  std::size_t groups = 2, tag_every = 0;
  real tag_lr = 0;  ///< 0: the optimizer's lr()
};

nlohmann::json matrix_json(const Tensor& t) {
  nlohmann::json m = nlohmann::json::array();
  for (std::size_t i = 0; i < t.shape(0); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (std::size_t j = 0; j < t.shape(1); ++j) row.push_back(double(t(i, j)));
    m.push_back(row);
  }
  return m;
}

nlohmann::json grouping_json(const Grouping& g, const std::vector<std::string>& names, std::size_t k) {
  nlohmann::json groups = nlohmann::json::array();
  for (std::size_t id = 0; id < k; ++id) {
    nlohmann::json members = nlohmann::json::array();
    for (std::size_t t = 0; t < g.group.size(); ++t)
      if (g.group[t] == id) members.push_back(names[t]);
    groups.push_back(members);
  }
  return {{"k", k}, {"groups", groups}, {"assignment", g.group}, {"score", double(g.score)}, {"pairs", g.pairs}};
}

std::string dat(const Tensor& t) {
  std::string s;
  char buf[40];
  for (std::size_t i = 0; i < t.shape(0); ++i) {
    for (std::size_t j = 0; j < t.shape(1); ++j) {
      std::snprintf(buf, sizeof buf, "%s%.6g", j ? " " : "", double(t(i, j)));
      s += buf;
    }
    s += "\n";
  }
  return s;
}

/// Writes the data files and the script, runs gnuplot; returns what summary.json says about it.
std::string draw_heatmaps(const std::string& dir, const Tensor& cos, const Tensor& conflicts,
                          const std::vector<std::string>& names) {
  write_file_atomic(dir + "/agreement_cos.dat", dat(cos));
  write_file_atomic(dir + "/agreement_conflicts.dat", dat(conflicts));
  std::string tics;
  for (std::size_t t = 0; t < names.size(); ++t) tics += (t ? ", " : "") + gnuplot_string(names[t]) + " " + std::to_string(t);
  const std::string size = std::to_string(360 + 60 * names.size());
  auto panel = [&](const char* file, const char* png, const char* title, const char* range, const char* palette) {
    return std::string("set output '") + png + ".tmp'\nset title '" + title + "'\nset cbrange [" + range +
           "]\nset palette " + palette + "\nplot '" + file +
           "' matrix with image notitle, '' matrix using 1:2:(sprintf('%.2f', $3)) with labels notitle\n";
  };
  const std::string script =
      "set terminal " + gnuplot_terminal() + " size " + size + "," + size + "\n" + "set xtics (" + tics +
      ") noenhanced\nset ytics (" + tics + ") noenhanced\nset yrange [] reverse\nset size ratio -1\nunset key\n" +
      panel("agreement_cos.dat", "agreement.png", "mean cos(g_i, g_j)", "-1:1",
            "defined (-1 'red', 0 'white', 1 'blue')") +
      panel("agreement_conflicts.dat", "conflicts.png", "conflict rate P(g_i . g_j < 0)", "0:1",
            "defined (0 'white', 1 'red')") +
      "unset output\n";
  const GnuplotRun run = run_gnuplot(dir, "agreement", script, {"agreement.png", "conflicts.png"});
  return run.drawn ? "agreement.png, conflicts.png" : "not drawn: " + run.why;
}

class AgreementObserver : public RunObserver {
 public:
  AgreementObserver(const Options& o, Trainer& trainer) : o_(o), tracker_(o.tracker) {
    names_ = trainer.model().task_names();
  }

  void on_step(Trainer& trainer, const StepRecord& record) override {
    if (record.skipped) return;
    tracker_.record(record);
    if (o_.tag_every && record.step % o_.tag_every == 0) {
      tag_.compute(trainer.model(), trainer.layout(), lr(trainer), Z_);
      tracker_.record_tag(Z_);
    }
  }

  void on_end(Trainer& trainer, const std::string& out_dir, nlohmann::json& summary) override {
    const std::size_t T = names_.size();
    const Tensor cos = tracker_.count() ? tracker_.mean_cos() : zeros(T, T);
    const Tensor conflicts = tracker_.count() ? tracker_.conflict_rate() : zeros(T, T);
    nlohmann::json j = {{"tasks", names_},
                        {"steps", tracker_.count()},
                        {"beta", double(o_.tracker.beta)},
                        {"ema_bias_corrected", true},
                        {"mean_cos", matrix_json(cos)},
                        {"conflict_rate", matrix_json(conflicts)},
                        {"ema_cos", matrix_json(tracker_.count() ? tracker_.ema_cos() : cos)},
                        {"ema_conflict_rate", matrix_json(tracker_.count() ? tracker_.ema_conflict() : conflicts)}};
    nlohmann::json brief = {{"file", "agreement.json"}};
    j["grouping"] = nullptr;
    if (o_.groups) {
      j["grouping"] = grouping_json(best_grouping(cos, o_.groups), names_, o_.groups);
      j["grouping"]["objective"] = "mean over all within-group pairs of mean cos (singletons add no pair)";
      brief["groups"] = j["grouping"]["groups"];
      brief["score"] = j["grouping"]["score"];
    }
    j["tag"] = nullptr;
    if (o_.tag_every) {
      const Tensor Z = tracker_.mean_tag();
      j["tag"] = {{"every", o_.tag_every},
                  {"lr", double(lr(trainer))},
                  {"times", tracker_.tag_count()},
                  {"affinity", matrix_json(Z)},
                  {"meaning", "affinity[i][j] = Z_{i->j} = 1 - L_j(after a step on task i) / L_j"}};
      if (o_.groups && tracker_.tag_count()) {
        j["tag"]["grouping"] = grouping_json(best_grouping(Z, o_.groups), names_, o_.groups);
        brief["tag_groups"] = j["tag"]["grouping"]["groups"];
      }
    }
    nlohmann::json pairs = nlohmann::json::array(), steps = nlohmann::json::array(), hist = nlohmann::json::array();
    for (std::size_t a = 0; a < T; ++a)
      for (std::size_t b = a + 1; b < T; ++b) pairs.push_back(names_[a] + "-" + names_[b]);
    for (const auto& s : tracker_.history()) {
      steps.push_back(s.step);
      nlohmann::json row = nlohmann::json::array();
      for (real c : s.cos) row.push_back(double(c));
      hist.push_back(row);
    }
    j["history"] = {{"every", o_.tracker.history_every}, {"pairs", pairs}, {"steps", steps}, {"cos", hist}};
    write_file_atomic(out_dir + "/agreement.json", j.dump(2) + "\n");
    brief["plots"] = draw_heatmaps(out_dir, cos, conflicts, names_);
    summary["agreement"] = brief;
  }

  nlohmann::json state() const override { return tracker_.state(); }
  void load_state(const nlohmann::json& s) override { tracker_.load_state(s); }

 private:
  real lr(Trainer& trainer) const { return o_.tag_lr > 0 ? o_.tag_lr : trainer.optimizer().lr(); }

  Options o_;
  AgreementTracker tracker_;
  TagAffinity tag_;
  Tensor Z_;
  std::vector<std::string> names_;
};

Options read_options(const nlohmann::json& section, const std::string& path, std::size_t T) {
  if (!section.is_object())
    throw ConfigError(path + ": expected an object (or true), got " + json_type(section) + " " + section.dump());
  OptionReader r(section, path);
  Options o;
  o.tracker.beta = r.get<real>("beta", o.tracker.beta);
  r.check(o.tracker.beta >= 0 && o.tracker.beta < 1, "beta", ">= 0 and < 1");
  o.groups = r.get<std::size_t>("groups", o.groups);
  o.tag_every = r.get<std::size_t>("tag_every", o.tag_every);
  const nlohmann::json* lr = r.raw("tag_lr");
  if (lr && !lr->is_null()) {
    if (!lr->is_number())
      throw ConfigError(r.key_path("tag_lr") + ": expected a number or null, got " + json_type(*lr) + " " + lr->dump());
    o.tag_lr = lr->get<real>();
    r.check(o.tag_lr > 0 && std::isfinite(o.tag_lr), "tag_lr", "> 0 (or null: the optimizer's lr)");
  }
  o.tracker.history_every = r.get<std::size_t>("history_every", o.tracker.history_every);
  r.finish();
  if (o.groups > T)
    throw ConfigError(r.key_path("groups") + ": " + std::to_string(o.groups) + " groups for a model with " +
                      std::to_string(T) + " tasks (expected 1.." + std::to_string(T) + ", or 0 for no grouping)");
  if (o.groups && T > 10)
    throw ConfigError(r.key_path("groups") + ": the exhaustive grouping is limited to T <= 10 tasks, the model has " +
                      std::to_string(T) + "; set it to 0 to turn the grouping off");
  return o;
}

}  // namespace

ObserverEntry agreement_observer_entry() {
  ObserverEntry e;
  e.key = "agreement";
  e.summary = "gradient agreement: mean cos and conflict-rate matrices, best task grouping, TAG affinity (agreement.json)";
  e.defaults = {{"beta", 0.99}, {"groups", 2}, {"tag_every", 0}, {"tag_lr", nullptr}, {"history_every", 1}};
  e.make = [](const nlohmann::json& section, const std::string& path, Trainer& trainer) -> std::unique_ptr<RunObserver> {
    return std::make_unique<AgreementObserver>(read_options(section, path, trainer.model().num_tasks()), trainer);
  };
  return e;
}

}  // namespace mtlgrad
