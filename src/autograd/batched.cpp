#include "mtlgrad/autograd/batched.hpp"

#include "tape_nodes.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mtlgrad {

bool BatchedSweep::prepare(Tape& tape, const std::vector<Var>& outs) {
  tape_ = nullptr;  // until the outputs are checked and every VJP is found
  if (outs.empty()) throw std::invalid_argument("batched sweep: no outputs");
  T_ = outs.size();
  outs_.resize(T_);
  top_ = 0;
  for (std::size_t t = 0; t < T_; ++t) {
    if (&outs[t].tape() != &tape) throw std::invalid_argument("batched sweep: output " + std::to_string(t) +
                                                              " belongs to another tape");
    if (outs[t].rows() != 1 || outs[t].cols() != 1)
      throw std::invalid_argument("batched sweep: output " + std::to_string(t) + " must be 1x1 (a loss), got " +
                                  shape_str(outs[t].value()));
    outs_[t] = outs[t].index();
    top_ = std::max(top_, outs_[t]);
  }
  tape_ = &tape;
  const std::size_t n = top_ + 1;
  reach_.assign(n * T_, 0);
  live_.assign(n * T_, 0);
  dst_.assign(n * T_, nullptr);
  vjp_.assign(n, nullptr);
  if (bufs_.size() < n) bufs_.resize(n);
  for (std::size_t t = 0; t < T_; ++t) reach_[outs_[t] * T_ + t] = tape.node(outs_[t]).requires_grad;
  // Reverse creation order is a topological order: mark what each output reaches, and find the
  // VJP of every reached inner node.
  for (std::size_t i = n; i-- > 0;) {
    const Node& nd = tape.node(std::uint32_t(i));
    const std::uint8_t* r = &reach_[i * T_];
    if (!nd.backward || std::none_of(r, r + T_, [](std::uint8_t v) { return v != 0; })) continue;
    vjp_[i] = batched_vjp(nd.op);
    if (!vjp_[i]) {
      tape_ = nullptr;
      return false;
    }
    const Tensor& v = nd.val();
    if (bufs_[i].shape(0) != T_ * v.shape(0) || bufs_[i].shape(1) != v.shape(1)) bufs_[i].resize({T_ * v.shape(0), v.shape(1)});
    for (std::uint8_t k = 0; k < nd.n_in; ++k) {
      if (!tape.node(nd.in[k]).requires_grad) continue;
      std::uint8_t* ri = &reach_[nd.in[k] * T_];
      for (std::size_t t = 0; t < T_; ++t) ri[t] |= r[t];
    }
  }
  return true;
}

void BatchedSweep::set_destination(Var leaf, std::size_t t, real* dst) {
  if (!tape_ || &leaf.tape() != tape_) throw std::invalid_argument("batched sweep: set_destination of a Var of another tape");
  if (t >= T_)
    throw std::invalid_argument("batched sweep: set_destination for output " + std::to_string(t) + " of " +
                                std::to_string(T_));
  if (tape_->node(leaf.index()).backward)
    throw std::invalid_argument(std::string("batched sweep: set_destination of a '") + tape_->node(leaf.index()).op +
                                "' node; only leaves take destinations");
  if (leaf.index() > top_) {  // created after every output: no output depends on it
    std::fill_n(dst, block_size(leaf.index()), real(0));
    return;
  }
  dst_[leaf.index() * T_ + t] = dst;
}

void BatchedSweep::run(const std::vector<real>& seeds) {
  if (!tape_) throw std::invalid_argument("batched sweep: run before prepare");
  if (seeds.size() != T_)
    throw std::invalid_argument("batched sweep: " + std::to_string(seeds.size()) + " seeds for " + std::to_string(T_) +
                                " outputs");
  for (std::size_t t = 0; t < T_; ++t) {
    bool first = true;
    real* g = target(outs_[t], t, first);
    if (!g) continue;
    g[0] = first ? seeds[t] : g[0] + seeds[t];
  }
  for (std::size_t i = top_ + 1; i-- > 0;)
    if (vjp_[i]) vjp_[i](*this, *tape_, tape_->node(std::uint32_t(i)), std::uint32_t(i));
  // A destination no output reached is a zero gradient, as Tape::grad returns.
  for (std::size_t k = 0; k < dst_.size(); ++k)
    if (dst_[k] && !live_[k]) std::fill_n(dst_[k], block_size(std::uint32_t(k / T_)), real(0));
}

bool BatchedSweep::live_range(std::uint32_t i, std::size_t& a, std::size_t& b) const {
  const std::uint8_t* l = &live_[i * T_];
  a = 0;
  while (a < T_ && !l[a]) ++a;
  b = a;
  while (b < T_ && l[b]) ++b;
  for (std::size_t t = b; t < T_; ++t)
    if (l[t]) return false;
  return a < b;
}

real* BatchedSweep::target(std::uint32_t i, std::size_t t, bool& first) {
  const Node& nd = tape_->node(i);
  if (!nd.requires_grad) return nullptr;
  real* p = nd.backward ? bufs_[i].data() + t * block_size(i) : dst_[i * T_ + t];
  if (!p) return nullptr;
  std::uint8_t& l = live_[i * T_ + t];
  first = l == 0;
  l = 1;
  return p;
}

real* BatchedSweep::target_range(std::uint32_t i, std::size_t a, std::size_t b, bool& first) {
  const Node& nd = tape_->node(i);
  if (!nd.requires_grad || !nd.backward || a >= b) return nullptr;
  std::uint8_t* l = &live_[i * T_];
  if (!std::all_of(l + a, l + b, [&](std::uint8_t v) { return v == l[a]; })) return nullptr;
  first = l[a] == 0;
  std::fill(l + a, l + b, std::uint8_t(1));
  return bufs_[i].data() + a * block_size(i);
}

}  // namespace mtlgrad
