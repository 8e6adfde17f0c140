#pragma once
/// @file teacher.hpp
/// A small teacher–student multi-task set for the hard-parameter-sharing MLP (Caruana 1997,
/// "Multitask Learning"): inputs x ~ N(0, I_D), and per task a random teacher network whose
/// outputs are the targets.
///
///  - regression task with k outputs:  y = tanh(x·W + b)·V + ε,
///        W ∈ R^{D×H} with entries ~ N(0, 1/D), b ~ N(0, 1), V ∈ R^{H×k} ~ N(0, 1/H),
///        ε ~ N(0, noise_std²) per sample and output  (so y has variance of order 1);
///  - classification task with C classes:  y = argmax_c (x·A)_c,  A ∈ R^{D×C} ~ N(0, 1)
///        (ties, of probability 0, go to the lowest class).
///
/// Each task has its own teacher, so tasks share only the input distribution; how related they
/// are is left to chance (use mmoe.hpp for controlled relatedness). Draw order from Rng(seed):
/// the teachers task by task (W, b, V or A, row-major), then the training samples, then the test
/// samples (each sample: its x, then its regression noises in task order).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/data/dataset.hpp"

namespace mtlgrad {

struct TeacherOptions {
  std::size_t n = 1000, n_test = 200;
  std::size_t dim = 8;      ///< input dimension D
  std::size_t hidden = 16;  ///< teacher hidden width H (regression tasks)
  real noise_std = 0.1;
  std::vector<TaskSpec> tasks = {TaskSpec::regression("task0"), TaskSpec::classification("task1", 3)};
  std::uint64_t seed = 0;
};

/// Reads {"n", "n_test", "dim", "hidden", "noise_std", "seed", "tasks": [{"kind": "regression",
/// "outputs": k, "name": ...} or {"kind": "classification", "classes": C, "name": ...}, ...]}
/// (names default to "task<t>"). Unknown keys and invalid values throw ConfigError.
TeacherOptions read_teacher_options(const nlohmann::json& spec, const std::string& path);

/// The training and test sets from Rng(o.seed).
DataSplit make_teacher_data(const TeacherOptions& o);

}  // namespace mtlgrad
