#pragma once
/// @file stage_losses.hpp
/// The task losses a loss-based stage (db-mtl, stch, gls) takes from observe_losses() before each
/// aggregate(): one list per step, checked once, used once. Errors name the stage.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

class StageLosses {
 public:
  /// `positive`: the stage takes the losses' logarithm, so every L_i must be > 0.
  StageLosses(const char* stage, bool positive) : stage_(stage), positive_(positive) {}

  void observe(const std::vector<real>& losses) {
    if (losses.empty()) throw std::invalid_argument(stage_ + ": observe_losses: empty list of losses");
    for (std::size_t i = 0; i < losses.size(); ++i) {
      if (!std::isfinite(losses[i]))
        throw std::invalid_argument(stage_ + ": observe_losses: non-finite loss of task " + std::to_string(i) + " (" +
                                    std::to_string(losses[i]) + ")");
      if (positive_ && !(losses[i] > 0))
        throw std::invalid_argument(stage_ + ": observe_losses: loss of task " + std::to_string(i) + " is " +
                                    nlohmann::json(losses[i]).dump() +
                                    "; the stage takes its logarithm and needs every loss > 0");
    }
    losses_ = losses;
    fresh_ = true;
  }

  /// This step's losses for a Jacobian with T rows; each list is used by one aggregate() only.
  const std::vector<real>& take(std::size_t T) {
    if (!fresh_)
      throw std::invalid_argument(stage_ + ": needs this step's task losses: call observe_losses() before aggregate()");
    if (losses_.size() != T)
      throw std::invalid_argument(stage_ + ": " + std::to_string(losses_.size()) + " losses for a Jacobian with T = " +
                                  std::to_string(T) + " rows");
    fresh_ = false;
    return losses_;
  }

 private:
  std::string stage_;
  bool positive_;
  std::vector<real> losses_;
  bool fresh_ = false;
};

}  // namespace mtlgrad
