#pragma once
/// @file sampler.hpp
/// Deterministic mini-batches: an epoch visits the N rows in the order of a permutation drawn
/// from the sampler's own Rng (Fisher–Yates, Rng::shuffle), cut into consecutive batches of
/// `batch_size`. The last batch of an epoch holds the N mod batch_size remaining rows, or is
/// skipped with drop_last. When an epoch is used up the next call draws a new permutation.
///
///     BatchSampler s(data.size(), 32, Rng(seed));
///     Batch b;
///     for (std::size_t k = 0; k < s.batches_per_epoch(); ++k) gather(data, s.next(), b);
///
/// The position (epoch, offset in the epoch, and the Rng state before the epoch's permutation was
/// drawn) is saved as JSON by state() and restored by load_state(), which redraws the same
/// permutation: a resumed run sees exactly the batches an uninterrupted one would.
/// With shuffle = false every epoch visits the rows in order 0..N−1 (for evaluation).

#include <cstddef>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mtlgrad/core/rng.hpp"

namespace mtlgrad {

class BatchSampler {
 public:
  /// n >= 1 rows, 1 <= batch_size; with drop_last, batch_size <= n. Violations throw
  /// std::invalid_argument naming the value.
  BatchSampler(std::size_t n, std::size_t batch_size, Rng rng, bool drop_last = false, bool shuffle = true);

  /// The row indices of the next batch (valid until the next call). Allocates nothing.
  const std::vector<std::size_t>& next();

  /// 0-based index of the current epoch (the one the last batch came from; 0 before the first).
  std::size_t epoch() const { return epoch_; }
  /// Rows of the current epoch already handed out.
  std::size_t offset() const { return offset_; }
  std::size_t batches_per_epoch() const;
  std::size_t size() const { return order_.size(); }
  std::size_t batch_size() const { return batch_size_; }
  /// The current epoch's visiting order.
  const std::vector<std::size_t>& order() const { return order_; }

  /// {"n", "batch_size", "drop_last", "shuffle", "epoch", "offset", "rng"}
  nlohmann::json state() const;
  /// Restores a state written by state() of a sampler with the same n, batch_size, drop_last and
  /// shuffle; a malformed state or a different configuration throws std::invalid_argument naming
  /// the field.
  void load_state(const nlohmann::json& j);

 private:
  void draw_order();
  bool epoch_done() const;

  std::size_t batch_size_;
  bool drop_last_;
  bool shuffle_;
  Rng rng_;
  Rng epoch_rng_;  ///< rng_ as it was before this epoch's permutation
  std::vector<std::size_t> order_;
  std::vector<std::size_t> batch_;
  std::size_t epoch_ = 0;
  std::size_t offset_ = 0;
};

}  // namespace mtlgrad
