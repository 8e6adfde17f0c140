#pragma once
// A test-only spatial stage for the trainer's and the runner's tests of the nonfinite policy and
// of a stage's own metrics: d = Σ_i g_i (the weighting "sum", weights 1), spoiled by `spoil` at
// its calls in `bad`; two metrics per call, the number of calls n and 1/n (as "solver_iters",
// "solver_residual"), and solver_capped at the calls in `capped`. Its state is n, so a skipped
// step must restore it; a second counter that no state keeps sees every call (like a step's data).
#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad::test {

class ScriptedStage : public Aggregator {
 public:
  using Spoil = std::function<void(Tensor& direction)>;
  ScriptedStage(std::vector<int> bad, Spoil spoil, std::vector<int> capped = {})
      : bad_(std::move(bad)), capped_(std::move(capped)), spoil_(std::move(spoil)) {}
  std::string name() const override { return "scripted"; }
  void aggregate(const Tensor& J, Rng&, Aggregation& out) override {
    ++calls_;
    ++seen_;
    const std::size_t T = J.shape(0), P = J.shape(1);
    out.direction = zeros(1, P);
    for (std::size_t i = 0; i < T; ++i)
      for (std::size_t c = 0; c < P; ++c) out.direction(0, c) += J(i, c);
    if (std::count(bad_.begin(), bad_.end(), seen_)) spoil_(out.direction);
    out.weights.assign(T, real(1));
    out.metrics = {real(calls_), real(1) / real(calls_)};
    out.solver_capped = std::count(capped_.begin(), capped_.end(), calls_) > 0;
  }
  bool weighting() const override { return true; }
  std::vector<std::string> metric_names() const override { return {"solver_iters", "solver_residual"}; }
  nlohmann::json state() const override { return calls_; }
  void load_state(const nlohmann::json& s) override { calls_ = s.get<int>(); }
  nlohmann::json options() const override { return {{"name", "scripted"}}; }

 private:
  std::vector<int> bad_, capped_;
  Spoil spoil_;
  int calls_ = 0;  // the state: a skipped step must restore it
  int seen_ = 0;   // every call, kept by no state
};

}  // namespace mtlgrad::test
