// The batched path of collect_task_gradients: one BatchedSweep whose leaf destinations are the
// rows of J (shared parameters; scope "all": every parameter) and the head gradient tensors.
#include "mtlgrad/mtl/task_gradients.hpp"

namespace mtlgrad {

bool collect_task_gradients_batched(Tape& tape, const std::vector<Var>& losses, const std::vector<real>& weights,
                                    const ParameterLayout& layout, GradientScope scope, TaskGradients& out) {
  const std::size_t T = losses.size(), cols = out.J.shape(1);
  BatchedSweep& s = out.sweep;
  if (!s.prepare(tape, losses)) return false;
  // Column offset `off` of parameter p in every row of J, for the tasks [t0, t1).
  auto into_J = [&](Parameter& p, std::size_t& off, std::size_t t0, std::size_t t1) {
    const Var v = tape.param(p);
    for (std::size_t t = t0; t < t1; ++t) s.set_destination(v, t, out.J.data() + t * cols + off);
    off += p.value.size();
  };
  std::size_t off = 0;
  for (const auto& p : layout.shared) into_J(*p.param, off, 0, T);
  for (std::size_t i = 0; i < T; ++i) {
    const auto& head = layout.heads[i];
    if (scope == GradientScope::all) {
      for (const auto& p : head) into_J(*p.param, off, 0, T);
      out.heads[i].clear();
      continue;
    }
    out.heads[i].resize(head.size());
    for (std::size_t k = 0; k < head.size(); ++k) {
      Tensor& g = out.heads[i][k];
      const Tensor& v = head[k].param->value;
      if (g.shape(0) != v.shape(0) || g.shape(1) != v.shape(1)) g.resize(shape_of(v));
      s.set_destination(tape.param(*head[k].param), i, g.data());
    }
  }
  s.run(weights);
  return true;
}

}  // namespace mtlgrad
