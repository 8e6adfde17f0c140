// 05: the temporal stage's history, runnable. Every registered optimizer races on three classic
// functions with analytic gradients: Rosenbrock's valley (1960), a quadratic whose curvatures span
// three orders of magnitude, and Beale's function (1958). Each optimizer gets its best learning
// rate from a small grid (fewest steps to reach f − f* < tol, then the lowest final value), and
// takes its gradients where it asks for them (lookahead(): nag's θ − η μ v, θ for the others).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "mtlgrad/optim/optimizer.hpp"

using namespace mtlgrad;

namespace {

struct Problem {
  std::string name;
  Tensor start;
  std::function<real(const Tensor&)> f;        // f* = 0 for all three
  std::function<void(const Tensor&, Tensor&)> grad;
};

Problem rosenbrock() {
  return {"rosenbrock", row({-1.5, 2}),
          [](const Tensor& t) {
            const real x = t(0, 0), y = t(0, 1);
            return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x);
          },
          [](const Tensor& t, Tensor& g) {
            const real x = t(0, 0), y = t(0, 1);
            g(0, 0) = -2 * (1 - x) - 400 * x * (y - x * x);
            g(0, 1) = 200 * (y - x * x);
          }};
}

// f = ½ Σ h_i x_i², h_i = 10^(3 i / 9): condition number 1000. The start is not a multiple of
// (1, ..., 1), or sign-like first steps (adam, rmsprop, adagrad: ±lr each) would land on 0.
Problem ill_conditioned_quadratic() {
  Tensor h = zeros(1, 10), x0 = zeros(1, 10);
  for (std::size_t i = 0; i < 10; ++i) {
    h(0, i) = std::pow(real(10), real(3) * real(i) / 9);
    x0(0, i) = 1 + real(i) / 7;
  }
  return {"quadratic (cond 1e3)", x0,
          [h](const Tensor& t) {
            real f = 0;
            for (std::size_t i = 0; i < t.size(); ++i) f += real(0.5) * h(0, i) * t(0, i) * t(0, i);
            return f;
          },
          [h](const Tensor& t, Tensor& g) {
            for (std::size_t i = 0; i < t.size(); ++i) g(0, i) = h(0, i) * t(0, i);
          }};
}

// Beale: (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)², minimum 0 at (3, 0.5).
Problem beale() {
  return {"beale", row({1, 1.5}),
          [](const Tensor& t) {
            const real x = t(0, 0), y = t(0, 1);
            const real a = real(1.5) - x + x * y, b = real(2.25) - x + x * y * y, c = real(2.625) - x + x * y * y * y;
            return a * a + b * b + c * c;
          },
          [](const Tensor& t, Tensor& g) {
            const real x = t(0, 0), y = t(0, 1);
            const real a = real(1.5) - x + x * y, b = real(2.25) - x + x * y * y, c = real(2.625) - x + x * y * y * y;
            g(0, 0) = 2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y * y * y - 1);
            g(0, 1) = 2 * a * x + 2 * b * 2 * x * y + 2 * c * 3 * x * y * y;
          }};
}

struct Result {
  real lr = 0;
  long steps = -1;  // steps to reach f < tol; -1: not within the budget
  real final_f = INFINITY;
};

constexpr long kBudget = 20000;
constexpr real kTol = real(1e-6);

Result race(const std::string& optimizer, real lr, const Problem& p) {
  auto opt = make_optimizer({{"name", optimizer}, {"lr", lr}});
  Tensor theta = p.start, g = zeros(shape_of(theta));
  std::vector<Tensor> look;
  Result r;
  r.lr = lr;
  for (long t = 1; t <= kBudget; ++t) {
    opt->lookahead({&theta}, look);
    p.grad(look[0], g);
    opt->step({&theta}, {&g});
    r.final_f = p.f(theta);
    if (!std::isfinite(r.final_f)) return r;  // diverged
    if (r.steps < 0 && r.final_f < kTol) {
      r.steps = t;
      break;
    }
  }
  return r;
}

bool better(const Result& a, const Result& b) {
  if ((a.steps >= 0) != (b.steps >= 0)) return a.steps >= 0;
  if (a.steps >= 0) return a.steps < b.steps;
  return a.final_f < b.final_f;
}

}  // namespace

int main() {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<real> grid = {1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1, 3};
  for (const auto& p : {rosenbrock(), ill_conditioned_quadratic(), beale()}) {
    std::printf("\n%s: f(start) = %.4g, steps to f < %.0e (budget %ld), best lr of a 1e-4..3 grid\n",
                p.name.c_str(), double(p.f(p.start)), double(kTol), kBudget);
    std::printf("  %-9s %8s %8s %12s\n", "optimizer", "lr", "steps", "final f");
    for (const auto& name : optimizers().names()) {
      Result best;
      for (real lr : grid) {
        const Result r = race(name, lr, p);
        if (better(r, best)) best = r;
      }
      const std::string steps = best.steps >= 0 ? std::to_string(best.steps) : std::string("-");
      std::printf("  %-9s %8.0e %8s %12.3e\n", name.c_str(), double(best.lr), steps.c_str(), double(best.final_f));
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("\n(%.2f s) Every option but lr keeps its default. The quadratic is axis-aligned, which the\n"
              "per-coordinate methods (adagrad, rmsprop, adam, ...) exploit: rotate it and their lead shrinks.\n"
              "adamw's weight_decay = 1e-2 pulls θ towards 0, off the minima of rosenbrock and beale.\n", secs);
  return 0;
}
