#include "mtlgrad/mtl/agreement.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/core/stored_state.hpp"

namespace mtlgrad {

void AgreementOptions::validate() const {
  if (!(beta >= 0 && beta < 1))
    throw std::invalid_argument("agreement: beta = " + std::to_string(double(beta)) + " is out of range [0, 1)");
}

AgreementTracker::AgreementTracker(AgreementOptions o) : o_(o) { o_.validate(); }

void AgreementTracker::init(std::size_t T) {
  T_ = T;
  n_ = tag_n_ = 0;
  beta_pow_ = 1;
  sum_cos_ = sum_conflict_ = ema_cos_ = ema_conflict_ = tag_sum_ = tag_count_ = zeros(T, T);
  history_.clear();
}

void AgreementTracker::record(const StepRecord& r) {
  if (r.skipped) return;
  const std::size_t T = r.cos.shape(0);
  if (T_ == 0) init(T);
  if (r.cos.shape(0) != T_ || r.cos.shape(1) != T_)
    throw std::invalid_argument("agreement: step " + std::to_string(r.step) + " has a cos matrix of shape " +
                                shape_str(r.cos) + ", the tracker holds T = " + std::to_string(T_) + " tasks");
  ++n_;
  beta_pow_ *= o_.beta;
  const real b = o_.beta, a = 1 - o_.beta;
  for (std::size_t i = 0; i < T_; ++i)
    for (std::size_t j = 0; j < T_; ++j) {
      const real c = r.cos(i, j), k = c < 0 ? real(1) : real(0);
      sum_cos_(i, j) += c;
      sum_conflict_(i, j) += k;
      ema_cos_(i, j) = b * ema_cos_(i, j) + a * c;
      ema_conflict_(i, j) = b * ema_conflict_(i, j) + a * k;
    }
  if (o_.history_every && r.step % o_.history_every == 0) {
    AgreementSample s{r.step, {}};
    for (std::size_t i = 0; i < T_; ++i)
      for (std::size_t j = i + 1; j < T_; ++j) s.cos.push_back(r.cos(i, j));
    history_.push_back(std::move(s));
  }
}

void AgreementTracker::record_tag(const Tensor& Z) {
  if (T_ == 0) init(Z.shape(0));
  if (Z.shape(0) != T_ || Z.shape(1) != T_)
    throw std::invalid_argument("agreement: a TAG affinity of shape " + shape_str(Z) + " for T = " +
                                std::to_string(T_) + " tasks");
  ++tag_n_;
  for (std::size_t i = 0; i < T_; ++i)
    for (std::size_t j = 0; j < T_; ++j)
      if (std::isfinite(Z(i, j))) {
        tag_sum_(i, j) += Z(i, j);
        tag_count_(i, j) += 1;
      }
}

namespace {
Tensor divided(const Tensor& sum, const Tensor& count) {
  Tensor out = zeros(shape_of(sum));
  for (std::size_t k = 0; k < sum.size(); ++k) out.data()[k] = count.data()[k] > 0 ? sum.data()[k] / count.data()[k] : 0;
  return out;
}
Tensor over_n(const Tensor& sum, std::size_t n) {
  Tensor out = sum;
  if (n) out /= real(n);
  return out;
}
}  // namespace

Tensor AgreementTracker::corrected(const Tensor& ema) const {
  Tensor out = ema;
  if (n_) out /= (1 - beta_pow_);
  return out;
}

Tensor AgreementTracker::mean_cos() const { return over_n(sum_cos_, n_); }
Tensor AgreementTracker::conflict_rate() const { return over_n(sum_conflict_, n_); }
Tensor AgreementTracker::ema_cos() const { return corrected(ema_cos_); }
Tensor AgreementTracker::ema_conflict() const { return corrected(ema_conflict_); }
Tensor AgreementTracker::mean_tag() const { return divided(tag_sum_, tag_count_); }

nlohmann::json AgreementTracker::state() const {
  nlohmann::json hist = nlohmann::json::array();
  for (const auto& s : history_) hist.push_back({s.step, s.cos});
  nlohmann::json j = {{"tasks", T_}, {"n", n_}, {"tag_n", tag_n_}, {"beta_pow", beta_pow_}, {"history", hist}};
  if (T_) {
    j["sum_cos"] = tensor_to_json(sum_cos_);
    j["sum_conflict"] = tensor_to_json(sum_conflict_);
    j["ema_cos"] = tensor_to_json(ema_cos_);
    j["ema_conflict"] = tensor_to_json(ema_conflict_);
    j["tag_sum"] = tensor_to_json(tag_sum_);
    j["tag_count"] = tensor_to_json(tag_count_);
  }
  return j;
}

void AgreementTracker::load_state(const nlohmann::json& s) {
  try {
    const std::size_t T = state_uint(s, "tasks", "agreement");
    init(T);
    if (T) {
      const Shape shape{T, T};
      auto read = [&](const char* key, Tensor& t) { t = state_tensor(s, key, "agreement", shape); };
      read("sum_cos", sum_cos_);
      read("sum_conflict", sum_conflict_);
      read("ema_cos", ema_cos_);
      read("ema_conflict", ema_conflict_);
      read("tag_sum", tag_sum_);
      read("tag_count", tag_count_);
    }
    n_ = state_uint(s, "n", "agreement");
    tag_n_ = state_uint(s, "tag_n", "agreement");
    beta_pow_ = real(state_number(s, "beta_pow", "agreement"));
    const nlohmann::json& history = state_field(s, "history", "agreement");
    if (!history.is_array()) throw std::invalid_argument("agreement.history: expected a list");
    for (const auto& e : history) {
      AgreementSample a{e.at(0).get<std::size_t>(), e.at(1).get<std::vector<real>>()};
      if (a.cos.size() != T * (T - 1) / 2)
        throw std::invalid_argument("agreement state: a history entry has " + std::to_string(a.cos.size()) +
                                    " cosines, expected " + std::to_string(T * (T - 1) / 2));
      history_.push_back(std::move(a));
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("agreement state: malformed: ") + e.what());
  }
}

real grouping_score(const Tensor& A, const std::vector<std::size_t>& group, std::size_t* pairs) {
  real sum = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < group.size(); ++i)
    for (std::size_t j = i + 1; j < group.size(); ++j)
      if (group[i] == group[j]) {
        sum += (A(i, j) + A(j, i)) / 2;
        ++n;
      }
  if (pairs) *pairs = n;
  return n ? sum / real(n) : real(0);
}

