#include "mtlgrad/optim/sdmgrad.hpp"

#include <cmath>

#include "mtlgrad/core/blas.hpp"
#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/memory.hpp"
#include "mtlgrad/optim/solvers.hpp"
#include "registry_parts.hpp"
#include "stage_state.hpp"

namespace mtlgrad {

SDMGrad::SDMGrad(real lambda, real lr, real momentum, std::size_t n_iter)
    : lambda_(lambda), lr_(lr), momentum_(momentum), n_iter_(n_iter) {
  detail::check_option(lambda >= 0 && std::isfinite(lambda), "sdmgrad", "lambda", lambda, ">= 0");
  detail::check_option(lr > 0 && std::isfinite(lr), "sdmgrad", "lr", lr, "> 0");
  detail::check_option(momentum >= 0 && momentum < 1, "sdmgrad", "momentum", momentum, "in [0, 1)");
  detail::check_option(n_iter >= 1, "sdmgrad", "n_iter", real(n_iter), ">= 1");
}

void SDMGrad::observe_extra_jacobians(const Tensor& J_a, const Tensor& J_b) {
  check_jacobian("sdmgrad: extra Jacobian J_a", J_a);
  check_jacobian("sdmgrad: extra Jacobian J_b", J_b);
  if (shape_of(J_a) != shape_of(J_b))
    throw std::invalid_argument("sdmgrad: the extra Jacobians have shapes " + shape_str(J_a) + " and " + shape_str(J_b));
  Ja_ = J_a;
  Jb_ = J_b;
  extra_ = true;
}

void SDMGrad::aggregate(const Tensor& J, Rng& /*rng*/, Aggregation& out) {
  const std::size_t T = J.shape(0);
  const bool extra = extra_;
  extra_ = false;  // one pair per aggregate()
  if (extra) {
    check_input("sdmgrad", J);
    if (shape_of(Ja_) != shape_of(J))
      throw std::invalid_argument("sdmgrad: the extra Jacobians have shape " + shape_str(Ja_) + ", the Jacobian " +
                                  shape_str(J));
    // A = J_a J_bᵀ, an unbiased estimate of G (not symmetric). One GEMM: T² separate dots of
    // length P read both Jacobians T times from memory (at T = 64, P = 266 752: ~17 GB, seconds).
    const std::size_t P = J.shape(1);
    A_.resize({T, T});
    blas::gemm(false, true, T, T, P, real(1), Ja_.data(), P, Jb_.data(), P, real(0), A_.data(), T);
  } else {
    A_ = checked_gramian("sdmgrad", J, G_);
  }
  if (T_ == 0) {
    T_ = T;
    w_.assign(T, real(1) / real(T));
  }
  check_task_count("sdmgrad", T_, T);
  real sigma = 0;
  for (std::size_t i = 0; i < T; ++i) sigma += std::sqrt(std::max(A_(i, i), real(0)));
  sigma /= real(T);
  const real scale = sigma * sigma + real(1e-8);
  a_.assign(T, real(0));
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) {
      A_(i, j) /= scale;
      a_[i] += A_(i, j);
    }
  for (real& v : a_) v /= real(T);
  b_.assign(T, real(0));
  q_.resize(T);
  for (std::size_t it = 0; it < n_iter_; ++it) {
    for (std::size_t i = 0; i < T; ++i) {
      real s = 0;
      for (std::size_t j = 0; j < T; ++j) s += A_(i, j) * w_[j];
      q_[i] = s + lambda_ * a_[i];
    }
    for (std::size_t i = 0; i < T; ++i) {
      b_[i] = it == 0 ? q_[i] : momentum_ * b_[i] + q_[i];
      w_[i] -= lr_ * b_[i];
    }
    solvers::project_simplex(w_);
  }
  out.weights.resize(T);
  for (std::size_t i = 0; i < T; ++i) out.weights[i] = (w_[i] + lambda_ / real(T)) / (1 + lambda_);
  combine(J, out.weights, out.direction);
  out.pair_strength.resize({0, 0});
}

void SDMGrad::reset() {
  T_ = 0;
  w_.clear();
  extra_ = false;
}

nlohmann::json SDMGrad::state() const { return {{"tasks", T_}, {"w", w_}}; }

void SDMGrad::load_state(const nlohmann::json& s) {
  if (s.is_null()) return reset();
  const std::size_t T = detail::state_tasks("sdmgrad", s);
  auto w = detail::state_list("sdmgrad", s, "w", T);
  for (real v : w)
    if (v < 0) throw std::invalid_argument("sdmgrad: load_state: 'w' holds a negative weight (w lies on the simplex)");
  T_ = T;
  w_ = std::move(w);
  extra_ = false;
}

namespace detail {
void register_aggregator_sdmgrad(Registry<Aggregator>& r) {
  r.add({"sdmgrad", "stochastic direction-oriented MGDA: simplex SGD on ½‖Jᵀw‖² + λ⟨Jᵀw, ḡ⟩ (Xiao et al. 2023, arXiv 2305.18409)",
         {option<real>("lambda", real(0.3), "λ: how far d leans towards the mean gradient", Range::at_least(0)),
          option<real>("lr", 5, "step size of the inner projected SGD on w", Range::above(0)),
          option<real>("momentum", real(0.5), "momentum μ of the inner SGD", Range::half_open(0, 1)),
          option<std::size_t>("n_iter", 20, "inner SGD iterations per step", Range::at_least(1))},
         factory([](OptionReader& o) {
           const real lambda = o.require<real>("lambda");
           const real lr = o.require<real>("lr");
           const real momentum = o.require<real>("momentum");
           const auto n_iter = o.require<std::size_t>("n_iter");
           return [=] { return std::make_unique<SDMGrad>(lambda, lr, momentum, n_iter); };
         })});
}
}  // namespace detail

}  // namespace mtlgrad
