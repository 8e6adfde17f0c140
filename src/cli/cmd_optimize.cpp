// mtlgrad optimize: one temporal stage run over a sequence of gradients from stdin (docs/design.md).
#include <cmath>
#include <iostream>

#include "commands.hpp"
#include "mtlgrad/core/options.hpp"
#include "mtlgrad/optim/optimizer.hpp"

namespace mtlgrad::cli {
namespace {

const char* const kHelp = R"(usage: mtlgrad optimize < input.json

Runs one temporal stage (optimizer) on one parameter θ (a 1×n row) over a sequence of
gradients and prints θ after each step. The optimizer's state carries over between the steps,
exactly as torch.optim's does; the names and defaults of the options are torch.optim 1.13's.

input (stdin), one JSON object:
  {"optimizer": {"name": "adam", ...options},   a stage spec, as in a config ('mtlgrad list')
   "params": [θ_1, ..., θ_n],                   the initial parameter: n >= 1 finite numbers
   "grads": [g_1, g_2, ...]}                    one list of n finite numbers per step
output (stdout):
  {"params": [θ after step 1, θ after step 2, ...]}   with full round-trip precision

nag (classical Nesterov momentum) needs the gradient at the look-ahead point θ − η μ v, which
this command cannot evaluate: each g_t is TAKEN AS EVALUATED AT THE LOOK-AHEAD POINT of step t.

example:
  echo '{"optimizer": {"name": "sgd", "lr": 0.1}, "params": [1, 2], "grads": [[1, 1], [0.5, 0]]}' \
    | mtlgrad optimize
)";

// j[key] as a non-empty row of finite numbers; every malformation named by its index path.
Tensor read_row(const nlohmann::json& v, const std::string& at) {
  if (!v.is_array() || v.empty())
    throw std::invalid_argument(at + ": expected a non-empty list of numbers, got " + json_type(v) + " " +
                                v.dump().substr(0, 60));
  Tensor out = zeros(1, v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string where = at + "[" + std::to_string(i) + "]";
    if (!v[i].is_number())
      throw std::invalid_argument(where + ": expected a number, got " + json_type(v[i]) + " " +
                                  v[i].dump().substr(0, 40) + " (NaN and infinity are not allowed)");
    const double x = v[i].get<double>();
    if (!std::isfinite(real(x))) throw std::invalid_argument(where + ": " + v[i].dump() + " is not a finite number");
    out(0, i) = real(x);
  }
  return out;
}

}  // namespace

int cmd_optimize(const Args& args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::cout << kHelp;
      return 0;
    }
    std::cerr << "mtlgrad optimize: unexpected argument '" << a << "'\n\n" << kHelp;
    return 2;
  }
  const nlohmann::json input = read_stdin_json("optimize");
  OptionReader r(input, "input");
  for (const char* key : {"optimizer", "params", "grads"}) r.declare(key);
  r.finish();  // an unknown key first: "input.grad: unknown key (did you mean 'grads'?)"
  const nlohmann::json spec = r.require<nlohmann::json>("optimizer");
  const nlohmann::json params_json = r.require<nlohmann::json>("params");
  const nlohmann::json grads_json = r.require<nlohmann::json>("grads");

  auto opt = make_optimizer(spec, "optimizer");
  Tensor theta = read_row(params_json, "params");
  if (!grads_json.is_array() || grads_json.empty())
    throw std::invalid_argument("grads: expected a non-empty list of gradients (one list of numbers per step), got " +
                                json_type(grads_json) + " " + grads_json.dump().substr(0, 60));
  std::vector<Tensor> grads;
  for (std::size_t t = 0; t < grads_json.size(); ++t) {
    const std::string at = "grads[" + std::to_string(t) + "]";
    grads.push_back(read_row(grads_json[t], at));
    if (grads.back().size() != theta.size())
      throw std::invalid_argument(at + ": has " + std::to_string(grads.back().size()) + " values but params has " +
                                  std::to_string(theta.size()));
  }

  nlohmann::json trajectory = nlohmann::json::array();
  for (std::size_t t = 0; t < grads.size(); ++t) {
    opt->step({&theta}, {&grads[t]});
    nlohmann::json row = nlohmann::json::array();
    for (real x : theta) {
      if (!std::isfinite(x))
        throw std::runtime_error("step " + std::to_string(t + 1) + ": the parameters are no longer finite (" +
                                 opt->name() + " diverged; try a smaller lr)");
      row.push_back(double(x));
    }
    trajectory.push_back(std::move(row));
  }
  std::cout << nlohmann::json{{"params", std::move(trajectory)}}.dump() << "\n";
  return 0;
}

}  // namespace mtlgrad::cli
