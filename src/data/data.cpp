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
    auto s = std::make_unique<DataSplit>(build(o));
    s->train.check(path + " (train)");
    s->test.check(path + " (test)");
    return s;
  };
}

}  // namespace

const Registry<DataSplit>& data_sets() {
  static const Registry<DataSplit> r = [] {
    Registry<DataSplit> reg("data set");
    reg.add({"mmoe",
             "regression tasks of controlled relatedness (Ma et al. 2018, MMoE, section 4.1), T tasks",
             {{"n", 2000}, {"n_test", 500}, {"dim", 100}, {"c", 1.0}, {"m", 10}, {"alpha_std", 1.0},
              {"beta_std", 1.0}, {"p", 0.5}, {"tasks", 2}, {"noise_std", 0.1}, {"seed", 0}},
             factory<MmoeOptions>(read_mmoe_options, make_mmoe)});
    reg.add({"teacher",
             "inputs N(0, I), per task a random tanh-MLP (regression) or linear argmax (classification) teacher",
             {{"n", 1000}, {"n_test", 200}, {"dim", 8}, {"hidden", 16}, {"noise_std", 0.1}, {"seed", 0},
              {"tasks", {{{"kind", "regression"}, {"outputs", 1}}, {{"kind", "classification"}, {"classes", 3}}}}},
             factory<TeacherOptions>(read_teacher_options, make_teacher_data)});
    reg.add({"multifashion",
             "two overlapping Fashion-MNIST items, one task per item (Sener & Koltun 2018)",
             {{"dir", fashion_mnist_dir()}, {"n", 0}, {"n_test", 0}, {"seed", 0}},
             factory<MultiFashionOptions>(read_multifashion_options, load_multifashion)});
    return reg;
  }();
  return r;
}

DataSplit make_data(const nlohmann::json& spec, const std::string& path) {
  return std::move(*data_sets().create(spec, path));
}

}  // namespace mtlgrad
