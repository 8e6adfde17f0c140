// Layers: gradients of Linear, Sequential and mlp (central differences and PyTorch), Linear's default
// initialisation, parameter names, zero_grad, accumulation across backward calls, errors.
#include <cmath>
#include <functional>

#include "autograd/torch_fixture.hpp"
#include "mtlgrad/autograd/gradcheck.hpp"
#include "mtlgrad/nn/module.hpp"

using namespace mtlgrad;

namespace {

using LossFn = std::function<Var(Tape&)>;

// Central differences of loss() in every element of every parameter, against the gradient that one
// backward accumulates into Parameter::grad.
void check_parameter_gradients(Module& m, const LossFn& loss) {
  m.zero_grad();
  {
    Tape t;
    t.backward(loss(t));
  }
  const real h = tolerance(1e-6, 1e-2), atol = tolerance(1e-7, 1e-2), rtol = tolerance(1e-6, 1e-2);
  auto eval = [&] {
    Tape t;
    return double(loss(t).item());
  };
  for (const NamedParameter& np : m.named_parameters()) {
    INFO("parameter " << np.name);
    Tensor& v = np.param->value;
    REQUIRE(np.param->grad.shape() == v.shape());
    for (std::size_t k = 0; k < v.size(); ++k) {
      const real saved = v.data()[k];
      v.data()[k] = saved + h;
      const double up = eval();
      v.data()[k] = saved - h;
      const double down = eval();
      v.data()[k] = saved;
      const double numeric = (up - down) / (2 * double(h)), analytic = np.param->grad.data()[k];
      CHECK_MESSAGE(std::abs(analytic - numeric) <= double(atol) + double(rtol) * std::abs(numeric),
                    "element " << k << ": analytic " << analytic << ", numeric " << numeric);
    }
  }
}

}  // namespace

