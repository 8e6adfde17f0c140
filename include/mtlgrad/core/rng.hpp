#pragma once
/// @file rng.hpp
/// The one source of randomness: a seeded xoshiro256** generator (Blackman & Vigna 2018) that is
/// always passed explicitly — nothing random in mtlgrad is global. Every draw is defined here, not
/// by the standard library's distributions (whose algorithms differ between implementations), so a
/// seed gives the same numbers with any compiler. The state (including the cached second normal of
/// Box–Muller) can be saved and restored, so a resumed run continues bit-identically.

#include <array>
#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

class Rng {
 public:
  /// Seeds the four words of state with splitmix64(seed), as the xoshiro authors recommend.
  explicit Rng(std::uint64_t seed = 0);

  /// The next 64 random bits.
  std::uint64_t next_u64();
  /// Uniform in [0, 1) with 53 random bits.
  double uniform();
  /// Uniform in [lo, hi).
  real uniform(real lo, real hi);
  /// Standard normal by Box–Muller (pairs; the second value is cached), times stddev plus mean.
  real normal(real mean = 0, real stddev = 1);
  /// Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject). n must be > 0.
  std::uint64_t below(std::uint64_t n);
  /// A uniformly random permutation of 0..n-1 (Fisher–Yates).
  std::vector<std::size_t> permutation(std::size_t n);
  /// The same permutation written into `out` (resized; no allocation once it has the capacity).
  void permutation(std::size_t n, std::vector<std::size_t>& out);
  /// Shuffles v in place (Fisher–Yates).
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }
  /// A rows×cols tensor, each element uniform in [lo, hi), filled row-major.
  Tensor uniform_tensor(std::size_t rows, std::size_t cols, real lo, real hi);
  /// A rows×cols tensor of normals, filled row-major.
  Tensor normal_tensor(std::size_t rows, std::size_t cols, real mean = 0, real stddev = 1);
  /// An independent generator derived from this one's next draw (for per-run or per-worker
  /// streams): split() advances this generator by one draw.
  Rng split();

  /// {"s": [4 words], "normal_cached": bool, "normal": value}
  nlohmann::json state() const;
  /// Restores a state written by state(); throws std::invalid_argument on a malformed one.
  void load_state(const nlohmann::json& j);

  bool operator==(const Rng& o) const {
    return s_ == o.s_ && has_cached_ == o.has_cached_ && cached_ == o.cached_;
  }

 private:
  std::array<std::uint64_t, 4> s_{};
  bool has_cached_ = false;
  double cached_ = 0;
};

}  // namespace mtlgrad
