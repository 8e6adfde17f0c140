// Golden trajectories: every optimizer against torch.optim 1.13 (float64, single-tensor loop)
// and nag against the classical formula computed in numpy, both by tools/gen_optim_golden.py.
#include <doctest/doctest.h>

#include <set>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/optim/optimizer_loop.hpp"
#include "test_util.hpp"

using namespace mtlgrad;

namespace {

std::vector<Tensor> tensors(const nlohmann::json& list, const std::string& what) {
  std::vector<Tensor> out;
  for (std::size_t k = 0; k < list.size(); ++k) out.push_back(tensor_from_json(list[k], what + "[" + std::to_string(k) + "]"));
  return out;
}

std::vector<Tensor*> pointers(std::vector<Tensor>& ts) {
  std::vector<Tensor*> p;
  for (auto& t : ts) p.push_back(&t);
  return p;
}

const nlohmann::json& golden() {
  static const nlohmann::json j = test::load_fixture("optim_golden.json");
  return j;
}

}  // namespace

TEST_SUITE("temporal golden") {

TEST_CASE("every torch.optim trajectory matches PyTorch 1.13 step by step") {
  const auto& cases = golden()["cases"];
  REQUIRE(cases.size() >= 21);
  std::set<std::string> covered;
  for (const auto& c : cases) {
    INFO("case " << c["optimizer"].dump());
    covered.insert(c["optimizer"]["name"].get<std::string>());
    auto opt = make_optimizer(c["optimizer"]);
    std::vector<Tensor> params = tensors(c["params0"], "params0");
    const auto ptrs = pointers(params);
    std::vector<long long> expected_steps(params.size(), 0);
    for (std::size_t t = 0; t < c["grads"].size(); ++t) {
      CAPTURE(t + 1);
      std::vector<Tensor> gs;
      std::vector<const Tensor*> grads;
      gs.reserve(params.size());
      for (std::size_t k = 0; k < params.size(); ++k) {
        const auto& g = c["grads"][t][k];
        if (g.is_null()) {
          grads.push_back(nullptr);
          continue;
        }
        gs.push_back(tensor_from_json(g, "grad"));
        grads.push_back(&gs.back());
        ++expected_steps[k];
      }
      opt->step(ptrs, grads);
      const auto want = tensors(c["params"][t], "params");
      for (std::size_t k = 0; k < params.size(); ++k) CHECK_TENSOR_NEAR(params[k], want[k], tolerance(1e-12, 1e-5));
    }
    // The 2x3 parameter missed two gradients: its step counter (and so its bias correction)
    // is behind the vector's, as torch's per-parameter state['step'].
    const auto& states = dynamic_cast<const OptimizerLoop&>(*opt).param_states();
    REQUIRE(states.size() == params.size());
    for (std::size_t k = 0; k < params.size(); ++k) CHECK(states[k].step == expected_steps[k]);
    CHECK(expected_steps[0] == expected_steps[1] + 2);
  }
  CHECK(covered == std::set<std::string>{"sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "nadam"});
}

TEST_CASE("nag matches the classical formula with the gradient at the look-ahead point") {
  const auto& cases = golden()["nag_cases"];
  REQUIRE(cases.size() >= 3);
  for (const auto& c : cases) {
    INFO("case " << c["optimizer"].dump());
    auto opt = make_optimizer(c["optimizer"]);
    REQUIRE(opt->has_lookahead());
    std::vector<Tensor> params = tensors(c["params0"], "params0");
    const auto h = tensors(c["h"], "h"), b = tensors(c["c"], "c");
    const auto ptrs = pointers(params);
    std::vector<const Tensor*> cptrs(ptrs.begin(), ptrs.end());
    std::vector<Tensor> look, grads(params.size());
    for (std::size_t t = 0; t < c["params"].size(); ++t) {
      CAPTURE(t + 1);
      opt->lookahead(cptrs, look);
      std::vector<const Tensor*> gp;
      for (std::size_t k = 0; k < params.size(); ++k) {
        grads[k] = h[k] * look[k] - b[k];  // ∇f(θ̃) of f = Σ ½ h θ² − c θ
        gp.push_back(&grads[k]);
      }
      opt->step(ptrs, gp);
      const auto want = tensors(c["params"][t], "params");
      for (std::size_t k = 0; k < params.size(); ++k) CHECK_TENSOR_NEAR(params[k], want[k], tolerance(1e-12, 1e-5));
    }
  }
}

}  // TEST_SUITE
