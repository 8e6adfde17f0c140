// 02 — an MLP fits a curve with plain gradient descent, written out in full.
//
// Data: 128 points x uniform in [−1, 1], y = sin(3x) + N(0, 0.05²) noise, from a seeded Rng (the run
// is bit-for-bit repeatable). Model: 1-32-32-1 with tanh (mlp() from the nn layer). Loss: mse.
// Each step records the forward pass on the tape, runs backward (which accumulates into every
// Parameter::grad), and takes one gradient-descent step by hand:
//
//     p.value −= lr · p.grad;   p.grad = 0
//
// No optimizer layer is involved. The noise alone costs 0.05² = 0.0025 of mse, so a good fit ends
// a little above that. The program exits with 0 only if the final loss is below kThreshold.
#include <cmath>
#include <cstdio>

#include <xtensor/xnoalias.hpp>

#include "mtlgrad/nn/module.hpp"

using namespace mtlgrad;

namespace {
constexpr std::size_t kPoints = 128;
constexpr int kSteps = 6000;
constexpr int kPrintEvery = 500;
constexpr real kLearningRate = real(0.03);
constexpr double kThreshold = 0.005;  ///< final mse must be below this: twice the noise floor 0.0025
}  // namespace

int main() {
  Rng rng(2026);
  Tensor x = rng.uniform_tensor(kPoints, 1, -1, 1);
  Tensor y = zeros(kPoints, 1);
  for (std::size_t i = 0; i < kPoints; ++i) y(i, 0) = std::sin(real(3) * x(i, 0)) + rng.normal(0, real(0.05));

  auto model = mlp({1, 32, 32, 1}, "tanh", rng);
  std::printf("%s, %zu parameters\n", model->describe().c_str(), model->num_parameters());
  const std::vector<Parameter*> params = model->parameters();
  model->zero_grad();

  Tape tape;
  double loss = 0;
  for (int step = 0; step <= kSteps; ++step) {
    tape.clear();  // a new recording; the node buffers of the last step are reused
    Var L = mse(model->forward(tape, tape.input(x)), y);
    loss = L.item();
    if (step % kPrintEvery == 0) std::printf("step %5d   mse %.6f\n", step, loss);
    if (step == kSteps) break;
    tape.backward(L);
    for (Parameter* p : params) {
      xt::noalias(p->value) -= kLearningRate * p->grad;  // the gradient-descent step
      p->grad.fill(0);                                   // backward accumulates: reset for the next step
    }
  }
  const bool ok = loss < kThreshold;
  std::printf("final mse %.6f (threshold %.3g): %s\n", loss, kThreshold, ok ? "fitted" : "NOT fitted");
  return ok ? 0 : 1;
}
