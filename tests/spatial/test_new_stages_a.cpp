// famo, gradnorm, sdmgrad, imtl, moco and cr-mogm: golden multi-step sequences from
// tools/gen_new_stages_golden_a.py (written from the papers), with a state round trip in the middle
// of each; the properties every stage keeps (permutation of the tasks, scale of J, T = 1, zero J,
// P = 0, finiteness, state round trip, errors naming the stage); imtl's equal projections.
#include "test_util.hpp"

#include <cmath>
#include <limits>

#include <xtensor/xview.hpp>

#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/cr_mogm.hpp"
#include "mtlgrad/optim/famo.hpp"
#include "spatial/spatial_util.hpp"

using namespace mtlgrad;
using namespace mtlgrad::test;
using nlohmann::json;

namespace {

const std::vector<std::string> kNew = {"famo", "gradnorm", "sdmgrad", "imtl", "moco", "cr-mogm"};

std::vector<real> reals(const json& j) {
  std::vector<real> v;
  for (const auto& x : j) v.push_back(x.get<real>());
  return v;
}

// The per-step inputs of one sequence, in the trainer's order: losses, extra Jacobians, aggregate,
// losses after the step.
struct Inputs {
  std::vector<Tensor> J;
  std::vector<std::vector<real>> losses, after;
  std::vector<std::pair<Tensor, Tensor>> extra;
};

Aggregation step(Aggregator& a, const Inputs& in, std::size_t s, Rng& rng) {
  if (!in.losses.empty()) a.observe_losses(in.losses[s]);
  if (!in.extra.empty()) a.observe_extra_jacobians(in.extra[s].first, in.extra[s].second);
  Aggregation out;
  a.aggregate(in.J[s], rng, out);
  if (!in.after.empty()) a.observe_losses_after_step(in.after[s]);
  return out;
}

Inputs read_case(const json& c) {
  Inputs in;
  for (const auto& J : c["steps"]) in.J.push_back(from_rows(J));
  if (c.contains("losses"))
    for (const auto& l : c["losses"]) in.losses.push_back(reals(l));
  if (c.contains("losses_after"))
    for (const auto& l : c["losses_after"]) in.after.push_back(reals(l));
  if (c.contains("extra_steps"))
    for (const auto& e : c["extra_steps"]) in.extra.emplace_back(from_rows(e[0]), from_rows(e[1]));
  return in;
}

// Random inputs for `steps` steps of a T-task stage: losses in [0.5, 2], losses after 0.9× them,
// extra Jacobians near J.
Inputs random_inputs(Rng& g, std::size_t T, std::size_t P, std::size_t steps, const std::string& name) {
  Inputs in;
  for (std::size_t s = 0; s < steps; ++s) {
    const Tensor base = g.normal_tensor(1, P);
    Tensor J = g.normal_tensor(T, P);
    for (std::size_t i = 0; i < T; ++i)
      for (std::size_t c = 0; c < P; ++c) J(i, c) += base(0, c);
    in.J.push_back(J);
    std::vector<real> L(T), A(T);
    for (std::size_t i = 0; i < T; ++i) {
      L[i] = real(0.5) + real(1.5) * g.uniform();
      A[i] = L[i] * real(0.9);
    }
    in.losses.push_back(L);
    in.after.push_back(A);
    if (name == "sdmgrad") in.extra.emplace_back(J + real(0.3) * g.normal_tensor(T, P), J + real(0.3) * g.normal_tensor(T, P));
  }
  return in;
}

Inputs permuted(const Inputs& in, const std::vector<std::size_t>& perm) {
  Inputs out = in;
  const std::size_t T = perm.size();
  auto rows = [&](const Tensor& J) {
    Tensor Jp = J;
    for (std::size_t i = 0; i < T; ++i) xt::view(Jp, i, xt::all()) = xt::view(J, perm[i], xt::all());
    return Jp;
  };
  auto list = [&](const std::vector<real>& v) {
    std::vector<real> p(T);
    for (std::size_t i = 0; i < T; ++i) p[i] = v[perm[i]];
    return p;
  };
  for (auto& J : out.J) J = rows(J);
  for (auto& l : out.losses) l = list(l);
  for (auto& l : out.after) l = list(l);
  for (auto& e : out.extra) e = {rows(e.first), rows(e.second)};
  return out;
}

bool same_bits(const Aggregation& a, const Aggregation& b) {
  return a.direction == b.direction && a.weights == b.weights && a.head_scale == b.head_scale;
}

}  // namespace