TEST_SUITE("nn") {

TEST_CASE("Linear, Sequential, mlp: gradients in inputs and parameters by central differences") {
  Rng rng(11);
  const Tensor x = rng.normal_tensor(4, 3);
  const Tensor target = rng.normal_tensor(4, 2);
  struct Row {
    std::string name;
    std::unique_ptr<Module> model;
  };
  std::vector<Row> rows;
  rows.push_back({"Linear with bias", std::make_unique<Linear>(3, 2, rng)});
  rows.push_back({"Linear without bias", std::make_unique<Linear>(3, 2, rng, false)});
  rows.push_back({"mlp tanh 3-5-4-2", mlp({3, 5, 4, 2}, "tanh", rng)});
  rows.push_back({"mlp sigmoid 3-6-2, activated last", mlp({3, 6, 2}, "sigmoid", rng, true)});
  auto seq = std::make_unique<Sequential>();
  seq->add<Linear>(3, 4, rng);
  seq->add<Tanh>();
  seq->add<Linear>(4, 2, rng, false);
  rows.push_back({"Sequential by hand", std::move(seq)});
  for (Row& r : rows) {
    INFO("model " << r.name);
    Module& m = *r.model;
    // The whole Jacobian in the input.
    const GradcheckResult g = gradcheck([&m](Tape& t, const std::vector<Var>& v) { return m.forward(t, v[0]); }, {x});
    CHECK_MESSAGE(g.ok, g.report);
    // Every parameter, through an mse loss.
    check_parameter_gradients(m, [&](Tape& t) { return mse(m.forward(t, t.input(x)), target); });
  }
}

TEST_CASE("a 3-8-8-2 tanh/relu MLP matches PyTorch: logits, two losses of one forward, every gradient") {
  const auto j = mtlgrad::test::load_fixture("autograd_torch.json").at("mlp");
  using mtlgrad::test::nested;
  Rng rng(0);
  Sequential net;
  net.add<Linear>(3, 8, rng);
  net.add<Tanh>();
  net.add<Linear>(8, 8, rng);
  net.add<ReLU>();
  net.add<Linear>(8, 2, rng);
  auto params = net.named_parameters();
  REQUIRE(params.size() == 6);
  for (std::size_t l = 0; l < 3; ++l) {
    params[2 * l].param->value = nested(j.at("weights")[l]);  // our layout [in,out]
    params[2 * l + 1].param->value = nested(j.at("biases")[l]);
  }
  const Tensor x = nested(j.at("x")), targets = nested(j.at("targets"));
  const auto labels = j.at("labels").get<std::vector<std::size_t>>();

  Tape t;
  Var logits = net.forward(t, t.input(x));
  CHECK(mtlgrad::test::max_rel_err_floor(logits.value(), nested(j.at("logits")), 1) <= mtlgrad::test::kTorchTol);
  const Var losses[2] = {cross_entropy(logits, labels), mse(logits, targets)};
  const char* names[2] = {"cross_entropy", "mse"};
  for (int k = 0; k < 2; ++k) {
    INFO("loss " << names[k]);
    const auto& ref = j.at("losses").at(names[k]);
    CHECK(std::abs(double(losses[k].item()) - ref.at("value").get<double>()) <=
          mtlgrad::test::kTorchTol * std::max(1.0, std::abs(ref.at("value").get<double>())));
    net.zero_grad();
    t.backward(losses[k]);  // same recording, second loss: the forward is not redone
    for (const NamedParameter& np : params) {
      INFO("parameter " << np.name);
      const double err = mtlgrad::test::max_rel_err_floor(np.param->grad, nested(ref.at("grads").at(np.name)), 1);
      CHECK_MESSAGE(err <= mtlgrad::test::kTorchTol, "max rel err " << err);
    }
  }
}

TEST_CASE("Linear's default initialisation is U(-1/sqrt(in), 1/sqrt(in)) for weight and bias") {
  Rng rng(2026);
  const std::size_t in = 1000, out = 500;
  Linear lin(in, out, rng);
  const double b = 1 / std::sqrt(double(in));
  REQUIRE(lin.weight.value.shape() == Shape{in, out});
  REQUIRE(lin.bias.value.shape() == Shape{1, out});
  const Tensor& W = lin.weight.value;
  const double n = double(W.size());
  double s = 0, s2 = 0, lo = 1, hi = -1;
  for (real v : W) {
    s += v;
    s2 += double(v) * v;
    lo = std::min(lo, double(v));
    hi = std::max(hi, double(v));
  }
  const double mean = s / n, var = s2 / n - mean * mean;
  CHECK(lo >= -b);
  CHECK(hi <= b);
  CHECK(lo < -0.999 * b);  // the whole interval is used
  CHECK(hi > 0.999 * b);
  // U(-b, b): mean 0 (standard error b/sqrt(3n) = 2.6e-5 here), variance b²/3 (relative s.e. 0.13%).
  CHECK(std::abs(mean) < 5 * b / std::sqrt(3 * n));
  CHECK(std::abs(var / (b * b / 3) - 1) < 0.01);
  // The bias uses the same bound 1/sqrt(in) (not 1/sqrt(out) = 0.045, which 500 draws would exceed).
  const double bmax = double(xt::amax(xt::abs(lin.bias.value))());
  CHECK(bmax <= b);
  CHECK(bmax > 0.95 * b);

  Rng r1(7), r2(7), r3(8);
  Linear a(4, 3, r1), c(4, 3, r2), d(4, 3, r3);
  CHECK(a.weight.value == c.weight.value);  // same seed, same weights, bit for bit
  CHECK(a.bias.value == c.bias.value);
  CHECK(a.weight.value != d.weight.value);
  Linear nb(4, 3, r1, false);
  CHECK(nb.bias.value.size() == 0);
  CHECK(nb.named_parameters().size() == 1);
  CHECK(nb.num_parameters() == 12);
}

TEST_CASE("Sequential names its parameters as torch.nn.Sequential, describe() prints the layers") {
  Rng rng(1);
  auto net = mlp({3, 8, 8, 2}, "relu", rng);
  std::vector<std::string> names;
  for (const NamedParameter& np : net->named_parameters()) names.push_back(np.name);
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"});
  CHECK(net->num_parameters() == 3 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2);
  CHECK(net->describe() == "Sequential(Linear(3, 8), ReLU(), Linear(8, 8), ReLU(), Linear(8, 2))");
  CHECK(net->named_parameters("encoder.")[0].name == "encoder.0.weight");
  CHECK(mlp({2, 4, 1}, "leaky_relu", rng, true)->describe() ==
        "Sequential(Linear(2, 4), LeakyReLU(0.01), Linear(4, 1), LeakyReLU(0.01))");
  CHECK(mlp({2, 4, 1}, "tanh", rng)->describe() == "Sequential(Linear(2, 4), Tanh(), Linear(4, 1))");
  CHECK(mlp({2, 1}, "sigmoid", rng, true)->describe() == "Sequential(Linear(2, 1), Sigmoid())");
  // Nested Sequentials prefix twice.
  Sequential outer;
  outer.push_back(mlp({2, 3}, "relu", rng));
  CHECK(outer.named_parameters()[1].name == "0.0.bias");
}

TEST_CASE("zero_grad zeroes every gradient, backward accumulates across calls") {
  Rng rng(4);
  auto net = mlp({3, 4, 2}, "tanh", rng);
  const Tensor x = rng.normal_tensor(5, 3), y = rng.normal_tensor(5, 2);
  Tape t;
  Var L = mse(net->forward(t, t.input(x)), y);
  t.backward(L);
  std::vector<Tensor> once;
  for (Parameter* p : net->parameters()) {
    REQUIRE(p->grad.shape() == p->value.shape());
    once.push_back(p->grad);
  }
  t.backward(L);  // a second backward of the same recording adds the same gradient again
  std::size_t k = 0;
  for (Parameter* p : net->parameters()) CHECK(p->grad == real(2) * once[k++]);
  CHECK(xt::amax(xt::abs(once[0]))() > 0);
  net->zero_grad();
  for (Parameter* p : net->parameters()) CHECK(p->grad == zeros(shape_of(p->value)));
  t.backward(L);
  k = 0;
  for (Parameter* p : net->parameters()) CHECK(p->grad == once[k++]);
}

TEST_CASE("same seed, same training run: parameters bit-identical after 20 gradient steps") {
  auto train = [](std::uint64_t seed) {
    Rng rng(seed);
    auto net = mlp({2, 6, 3}, "tanh", rng);
    const Tensor x = rng.normal_tensor(8, 2);
    const std::vector<std::size_t> labels = {0, 1, 2, 0, 1, 2, 0, 1};
    Tape t;
    for (int step = 0; step < 20; ++step) {
      t.clear();
      net->zero_grad();
      t.backward(cross_entropy(net->forward(t, t.input(x)), labels));
      for (Parameter* p : net->parameters()) p->value -= real(0.1) * p->grad;
    }
    std::vector<Tensor> out;
    for (Parameter* p : net->parameters()) out.push_back(p->value);
    return out;
  };
  const auto a = train(5), b = train(5), c = train(6);
  REQUIRE(a.size() == 4);
  for (std::size_t k = 0; k < a.size(); ++k) CHECK(a[k] == b[k]);
  CHECK(a[0] != c[0]);
}

TEST_CASE("layer errors name the layer, the widths and the allowed names") {
  Rng rng(0);
  Linear lin(3, 2, rng);
  Tape t;
  const Tensor x0 = zeros(4, 5);
  CHECK_THROWS_WITH_SUBSTR(lin.forward(t, t.input(x0)), "Linear(3, 2): input [4,5] has 5 columns, expected 3");
  CHECK_THROWS_WITH_SUBSTR(Linear(0, 2, rng), "Linear: sizes must be positive, got in = 0, out = 2");
  CHECK_THROWS_WITH_SUBSTR(mlp({3, 4, 2}, "gelu", rng),
                           "mlp: unknown activation 'gelu'; available: relu, tanh, sigmoid, leaky_relu");
  CHECK_THROWS_WITH_SUBSTR(mlp({3, 2}, "gelu", rng), "mlp: unknown activation 'gelu'");  // no activation built
  CHECK_THROWS_WITH_SUBSTR(mlp({3}, "relu", rng), "mlp: need at least two sizes");
  auto net = mlp({3, 4, 2}, "relu", rng);
  CHECK_THROWS_WITH_SUBSTR(net->forward(t, t.input(x0)), "Linear(3, 4): input [4,5]");
}

}  // TEST_SUITE
