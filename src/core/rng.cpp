#include "mtlgrad/core/rng.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "mtlgrad/core/stored_state.hpp"

namespace mtlgrad {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(std::uint64_t seed) {
  for (auto& w : s_) w = splitmix64(seed);
}

std::uint64_t Rng::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }

real Rng::uniform(real lo, real hi) { return real(lo + (double(hi) - double(lo)) * uniform()); }

real Rng::normal(real mean, real stddev) {
  double z;
  if (has_cached_) {
    z = cached_;
    has_cached_ = false;
  } else {
    // 1 - uniform() is in (0, 1], so the log is finite.
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double a = 2.0 * M_PI * u2;
    z = r * std::cos(a);
    cached_ = r * std::sin(a);
    has_cached_ = true;
  }
  return real(mean + stddev * z);
}

std::uint64_t Rng::below(std::uint64_t n) {
  if (n == 0) throw std::invalid_argument("Rng::below: n must be > 0");
  // Lemire, "Fast random integer generation in an interval" (2019).
  unsigned __int128 m = (unsigned __int128)next_u64() * n;
  std::uint64_t low = std::uint64_t(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = (unsigned __int128)next_u64() * n;
      low = std::uint64_t(m);
    }
  }
  return std::uint64_t(m >> 64);
}

std::vector<std::size_t> Rng::permutation(std::size_t n) {
  std::vector<std::size_t> p;
  permutation(n, p);
  return p;
}

void Rng::permutation(std::size_t n, std::vector<std::size_t>& out) {
  out.resize(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = i;
  shuffle(out);
}

Tensor Rng::uniform_tensor(std::size_t rows, std::size_t cols, real lo, real hi) {
  Tensor t = zeros(rows, cols);
  for (auto& v : t) v = uniform(lo, hi);
  return t;
}

Tensor Rng::normal_tensor(std::size_t rows, std::size_t cols, real mean, real stddev) {
  Tensor t = zeros(rows, cols);
  for (auto& v : t) v = normal(mean, stddev);
  return t;
}

Rng Rng::split() { return Rng(next_u64()); }

nlohmann::json Rng::state() const {
  return {{"s", s_}, {"normal_cached", has_cached_}, {"normal", cached_}};
}

void Rng::load_state(const nlohmann::json& j) {
  const nlohmann::json& words = state_field(j, "s", "rng");
  std::array<std::uint64_t, 4> s{};
  if (!words.is_array() || words.size() != 4)
    throw std::invalid_argument("rng.s: expected 4 non-negative integers, got " + words.dump().substr(0, 60));
  for (std::size_t i = 0; i < 4; ++i) {
    if (!words[i].is_number_integer() || (!words[i].is_number_unsigned() && words[i].get<std::int64_t>() < 0))
      throw std::invalid_argument("rng.s[" + std::to_string(i) + "]: expected a non-negative integer, got " +
                                  words[i].dump().substr(0, 40));
    s[i] = words[i].get<std::uint64_t>();
  }
  // xoshiro256** never leaves the all-zero state: every draw would be 0 and a rejection loop
  // waiting for another value would never end.
  if (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0)
    throw std::invalid_argument("rng.s: all four words are zero, which is not a state of xoshiro256**");
  const bool hc = state_bool(j, "normal_cached", "rng");
  const double c = state_number(j, "normal", "rng");
  s_ = s;
  has_cached_ = hc;
  cached_ = c;
}

}  // namespace mtlgrad
