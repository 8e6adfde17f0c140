// 01 — the autograd on scalars, in the spirit of micrograd's README.
//
// We build a small expression of two numbers, differentiate it, and print every intermediate value
// and gradient next to the value derived by hand below. The program exits with 1 if any of them
// differs, so it doubles as a test.
//
//   a = −4,  b = 3
//   c = a + b            = −1
//   p = a · b            = −12
//   d = p + b³           = −12 + 27 = 15
//   e = c − d            = −16
//   f = e²               = 256
//   h = relu(b − a)      = relu(7) = 7
//   k = relu(p)          = relu(−12) = 0          (a "dead" relu: it passes no gradient)
//   g = f / 2 + h + k    = 128 + 7 + 0 = 135
//
// Gradients ∂g/∂·, from the output backwards (the chain rule, one node at a time):
//   ∂g/∂g = 1
//   ∂g/∂f = 1/2,   ∂g/∂h = 1,   ∂g/∂k = 1
//   ∂g/∂e = ∂g/∂f · 2e           = ½ · 2 · (−16) = −16
//   ∂g/∂c = ∂g/∂e · 1            = −16
//   ∂g/∂d = ∂g/∂e · (−1)         = 16
//   ∂g/∂p = ∂g/∂d · 1 + ∂g/∂k · relu′(p) = 16 + 1 · 0 = 16    (relu′(−12) = 0)
//   ∂g/∂(b−a) = ∂g/∂h · relu′(7) = 1
//   a is used three times (in c, p and b − a); its gradient is the SUM of the three paths:
//   ∂g/∂a = ∂g/∂c · 1 + ∂g/∂p · b + ∂g/∂(b−a) · (−1) = −16 + 16·3 − 1 = 31
//   b is used four times (c, p, b³, b − a):
//   ∂g/∂b = ∂g/∂c · 1 + ∂g/∂p · a + ∂g/∂d · 3b² + ∂g/∂(b−a) · 1 = −16 − 64 + 432 + 1 = 353
#include <cstdio>
#include <string>
#include <vector>

#include "mtlgrad/autograd/ops.hpp"

using namespace mtlgrad;

int main() {
  Tape tape;
  const Tensor a_value = scalar(-4), b_value = scalar(3);
  Var a = tape.leaf(a_value);
  Var b = tape.leaf(b_value);

  Var c = a + b;
  Var p = a * b;
  Var d = p + pow(b, 3);
  Var e = c - d;
  Var f = pow(e, 2);
  Var bma = b - a;
  Var h = relu(bma);
  Var k = relu(p);
  Var g = f * real(0.5) + h + k;

  // The tape is the list of operations in the order they ran: each node only uses earlier ones, so
  // this order is topological, and backward is one loop from the last node to the first.
  std::printf("The tape (%zu nodes, in creation order):\n", tape.size());
  for (std::uint32_t i = 0; i < tape.size(); ++i) {
    std::string ins;
    for (std::uint32_t in : tape.inputs(i)) ins += (ins.empty() ? "#" : ", #") + std::to_string(in);
    std::printf("  #%-2u %-10s (%s) = %g\n", i, tape.op(i), ins.c_str(), double(tape.value(i)(0, 0)));
  }

  // One backward from g; grad() returns ∂g/∂v for every Var we ask about, intermediate ones too.
  struct Row {
    const char* name;
    Var v;
    double value, grad;  // by hand, above
  };
  const std::vector<Row> rows = {
      {"a", a, -4, 31},      {"b", b, 3, 353},     {"c = a + b", c, -1, -16},  {"p = a*b", p, -12, 16},
      {"d = p + b^3", d, 15, 16}, {"e = c - d", e, -16, -16}, {"f = e^2", f, 256, 0.5},
      {"b - a", bma, 7, 1},  {"h = relu(b - a)", h, 7, 1}, {"k = relu(p)", k, 0, 1}, {"g", g, 135, 1}};
  std::vector<Var> wrt;
  for (const Row& r : rows) wrt.push_back(r.v);
  const std::vector<Tensor> grads = tape.grad(g, wrt);

  std::printf("\n%-16s %10s %10s   %10s %10s\n", "", "value", "by hand", "dg/d.", "by hand");
  int wrong = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double v = rows[i].v.item(), gr = grads[i](0, 0);
    const bool ok = v == rows[i].value && gr == rows[i].grad;
    wrong += !ok;
    std::printf("%-16s %10g %10g   %10g %10g   %s\n", rows[i].name, v, rows[i].value, gr, rows[i].grad,
                ok ? "ok" : "WRONG");
  }
  std::printf("\n%s\n", wrong ? "some values differ from the hand derivation" : "all values and gradients as derived");
  return wrong ? 1 : 0;
}
