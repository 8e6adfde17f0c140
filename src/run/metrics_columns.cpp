#include "mtlgrad/run/metrics_columns.hpp"

#include <cmath>

#include "mtlgrad/core/blas.hpp"

namespace mtlgrad {

MetricsColumns::MetricsColumns(Trainer& trainer, bool log_params)
    : trainer_(trainer),
      params_(trainer.model().all_parameters()),
      log_params_(log_params),
      has_weights_(trainer.records_weights()),
      has_lambda_(trainer.records_pair_strength()) {
  const auto names = trainer.model().task_names();
  const std::size_t T = names.size();
  auto& h = names_;
  h = {"step"};
  for (const auto& n : names) h.push_back("loss_" + n);
  for (const auto& n : names) h.push_back("gnorm_" + n);
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = i + 1; j < T; ++j) h.push_back("cos_" + names[i] + "_" + names[j]);
  h.push_back("conflicts");
  h.push_back("dnorm");
  if (has_weights_)
    for (const auto& n : names) h.push_back("w_" + n);
  if (has_lambda_)
    for (std::size_t i = 0; i < T; ++i)
      for (std::size_t j = 0; j < T; ++j)
        if (i != j) h.push_back("lambda_" + names[i] + "_" + names[j]);
  const auto stage = trainer.stage_metric_names();
  n_stage_ = stage.size();
  h.insert(h.end(), stage.begin(), stage.end());
  h.insert(h.end(), certificate_names().begin(), certificate_names().end());
  if (log_params_)
    for (const auto& p : params_)
      for (std::size_t k = 0; k < p.param->value.size(); ++k) h.push_back(p.name + "_" + std::to_string(k));
  h.push_back("skipped");
}

const std::vector<double>& MetricsColumns::values(const StepRecord& r) {
  const std::size_t T = r.losses.size();
  values_.clear();
  auto put = [&](double v) { values_.push_back(v); };
  put(double(r.step));
  for (real v : r.losses) put(v);
  for (real v : r.grad_norms) put(v);
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = i + 1; j < T; ++j) put(r.cos(i, j));
  put(double(r.conflicts));
  put(r.direction_norm);
  if (has_weights_)
    for (std::size_t i = 0; i < T; ++i) put(i < r.weights.size() ? r.weights[i] : NAN);
  if (has_lambda_)
    for (std::size_t i = 0; i < T; ++i)
      for (std::size_t j = 0; j < T; ++j)
        if (i != j) put(r.pair_strength.size() ? r.pair_strength(i, j) : NAN);
  for (std::size_t k = 0; k < n_stage_; ++k) put(k < r.stage_metrics.size() ? r.stage_metrics[k] : NAN);
  if (!r.skipped) {
    const Tensor& d = trainer_.aggregation().direction;
    Certifier::jacobian_times(trainer_.task_gradients().J, d, jd_);
    certifier_.certify(trainer_.gramian(), jd_, blas::dot(d.size(), d.data(), d.data()), r.losses, cert_);
  }
  for (real v : certificate_values(cert_)) put(r.skipped ? NAN : v);
  if (log_params_)
    for (const auto& p : params_)
      for (real v : p.param->value) put(v);
  put(r.skipped ? 1 : 0);
  return values_;
}

}  // namespace mtlgrad
