#include "mtlgrad/autograd/gradcheck.hpp"

#include <cmath>
#include <sstream>

namespace mtlgrad {
namespace {

Tensor evaluate(const GradcheckFn& f, const std::vector<Tensor>& inputs) {
  Tape t;
  std::vector<Var> xs;
  for (const Tensor& x : inputs) xs.push_back(t.leaf(x));
  return f(t, xs).value();
}

std::string index_str(std::size_t k, std::size_t cols) {
  return "[" + std::to_string(k / cols) + "," + std::to_string(k % cols) + "]";
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& o) {
  GradcheckResult r;
  std::size_t N = 0;
  for (const Tensor& x : inputs) N += x.size();
  const Tensor y0 = evaluate(f, inputs);
  const std::size_t M = y0.size();
  r.analytic = zeros(M, N);
  r.numeric = zeros(M, N);

  // Analytic: one backward per output element, seeded with the one-hot e_m.
  {
    Tape t;
    std::vector<Var> xs;
    for (const Tensor& x : inputs) xs.push_back(t.leaf(x));
    Var y = f(t, xs);
    Tensor seed = zeros(shape_of(y.value()));
    std::vector<Tensor> g;
    for (std::size_t m = 0; m < M; ++m) {
      seed.fill(0);
      seed.data()[m] = 1;
      t.grad(y, seed, xs, g);
      std::size_t col = 0;
      for (const Tensor& gi : g)
        for (real v : gi) r.analytic(m, col++) = v;
    }
  }
  // Numeric: central differences, one input element at a time.
  std::vector<Tensor> x = inputs;
  std::size_t col = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::size_t e = 0; e < x[i].size(); ++e, ++col) {
      const real saved = x[i].data()[e];
      x[i].data()[e] = saved + o.step;
      const Tensor yp = evaluate(f, x);
      x[i].data()[e] = saved - o.step;
      const Tensor ym = evaluate(f, x);
      x[i].data()[e] = saved;
      for (std::size_t m = 0; m < M; ++m) r.numeric(m, col) = (yp.data()[m] - ym.data()[m]) / (2 * o.step);
    }
  // Compare.
  double worst = -1;
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      const double a = r.analytic(m, n), nu = r.numeric(m, n);
      const double err = std::abs(a - nu);
      r.max_abs_err = std::max(r.max_abs_err, err);
      const double excess = err - (double(o.atol) + double(o.rtol) * std::abs(nu));
      if (!(excess <= 0)) r.ok = false;  // NaN fails too
      if (excess > worst || std::isnan(excess)) {
        worst = std::isnan(excess) ? 1e300 : excess;
        std::size_t which = 0, off = n;
        while (off >= inputs[which].size()) off -= inputs[which++].size();
        std::ostringstream s;
        s.precision(10);
        s << "d y" << index_str(m, y0.shape(1)) << " / d x" << which << index_str(off, inputs[which].shape(1))
          << ": analytic " << a << ", numeric " << nu;
        r.report = s.str();
      }
    }
  return r;
}

}  // namespace mtlgrad
