#include "mtlgrad/models/toy2d.hpp"

#include <sstream>

#include "mtlgrad/core/options.hpp"

namespace mtlgrad::models {
namespace {
constexpr real kLower = real(5e-6);
}

Toy2d::Toy2d(std::array<real, 2> start) {
  x_.name = "x";
  x_.value = row({start[0], start[1]});
}

std::array<Var, 2> Toy2d::objectives(Var x) {
  Var x1 = slice_cols(x, 0, 1), x2 = slice_cols(x, 1, 2);
  Var th = tanh(-x2);
  Var f1_log = log(clamp_min(abs(real(0.5) * (-x1 - real(7)) - th), kLower)) + real(6);
  Var f2_log = log(clamp_min(abs(real(0.5) * (-x1 + real(3)) + th + real(2)), kLower)) + real(6);
  Var c1 = clamp_min(tanh(real(0.5) * x2), 0);
  Var c2 = clamp_min(tanh(real(-0.5) * x2), 0);
  Var sq2 = real(0.1) * pow(-x2 - real(8), 2);
  Var f1_sq = (pow(-x1 + real(7), 2) + sq2) * real(0.1) - real(20);
  Var f2_sq = (pow(-x1 - real(7), 2) + sq2) * real(0.1) - real(20);
  return {c1 * f1_log + c2 * f1_sq, c1 * f2_log + c2 * f2_sq};
}

void Toy2d::forward(Tape& tape, std::vector<Var>& losses) {
  auto f = objectives(tape.param(x_));
  losses.assign(f.begin(), f.end());
}

std::string Toy2d::describe() const {
  std::ostringstream s;
  s << "toy2d: CAGrad's two-objective toy, x = (" << x_.value(0, 0) << ", " << x_.value(0, 1) << ")";
  return s.str();
}

PlaneLandscape toy2d_landscape() {
  PlaneLandscape l;
  l.value_label = "f_1 + f_2";
  l.value = [](const Tensor& points) {
    Tape tape;
    const auto f = Toy2d::objectives(tape.constant(points));
    std::vector<double> v(points.shape()[0]);
    for (std::size_t k = 0; k < v.size(); ++k) v[k] = double(f[0].value()(k, 0) + f[1].value()(k, 0));
    return v;
  };
  l.pareto_set = {{-7, -8.3552}, {7, -8.3552}};
  return l;
}

ModelRegistry::Entry toy2d_entry() {
  return {"toy2d", "CAGrad's two-objective 2-D toy (Liu et al. 2021); parameter x = (x1, x2), no heads",
          {option<std::array<real, 2>>("start", {real(-8.5), real(7.5)}, "the starting point x = (x1, x2)")},
          [](const nlohmann::json& spec, const std::string& path, ModelContext&) -> std::unique_ptr<MultiTaskModel> {
            OptionReader r(spec, path);
            r.declare("name");
            const auto start = r.require<std::array<real, 2>>("start");
            r.check(std::isfinite(start[0]) && std::isfinite(start[1]), "start", "two finite numbers");
            r.finish();
            return std::make_unique<Toy2d>(start);
          },
          ModelInfo{false, "models/configs/toy2d.json", toy2d_landscape()}};
}

}  // namespace mtlgrad::models
