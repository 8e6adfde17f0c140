#include "mtlgrad/data/data.hpp"

#include "mtlgrad/data/mmoe.hpp"
#include "mtlgrad/data/multifashion.hpp"
#include "mtlgrad/data/teacher.hpp"

namespace mtlgrad {
namespace {

template <class Options, class Read, class Build>
Registry<DataSplit>::Factory factory(Read read, Build build) {
  return [read, build](const nlohmann::json& spec, const std::string& path) {
    const Options o = read(spec, path);
    return std::make_unique<DataSplit>(build(o));
  };
}

}  // namespace

Registry<DataSplit>& data_sets() {
  static Registry<DataSplit> r = [] {
    Registry<DataSplit> reg("data set");
    const MmoeOptions m;
    const OptionSpec seed = option<std::uint64_t>("seed", 0, "seeds the generator (the data does not follow the run's seed)");
    reg.add({"mmoe",
             "regression tasks of controlled relatedness (Ma et al. 2018, MMoE, section 4.1), T tasks",
             {option("n", m.n, "training samples", Range::at_least(1)),
              option("n_test", m.n_test, "test samples"),
              option("dim", m.dim, "input dimension d (≥ the number of tasks)", Range::at_least(1)),
              option("c", m.c, "scale of the task weight vectors", Range::above(0)),
              option("m", m.m, "number of sinusoids"),
              option("alpha_std", m.alpha_std, "std of the sinusoids' frequencies", Range::at_least(0)),
              option("beta_std", m.beta_std, "std of the sinusoids' phases", Range::at_least(0)),
              free_option("p", "relatedness: a number for every pair (default 0.5, with 'tasks') or a T×T matrix"),
              free_option("tasks", "the number of tasks T with a number 'p' (default 2)"),
              free_option("groups", "instead of 'p': a group id per task, with p_in (0.9) and p_out (0)"),
              free_option("p_in", "relatedness within a group (with 'groups'; default 0.9)"),
              free_option("p_out", "relatedness across groups (with 'groups'; default 0)"),
              free_option("noise_std", "label noise: a number (default 0.1) or one per task"), seed},
             factory<MmoeOptions>(read_mmoe_options, make_mmoe)});
    const TeacherOptions t;
    reg.add({"teacher",
             "inputs N(0, I), per task a random tanh-MLP (regression) or linear argmax (classification) teacher",
             {option("n", t.n, "training samples", Range::at_least(1)), option("n_test", t.n_test, "test samples"),
              option("dim", t.dim, "input dimension D", Range::at_least(1)),
              option("hidden", t.hidden, "teacher hidden width H (regression tasks)", Range::at_least(1)),
              option("noise_std", t.noise_std, "label noise of the regression tasks", Range::at_least(0)),
              free_option("tasks", "[{\"kind\": \"regression\", \"outputs\": k} or {\"kind\": \"classification\", "
                                   "\"classes\": C}, ...] (default: one of each, C = 3)"),
              seed},
             factory<TeacherOptions>(read_teacher_options, make_teacher_data)});
    const MultiFashionOptions f;
    reg.add({"multifashion",
             "two overlapping Fashion-MNIST items, one task per item (Sener & Koltun 2018)",
             {option("dir", f.dir, "directory of the Fashion-MNIST IDX files"),
              option("n", f.n, "training items: the first n (0 = all 60 000)"),
              option("n_test", f.n_test, "test items: the first n_test (0 = all 10 000)"),
              option("canvas", f.canvas, "keep the 36×36 canvas (LeNet's input) instead of resizing to 28×28"), seed},
             factory<MultiFashionOptions>(read_multifashion_options, load_multifashion)});
    return reg;
  }();
  return r;
}

DataSplit make_data(const nlohmann::json& spec, const std::string& path) {
  // Checked here, so that a data set registered from outside is checked as the built-in ones are.
  const auto s = data_sets().create(spec, path);
  s->train.check(path + " (train)");
  s->test.check(path + " (test)");
  return std::move(*s);
}

}  // namespace mtlgrad
