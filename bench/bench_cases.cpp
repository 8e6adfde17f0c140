#include "bench_cases.hpp"

#include "mtlgrad/core/blas.hpp"
#include "mtlgrad/mtl/certificates.hpp"
#include "mtlgrad/run/record.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include "alloc_counter.hpp"
#include "mtlgrad/models/hps_mlp.hpp"
#include "mtlgrad/models/lenet.hpp"
#include "mtlgrad/models/toy2d.hpp"
#include "mtlgrad/mtl/trainer.hpp"

namespace bench {
using namespace mtlgrad;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(double t0) { return now_ms() - t0; }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The data (one batch of `batch` rows: inputs U(0,1), labels uniform, regression targets N(0,1)),
// the model and its trainer; kept together because the model refers to the data.
struct Setup {
  DataSplit data;
  std::unique_ptr<SharedTrunkModel> model;
  std::unique_ptr<Trainer> trainer;

  explicit Setup(const MlpCase& c) {
    make_data(c.batch, c.in, c.tasks, c.classes);
    models::HpsMlpOptions o;
    o.trunk = c.trunk;
    model = std::make_unique<models::HpsMlp>(o, data, c.batch, Rng(2), Rng(3));
    make_trainer();
  }
  explicit Setup(const LenetCase& c) {
    make_data(c.batch, c.side * c.side, c.tasks, 10);
    models::LeNetOptions o;
    o.hidden = c.hidden;
    model = std::make_unique<models::LeNet>(o, data, c.batch, Rng(2), Rng(3));
    make_trainer();
  }

 private:
  void make_data(std::size_t batch, std::size_t in, std::size_t tasks, std::size_t classes) {
    Rng rng(1);
    MultiTaskData& d = data.train;
    d.inputs = rng.uniform_tensor(batch, in, 0, 1);
    for (std::size_t t = 0; t < tasks; ++t) {
      const std::string name = "task" + std::to_string(t);
      Tensor y = zeros(batch, 1);
      if (classes) {
        d.tasks.push_back(TaskSpec::classification(name, classes));
        for (std::size_t r = 0; r < batch; ++r) y(r, 0) = real(rng.below(classes));
      } else {
        d.tasks.push_back(TaskSpec::regression(name));
        for (std::size_t r = 0; r < batch; ++r) y(r, 0) = rng.normal();
      }
      d.targets.push_back(y);
    }
    data.test = take_rows(d, {});
  }
  void make_trainer() {
    trainer = std::make_unique<Trainer>(*model, make_aggregator({{"name", "pcgrad"}}),
                                        make_optimizer({{"name", "adam"}, {"lr", 1e-3}}), TrainerOptions{}, Rng(4));
  }
};

}  // namespace

namespace {
bool g_cpu_clock = false;
}  // namespace

void use_cpu_clock(bool cpu) { g_cpu_clock = cpu; }

double now_ms() {
  if (!g_cpu_clock) return std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return 1e3 * double(ts.tv_sec) + 1e-6 * double(ts.tv_nsec);
}

double MlpCase::gemm_flops() const {
  std::vector<std::size_t> s = {in};
  s.insert(s.end(), trunk.begin(), trunk.end());
  double trunk_mac = 0;
  for (std::size_t k = 0; k + 1 < s.size(); ++k) trunk_mac += double(s[k]) * double(s[k + 1]);
  const double head_mac = double(s.back()) * double(classes ? classes : 1);
  const double first = double(s[0]) * double(s[1]);
  const double b = double(batch), T = double(tasks);
  const double forward = 2 * b * (trunk_mac + T * head_mac);
  const double per_task = 2 * b * (trunk_mac + head_mac) + 2 * b * (trunk_mac - first + head_mac);
  return forward + T * per_task;
}

double LenetCase::gemm_flops() const {
  const std::size_t s1 = side - 8, p1 = s1 / 2, s2 = p1 - 4, p2 = s2 / 2;  // conv 9, pool 2, conv 5, pool 2
  const double conv1 = 10.0 * 81 * double(s1 * s1), conv2 = 20.0 * 250 * double(s2 * s2);
  const double fc = 20.0 * double(p2 * p2) * double(hidden), head = double(hidden) * 10;
  const double b = double(batch), T = double(tasks);
  const double forward = 2 * b * (conv1 + conv2 + fc + T * head);
  const double per_task = 2 * b * (conv1 + conv2 + fc + head) + 2 * b * (conv2 + fc + head);
  return forward + T * per_task;
}

namespace {

nlohmann::json time_setup_step(Setup& setup, const std::string& name, double flops, const Settings& s) {
  Trainer& tr = *setup.trainer;
  for (int i = 0; i < s.warmup; ++i) tr.step();
  std::vector<double> total, fwd, bwd, spa, tmp;
  std::size_t allocs = 0;
  const double start = now_ms();
  while (int(total.size()) < s.max_reps &&
         (int(total.size()) < s.min_reps || ms_since(start) < 1000 * s.min_seconds)) {
    const std::size_t a0 = allocations();
    const double t0 = now_ms();
    const StepRecord& r = tr.step();
    const double ms = ms_since(t0);
    allocs += allocations() - a0;  // before the push_backs below, which allocate now and then
    total.push_back(ms);
    fwd.push_back(1e3 * r.seconds_forward);
    bwd.push_back(1e3 * r.seconds_backward);
    spa.push_back(1e3 * r.seconds_spatial);
    tmp.push_back(1e3 * r.seconds_temporal);
  }
  const double ms = median(total);
  const double phases = median(fwd) + median(bwd) + median(spa) + median(tmp);
  return {{"name", name},
          {"ms", ms},
          {"forward_ms", median(fwd)},
          {"backward_ms", median(bwd)},
          {"spatial_ms", median(spa)},
          {"temporal_ms", median(tmp)},
          {"other_ms", std::max(0.0, ms - phases)},
          {"gflop", flops * 1e-9},
          {"gflops", flops * 1e-9 / (ms * 1e-3)},
          {"batched", tr.task_gradients().batched},
          {"allocs_per_step", double(allocs) / double(total.size())},
          {"reps", total.size()}};
}

}  // namespace

