#include "mtlgrad/optim/basic.hpp"

#include "mtlgrad/optim/gramian.hpp"

#include "registry_parts.hpp"

namespace mtlgrad {

FixedWeighting::FixedWeighting(Kind kind, std::vector<real> weights) : kind_(kind), weights_(std::move(weights)) {
  if (kind_ == Kind::weighted && weights_.empty())
    throw std::invalid_argument("weighted: 'weights' must hold one weight per task, got an empty list");
}

std::string FixedWeighting::name() const {
  switch (kind_) {
    case Kind::sum: return "sum";
    case Kind::mean: return "mean";
    default: return "weighted";
  }
}

void FixedWeighting::aggregate(const Tensor& J, Rng& /*rng*/, Aggregation& out) {
  const std::string stage = name();
  check_input(stage.c_str(), J);
  const std::size_t T = J.shape(0);
  if (kind_ == Kind::weighted) {
    if (weights_.size() != T)
      throw std::invalid_argument("weighted: " + std::to_string(weights_.size()) +
                                  " weights for a Jacobian of T = " + std::to_string(T) +
                                  " tasks (shape " + shape_str(J) + "); 'weights' needs one per task");
    out.weights = weights_;
  } else {
    out.weights.assign(T, kind_ == Kind::sum ? real(1) : real(1) / real(T));
  }
  combine(J, out.weights, out.direction);
  out.pair_strength.resize({0, 0});
}

nlohmann::json FixedWeighting::options() const {
  nlohmann::json j{{"name", name()}};
  if (kind_ == Kind::weighted) j["weights"] = weights_;
  return j;
}

namespace detail {
namespace {

Registry<Aggregator>::Factory fixed(FixedWeighting::Kind kind) {
  return factory([kind](OptionReader& o) {
    std::vector<real> w;
    if (kind == FixedWeighting::Kind::weighted) {
      w = o.require<std::vector<real>>("weights");
      o.check(!w.empty(), "weights", "one weight per task, a non-empty list");
    }
    return [kind, w] { return std::make_unique<FixedWeighting>(kind, w); };
  });
}

}  // namespace

// list order: 10
void register_aggregator_sum(Registry<Aggregator>& r) {
  r.add({"sum", "d = Σ_i g_i", {}, fixed(FixedWeighting::Kind::sum)});
}

// list order: 20
void register_aggregator_mean(Registry<Aggregator>& r) {
  r.add({"mean", "d = Σ_i g_i / T", {}, fixed(FixedWeighting::Kind::mean)});
}

// list order: 30
void register_aggregator_weighted(Registry<Aggregator>& r) {
  r.add({"weighted", "d = Σ_i c_i g_i with fixed c (option weights, one per task)",
         {required_option<std::vector<real>>("weights", "c_i, one per task")}, fixed(FixedWeighting::Kind::weighted)});
}

}  // namespace detail

}  // namespace mtlgrad
