// nag: the classical Nesterov form of docs/algorithms.md "nag", written out by hand on a quadratic.
#include <doctest/doctest.h>

#include "mtlgrad/optim/nag.hpp"
#include "mtlgrad/optim/sgd.hpp"
#include "test_util.hpp"

using namespace mtlgrad;

TEST_SUITE("temporal nag") {

TEST_CASE("nag iterates equal θ̃ = θ − ημv, v = μv + ∇f(θ̃), θ = θ − ηv on f = ½ a θ² − b θ") {
  const real a[2] = {3, real(0.5)}, b[2] = {1, -2}, lr = real(0.1), mu = real(0.8);
  NAGOptions o;
  o.lr = lr;
  o.momentum = mu;
  NAG nag(o);
  CHECK(nag.has_lookahead());
  Tensor theta = row({2, -1});
  real th[2] = {2, -1}, v[2] = {0, 0};  // the formula, by hand
  std::vector<Tensor> look;
  for (int t = 1; t <= 40; ++t) {
    CAPTURE(t);
    nag.lookahead({&theta}, look);
    const Tensor g = row({a[0] * look[0](0, 0) - b[0], a[1] * look[0](0, 1) - b[1]});
    nag.step({&theta}, {&g});
    for (int i = 0; i < 2; ++i) {
      const real th_look = th[i] - lr * mu * v[i];
      CHECK(look[0](0, i) == doctest::Approx(th_look).epsilon(tolerance(1e-14, 1e-6)));
      v[i] = mu * v[i] + (a[i] * th_look - b[i]);
      th[i] = th[i] - lr * v[i];
      CHECK(theta(0, i) == doctest::Approx(th[i]).epsilon(tolerance(1e-12, 1e-5)));
    }
  }
  // 40 steps on a well-conditioned quadratic: near the minimiser b / a.
  CHECK(theta(0, 0) == doctest::Approx(1.0 / 3).epsilon(1e-2));
  CHECK(theta(0, 1) == doctest::Approx(-4.0).epsilon(5e-2));
}

TEST_CASE("before its first step nag looks ahead at θ itself, other optimizers always do") {
  NAG nag;
  const Tensor theta = row({1, 2, 3});
  std::vector<Tensor> look;
  nag.lookahead({&theta}, look);
  REQUIRE(look.size() == 1);
  CHECK(look[0] == theta);
  SGD sgd;
  CHECK_FALSE(sgd.has_lookahead());
  std::vector<Tensor> out(3);
  sgd.lookahead({&theta}, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == theta);
}

TEST_CASE("nag differs from heavy-ball momentum (the gradient at θ) from the second step on") {
  NAGOptions o;
  o.lr = real(0.1);
  NAG nag(o);
  SGDOptions s;
  s.lr = real(0.1);
  s.momentum = real(0.9);
  SGD heavy(s);
  Tensor x = row({1}), y = row({1});
  std::vector<Tensor> look;
  for (int t = 0; t < 2; ++t) {
    nag.lookahead({&x}, look);
    const Tensor gx = 2 * look[0], gy = 2 * y;  // f = θ²
    nag.step({&x}, {&gx});
    heavy.step({&y}, {&gy});
    if (t == 0) CHECK(x == y);
  }
  // by hand: v1 = 2, θ1 = 0.8; θ̃ = 0.8 − 0.1·0.9·2 = 0.62; v2 = 1.8 + 1.24 = 3.04; θ2 = 0.496
  CHECK(x(0, 0) == doctest::Approx(0.496).epsilon(tolerance(1e-12, 1e-5)));
  CHECK(y(0, 0) != doctest::Approx(x(0, 0)));
}

TEST_CASE("nag lookahead checks the parameter list against its state") {
  NAG nag;
  Tensor p = row({1, 2});
  const Tensor g = row({1, 1});
  nag.step({&p}, {&g});
  std::vector<Tensor> look;
  const Tensor q = zeros(2, 2);
  CHECK_THROWS_WITH_SUBSTR(nag.lookahead({&p, &q}, look), "nag: lookahead: 2 params, but the state holds 1");
  CHECK_THROWS_WITH_SUBSTR(nag.lookahead({&q}, look), "nag: lookahead: params[0] has shape [2,2] but its state has shape [1,2]");
}

}  // TEST_SUITE
