// The temporal stages, in the order of `mtlgrad list`: the SGD → Adam lineage, then nag.
#include "mtlgrad/optim/adadelta.hpp"
#include "mtlgrad/optim/adagrad.hpp"
#include "mtlgrad/optim/adam.hpp"
#include "mtlgrad/optim/nadam.hpp"
#include "mtlgrad/optim/nag.hpp"
#include "mtlgrad/optim/rmsprop.hpp"
#include "mtlgrad/optim/sgd.hpp"

namespace mtlgrad {

namespace {

// Reads the options (unknown key: ConfigError with did-you-mean), validates them (out of range:
// ConfigError "optimizer: adam: betas[0] = 1 is out of range (expected 0 <= beta < 1)").
template <class Opt, class Options>
Registry<Optimizer>::Entry entry(const std::string& name, const std::string& summary) {
  return {name, summary, options_json(name, Options{}),
          [](const nlohmann::json& spec, const std::string& path) -> std::unique_ptr<Optimizer> {
            OptionReader r(spec, path);
            r.declare("name");
            const Options o = read_options<Options>(r);
            r.finish();
            try {
              return std::make_unique<Opt>(o);
            } catch (const std::invalid_argument& e) {
              throw ConfigError(path + ": " + e.what());
            }
          }};
}

}  // namespace

const Registry<Optimizer>& optimizers() {
  static const Registry<Optimizer> r = [] {
    Registry<Optimizer> reg("optimizer");
    reg.add(entry<SGD, SGDOptions>(
        "sgd", "SGD with momentum/dampening/Nesterov and L2 weight decay (Robbins & Monro 1951; Polyak 1964), as torch.optim.SGD"));
    reg.add(entry<Adagrad, AdagradOptions>(
        "adagrad", "per-coordinate steps scaled by the root of summed squared gradients (Duchi et al. 2011), as torch.optim.Adagrad"));
    reg.add(entry<Adadelta, AdadeltaOptions>(
        "adadelta", "unit-corrected steps from running averages of g² and Δ² (Zeiler 2012), as torch.optim.Adadelta"));
    reg.add(entry<RMSprop, RMSpropOptions>(
        "rmsprop", "steps scaled by a running RMS of the gradient, optionally centered (Hinton 2012; Graves 2013), as torch.optim.RMSprop"));
    reg.add(entry<Adam, AdamOptions>(
        "adam", "bias-corrected first and second moments, optional AMSGrad (Kingma & Ba 2015; Reddi et al. 2018), as torch.optim.Adam"));
    reg.add(entry<AdamW, AdamWOptions>(
        "adamw", "Adam with decoupled weight decay (Loshchilov & Hutter 2019), as torch.optim.AdamW"));
    reg.add(entry<NAdam, NAdamOptions>(
        "nadam", "Adam with Nesterov momentum and a momentum schedule (Dozat 2016), as torch.optim.NAdam"));
    reg.add(entry<NAG, NAGOptions>(
        "nag", "classical Nesterov momentum, gradient taken at the look-ahead point (Nesterov 1983; Sutskever et al. 2013)"));
    return reg;
  }();
  return r;
}

std::unique_ptr<Optimizer> make_optimizer(const nlohmann::json& spec, const std::string& path) {
  return optimizers().create(spec, path);
}

}  // namespace mtlgrad