TEST_SUITE("spatial") {

TEST_CASE("new stages a: golden sequences (tools/gen_new_stages_golden_a.py), with a state round trip mid-way") {
  const json fx = load_fixture("new_stages_a.json");
  std::size_t checked = 0;
  for (const auto& name : kNew) {
    REQUIRE(fx.contains(name));
    for (const auto& c : fx[name]) {
      CAPTURE(c["spec"].dump());
      const Inputs in = read_case(c);
      auto a = make_aggregator(c["spec"]);
      std::unique_ptr<Aggregator> resumed;
      Rng rng(0), rng2(0);
      const std::size_t half = in.J.size() / 2;
      for (std::size_t s = 0; s < in.J.size(); ++s) {
        CAPTURE(s);
        if (s == half) {  // a second stage restored from the first's saved state
          resumed = make_aggregator(c["spec"]);
          resumed->load_state(json::parse(a->state().dump()));
        }
        const Aggregation out = step(*a, in, s, rng);
        const json& e = c["expect"][s];
        // sdmgrad's inner SGD (lr 5) amplifies rounding; the others agree to a few ulps of ‖d‖.
        const double tol = tolerance(name == "sdmgrad" ? 1e-9 : 1e-11, 1e-3);
        CHECK_TENSOR_NEAR(out.direction, as_row(reals(e["grad"])), tol);
        if (e.contains("weights")) CHECK_TENSOR_NEAR(as_row(out.weights), as_row(reals(e["weights"])), tol);
        else CHECK(out.weights.empty());
        if (e.contains("head_scale")) CHECK_TENSOR_NEAR(as_row(out.head_scale), as_row(reals(e["head_scale"])), tol);
        else CHECK(out.head_scale.empty());
        if (resumed) CHECK(same_bits(step(*resumed, in, s, rng2), out));
        ++checked;
      }
      CHECK(a->state() == resumed->state());
    }
  }
  CHECK(checked == 66);
}

TEST_CASE("new stages a: permuting the tasks permutes the weights and leaves d, over several steps") {
  Rng g(101);
  for (const auto& name : kNew) {
    for (std::size_t T : {2u, 3u, 5u}) {
      CAPTURE(name);
      CAPTURE(T);
      const Inputs in = random_inputs(g, T, 9, 4, name);
      std::vector<std::size_t> perm(T);
      for (std::size_t i = 0; i < T; ++i) perm[i] = (T - i) % T;
      const Inputs inp = permuted(in, perm);
      auto a = make_aggregator(name), b = make_aggregator(name);
      Rng r1(0), r2(0);
      // In float, famo's Adam on its logits divides by √v̂: a logit gradient near 0 turns the
      // rounding that the task order changes into a relative change of the step, which compounds
      // over the steps (measured up to 6e-3 after four steps); in double it stays below 1e-9.
      const double tol = tolerance(1e-9, name == "famo" ? 1e-2 : 1e-3);
      for (std::size_t s = 0; s < in.J.size(); ++s) {
        const Aggregation x = step(*a, in, s, r1), y = step(*b, inp, s, r2);
        CHECK_TENSOR_NEAR(y.direction, x.direction, tol);
        REQUIRE(x.weights.size() == y.weights.size());
        for (std::size_t i = 0; i < x.weights.size(); ++i)
          CHECK(std::abs(y.weights[i] - x.weights[perm[i]]) <= tol * (1 + std::abs(x.weights[perm[i]])));
      }
    }
  }
}

TEST_CASE("new stages a: scaling J by c scales d by c (the weights depend on J's direction only) or leaves d (moco)") {
  // c > 1 only: sdmgrad's σ² + 1e-8 and moco's ‖g_i‖ + 1e-8 are absolute epsilons, which a tiny J
  // would feel. gradnorm's SGD step on s is in units of ‖g_i‖ (the paper's L_grad): J·c with lr/c
  // is the same sequence.
  Rng g(103);
  for (const auto& name : kNew) {
    CAPTURE(name);
    const Inputs in = random_inputs(g, 3, 6, 3, name);
    for (real c : {real(1e3), real(1e6)}) {
      Inputs ins = in;
      for (auto& J : ins.J) J = J * c;
      for (auto& e : ins.extra) e = {e.first * c, e.second * c};
      json spec{{"name", name}};
      if (name == "gradnorm") spec["lr"] = real(0.1);
      auto a = make_aggregator(spec);
      if (name == "gradnorm") spec["lr"] = real(0.1) / c;
      auto b = make_aggregator(spec);
      Rng r1(0), r2(0);
      for (std::size_t s = 0; s < in.J.size(); ++s) {
        const Aggregation x = step(*a, in, s, r1), y = step(*b, ins, s, r2);
        // gradnorm's update of s depends only on ratios of norms; moco normalises the rows.
        const real k = name == "moco" ? real(1) : c;
        CHECK_TENSOR_NEAR(y.direction / k, x.direction, tolerance(1e-7, 1e-3));
        CHECK_TENSOR_NEAR(as_row(y.weights), as_row(x.weights), tolerance(1e-7, 1e-3));
      }
    }
  }
}

TEST_CASE("new stages a: T = 1, zero J and P = 0 give finite results, and a state round trip continues bit-identically") {
  Rng g(107);
  const Tensor one = matrix({{1, -2, 3}});
  for (const auto& name : kNew) {
    CAPTURE(name);
    for (const Tensor& J : {one, zeros(3, 4), zeros(1, 4), g.normal_tensor(3, 0)}) {
      auto a = make_aggregator(name);
      Inputs in;
      for (int s = 0; s < 3; ++s) {
        in.J.push_back(J);
        in.losses.emplace_back(J.shape(0), real(1) + real(s));
        in.after.emplace_back(J.shape(0), real(0.5) + real(s));
      }
      Rng rng(1);
      for (std::size_t s = 0; s < 3; ++s) {
        const auto out = step(*a, in, s, rng);
        REQUIRE(out.direction.shape(1) == J.shape(1));
        CHECK(all_finite(out.direction));
        for (real w : out.weights) CHECK(std::isfinite(w));
        bool zero = true;
        for (real x : J) zero &= x == 0;
        if (zero) CHECK_TENSOR_NEAR(out.direction, zeros(1, J.shape(1)), 0);
        if (J.shape(0) == 1 && J.shape(1) == 3) {  // T = 1: a non-negative multiple of g
          CHECK(out.direction(0, 0) >= 0);
          CHECK_TENSOR_NEAR(out.direction, one * out.direction(0, 0), tolerance(1e-14, 1e-6));
        }
      }
    }
    // Round trip after a few steps of random input; reset() returns to the fresh stage.
    const Inputs in = random_inputs(g, 3, 5, 6, name);
    auto a = make_aggregator(name), fresh = make_aggregator(name);
    Rng r1(0), r2(0);
    for (std::size_t s = 0; s < 3; ++s) step(*a, in, s, r1);
    auto b = make_aggregator(name);
    b->load_state(json::parse(a->state().dump()));
    CHECK(b->state() == a->state());
    for (std::size_t s = 3; s < 6; ++s) CHECK(same_bits(step(*a, in, s, r1), step(*b, in, s, r2)));
    a->reset();
    CHECK(a->state() == fresh->state());
    b->load_state(nullptr);
    CHECK(b->state() == fresh->state());
  }
}

TEST_CASE("imtl: the update has equal projections on every unit task gradient, for any learned scales") {
  Rng g(109);
  for (std::size_t T : {2u, 3u, 4u}) {
    auto a = make_aggregator({{"name", "imtl"}, {"lr", 0.3}});
    Rng rng(0);
    for (int s = 0; s < 5; ++s) {
      const Tensor J = g.normal_tensor(T, 8);
      std::vector<real> L(T);
      for (std::size_t i = 0; i < T; ++i) L[i] = real(0.2) + real(i);
      a->observe_losses(L);
      Aggregation out;
      a->aggregate(J, rng, out);
      std::vector<real> proj(T);
      for (std::size_t i = 0; i < T; ++i) {
        real dot = 0, nn = 0;
        for (std::size_t k = 0; k < 8; ++k) dot += out.direction(0, k) * J(i, k), nn += J(i, k) * J(i, k);
        proj[i] = dot / std::sqrt(nn);
      }
      CHECK(proj[0] > 0);  // no conflict: every task's loss decreases along d
      for (std::size_t i = 1; i < T; ++i) CHECK(std::abs(proj[i] - proj[0]) <= tolerance(1e-10, 1e-4) * proj[0]);
    }
  }
}

TEST_CASE("sdmgrad: with lambda 0 and many small steps it reaches mgda's min-norm point (no conflict)") {
  Rng g(113);
  for (int trial = 0; trial < 5; ++trial) {
    const Tensor J = g.normal_tensor(3, 6);
    const auto sd = run({{"name", "sdmgrad"}, {"lambda", 0}, {"lr", 0.5}, {"momentum", 0}, {"n_iter", 20000}}, J);
    const auto mg = run({{"name", "mgda"}}, J);
    CHECK_TENSOR_NEAR(sd.direction, mg.direction, tolerance(1e-7, 1e-3));
    const real dd = xt::sum(sd.direction * sd.direction)();
    for (std::size_t i = 0; i < 3; ++i) {
      real dot = 0;
      for (std::size_t k = 0; k < 6; ++k) dot += sd.direction(0, k) * J(i, k);
      CHECK(dot >= dd * (1 - tolerance(1e-6, 1e-3)));
    }
  }
}

TEST_CASE("new stages a: errors name the stage and what is wrong") {
  Tensor nan = matrix({{1, 2}, {3, 4}});
  nan(1, 0) = std::numeric_limits<real>::quiet_NaN();
  for (const auto& name : kNew) {
    CAPTURE(name);
    auto a = make_aggregator(name);
    Rng rng(0);
    Aggregation out;
    a->observe_losses({1, 1});
    CHECK_THROWS_WITH_SUBSTR(a->aggregate(zeros(0, 3), rng, out), name + ": the Jacobian has no rows (T = 0 tasks)");
    a->observe_losses({1, 1});
    CHECK_THROWS_WITH_SUBSTR(a->aggregate(nan, rng, out), "non-finite gradient entry J[1][0]");
    CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", name}, {"bogus", 1}}), "aggregator.bogus: unknown key");
    CHECK(make_aggregator(a->options())->options() == a->options());
    CHECK_THROWS_WITH_SUBSTR(make_aggregator(name)->load_state(json{{"tasks", "x"}}), name + ": load_state");
  }
  Rng rng(0);
  Aggregation out;
  for (const char* name : {"famo", "gradnorm", "imtl", "moco"}) {
    CAPTURE(name);
    CHECK_THROWS_WITH_SUBSTR(make_aggregator(name)->aggregate(matrix({{1, 2}, {3, 4}}), rng, out),
                             std::string(name) + ": needs this step's task losses");
    auto a = make_aggregator(name);
    a->observe_losses({1, 2, 3});
    CHECK_THROWS_WITH_SUBSTR(a->aggregate(matrix({{1, 2}, {3, 4}}), rng, out), std::string(name) + ": 3 losses");
    CHECK_THROWS_WITH_SUBSTR(make_aggregator(name)->observe_losses({1, std::numeric_limits<real>::infinity()}),
                             std::string(name) + ": observe_losses: non-finite loss of task 1");
  }
  // famo: the losses after the step are required in mode "after"; D_i = L_i − m_i + 1e-8 must be > 0.
  auto f = make_aggregator("famo");
  f->observe_losses({1, 2});
  f->aggregate(matrix({{1, 2}, {3, 4}}), rng, out);
  f->observe_losses({1, 2});
  CHECK_THROWS_WITH_SUBSTR(f->aggregate(matrix({{1, 2}, {3, 4}}), rng, out), "famo: the previous step got no losses after the step");
  CHECK_THROWS_WITH_SUBSTR(f->observe_losses_after_step({1}), "famo: observe_losses_after_step: 1 losses for T = 2");
  CHECK_THROWS_WITH_SUBSTR(f->observe_losses_after_step({1, -1}), "famo: the losses after the step: task 1's loss");
  auto m = make_aggregator({{"name", "famo"}, {"min_losses", {0.5, 3}}});
  m->observe_losses({1, 2});
  CHECK_THROWS_WITH_SUBSTR(m->aggregate(matrix({{1, 2}, {3, 4}}), rng, out), "famo: observe_losses: task 1's loss");
  CHECK(make_aggregator("famo")->wants_losses_after_step());
  CHECK(!make_aggregator({{"name", "famo"}, {"update", "next"}})->wants_losses_after_step());
  CHECK(make_aggregator("sdmgrad")->wants_extra_jacobians());
  auto gn = make_aggregator("gradnorm");
  gn->observe_losses({0, 1});
  CHECK_THROWS_WITH_SUBSTR(gn->aggregate(matrix({{1, 2}, {3, 4}}), rng, out), "gradnorm: the initial loss L0 of task 0 is 0");
  auto sd = make_aggregator("sdmgrad");
  sd->observe_extra_jacobians(zeros(2, 3), zeros(2, 3));
  CHECK_THROWS_WITH_SUBSTR(sd->aggregate(matrix({{1, 2}, {3, 4}}), rng, out), "sdmgrad: the extra Jacobians have shape [2,3]");
  CHECK_THROWS_WITH_SUBSTR(sd->observe_extra_jacobians(zeros(2, 3), zeros(3, 3)), "sdmgrad: the extra Jacobians have shapes");
  // Option ranges, named by stage and option.
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "famo"}, {"lr", 0}}), "lr");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "famo"}, {"update", "later"}}), "aggregator.update");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "sdmgrad"}, {"momentum", 1}}), "momentum");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "moco"}, {"beta", 2}}), "beta");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "gradnorm"}, {"alpha", -1}}), "alpha");
  // cr-mogm: the inner stage must be a weighting; its errors carry the path.
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "cr-mogm"}, {"inner", {{"name", "graddrop"}}}}),
                           "aggregator.inner: cr-mogm needs a weighting");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "cr-mogm"}, {"inner", {{"name", "mgda"}, {"tol", -1}}}}),
                           "aggregator.inner");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "cr-mogm"}, {"inner", {{"name", "nope"}}}}), "aggregator.inner");
}

TEST_CASE("cr-mogm: forwards every call to its inner stage and equals it at the first step") {
  auto w = make_aggregator({{"name", "cr-mogm"}, {"inner", {{"name", "famo"}}}});
  CHECK(w->wants_losses_after_step());
  CHECK(!w->wants_extra_jacobians());
  CHECK(make_aggregator({{"name", "cr-mogm"}, {"inner", {{"name", "sdmgrad"}}}})->wants_extra_jacobians());
  auto f = make_aggregator("famo");
  Rng r1(0), r2(0);
  const Tensor J = matrix({{1, 2, 0}, {0, -1, 3}});
  for (auto* a : {w.get(), f.get()}) {
    a->observe_losses({1, 2});
    Aggregation out;
    a->aggregate(J, a == w.get() ? r1 : r2, out);
    a->observe_losses_after_step({real(0.5), real(1.9)});
  }
  const auto& inner = dynamic_cast<const FAMO&>(dynamic_cast<const CRMOGM&>(*w).inner());
  CHECK(inner.logits() == dynamic_cast<const FAMO&>(*f).logits());
  CHECK(inner.logits()[0] < inner.logits()[1]);  // task 0's log-loss fell more: its weight goes down
}

}  // TEST_SUITE
