// Typed options: torch's defaults, and every range check with the words of its message.
#include <doctest/doctest.h>

#include "mtlgrad/optim/adadelta.hpp"
#include "mtlgrad/optim/adagrad.hpp"
#include "mtlgrad/optim/adam.hpp"
#include "mtlgrad/optim/nadam.hpp"
#include "mtlgrad/optim/nag.hpp"
#include "mtlgrad/optim/rmsprop.hpp"
#include "mtlgrad/optim/sgd.hpp"
#include "test_util.hpp"

using namespace mtlgrad;

TEST_SUITE("temporal options") {

TEST_CASE("typed options carry torch.optim 1.13's defaults") {
  const AdamOptions adam;
  CHECK(adam.lr == real(1e-3));
  CHECK(adam.betas[0] == real(0.9));
  CHECK(adam.betas[1] == real(0.999));
  CHECK(adam.eps == real(1e-8));
  CHECK(adam.weight_decay == 0);
  CHECK_FALSE(adam.amsgrad);
  CHECK(AdamWOptions{}.weight_decay == real(1e-2));
  CHECK(AdagradOptions{}.eps == real(1e-10));
  CHECK(AdagradOptions{}.lr == real(1e-2));
  CHECK(AdadeltaOptions{}.lr == 1);
  CHECK(AdadeltaOptions{}.rho == real(0.9));
  CHECK(AdadeltaOptions{}.eps == real(1e-6));
  CHECK(RMSpropOptions{}.alpha == real(0.99));
  CHECK(NAdamOptions{}.lr == real(2e-3));
  CHECK(NAdamOptions{}.momentum_decay == real(4e-3));
  CHECK(NAGOptions{}.momentum == real(0.9));
  CHECK(SGDOptions{}.lr == real(1e-3));
}

TEST_CASE("validate() names the optimizer, the option, the value and the range") {
  AdamOptions a;
  a.betas = {1, real(0.999)};
  CHECK_THROWS_WITH_SUBSTR(Adam{a}, "adam: betas[0] = 1 is out of range (expected 0 <= beta < 1)");
  a.betas = {real(0.9), real(-0.5)};
  CHECK_THROWS_WITH_SUBSTR(Adam{a}, "adam: betas[1] = -0.5 is out of range (expected 0 <= beta < 1)");
  AdamWOptions w;
  w.eps = -1;
  CHECK_THROWS_WITH_SUBSTR(AdamW{w}, "adamw: eps = -1 is out of range (expected >= 0)");
  w = AdamWOptions{};
  w.weight_decay = -0.01;
  CHECK_THROWS_WITH_SUBSTR(AdamW{w}, "adamw: weight_decay = -0.01 is out of range (expected >= 0)");
  AdamOptions nan_lr;
  nan_lr.lr = std::numeric_limits<real>::quiet_NaN();
  CHECK_THROWS_WITH_SUBSTR(Adam{nan_lr}, "adam: lr = ");

  SGDOptions s;
  s.nesterov = true;
  CHECK_THROWS_WITH_SUBSTR(SGD{s}, "sgd: momentum = 0 is out of range (expected > 0 with nesterov = true)");
  s.momentum = real(0.9);
  s.dampening = real(0.5);
  CHECK_THROWS_WITH_SUBSTR(SGD{s}, "sgd: dampening = 0.5 is out of range (expected 0 with nesterov = true)");
  s = SGDOptions{};
  s.momentum = -1;
  CHECK_THROWS_WITH_SUBSTR(SGD{s}, "sgd: momentum = -1 is out of range (expected >= 0)");
  s.momentum = 0;
  s.dampening = 2;
  CHECK_THROWS_WITH_SUBSTR(SGD{s}, "sgd: dampening = 2 is out of range (expected 0 <= dampening <= 1)");

  AdagradOptions g;
  g.lr_decay = -1;
  CHECK_THROWS_WITH_SUBSTR(Adagrad{g}, "adagrad: lr_decay = -1 is out of range (expected >= 0)");
  g = AdagradOptions{};
  g.initial_accumulator_value = -1;
  CHECK_THROWS_WITH_SUBSTR(Adagrad{g}, "adagrad: initial_accumulator_value = -1 is out of range (expected >= 0)");

  AdadeltaOptions d;
  d.rho = real(1.5);
  CHECK_THROWS_WITH_SUBSTR(Adadelta{d}, "adadelta: rho = 1.5 is out of range (expected 0 <= rho <= 1)");

  RMSpropOptions r;
  r.alpha = 2;
  CHECK_THROWS_WITH_SUBSTR(RMSprop{r}, "rmsprop: alpha = 2 is out of range (expected 0 <= alpha <= 1)");
  r = RMSpropOptions{};
  r.momentum = -1;
  CHECK_THROWS_WITH_SUBSTR(RMSprop{r}, "rmsprop: momentum = -1 is out of range (expected >= 0)");

  NAdamOptions n;
  n.momentum_decay = -1;
  CHECK_THROWS_WITH_SUBSTR(NAdam{n}, "nadam: momentum_decay = -1 is out of range (expected >= 0)");

  NAGOptions m;
  m.momentum = 1;
  CHECK_THROWS_WITH_SUBSTR(NAG{m}, "nag: momentum = 1 is out of range (expected 0 <= momentum < 1)");
}

TEST_CASE("options read from JSON: path, did-you-mean, types") {
  CHECK_THROWS_WITH_SUBSTR(make_optimizer({{"name", "adam"}, {"betas", {0.9}}}),
                           "optimizer.betas: expected an array of 2 values");
  CHECK_THROWS_WITH_SUBSTR(make_optimizer({{"name", "adam"}, {"betas", {1.0, 0.999}}}),
                           "optimizer: adam: betas[0] = 1 is out of range (expected 0 <= beta < 1)");
  CHECK_THROWS_WITH_SUBSTR(make_optimizer({{"name", "adam"}, {"amsgrad", 1}}), "optimizer.amsgrad: expected true or false");
  CHECK_THROWS_WITH_SUBSTR(make_optimizer({{"name", "sgd"}, {"nesterov", true}}, "config.optimizer"),
                           "config.optimizer: sgd: momentum = 0 is out of range (expected > 0 with nesterov = true)");
  CHECK_THROWS_WITH_SUBSTR(make_optimizer({{"name", "rmsprop"}, {"centred", true}}), "(did you mean 'centered'?)");
  CHECK_THROWS_WITH_SUBSTR(make_optimizer({{"name", "adamm"}}), "unknown optimizer 'adamm' (did you mean 'adam'?)");
  auto opt = make_optimizer({{"name", "adam"}, {"lr", 0.01}, {"betas", {0.8, 0.99}}, {"amsgrad", true}});
  const auto o = opt->options();
  CHECK(o["lr"] == double(real(0.01)));
  CHECK(o["betas"][1] == double(real(0.99)));
  CHECK(o["amsgrad"] == true);
  CHECK(o["weight_decay"] == 0.0);
  CHECK(make_optimizer("nadam")->name() == "nadam");
}

TEST_CASE("format_real writes the shortest text that reads back") {
  CHECK(format_real(1) == "1");
  CHECK(format_real(-0.5) == "-0.5");
  CHECK(format_real(real(1e-8)) == "1e-08");
  CHECK(format_real(real(0.999)) == "0.999");
  CHECK(format_real(std::numeric_limits<real>::quiet_NaN()) == "nan");
}

}  // TEST_SUITE
