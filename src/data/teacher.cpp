#include "mtlgrad/data/teacher.hpp"

#include <cmath>
#include <stdexcept>

#include "mtlgrad/core/blas.hpp"
#include "mtlgrad/core/options.hpp"

namespace mtlgrad {
namespace {

struct Teacher {
  Tensor W, b, V;  // regression: [D,H], [1,H], [H,k]
  Tensor A;        // classification: [D,C]
};

Teacher draw_teacher(const TaskSpec& task, const TeacherOptions& o, Rng& rng) {
  Teacher t;
  if (task.kind == TaskSpec::Kind::classification) {
    t.A = rng.normal_tensor(o.dim, task.size);
  } else {
    t.W = rng.normal_tensor(o.dim, o.hidden, 0, real(1 / std::sqrt(double(o.dim))));
    t.b = rng.normal_tensor(1, o.hidden);
    t.V = rng.normal_tensor(o.hidden, task.size, 0, real(1 / std::sqrt(double(o.hidden))));
  }
  return t;
}

MultiTaskData sample(const std::vector<Teacher>& teachers, const TeacherOptions& o, std::size_t n, Rng& rng) {
  MultiTaskData data;
  data.tasks = o.tasks;
  data.inputs = zeros(n, o.dim);
  for (const TaskSpec& task : o.tasks) data.targets.push_back(zeros(n, task.target_cols()));
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < o.dim; ++k) data.inputs(i, k) = rng.normal();
    for (std::size_t t = 0; t < o.tasks.size(); ++t)
      if (o.tasks[t].kind == TaskSpec::Kind::regression)
        for (std::size_t k = 0; k < o.tasks[t].size; ++k) data.targets[t](i, k) = rng.normal(0, o.noise_std);
  }
  for (std::size_t t = 0; t < o.tasks.size(); ++t) {
    const Teacher& te = teachers[t];
    if (o.tasks[t].kind == TaskSpec::Kind::regression) {
      Tensor h = zeros(n, o.hidden);
      blas::gemm("teacher", data.inputs, false, te.W, false, h);  // [N,D] x [D,H] -> [N,H]
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 0; k < o.hidden; ++k) h(i, k) = std::tanh(h(i, k) + te.b(0, k));
      blas::gemm("teacher", h, false, te.V, false, data.targets[t], 1, 1);  // noise + [N,H] x [H,k]
    } else {
      Tensor logits = zeros(n, te.A.shape(1));
      blas::gemm("teacher", data.inputs, false, te.A, false, logits);  // [N,D] x [D,C] -> [N,C]
      for (std::size_t i = 0; i < n; ++i) {
        std::size_t best = 0;
        for (std::size_t c = 1; c < logits.shape(1); ++c)
          if (logits(i, c) > logits(i, best)) best = c;
        data.targets[t](i, 0) = real(best);
      }
    }
  }
  return data;
}

TaskSpec read_task(const nlohmann::json& j, const std::string& path, std::size_t index) {
  OptionReader r(j, path);
  const std::string kind = r.require<std::string>("kind");
  TaskSpec task;
  task.name = r.get<std::string>("name", "task" + std::to_string(index));
  if (kind == "regression") {
    task.kind = TaskSpec::Kind::regression;
    task.size = r.get<std::size_t>("outputs", 1);
    r.check(task.size >= 1, "outputs", ">= 1");
  } else if (kind == "classification") {
    task.kind = TaskSpec::Kind::classification;
    task.size = r.require<std::size_t>("classes");
    r.check(task.size >= 2, "classes", ">= 2");
  } else {
    throw ConfigError(r.key_path("kind") + ": unknown kind '" + kind + "'" +
                      did_you_mean(kind, {"regression", "classification"}) + "; allowed: regression, classification");
  }
  r.finish();
  return task;
}

}  // namespace

TeacherOptions read_teacher_options(const nlohmann::json& spec, const std::string& path) {
  OptionReader r(spec, path);
  r.declare("name");
  TeacherOptions o;
  o.n = r.get<std::size_t>("n", o.n);
  o.n_test = r.get<std::size_t>("n_test", o.n_test);
  o.dim = r.get<std::size_t>("dim", o.dim);
  o.hidden = r.get<std::size_t>("hidden", o.hidden);
  o.noise_std = r.get<real>("noise_std", o.noise_std);
  o.seed = r.get<std::uint64_t>("seed", o.seed);
  r.check(o.n >= 1, "n", ">= 1");
  r.check(o.dim >= 1, "dim", ">= 1");
  r.check(o.hidden >= 1, "hidden", ">= 1");
  r.check(o.noise_std >= 0, "noise_std", ">= 0");
  if (const nlohmann::json* tasks = r.raw("tasks")) {
    if (!tasks->is_array() || tasks->empty())
      throw ConfigError(r.key_path("tasks") + ": expected a non-empty array of task objects, got " + tasks->dump());
    o.tasks.clear();
    for (std::size_t t = 0; t < tasks->size(); ++t)
      o.tasks.push_back(read_task((*tasks)[t], r.key_path("tasks") + "[" + std::to_string(t) + "]", t));
  }
  r.finish();
  return o;
}

DataSplit make_teacher_data(const TeacherOptions& o) {
  Rng rng(o.seed);
  std::vector<Teacher> teachers;
  for (const TaskSpec& task : o.tasks) teachers.push_back(draw_teacher(task, o, rng));
  DataSplit s;
  s.train = sample(teachers, o, o.n, rng);
  s.test = sample(teachers, o, o.n_test, rng);
  return s;
}

}  // namespace mtlgrad
