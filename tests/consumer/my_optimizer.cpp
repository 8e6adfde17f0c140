// A temporal stage of one's own: "signsgd", θ ← θ − η sign(g) (Bernstein et al. 2018, "signSGD").
// OptimizerWith runs the loop (checks, skipped gradients, state, reset/save/load); the stage
// gives its options (with their docs and ranges, for the registry) and its update rule.
#include "extensions.hpp"
#include "mtlgrad/optim/optimizer_loop.hpp"

using namespace mtlgrad;

namespace {

struct SignSGDOptions {
  real lr = real(1e-2);
  void validate(const std::string& who = "signsgd") const { check_nonnegative(who, "lr", lr); }
  template <class Self, class F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr, "learning rate η", Range::at_least(0));
  }
};

class SignSGD : public OptimizerWith<SignSGDOptions> {
 public:
  explicit SignSGD(SignSGDOptions o = {}) : OptimizerWith("signsgd", o) {}

 protected:
  StateLayout layout() const override { return {}; }  // no state
  void update(Tensor& param, const Tensor& grad, ParamState&) override {
    real* p = param.data();
    const real* g = grad.data();
    for (std::size_t i = 0; i < param.size(); ++i) p[i] -= o_.lr * real((g[i] > 0) - (g[i] < 0));
  }
};

}  // namespace

void register_my_optimizer() {
  optimizers().add(optimizer_entry<SignSGD, SignSGDOptions>(
      "signsgd", "steps of the gradient's sign: theta -= lr sign(g) (Bernstein et al. 2018)"));
}
