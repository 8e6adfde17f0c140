// The temporal stages, in the order of `mtlgrad list`: the SGD → Adam lineage, then nag.
#include "mtlgrad/optim/adadelta.hpp"
#include "mtlgrad/optim/adagrad.hpp"
#include "mtlgrad/optim/adam.hpp"
#include "mtlgrad/optim/nadam.hpp"
#include "mtlgrad/optim/nag.hpp"
#include "mtlgrad/optim/rmsprop.hpp"
#include "mtlgrad/optim/sgd.hpp"

namespace mtlgrad {

Registry<Optimizer>& optimizers() {
  static Registry<Optimizer> r = [] {
    Registry<Optimizer> reg("optimizer");
    reg.add(optimizer_entry<SGD, SGDOptions>(
        "sgd", "SGD with momentum/dampening/Nesterov and L2 weight decay (Robbins & Monro 1951; Polyak 1964), as torch.optim.SGD"));
    reg.add(optimizer_entry<Adagrad, AdagradOptions>(
        "adagrad", "per-coordinate steps scaled by the root of summed squared gradients (Duchi et al. 2011), as torch.optim.Adagrad"));
    reg.add(optimizer_entry<Adadelta, AdadeltaOptions>(
        "adadelta", "unit-corrected steps from running averages of g² and Δ² (Zeiler 2012), as torch.optim.Adadelta"));
    reg.add(optimizer_entry<RMSprop, RMSpropOptions>(
        "rmsprop", "steps scaled by a running RMS of the gradient, optionally centered (Hinton 2012; Graves 2013), as torch.optim.RMSprop"));
    reg.add(optimizer_entry<Adam, AdamOptions>(
        "adam", "bias-corrected first and second moments, optional AMSGrad (Kingma & Ba 2015; Reddi et al. 2018), as torch.optim.Adam"));
    reg.add(optimizer_entry<AdamW, AdamWOptions>(
        "adamw", "Adam with decoupled weight decay (Loshchilov & Hutter 2019), as torch.optim.AdamW"));
    reg.add(optimizer_entry<NAdam, NAdamOptions>(
        "nadam", "Adam with Nesterov momentum and a momentum schedule (Dozat 2016), as torch.optim.NAdam"));
    reg.add(optimizer_entry<NAG, NAGOptions>(
        "nag", "classical Nesterov momentum, gradient taken at the look-ahead point (Nesterov 1983; Sutskever et al. 2013)"));
    return reg;
  }();
  return r;
}

std::unique_ptr<Optimizer> make_optimizer(const nlohmann::json& spec, const std::string& path) {
  return optimizers().create(spec, path);
}

}  // namespace mtlgrad
