#include "mtlgrad/mtl/task_gradients.hpp"

#include <algorithm>

#include "mtlgrad/core/options.hpp"

namespace mtlgrad {

GradientScope parse_scope(const std::string& s, const std::string& path) {
  if (s == "shared") return GradientScope::shared;
  if (s == "all") return GradientScope::all;
  throw ConfigError(path + ": unknown scope '" + s + "'" + did_you_mean(s, {"shared", "all"}) +
                    "; allowed: shared, all");
}

std::string to_string(GradientScope s) { return s == GradientScope::shared ? "shared" : "all"; }

std::vector<std::string> MultiTaskModel::task_names() const {
  std::vector<std::string> n;
  for (std::size_t i = 0; i < num_tasks(); ++i) n.push_back("task" + std::to_string(i));
  return n;
}

std::vector<NamedParameter> MultiTaskModel::all_parameters() {
  std::vector<NamedParameter> all = shared_parameters();
  for (std::size_t i = 0; i < num_tasks(); ++i) {
    auto h = head_parameters(i);
    all.insert(all.end(), h.begin(), h.end());
  }
  return all;
}

ParameterLayout::ParameterLayout(MultiTaskModel& model) : shared(model.shared_parameters()) {
  for (const auto& p : shared) shared_size += p.param->value.size();
  total_size = shared_size;
  for (std::size_t i = 0; i < model.num_tasks(); ++i) {
    heads.push_back(model.head_parameters(i));
    for (const auto& p : heads.back()) total_size += p.param->value.size();
  }
}

std::vector<NamedParameter> ParameterLayout::all() const {
  std::vector<NamedParameter> all = shared;
  for (const auto& h : heads) all.insert(all.end(), h.begin(), h.end());
  return all;
}

void unflatten(const Tensor& flat, std::size_t offset, Tensor& out) {
  std::copy_n(flat.data() + offset, out.size(), out.data());
}

void collect_task_gradients(Tape& tape, const std::vector<Var>& losses, const std::vector<real>& weights,
                            const ParameterLayout& layout, GradientScope scope, TaskGradients& out,
                            TaskGradientPath path) {
  const std::size_t T = losses.size();
  if (weights.size() != T)
    throw std::invalid_argument("task gradients: " + std::to_string(weights.size()) + " task weights for " +
                                std::to_string(T) + " tasks");
  if (layout.heads.size() != T)
    throw std::invalid_argument("task gradients: the model has " + std::to_string(layout.heads.size()) +
                                " heads but returned " + std::to_string(T) + " losses");
  const std::size_t cols = scope == GradientScope::shared ? layout.shared_size : layout.total_size;
  if (out.J.shape(0) != T || out.J.shape(1) != cols) out.J.resize({T, cols});
  out.heads.resize(T);
  out.losses.resize(T);
  for (std::size_t i = 0; i < T; ++i) out.losses[i] = losses[i].item();
  out.batched = path == TaskGradientPath::automatic &&
                collect_task_gradients_batched(tape, losses, weights, layout, scope, out);
  if (out.batched) return;

  auto& [wrt, task_wrt, head_begin, g, seed] = out.scratch;
  wrt.clear();
  for (const auto& p : layout.shared) wrt.push_back(tape.param(*p.param));
  const std::size_t n_shared = wrt.size();
  head_begin.assign(T + 1, n_shared);
  for (std::size_t i = 0; i < T; ++i) {
    for (const auto& p : layout.heads[i]) wrt.push_back(tape.param(*p.param));
    head_begin[i + 1] = wrt.size();
  }

  for (std::size_t i = 0; i < T; ++i) {
    seed(0, 0) = weights[i];
    // One reverse sweep for task i: its gradient of every shared parameter and of its own head
    // (scope "all": of every head, which is zero for the other tasks' heads unless they share).
    if (scope == GradientScope::shared) {
      task_wrt.assign(wrt.begin(), wrt.begin() + long(n_shared));
      task_wrt.insert(task_wrt.end(), wrt.begin() + long(head_begin[i]), wrt.begin() + long(head_begin[i + 1]));
      tape.grad(losses[i], seed, task_wrt, g);
      out.heads[i].resize(head_begin[i + 1] - head_begin[i]);
      for (std::size_t k = 0; k < out.heads[i].size(); ++k) out.heads[i][k] = g[n_shared + k];
    } else {
      tape.grad(losses[i], seed, wrt, g);
      out.heads[i].clear();
    }
    real* row = out.J.data() + i * cols;
    std::size_t off = 0;
    const std::size_t n_cols_vars = scope == GradientScope::shared ? n_shared : wrt.size();
    for (std::size_t k = 0; k < n_cols_vars; ++k) {
      std::copy_n(g[k].data(), g[k].size(), row + off);
      off += g[k].size();
    }
  }
}

}  // namespace mtlgrad

namespace mtlgrad {

void collect_representation_gradients(Tape& tape, const std::vector<Var>& losses, const std::vector<real>& weights,
                                      const ParameterLayout& layout, Var z, TaskGradients& out) {
  const std::size_t T = losses.size();
  if (weights.size() != T || layout.heads.size() != T)
    throw std::invalid_argument("representation gradients: " + std::to_string(T) + " losses, " +
                                std::to_string(weights.size()) + " weights, " + std::to_string(layout.heads.size()) +
                                " heads");
  const std::size_t cols = z.value().size();
  if (out.J.shape(0) != T || out.J.shape(1) != cols) out.J.resize({T, cols});
  out.heads.resize(T);
  out.losses.resize(T);
  std::vector<Var> wrt;
  std::vector<Tensor> g;
  Tensor seed = scalar(1);
  for (std::size_t i = 0; i < T; ++i) {
    out.losses[i] = losses[i].item();
    wrt.assign(1, z);
    for (const auto& p : layout.heads[i]) wrt.push_back(tape.param(*p.param));
    seed(0, 0) = weights[i];
    tape.grad(losses[i], seed, wrt, g);
    std::copy_n(g[0].data(), cols, out.J.data() + i * cols);
    out.heads[i].assign(g.begin() + 1, g.end());
  }
}

void shared_gradient_from_representation(Tape& tape, Var z, const Tensor& d, const ParameterLayout& layout,
                                         std::vector<Tensor>& grads) {
  if (d.size() != z.value().size())
    throw std::invalid_argument("representation gradients: direction of " + std::to_string(d.size()) +
                                " values for a representation " + shape_str(z.value()));
  Tensor seed = zeros(shape_of(z.value()));
  std::copy_n(d.data(), d.size(), seed.data());
  std::vector<Var> wrt;
  for (const auto& p : layout.shared) wrt.push_back(tape.param(*p.param));
  tape.grad(z, seed, wrt, grads);
}

}  // namespace mtlgrad