nlohmann::json time_step(const MlpCase& c, const Settings& s) {
  Setup setup(c);
  return time_setup_step(setup, c.name, c.gemm_flops(), s);
}

nlohmann::json time_step(const LenetCase& c, const Settings& s) {
  Setup setup(c);
  return time_setup_step(setup, c.name, c.gemm_flops(), s);
}

Tensor step_jacobian(const MlpCase& c, int steps) {
  Setup setup(c);
  for (int i = 0; i < steps; ++i) setup.trainer->step();
  return setup.trainer->task_gradients().J;
}

nlohmann::json time_paths(const MlpCase& c, const Settings& s) {
  Setup setup(c);
  Tape tape;
  std::vector<Var> losses;
  setup.model->forward(tape, losses);
  const ParameterLayout layout(*setup.model);
  const std::vector<real> w(c.tasks, real(1));
  TaskGradients per_task, batched;
  auto time_one = [&](TaskGradientPath path, TaskGradients& out) {
    for (int i = 0; i < s.warmup; ++i) collect_task_gradients(tape, losses, w, layout, GradientScope::shared, out, path);
    std::vector<double> t;
    const double start = now_ms();
    while (int(t.size()) < s.min_reps || ms_since(start) < 500 * s.min_seconds) {
      const double t0 = now_ms();
      collect_task_gradients(tape, losses, w, layout, GradientScope::shared, out, path);
      t.push_back(ms_since(t0));
    }
    return median(t);
  };
  const double ms_per_task = time_one(TaskGradientPath::per_task, per_task);
  const double ms_batched = time_one(TaskGradientPath::automatic, batched);
  double diff = 0, scale = 0;
  for (std::size_t k = 0; k < per_task.J.size(); ++k) {
    diff = std::max(diff, double(std::abs(per_task.J.data()[k] - batched.J.data()[k])));
    scale = std::max(scale, double(std::abs(per_task.J.data()[k])));
  }
  return {{"name", c.name},
          {"per_task_ms", ms_per_task},
          {"batched_ms", ms_batched},
          {"speedup", ms_per_task / ms_batched},
          {"batched", batched.batched},
          {"max_rel_diff", scale > 0 ? diff / scale : diff}};
}

nlohmann::json run_toy(std::size_t steps) {
  const double t0 = now_ms();
  models::Toy2d toy({real(-8.5), real(7.5)});
  Trainer tr(toy, make_aggregator({{"name", "pcgrad"}}), make_optimizer({{"name", "adam"}, {"lr", 1e-3}}),
             TrainerOptions{}, Rng(0));
  const std::size_t a0 = allocations();
  for (std::size_t i = 0; i < steps; ++i) tr.step();
  const double allocs = double(allocations() - a0) / double(std::max<std::size_t>(steps, 1));
  const double ms = ms_since(t0);
  return {{"name", "toy"},
          {"steps", steps},
          {"seconds", ms * 1e-3},
          {"us_per_step", 1e3 * ms / double(std::max<std::size_t>(steps, 1))},
          {"allocs_per_step", allocs},
          {"x", {double(toy.x().value(0, 0)), double(toy.x().value(0, 1))}}};
}


nlohmann::json time_certificates(const MlpCase& c, const Settings& s) {
  Setup setup(c);
  Trainer& tr = *setup.trainer;
  for (int i = 0; i < s.warmup; ++i) tr.step();
  Certifier certifier;
  Certificate cert;
  std::vector<real> Jd;
  RecordHeader h;
  h.T = c.tasks;
  std::vector<double> step, certs, record, stored;
  std::size_t bytes = 0;
  const double start = now_ms();
  while (int(step.size()) < s.max_reps && (int(step.size()) < s.min_reps || ms_since(start) < 1000 * s.min_seconds)) {
    double t0 = now_ms();
    const StepRecord& r = tr.step();
    step.push_back(ms_since(t0));
    // What a logged step adds in the run layer (MetricsTable::certify): J d, then the certificates on G.
    t0 = now_ms();
    const Tensor& d = tr.aggregation().direction;
    Certifier::jacobian_times(tr.task_gradients().J, d, Jd);
    certifier.certify(tr.gramian(), Jd, blas::dot(d.size(), d.data(), d.data()), r.losses, cert);
    certs.push_back(ms_since(t0));
    // What a recorded step adds (the record observer, zlib level 1).
    t0 = now_ms();
    h.P = tr.task_gradients().J.shape(1);
    GradientRecord g;
    g.step = r.step;
    g.rng = tr.rng().state();
    g.losses = r.losses;
    g.J = tr.task_gradients().J;
    g.direction = d;
    bytes = encode_record(h, g, 1).size();
    record.push_back(ms_since(t0));
    t0 = now_ms();  // level 0: zlib's stored blocks, no compression
    (void)encode_record(h, g, 0);
    stored.push_back(ms_since(t0));
  }
  const double ms = median(step), cm = median(certs), rm = median(record), sm = median(stored);
  return {{"name", c.name},   {"step_ms", ms},          {"certificates_ms", cm}, {"certificates_share", cm / ms},
          {"record_ms", rm},  {"record_share", rm / ms}, {"record_bytes", bytes}, {"record_level0_ms", sm},
          {"record_raw_bytes", (h.T * (h.P + 2) + h.P) * sizeof(real)}, {"reps", step.size()}};
}

}  // namespace bench
