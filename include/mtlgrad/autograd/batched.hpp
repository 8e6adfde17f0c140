#pragma once
/// @file batched.hpp
/// The gradients of T outputs of one recording in ONE reverse sweep ("batched backward").
///
/// Tape::grad differentiates one output per sweep, so T task losses cost T sweeps, and each
/// matrix-product VJP runs T small GEMMs. BatchedSweep carries T gradient blocks per node instead,
/// block t = ∂(s_t·out_t)/∂value (s_t the seed of output t), stored stacked as a [T·rows, cols]
/// matrix, so that an op whose VJP is a matrix product does one GEMM with T times the rows:
///
///     affine y = x·W + b:   [∂x_1; …; ∂x_T] = [G_1; …; G_T]·Wᵀ      (one GEMM, M = T·B)
///                           ∂W_t = xᵀ·G_t,   ∂b_t = Σ_rows G_t       (written in place, e.g. into row t of J)
///
/// Only the blocks an output reaches are live: a task head's nodes carry one block, the shared
/// trunk all T. The result equals T calls of Tape::grad (tests compare the two at 1e-12); it is
/// exact up to the summation order inside BLAS.
///
/// Not every op has a batched VJP (the table in src/autograd/batched_vjp.cpp: affine, matmul,
/// relu, leaky_relu, tanh, sigmoid, log_softmax, cross_entropy, mse, conv2d, max_pool2d).
/// prepare() says whether every node the outputs depend on has one; when it does not, the caller
/// uses Tape::grad per output (collect_task_gradients does).
///
///     BatchedSweep s;
///     if (s.prepare(tape, losses)) {
///       s.set_destination(W, t, J.data() + t * P + offset_of_W);   // for every leaf and t
///       s.run(seeds);
///     }
///
/// Buffers are kept from sweep to sweep: recording the same graph again allocates nothing.

#include <cstdint>
#include <vector>

#include "mtlgrad/autograd/tape.hpp"

namespace mtlgrad {

class BatchedSweep;

/// A batched VJP: reads the live blocks of node `self`'s gradient and adds each input's
/// contribution to the input's block of the same output (BatchedSweep::target).
using BatchedVjp = void (*)(BatchedSweep& sweep, const Tape& tape, const Node& node, std::uint32_t self);

/// The batched VJP of an op name, or nullptr when the op has none.
BatchedVjp batched_vjp(const char* op);

class BatchedSweep {
 public:
  /// Prepares a sweep of `outs` (each 1×1; T = outs.size() ≥ 1) on `tape`. Returns false, and
  /// leaves nothing to run, when a node that some output depends on has no batched VJP. Clears
  /// every destination. Throws std::invalid_argument for no outputs, an output of another tape or
  /// an output that is not 1×1.
  bool prepare(Tape& tape, const std::vector<Var>& outs);
  /// Block t of leaf v's gradient (v's rows×cols, row-major) will be written to dst — zeros when
  /// output t does not reach v. A leaf without a destination for t gets nothing. Throws for a Var
  /// that is not a leaf of the prepared tape or t ≥ T.
  void set_destination(Var leaf, std::size_t t, real* dst);
  /// Runs the sweep with ∂L/∂out_t = seeds[t] (seeds.size() must be T).
  void run(const std::vector<real>& seeds);

  std::size_t tasks() const { return T_; }

  // ---- for batched VJPs ----------------------------------------------------------------------
  /// Output t reaches node i in this sweep (its block t holds a gradient).
  bool live(std::uint32_t i, std::size_t t) const { return live_[i * T_ + t] != 0; }
  /// Block t of node i's gradient (rows×cols of node i's value, row-major).
  const real* grad(std::uint32_t i, std::size_t t) const { return bufs_[i].data() + t * block_size(i); }
  /// The live blocks of node i as one range [a, b) when they are consecutive; false otherwise.
  bool live_range(std::uint32_t i, std::size_t& a, std::size_t& b) const;
  /// Where block t of input i's gradient goes, or nullptr when i takes no gradient for output t.
  /// `first` is true when nothing was written there yet in this sweep (assign, do not add); the
  /// block counts as written afterwards.
  real* target(std::uint32_t i, std::size_t t, bool& first);
  /// The blocks a..b−1 of an inner node i as one stacked [(b−a)·rows, cols] matrix, when i takes
  /// gradients and the blocks are all written or all unwritten (`first`); nullptr otherwise (use
  /// target() per block).
  real* target_range(std::uint32_t i, std::size_t a, std::size_t b, bool& first);
  /// A buffer of at least n values for a VJP's temporaries (kept across sweeps; valid until the
  /// next call).
  real* scratch(std::size_t n) {
    if (scratch_.size() < n) scratch_.resize(n);
    return scratch_.data();
  }

 private:
  std::size_t block_size(std::uint32_t i) const { return tape_->value(i).size(); }

  Tape* tape_ = nullptr;
  std::size_t T_ = 0;
  std::uint32_t top_ = 0;              // the last output node
  std::vector<std::uint32_t> outs_;
  std::vector<std::uint8_t> live_;     // [node·T + t]
  std::vector<std::uint8_t> reach_;    // [node·T + t]: output t depends on node
  std::vector<real*> dst_;             // [node·T + t]: leaves' destinations
  std::vector<BatchedVjp> vjp_;        // per node
  std::vector<Tensor> bufs_;           // inner nodes: [T·rows, cols]
  std::vector<real> scratch_;
};

}  // namespace mtlgrad
