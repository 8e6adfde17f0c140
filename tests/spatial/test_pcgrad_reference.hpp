#pragma once
// A direct implementation of PCGrad's pseudo-code (Yu et al. 2020, Algorithm 1) on plain vectors
// of double, with the per-pair strength of the memory family: the test oracle for the Gramian
// kernel. Deliberately naive: every dot product on the vectors themselves.
#include <vector>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad::test {

using Vec = std::vector<double>;
using Perms = std::vector<std::vector<std::size_t>>;

inline double vdot(const Vec& a, const Vec& b) {
  double s = 0;
  for (std::size_t k = 0; k < a.size(); ++k) s += a[k] * b[k];
  return s;
}

inline std::vector<Vec> rows_of(const Tensor& J) {
  std::vector<Vec> g(J.shape(0), Vec(J.shape(1)));
  for (std::size_t i = 0; i < J.shape(0); ++i)
    for (std::size_t k = 0; k < J.shape(1); ++k) g[i][k] = double(J(i, k));
  return g;
}

inline Perms fixed_perms(std::size_t T) {
  Perms p(T);
  for (auto& v : p)
    for (std::size_t j = 0; j < T; ++j) v.push_back(j);
  return p;
}

/// d of pcgrad: for each i, g_i' = g_i; for j in perms[i], j != i: if g_i'·g_j < 0,
/// g_i' -= lambda[i][j] (g_i'·g_j / |g_j|^2) g_j (g_j original); d = sum (or mean) of g_i'.
/// lambda empty: 1 everywhere.
inline Tensor direct_pcgrad(const std::vector<Vec>& g, const Perms& perms,
                            const std::vector<Vec>& lambda = {}, bool mean = false) {
  const std::size_t T = g.size(), P = g[0].size();
  Tensor d = zeros(1, P);
  for (std::size_t i = 0; i < T; ++i) {
    Vec gi = g[i];
    for (std::size_t j : perms[i]) {
      if (j == i) continue;
      const double dot = vdot(gi, g[j]);
      if (dot < 0) {
        const double s = (lambda.empty() ? 1.0 : lambda[i][j]) * dot / vdot(g[j], g[j]);
        for (std::size_t k = 0; k < P; ++k) gi[k] -= s * g[j][k];
      }
    }
    for (std::size_t k = 0; k < P; ++k) d(0, k) += real(mean ? gi[k] / double(T) : gi[k]);
  }
  return d;
}

}  // namespace mtlgrad::test
