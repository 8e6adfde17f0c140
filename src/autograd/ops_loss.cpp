// Losses, each the mean over the batch (PyTorch's reduction="mean").
#include <xtensor/xmath.hpp>

#include "broadcast.hpp"
#include "mtlgrad/autograd/ops.hpp"

#include "tape_nodes.hpp"

namespace mtlgrad {
namespace detail {
void log_softmax_rows(const Tensor& x, Tensor& y);
}

Var mse(Var pred, Var target) {
  if (pred.shape() != target.shape())
    throw std::invalid_argument("mse: prediction " + shape_str(pred.value()) + " and target " +
                                shape_str(target.value()) + " differ in shape");
  if (pred.value().size() == 0) throw std::invalid_argument("mse: empty prediction " + shape_str(pred.value()));
  Tape& t = pred.tape();
  Var y = t.push("mse", {1, 1}, {pred, target}, [](Tape& t, const Node& n) {
    const Tensor &P = t.node(n.in[0]).val(), &T = t.node(n.in[1]).val();
    const real c = real(2) * n.grad(0, 0) / real(P.size());
    t.accumulate(n.in[0], c * (P - T));  // ∂p = 2(p − t)/N · g
    t.accumulate(n.in[1], c * (T - P));  // ∂t = −∂p
  });
  const Tensor &P = pred.value(), &T = target.value();
  real s = 0;
  for (std::size_t k = 0; k < P.size(); ++k) {
    const real d = P.data()[k] - T.data()[k];
    s += d * d;
  }
  t.node(y.index()).value(0, 0) = s / real(P.size());
  return y;
}

Var mse(Var pred, const Tensor& target) { return mse(pred, pred.tape().constant(target)); }

Var cross_entropy(Var logits, const std::vector<std::size_t>& labels) {
  const Tensor& X = logits.value();
  const std::size_t B = X.shape(0), C = X.shape(1);
  if (labels.size() != B)
    throw std::invalid_argument("cross_entropy: " + std::to_string(labels.size()) + " labels for logits " +
                                shape_str(X) + " (one label per row)");
  if (B == 0) throw std::invalid_argument("cross_entropy: empty batch " + shape_str(X));
  for (std::size_t i = 0; i < B; ++i)
    if (labels[i] >= C)
      throw std::invalid_argument("cross_entropy: label " + std::to_string(labels[i]) + " at row " +
                                  std::to_string(i) + " is out of range for " + std::to_string(C) + " classes");
  Tape& t = logits.tape();
  Var y = t.push("cross_entropy", {1, 1}, {logits}, [](Tape& t, const Node& n) {
    // ∂x = g/B · (softmax − onehot(label)); saved holds log_softmax(x).
    Tensor* dx = t.grad_buffer(n.in[0]);
    if (!dx) return;
    const std::size_t B = n.saved.shape(0), C = n.saved.shape(1);
    const real c = n.grad(0, 0) / real(B);
    for (std::size_t i = 0; i < B; ++i) {
      for (std::size_t j = 0; j < C; ++j) (*dx)(i, j) += c * std::exp(n.saved(i, j));
      (*dx)(i, n.ints[i]) -= c;
    }
  });
  Node& nd = t.node(y.index());
  nd.ints.assign(labels.begin(), labels.end());
  nd.saved.resize({B, C});
  detail::log_softmax_rows(X, nd.saved);
  real s = 0;
  for (std::size_t i = 0; i < B; ++i) s -= nd.saved(i, labels[i]);
  nd.value(0, 0) = s / real(B);
  return y;
}

Var binary_cross_entropy_with_logits(Var logits, const Tensor& targets) {
  const Tensor& X = logits.value();
  if (shape_of(X) != shape_of(targets))
    throw std::invalid_argument("binary_cross_entropy_with_logits: logits " + shape_str(X) + " and targets " +
                                shape_str(targets) + " differ in shape");
  if (X.size() == 0) throw std::invalid_argument("binary_cross_entropy_with_logits: empty input");
  Tape& t = logits.tape();
  Var y = t.push("binary_cross_entropy_with_logits", {1, 1}, {logits}, [](Tape& t, const Node& n) {
    const Tensor& X = t.node(n.in[0]).val();
    const real c = n.grad(0, 0) / real(X.size());
    t.accumulate(n.in[0], c * (real(1) / (real(1) + xt::exp(-X)) - n.saved));  // (σ(x) − t)/N
  });
  Node& nd = t.node(y.index());
  nd.saved = targets;
  real s = 0;
  for (std::size_t k = 0; k < X.size(); ++k) {
    const real x = X.data()[k], z = targets.data()[k];
    s += std::max(x, real(0)) - x * z + std::log1p(std::exp(-std::abs(x)));
  }
  nd.value(0, 0) = s / real(X.size());
  return y;
}

}  // namespace mtlgrad
