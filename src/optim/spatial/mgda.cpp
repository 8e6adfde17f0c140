#include "mtlgrad/optim/mgda.hpp"

#include "mtlgrad/optim/solvers.hpp"

namespace mtlgrad {

MGDA::MGDA(std::size_t max_iter, real tol) : max_iter_(max_iter), tol_(tol) {
  if (max_iter < 1) throw std::invalid_argument("mgda: max_iter = 0 is out of range (expected >= 1)");
  if (!(tol >= 0)) throw std::invalid_argument("mgda: tol = " + std::to_string(tol) + " is out of range (expected >= 0)");
}

void MGDA::weigh(const Tensor& G, Rng& /*rng*/, std::vector<real>& w) {
  report(solvers::min_norm_simplex(G, max_iter_, tol_, w));
}

nlohmann::json MGDA::options() const { return {{"name", name()}, {"max_iter", max_iter_}, {"tol", tol_}}; }

}  // namespace mtlgrad
