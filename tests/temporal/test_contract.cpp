// One contract, run over every registered optimizer (after torch's test_optim.py): downhill on a
// quadratic, reset, save/restore, determinism, skipped parameters, and the error messages.
#include <doctest/doctest.h>

#include <map>
#include <regex>

#include "mtlgrad/optim/optimizer_loop.hpp"
#include "test_util.hpp"

using namespace mtlgrad;

namespace {

// Options that switch on every piece of state the optimizer has (momentum buffers, amsgrad, ...).
nlohmann::json contract_spec(const std::string& name) {
  const std::map<std::string, nlohmann::json> extra = {
      {"sgd", {{"lr", 0.05}, {"momentum", 0.9}, {"nesterov", true}, {"weight_decay", 0.01}}},
      {"adagrad", {{"lr", 0.1}, {"lr_decay", 0.01}, {"weight_decay", 0.01}}},
      {"adadelta", {{"weight_decay", 0.01}}},
      {"rmsprop", {{"momentum", 0.5}, {"centered", true}, {"weight_decay", 0.01}}},
      {"adam", {{"lr", 0.05}, {"amsgrad", true}, {"weight_decay", 0.01}}},
      {"adamw", {{"lr", 0.05}, {"amsgrad", true}}},
      {"nadam", {{"lr", 0.05}, {"weight_decay", 0.01}}},
      {"nag", {{"lr", 0.05}}},
  };
  nlohmann::json spec = {{"name", name}};
  if (auto it = extra.find(name); it != extra.end()) spec.update(it->second);
  return spec;
}

// f(θ) = Σ_k Σ_i ½ h_i θ_i², badly scaled, over a 1×3 and a 2×2 parameter.
struct Quadratic {
  std::vector<Tensor> h = {row({1, 4, 0.5}), matrix({{2, 1}, {3, 0.25}})};
  real value(const std::vector<Tensor>& th) const {
    real f = 0;
    for (std::size_t k = 0; k < th.size(); ++k)
      for (std::size_t i = 0; i < th[k].size(); ++i) f += real(0.5) * h[k].data()[i] * th[k].data()[i] * th[k].data()[i];
    return f;
  }
  std::vector<Tensor> grad(const std::vector<Tensor>& at) const {
    std::vector<Tensor> g;
    for (std::size_t k = 0; k < at.size(); ++k) g.push_back(h[k] * at[k]);
    return g;
  }
};

std::vector<Tensor> start() { return {row({1, -2, 3}), matrix({{-1, 0.5}, {2, -3}})}; }

// n steps the way the trainer takes them: gradients at lookahead().
void run(Optimizer& opt, std::vector<Tensor>& th, int n, const Quadratic& q = {}) {
  std::vector<Tensor*> ptrs;
  for (auto& t : th) ptrs.push_back(&t);
  std::vector<const Tensor*> cptrs(ptrs.begin(), ptrs.end());
  std::vector<Tensor> look;
  for (int i = 0; i < n; ++i) {
    opt.lookahead(cptrs, look);
    const auto g = q.grad(look);
    opt.step(ptrs, {&g[0], &g[1]});
  }
}

bool identical(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  for (std::size_t k = 0; k < a.size(); ++k)
    if (a[k] != b[k]) return false;
  return true;
}

}  // namespace

