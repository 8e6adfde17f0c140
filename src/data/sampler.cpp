#include "mtlgrad/data/sampler.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/stored_state.hpp"

namespace mtlgrad {

BatchSampler::BatchSampler(std::size_t n, std::size_t batch_size, Rng rng, bool drop_last, bool shuffle)
    : batch_size_(batch_size), drop_last_(drop_last), shuffle_(shuffle), rng_(rng), epoch_rng_(rng), order_(n) {
  if (n == 0) throw std::invalid_argument("BatchSampler: the data set is empty (n = 0)");
  if (batch_size == 0) throw std::invalid_argument("BatchSampler: batch_size = 0 (expected >= 1)");
  if (drop_last && batch_size > n)
    throw std::invalid_argument("BatchSampler: batch_size = " + std::to_string(batch_size) +
                                " exceeds the " + std::to_string(n) + " rows, and drop_last leaves no batch");
  batch_.reserve(batch_size);
  draw_order();
}

void BatchSampler::draw_order() {
  epoch_rng_ = rng_;
  for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
  if (shuffle_) rng_.shuffle(order_);
}

std::size_t BatchSampler::batches_per_epoch() const {
  const std::size_t n = order_.size();
  return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

bool BatchSampler::epoch_done() const {
  const std::size_t left = order_.size() - offset_;
  return left == 0 || (drop_last_ && left < batch_size_);
}

const std::vector<std::size_t>& BatchSampler::next() {
  if (epoch_done()) {
    ++epoch_;
    offset_ = 0;
    draw_order();
  }
  const std::size_t take = std::min(batch_size_, order_.size() - offset_);
  batch_.assign(order_.begin() + std::ptrdiff_t(offset_), order_.begin() + std::ptrdiff_t(offset_ + take));
  offset_ += take;
  return batch_;
}

nlohmann::json BatchSampler::state() const {
  return {{"n", order_.size()}, {"batch_size", batch_size_}, {"drop_last", drop_last_}, {"shuffle", shuffle_},
          {"epoch", epoch_},    {"offset", offset_},         {"rng", epoch_rng_.state()}};
}

void BatchSampler::load_state(const nlohmann::json& j) {
  std::size_t epoch = 0, offset = 0;
  Rng rng;
  const auto expect = [&](const char* key, const nlohmann::json& mine) {
    if (state_field(j, key, "sampler") != mine)
      throw std::invalid_argument(std::string("sampler.") + key + ": the state is for " + key + " = " +
                                  j.at(key).dump() + ", this sampler has " + mine.dump());
  };
  expect("n", order_.size());
  expect("batch_size", batch_size_);
  expect("drop_last", drop_last_);
  expect("shuffle", shuffle_);
  epoch = state_uint(j, "epoch", "sampler");
  offset = state_uint(j, "offset", "sampler");
  rng.load_state(state_field(j, "rng", "sampler"));
  if (offset > order_.size())
    throw std::invalid_argument("sampler.offset: " + std::to_string(offset) + " exceeds n = " +
                                std::to_string(order_.size()));
  rng_ = rng;
  draw_order();
  epoch_ = epoch;
  offset_ = offset;
}

}  // namespace mtlgrad
