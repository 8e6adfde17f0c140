#pragma once
// The benchmark's cases: an hps_mlp multi-task step (pcgrad + adam) on a fixed synthetic batch,
// the two per-task gradient paths on one recording, and the CAGrad toy run from start to end.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/tensor.hpp"

namespace bench {

struct Settings {
  int warmup = 5;
  int min_reps = 20;
  int max_reps = 100000;
  double min_seconds = 1.0;
};

/// Time with this process's CPU time instead of the wall clock (steps and the toy; the phases of
/// StepRecord stay wall-clock).
void use_cpu_clock(bool cpu);
/// Milliseconds of the chosen clock (wall, or the process's CPU time), from an arbitrary origin.
double now_ms();

/// hps_mlp: input `in`, trunk hidden sizes, T heads of one Linear each; classes > 0 means
/// cross-entropy over that many classes, 0 means mse on one output.
struct MlpCase {
  std::string name;
  std::size_t in = 784;
  std::vector<std::size_t> trunk = {256, 256};
  std::size_t tasks = 2;
  std::size_t classes = 10;
  std::size_t batch = 256;

  /// Multiply–adds of the GEMMs of one step with one backward per task (PyTorch's count too):
  /// the forward, then per task ∂W of every layer on its path and ∂x of all but the first layer.
  double gemm_flops() const;
};

/// The LeNet of models/lenet.hpp (Sener & Koltun 2018) on `side`×`side` images, T heads of 10
/// classes, cross-entropy.
struct LenetCase {
  std::string name = "lenet36-T2";
  std::size_t side = 36;
  std::size_t tasks = 2;
  std::size_t batch = 256;
  std::size_t hidden = 50;

  /// Multiply–adds ×2 of the convolutions' and Linears' GEMMs of one step with one backward per
  /// task, as mlp's: the forward, then per task ∂W of every layer on its path and ∂x of all but
  /// the first convolution.
  double gemm_flops() const;
};

/// Median ms per full step and per phase, the GEMM rate it implies and heap allocations per step
/// in the steady state.
nlohmann::json time_step(const MlpCase& c, const Settings& s);
nlohmann::json time_step(const LenetCase& c, const Settings& s);
/// The task Jacobian J (T×P, the shared parameters) of the step after `steps` steps of the case's
/// trainer (pcgrad + adam): what a spatial stage meets in a run (bench --case stage_t).
mtlgrad::Tensor step_jacobian(const MlpCase& c, int steps);
/// One recorded forward; the per-task gradients by the per-task sweeps and by the batched sweep,
/// each timed, and the largest difference between the two J (relative to max |J|).
nlohmann::json time_paths(const MlpCase& c, const Settings& s);
/// A step (pcgrad + adam) with and without what a logged step of a run adds for its certificates
/// (J d and the min-norm solve on G) and what a recorded step adds (its gradients.rec record,
/// zlib level 1): median ms of each, their share of the step, the record's bytes.
nlohmann::json time_certificates(const MlpCase& c, const Settings& s);
/// The CAGrad toy from (-8.5, 7.5): pcgrad + adam (lr 0.001) for `steps` steps, construction
/// included; seconds and the final point.
nlohmann::json run_toy(std::size_t steps);

}  // namespace bench