TEST_SUITE("temporal contract") {

TEST_CASE("the registry lists the SGD -> Adam lineage and nag, each with a summary and its defaults") {
  CHECK(optimizers().names() ==
        std::vector<std::string>{"sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "nadam", "nag"});
  for (const auto& e : optimizers().entries()) {
    INFO(e.name);
    CHECK(std::regex_search(e.summary, std::regex("\\((.* )?(19|20)[0-9]{2}")));  // "(Author et al. 2013"
    CHECK(e.defaults["name"] == e.name);
    auto opt = make_optimizer(e.defaults);
    CHECK(opt->name() == e.name);
    CHECK(opt->options() == e.defaults);
  }
  CHECK(optimizers().at("adamw", "o").defaults["weight_decay"] == double(real(1e-2)));
  CHECK(optimizers().at("adadelta", "o").defaults["lr"] == 1.0);
  CHECK(optimizers().at("sgd", "o").defaults["lr"] == double(real(1e-3)));
}

TEST_CASE("every optimizer keeps the contract") {
  const Quadratic q;
  for (const auto& name : optimizers().names()) {
    INFO("optimizer " << name);
    const auto spec = contract_spec(name);
    auto opt = make_optimizer(spec);
    CHECK(make_optimizer(opt->options())->options() == opt->options());  // options() round-trips

    // Downhill on the quadratic.
    auto th = start();
    const real f0 = q.value(th);
    run(*opt, th, 30);
    CHECK(q.value(th) < real(0.9) * f0);

    // reset() restores the initial behaviour: the same first steps, bit for bit.
    opt->reset();
    CHECK(opt->state()["param_states"].empty());
    auto a = start(), b = start();
    run(*opt, a, 7);
    auto fresh = make_optimizer(spec);
    run(*fresh, b, 7);
    CHECK(identical(a, b));

    // Save mid-run (through text), restore into a new instance: both continue bit-identically.
    const std::string saved = opt->state().dump();
    auto restored = make_optimizer(spec);
    restored->load_state(nlohmann::json::parse(saved));
    CHECK(restored->state() == opt->state());
    auto c = a;
    run(*opt, a, 9);
    run(*restored, c, 9);
    CHECK(identical(a, c));
    // ... and the state mattered: a fresh optimizer from the same point goes elsewhere.
    auto d = b;
    run(*make_optimizer(spec), d, 9);
    run(*fresh, b, 9);
    CHECK(identical(a, b));
    CHECK_FALSE(identical(a, d));

    // The gradients are never modified.
    const auto g = q.grad(start());
    const auto g_copy = g;
    auto e = start();
    make_optimizer(spec)->step({&e[0], &e[1]}, {&g[0], &g[1]});
    CHECK(identical(g, g_copy));
  }
}

TEST_CASE("a null gradient skips its parameter and leaves its state untouched") {
  for (const auto& name : optimizers().names()) {
    INFO("optimizer " << name);
    auto opt = make_optimizer(contract_spec(name));
    auto th = start();
    const auto g = Quadratic{}.grad(th);
    opt->step({&th[0], &th[1]}, {&g[0], nullptr});
    CHECK(th[1] == start()[1]);
    CHECK(opt->state()["param_states"][1].is_null());
    opt->step({&th[0], &th[1]}, {&g[0], &g[1]});
    const Tensor before = th[1];
    const auto state_before = opt->state()["param_states"][1];
    opt->step({&th[0], &th[1]}, {&g[0], nullptr});
    CHECK(th[1] == before);
    CHECK(opt->state()["param_states"][1] == state_before);
    CHECK(opt->state()["param_states"][0]["step"] == 3);
    CHECK(opt->state()["param_states"][1]["step"] == 1);
  }
}

TEST_CASE("set_lr takes effect at the next step, as in an optimizer built with that lr from the same state") {
  // Guards any step constant an optimizer keeps between steps (adam's bias corrections): here the
  // rewound optimizer takes its step 3 again, at another lr.
  for (const auto& name : optimizers().names()) {
    INFO("optimizer " << name);
    auto a = make_optimizer(contract_spec(name));
    auto th = start();
    run(*a, th, 2);
    const auto saved = a->state();
    const auto th_saved = th;
    run(*a, th, 1);
    a->load_state(saved);
    a->set_lr(real(0.0123));
    th = th_saved;
    run(*a, th, 2);
    auto spec = contract_spec(name);
    spec["lr"] = 0.0123;
    auto b = make_optimizer(spec);
    b->load_state(saved);
    auto th_b = th_saved;
    run(*b, th_b, 2);
    CHECK(identical(th, th_b));
  }
}

TEST_CASE("bad options, shapes and lists are errors that say what is wrong") {
  for (const auto& name : optimizers().names()) {
    INFO("optimizer " << name);
    CHECK_THROWS_WITH_SUBSTR(make_optimizer({{"name", name}, {"lr", -1}}), "optimizer: " + name + ": lr = -1 is out of range (expected >= 0)");
    CHECK_THROWS_WITH_SUBSTR(make_optimizer({{"name", name}, {"lrr", 0.1}}), "optimizer.lrr: unknown key (did you mean 'lr'?)");
    CHECK_THROWS_WITH_SUBSTR(make_optimizer({{"name", name}, {"lr", "fast"}}), "optimizer.lr: expected a number, got string");

    auto opt = make_optimizer(contract_spec(name));
    Tensor p = row({1, 2, 3}), q = zeros(2, 2);
    const Tensor g = zeros(2, 2), g3 = row({1, 1, 1});
    CHECK_THROWS_WITH_SUBSTR(opt->step({&p}, {&g}), name + ": grads[0] has shape [2,2] but params[0] has shape [1,3]");
    CHECK(p == row({1, 2, 3}));
    CHECK_THROWS_WITH_SUBSTR(opt->step({&p, &q}, {&g3}), name + ": 2 params but 1 grads");
    CHECK_THROWS_WITH_SUBSTR(opt->step({nullptr}, {&g3}), name + ": params[0] is null");
    opt->step({&p}, {&g3});
    CHECK_THROWS_WITH_SUBSTR(opt->step({&p, &q}, {&g3, &g}), "2 params, but the state holds 1");
    CHECK_THROWS_WITH_SUBSTR(opt->step({&q}, {&g}), name + ": params[0] has shape [2,2] but its state has shape [1,3]");
    CHECK_THROWS_WITH_SUBSTR(opt->set_lr(-0.5), name + ": lr = -0.5 is out of range");
    opt->set_lr(real(0.125));
    CHECK(opt->lr() == real(0.125));
    CHECK(opt->options()["lr"] == 0.125);

    // load_state validates before it replaces anything.
    auto st = opt->state();
    CHECK_THROWS_WITH_SUBSTR(opt->load_state({{"optimizer", "other"}, {"param_states", nlohmann::json::array()}}),
                             name + ": load_state: the state was saved by optimizer \"other\"");
    CHECK_THROWS_WITH_SUBSTR(opt->load_state(nlohmann::json::array()), "expected {\"optimizer\"");
    auto bad = st;
    bad["param_states"][0]["step"] = 0;
    CHECK_THROWS_WITH_SUBSTR(opt->load_state(bad), "param_states[0].step: expected an integer >= 1, got 0");
    bad = st;
    bad["param_states"][0]["extra"] = 1;
    CHECK_THROWS_WITH_SUBSTR(opt->load_state(bad), "param_states[0]: unknown key 'extra'");
    for (auto it = st["param_states"][0].begin(); it != st["param_states"][0].end(); ++it) {
      if (!it->is_object()) continue;  // a state tensor: drop it, then give it the wrong shape
      bad = st;
      bad["param_states"][0].erase(it.key());
      CHECK_THROWS_WITH_SUBSTR(opt->load_state(bad), "param_states[0]: missing key '" + it.key() + "'");
      bad = st;
      bad["param_states"][0][it.key()] = {{"shape", {3, 1}}, {"data", {1, 2, 3}}};
      CHECK_THROWS_WITH_SUBSTR(opt->load_state(bad), "load_state: '" + it.key() + "' has shape [3,1], expected [1,3]");
    }
    CHECK(opt->state() == st);
  }
}

TEST_CASE("two copies stepped in lock-step stay identical") {
  for (const auto& name : optimizers().names()) {
    INFO("optimizer " << name);
    auto a = make_optimizer(contract_spec(name)), b = make_optimizer(contract_spec(name));
    auto x = start(), y = start();
    for (int i = 0; i < 12; ++i) {
      run(*a, x, 1);
      run(*b, y, 1);
      REQUIRE(identical(x, y));
    }
    CHECK(a->state() == b->state());
  }
}

TEST_CASE("the weight-decay buffer is allocated once, not every step") {
  auto opt = make_optimizer({{"name", "adam"}, {"weight_decay", 0.1}});
  auto th = start();
  run(*opt, th, 1);
  const auto& loop = dynamic_cast<const OptimizerLoop&>(*opt);
  const real* buffer = loop.param_states()[1].scratch.data();
  run(*opt, th, 5);
  CHECK(loop.param_states()[1].scratch.data() == buffer);
}

}  // TEST_SUITE
