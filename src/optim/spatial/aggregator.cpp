#include "mtlgrad/optim/aggregator.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "mtlgrad/optim/gramian.hpp"

namespace mtlgrad {

void Aggregator::aggregate_with_gramian(const Tensor& J, const Tensor& G, Rng& rng, Aggregation& out) {
  const std::size_t T = J.shape(0);
  if (G.shape(0) != T || G.shape(1) != T)
    throw std::invalid_argument(name() + ": the given Gramian has shape " + shape_str(G) + ", the Jacobian " +
                                shape_str(J) + " needs " + std::to_string(T) + "x" + std::to_string(T));
  // Reset on every exit, an exception included: a later aggregate() must not see this G.
  struct Given {
    const Tensor*& slot;
    ~Given() { slot = nullptr; }
  } given{given_gramian_ = &G};
  aggregate(J, rng, out);
}

const Tensor& Aggregator::checked_gramian(const char* stage, const Tensor& J, Tensor& scratch) const {
  check_input(stage, J);
  if (!given_gramian_) {
    gramian(J, scratch);
    return scratch;
  }
  check_gramian_diagonal(J, *given_gramian_);  // J is finite: a non-finite G_ii is an overflow
  return *given_gramian_;
}

void Aggregator::check_input(const char* stage, const Tensor& J) const {
  if (!given_gramian_ || J.shape(0) == 0) return check_jacobian(stage, J);
  // Row i holds a NaN or ±inf only if G_ii = ‖g_i‖² is not finite; a finite J whose G_ii overflows
  // is valid input for a stage that needs no Gramian (checked_gramian() rejects it).
  const Tensor& G = *given_gramian_;
  for (std::size_t i = 0; i < G.shape(0); ++i)
    if (!std::isfinite(G(i, i))) return check_jacobian(stage, J);
}

}  // namespace mtlgrad