Grouping best_grouping(const Tensor& A, std::size_t k) {
  const std::size_t T = A.shape(0);
  if (A.shape(1) != T) throw std::invalid_argument("grouping: the agreement matrix must be square, got " + shape_str(A));
  if (T > 10)
    throw std::invalid_argument("grouping: the exhaustive search over set partitions is limited to T <= 10 tasks, got T = " +
                                std::to_string(T));
  if (k < 1 || k > T)
    throw std::invalid_argument("grouping: k = " + std::to_string(k) + " groups is out of range [1, " +
                                std::to_string(T) + "] for T = " + std::to_string(T) + " tasks");
  // Restricted growth strings a (a[0] = 0, a[i] <= max(a[0..i-1]) + 1) in lexicographic order,
  // pruned to those that can still use exactly k labels: each is one partition into k groups.
  std::vector<std::size_t> a(T, 0);
  Grouping best;
  bool found = false;
  auto visit = [&](auto&& self, std::size_t pos, std::size_t used) -> void {
    if (pos == T) {
      std::size_t pairs = 0;
      const real s = grouping_score(A, a, &pairs);
      if (!found || s > best.score) best = {a, s, pairs}, found = true;
      return;
    }
    for (std::size_t label = 0; label <= used && label < k; ++label) {
      const std::size_t now = std::max(used, label + 1);
      if (now + (T - pos - 1) < k) continue;  // too few positions left to open the missing groups
      a[pos] = label;
      self(self, pos + 1, now);
    }
  };
  visit(visit, 0, 0);
  return best;
}

void TagAffinity::compute(MultiTaskModel& model, const ParameterLayout& layout, real lr, Tensor& Z) {
  if (!(lr > 0) || !std::isfinite(lr))
    throw std::invalid_argument("TAG affinity: the look-ahead learning rate must be > 0 and finite, got " +
                                std::to_string(double(lr)));
  const std::size_t T = layout.heads.size();
  ones_.assign(T, real(1));
  tape_.clear();
  model.forward(tape_, losses_);
  collect_task_gradients(tape_, losses_, ones_, layout, GradientScope::shared, grads_);
  base_ = grads_.losses;
  saved_.resize(layout.shared.size());
  for (std::size_t k = 0; k < saved_.size(); ++k) saved_[k] = layout.shared[k].param->value;
  if (Z.shape(0) != T || Z.shape(1) != T) Z.resize({T, T});
  for (std::size_t i = 0; i < T; ++i) {
    const real* g = grads_.J.data() + i * grads_.J.shape(1);
    for (std::size_t k = 0; k < saved_.size(); ++k) {
      Tensor& v = layout.shared[k].param->value;
      const real* s = saved_[k].data();
      for (std::size_t c = 0; c < v.size(); ++c) v.data()[c] = s[c] - lr * g[c];
      g += v.size();
    }
    try {
      tape_.clear();
      model.forward(tape_, losses_);
    } catch (...) {
      restore(layout);
      throw;
    }
    for (std::size_t j = 0; j < T; ++j) {
      const real after = losses_[j].item();
      Z(i, j) = base_[j] != 0 && std::isfinite(after) ? 1 - after / base_[j] : std::numeric_limits<real>::quiet_NaN();
    }
  }
  restore(layout);
}

void TagAffinity::restore(const ParameterLayout& layout) {
  for (std::size_t k = 0; k < saved_.size(); ++k) layout.shared[k].param->value = saved_[k];
}

}  // namespace mtlgrad
