// Surgery with a memory (docs/algorithms.md, "Surgery with a memory"; docs/spatial.md): PCGrad decides at every step from
// that step's gradients alone; ada-, rmsprop- and adam-pcgrad remember how often / how
// consistently a pair has conflicted and project with a strength λ ∈ [0, 1].
//
// Two fixed sequences of 2-task Jacobians (P = 2) are fed to all four stages, step by step:
//   1. systematic conflict: g2 points against g1 at every step (the cosine wobbles a little);
//   2. alternating conflict: g2 conflicts at odd steps and agrees at even ones, as a
//      mini-batch's noise might make it do.
// For each step it prints cos(g1, g2), whether they conflict, λ_12 of each stage (the strength
// with which g1 is projected off g2; pcgrad's is 1 at a conflict) and the direction d.
// What to see: under systematic conflict every λ climbs to (about) 1 and the memory stages do
// what pcgrad does; under alternating conflict ada/rmsprop settle near 1/2 and adam at 0 (the
// mean cosine is positive here), so the memory stages project the noise-made conflicts only
// partly or not at all, and d keeps more of the sum.
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/optim/aggregator.hpp"

using namespace mtlgrad;

namespace {

void run(const char* title, const std::vector<Tensor>& jacobians) {
  const char* names[] = {"pcgrad", "ada-pcgrad", "rmsprop-pcgrad", "adam-pcgrad"};
  std::vector<std::unique_ptr<Aggregator>> stages;
  for (const char* n : names) stages.push_back(make_aggregator({{"name", n}, {"order", "fixed"}}));
  Rng rng(0);  // unused with order "fixed"
  Aggregation out;
  std::printf("%s\n", title);
  std::printf("%4s %15s %15s %6s %8s %13s |%-18s|%-18s|%-18s|%-18s\n", "t", "g1", "g2", "cos", "conflict",
              "sum d", " pcgrad: λ, d", " ada: λ, d", " rmsprop: λ, d", " adam: λ, d");
  for (std::size_t t = 0; t < jacobians.size(); ++t) {
    const Tensor& J = jacobians[t];
    const real dot = J(0, 0) * J(1, 0) + J(0, 1) * J(1, 1);
    const real cosine = dot / (std::hypot(J(0, 0), J(0, 1)) * std::hypot(J(1, 0), J(1, 1)));
    std::printf("%4zu (%5.2f, %5.2f) (%5.2f, %5.2f) %6.3f %8s (%4.2f, %4.2f) |", t + 1, double(J(0, 0)),
                double(J(0, 1)), double(J(1, 0)), double(J(1, 1)), double(cosine), dot < 0 ? "yes" : "no",
                double(J(0, 0) + J(1, 0)), double(J(0, 1) + J(1, 1)));
    for (auto& s : stages) {
      s->aggregate(J, rng, out);
      // pcgrad has no memory: λ = 1 wherever it projects
      const real lambda = out.pair_strength.size() ? out.pair_strength(0, 1) : real(dot < 0 ? 1 : 0);
      std::printf(" %4.2f (%4.2f, %4.2f)|", double(lambda), double(out.direction(0, 0)), double(out.direction(0, 1)));
    }
    std::printf("\n");
  }
  std::printf("\n");
}

}  // namespace

int main() {
  std::vector<Tensor> systematic, alternating;
  for (int t = 0; t < 8; ++t) {
    const real wobble = real(0.1) * real((t % 3) - 1);
    systematic.push_back(matrix({{1, 0.3}, {real(-0.8) + wobble, 0.6}}));
    alternating.push_back(t % 2 == 0 ? matrix({{1, 0.3}, {-0.8, 0.6}}) : matrix({{1, 0.3}, {0.8, 0.6}}));
  }
  run("1. systematic conflict: g1·g2 < 0 at every step", systematic);
  run("2. alternating conflict: g1·g2 < 0 at odd steps only", alternating);
  std::printf("ada: λ = n/t (conflicts so far / steps); rmsprop: λ = r/(1 − 0.9^t), r = 0.9 r + 0.1·1[conflict];\n"
              "adam: λ = clip(−m̂/(√v̂ + ε), 0, 1) with m, v the moments (0.9, 0.999) of the cosine.\n"
              "λ acts only at a step where the pair conflicts (g1·g2 < 0); at the other steps it is only\n"
              "remembered, and d equals the plain sum. pcgrad's λ is shown as 1 where it projects, 0 elsewhere.\n");
  return 0;
}
