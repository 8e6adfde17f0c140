#pragma once
/// @file detail/assign.hpp
/// Assignment of an xtensor expression into a Tensor without xtensor's per-assignment resize
/// check, for the library's hot loops (the tape's ops and gradients, the trainer's parameter
/// copies). Not installed: it reaches into xtensor's assignment internals (xt::assign_data), so
/// it is no part of mtlgrad's API.

#include <xtensor/xassign.hpp>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

namespace detail {
template <class E>
struct is_xfunction : std::false_type {};
template <class F, class... CT>
struct is_xfunction<xt::xfunction<F, CT...>> : std::true_type {};
}  // namespace detail

/// xt::noalias(dst) = e, with the same assignment loop xtensor picks, but without its resize step
/// when dst already has the result's shape: xtensor's resize compares the shapes through a
/// memcmp call on every assignment, a fifth of the time of a step made of 1×2 tensors (the CAGrad
/// toy; measured with perf). The broadcast shape and its "trivial" flag (no operand broadcasts,
/// so the linear loop is allowed) are computed as xtensor computes them.
template <class E>
void assign_in_place(Tensor& dst, const xt::xexpression<E>& e) {
  const E& de = e.derived_cast();
  Shape s{1, 1};
  bool trivial = true;
  if constexpr (detail::is_xfunction<E>::value) {
    trivial = de.broadcast_shape(s, true);
  } else {
    s = {de.shape()[0], de.shape()[1]};
  }
  if (dst.shape(0) != s[0] || dst.shape(1) != s[1]) dst.resize(s);
  xt::assign_data(dst, e, trivial);
}
/// xt::noalias(dst) += e on the same terms (e must broadcast to dst's shape).
template <class E>
void add_in_place(Tensor& dst, const xt::xexpression<E>& e) {
  assign_in_place(dst, dst + e.derived_cast());
}

}  // namespace mtlgrad
