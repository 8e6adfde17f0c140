#pragma once
/// @file metrics_columns.hpp
/// metrics.csv's columns for a trainer: their names, declared before the first step, and one logged
/// step's values. The run's metrics.csv and the serve playground's answer both come from here, so
/// that they cannot drift apart (docs/diagnostics.md for the cert_* columns).
#include <string>
#include <vector>

#include "mtlgrad/mtl/certificates.hpp"
#include "mtlgrad/mtl/trainer.hpp"

namespace mtlgrad {

class MetricsColumns {
 public:
  /// step, loss_*, gnorm_*, cos_*_*, conflicts, dnorm, then w_* (a weighting), lambda_*_* (pair
  /// strengths), the stage's own metric columns, the cert_* columns, the parameters' columns when
  /// `log_params` (name_k for every value), and skipped.
  MetricsColumns(Trainer& trainer, bool log_params);

  const std::vector<std::string>& names() const { return names_; }

  /// The values of the step r the trainer has just taken, in names() order. Its certificates are
  /// computed here from the trainer's J, G and d (a skipped step's are NaN and leave certificate()
  /// as it was).
  const std::vector<double>& values(const StepRecord& r);

  /// The certificate of the last step values() computed one for.
  const Certificate& certificate() const { return cert_; }

 private:
  const Trainer& trainer_;
  std::vector<std::string> names_;
  std::vector<NamedParameter> params_;
  bool log_params_, has_weights_, has_lambda_;
  std::size_t n_stage_;
  Certifier certifier_;
  Certificate cert_;
  std::vector<real> jd_;
  std::vector<double> values_;
};

}  // namespace mtlgrad
