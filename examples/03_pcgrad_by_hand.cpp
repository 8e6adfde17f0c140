// PCGrad by hand on two tasks (Yu et al. 2020, "Gradient Surgery for Multi-Task Learning",
// arXiv 2001.06782), in the order of the picture that the PCGrad blog post uses to explain it:
//   (a) two task gradients that conflict (their cosine is negative),
//   (b) g1 projected onto the normal plane of g2,
//   (c) g2 projected onto the normal plane of g1 (against the ORIGINAL g1),
//   (d) the sum of the projected gradients, which no longer points against either task,
//       next to the plain sum, which does.
// Every number is printed, then the library's "pcgrad" stage is run on the same Jacobian.
#include <cmath>
#include <cstdio>

#include "mtlgrad/optim/aggregator.hpp"

using mtlgrad::real;

namespace {

constexpr int P = 3;
using Vec = real[P];

real dot(const Vec& a, const Vec& b) {
  real s = 0;
  for (int k = 0; k < P; ++k) s += a[k] * b[k];
  return s;
}

void print(const char* name, const Vec& v) {
  std::printf("  %-22s = [%8.4f, %8.4f, %8.4f]\n", name, double(v[0]), double(v[1]), double(v[2]));
}

// out = a - (a·b / |b|²) b: a with its component along b removed (a projected onto b's normal plane).
void project_out(const Vec& a, const Vec& b, Vec& out) {
  const real c = dot(a, b) / dot(b, b);
  std::printf("  a·b = %.4f, |b|^2 = %.4f, coefficient a·b/|b|^2 = %.4f\n", double(dot(a, b)), double(dot(b, b)),
              double(c));
  for (int k = 0; k < P; ++k) out[k] = a[k] - c * b[k];
}

}  // namespace

int main() {
  // The Jacobian of TorchJD's tests: two tasks, three shared parameters.
  const Vec g1 = {-4, 1, 1}, g2 = {6, 1, 1};
  std::printf("(a) the task gradients\n");
  print("g1", g1);
  print("g2", g2);
  const real n1 = std::sqrt(dot(g1, g1)), n2 = std::sqrt(dot(g2, g2));
  const real cosine = dot(g1, g2) / (n1 * n2);
  std::printf("  |g1| = %.4f, |g2| = %.4f, g1·g2 = %.4f\n", double(n1), double(n2), double(dot(g1, g2)));
  std::printf("  cos(g1, g2) = %.4f -> %s\n\n", double(cosine),
              cosine < 0 ? "negative: the gradients CONFLICT, so PCGrad projects"
                         : "not negative: no conflict, PCGrad leaves them alone");

  Vec p1, p2;
  std::printf("(b) g1 onto the normal plane of g2:  g1' = g1 - (g1·g2/|g2|^2) g2\n");
  project_out(g1, g2, p1);
  print("g1'", p1);
  std::printf("  check g1'·g2 = %.2e (zero: g1' no longer conflicts with g2)\n\n", double(dot(p1, g2)));
  std::printf("(c) g2 onto the normal plane of g1:  g2' = g2 - (g2·g1/|g1|^2) g1   (the ORIGINAL g1)\n");
  project_out(g2, g1, p2);
  print("g2'", p2);
  std::printf("  check g2'·g1 = %.2e\n\n", double(dot(p2, g1)));

  Vec d, sum;
  for (int k = 0; k < P; ++k) {
    d[k] = p1[k] + p2[k];
    sum[k] = g1[k] + g2[k];
  }
  std::printf("(d) the update: PCGrad d = g1' + g2' versus the plain sum g1 + g2\n");
  print("PCGrad d", d);
  print("sum g1 + g2", sum);
  std::printf("  first-order change of each loss along -step (positive = the loss goes down):\n");
  std::printf("    PCGrad: d·g1 = %8.4f   d·g2 = %8.4f\n", double(dot(d, g1)), double(dot(d, g2)));
  std::printf("    sum:    s·g1 = %8.4f   s·g2 = %8.4f%s\n\n", double(dot(sum, g1)), double(dot(sum, g2)),
              dot(sum, g1) < 0 || dot(sum, g2) < 0 ? "   <- the plain sum makes one task worse" : "");

  // The library computes the same on the Gramian: d = w1 g1 + w2 g2.
  mtlgrad::Tensor J = mtlgrad::zeros(2, P);
  for (int k = 0; k < P; ++k) {
    J(0, k) = g1[k];
    J(1, k) = g2[k];
  }
  auto pcgrad = mtlgrad::make_aggregator({{"name", "pcgrad"}});
  mtlgrad::Rng rng(0);
  mtlgrad::Aggregation out;
  pcgrad->aggregate(J, rng, out);
  std::printf("the library's pcgrad on the same J (weights w: d = w1 g1 + w2 g2)\n");
  std::printf("  w = [%.4f, %.4f]  (by hand: 1 + 22/18 = %.4f, 1 + 22/38 = %.4f)\n", double(out.weights[0]),
              double(out.weights[1]), 1 + 22.0 / 18, 1 + 22.0 / 38);
  std::printf("  d = [%8.4f, %8.4f, %8.4f]\n", double(out.direction(0, 0)), double(out.direction(0, 1)),
              double(out.direction(0, 2)));
  return 0;
}
