#include "mtlgrad/optim/mgda.hpp"

#include "mtlgrad/optim/solvers.hpp"

#include "registry_parts.hpp"

namespace mtlgrad {

MGDA::MGDA(std::size_t max_iter, real tol) : max_iter_(max_iter), tol_(tol) {
  if (max_iter < 1) throw std::invalid_argument("mgda: max_iter = 0 is out of range (expected >= 1)");
  if (!(tol >= 0)) throw std::invalid_argument("mgda: tol = " + std::to_string(tol) + " is out of range (expected >= 0)");
}

void MGDA::weigh(const Tensor& G, Rng& /*rng*/, std::vector<real>& w) {
  report(solvers::min_norm_simplex(G, max_iter_, tol_, w));
}

nlohmann::json MGDA::options() const { return {{"name", name()}, {"max_iter", max_iter_}, {"tol", tol_}}; }

namespace detail {

// list order: 90
void register_aggregator_mgda(Registry<Aggregator>& r) {
  r.add({"mgda", "min-norm point of the convex hull of the task gradients (Desideri 2012; Sener & Koltun 2018)",
         {option<std::size_t>("max_iter", 1000, "iterations of the min-norm-point solver (T > 2)", Range::at_least(1)),
          option<real>("tol", real(1e-8), "the solver's tolerance", Range::at_least(0))},
         factory([](OptionReader& o) {
           const auto max_iter = o.require<std::size_t>("max_iter");
           const real tol = o.require<real>("tol");
           return [=] { return std::make_unique<MGDA>(max_iter, tol); };
         })});
}

}  // namespace detail

}  // namespace mtlgrad
