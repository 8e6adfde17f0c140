// A spatial stage of one's own: "clipped-sum", d = Σ_i w_i g_i with w_i = min(1, max_norm / ‖g_i‖),
// each task's gradient clipped to norm max_norm before the sum.
#include <cmath>

#include "extensions.hpp"
#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/gramian.hpp"

using namespace mtlgrad;

namespace {

class ClippedSum : public Aggregator {
 public:
  explicit ClippedSum(real max_norm) : max_norm_(max_norm) {}
  std::string name() const override { return "clipped-sum"; }
  void aggregate(const Tensor& J, Rng&, Aggregation& out) override {
    const Tensor& G = checked_gramian("clipped-sum", J, gramian_);  // G_ii = ‖g_i‖²; J checked finite
    out.weights.resize(J.shape(0));
    for (std::size_t i = 0; i < J.shape(0); ++i) {
      const real norm = std::sqrt(G(i, i));
      out.weights[i] = norm > max_norm_ ? max_norm_ / norm : real(1);
    }
    combine(J, out.weights, out.direction);
    out.pair_strength.resize({0, 0});
  }
  nlohmann::json options() const override { return {{"name", name()}, {"max_norm", max_norm_}}; }

 private:
  real max_norm_;
  Tensor gramian_;
};

}  // namespace

void register_my_aggregator() {
  aggregators().add({"clipped-sum", "the sum of the task gradients, each clipped to norm max_norm",
                     {option<real>("max_norm", 1, "the largest norm a task gradient keeps", Range::above(0))},
                     [](const nlohmann::json& o, const std::string&) -> std::unique_ptr<Aggregator> {
                       return std::make_unique<ClippedSum>(o["max_norm"].get<real>());
                     }});
}
