// Uses the installed library: builds y = sum(x ⊙ x) on a tape and checks dy/dx = 2x.
#include <cstdio>

#include "mtlgrad/autograd/ops.hpp"

int main() {
  using namespace mtlgrad;
  Tape tape;
  const Tensor x = row({1, 2, 3});
  Var vx = tape.leaf(x);
  Var y = sum(mul(vx, vx));
  const auto g = tape.grad(y, {vx});
  const bool ok = y.item() == 14 && g[0](0, 0) == 2 && g[0](0, 1) == 4 && g[0](0, 2) == 6;
  std::printf("consumer: y = %g, dy/dx = [%g, %g, %g] %s\n", double(y.item()), double(g[0](0, 0)),
              double(g[0](0, 1)), double(g[0](0, 2)), ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
