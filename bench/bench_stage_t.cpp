#include "bench_stage_t.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/gramian.hpp"

namespace bench {
using namespace mtlgrad;

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

nlohmann::json stage_spec(const std::string& name) {
  if (name == "cr-mogm") return {{"name", name}, {"inner", {{"name", "mgda"}}}};
  return {{"name", name}};
}

// One aggregation as the trainer makes it: losses first (the loss-based stages need them), the
// extra Jacobians (sdmgrad; here J itself, as for a model without data), then the aggregation.
void aggregate_once(Aggregator& a, const Tensor& J, const Tensor& G, const std::vector<real>& losses, Rng& rng,
                    Aggregation& out) {
  a.observe_losses(losses);
  if (a.wants_extra_jacobians()) a.observe_extra_jacobians(J, J);
  a.aggregate_with_gramian(J, G, rng, out);
  if (a.wants_losses_after_step()) a.observe_losses_after_step(losses);
}

}  // namespace

std::vector<std::string> stage_t_default_stages() {
  return {"pcgrad", "mgda", "upgrad", "dualproj", "cagrad", "nash-mtl", "aligned-mtl", "imtl-g", "imtl",
          "fairgrad", "config", "m-config", "sdmgrad", "moco", "gradvac", "cr-mogm", "famo", "gradnorm"};
}

nlohmann::json time_stage_t(const std::vector<std::size_t>& Ts, const std::vector<std::string>& stages,
                            std::size_t synthetic_p, std::size_t step_max_t, double budget_s, const Settings& s) {
  nlohmann::json rows = nlohmann::json::array();
  std::map<std::string, std::pair<std::size_t, double>> last;  // stage → (T, ms) of its last timing
  std::fprintf(stderr, "\nspatial stages vs T: ms per aggregate_with_gramian (G given); step = pcgrad + adam\n%5s %8s %9s %9s",
               "T", "P", "step ms", "pcgrad sp");
  for (const auto& st : stages) std::fprintf(stderr, " %11s", st.c_str());
  std::fprintf(stderr, "\n");
  for (std::size_t T : Ts) {
    MlpCase c;
    c.name = "mlp784-256-256-T" + std::to_string(T);
    c.tasks = T;
    Tensor J;
    nlohmann::json row = {{"T", T}};
    if (T <= 64) {
      J = step_jacobian(c, 3);
      row["j"] = "trainer";
    } else {
      Rng rng(7);
      J = rng.normal_tensor(T, synthetic_p);
      row["j"] = "normal";
    }
    row["P"] = J.shape(1);
    double step_ms = 0, step_spatial = 0;
    if (T <= step_max_t) {
      Settings ss = s;
      ss.warmup = std::min(ss.warmup, 2);
      const nlohmann::json st = time_step(c, ss);
      step_ms = st["ms"].get<double>();
      step_spatial = st["spatial_ms"].get<double>();
      row["step_ms"] = step_ms;
      row["step_spatial_pcgrad_ms"] = step_spatial;
    }
    Tensor G;
    gramian(J, G);
    std::vector<real> losses(T);
    for (std::size_t i = 0; i < T; ++i) losses[i] = real(1) + real(0.1) * real(i % 10);
    std::fprintf(stderr, "%5zu %8zu %9.2f %9.3f", T, J.shape(1), step_ms, step_spatial);
    nlohmann::json times = nlohmann::json::object(), shares = nlohmann::json::object();
    for (const auto& name : stages) {
      const auto it = last.find(name);
      if (it != last.end() && it->second.second * std::pow(double(T) / double(it->second.first), 4) > 1e3 * budget_s) {
        times[name] = nullptr;
        std::fprintf(stderr, " %11s", "skipped");
        continue;
      }
      auto a = make_aggregator(stage_spec(name));
      Rng rng(11);
      Aggregation out;
      aggregate_once(*a, J, G, losses, rng, out);  // warm-up: buffers, state
      std::vector<double> t;
      const double start = now_ms();
      while (t.size() < 3 || (now_ms() - start < 300 * s.min_seconds && t.size() < 1000)) {
        const double t0 = now_ms();
        aggregate_once(*a, J, G, losses, rng, out);
        t.push_back(now_ms() - t0);
        if (t.back() > 1e3 * budget_s) break;
      }
      const double ms = median(t);
      last[name] = {T, ms};
      times[name] = ms;
      std::fprintf(stderr, " %11.4f", ms);
    }
    std::fprintf(stderr, "\n");
    // The step without its spatial stage: the step minus pcgrad's aggregation as timed here (CPU
    // time, like the step; the trainer's phase is wall-clock), or minus that phase without pcgrad.
    const double pcgrad_ms = times.contains("pcgrad") && times["pcgrad"].is_number() ? times["pcgrad"].get<double>() : step_spatial;
    for (const auto& el : times.items())
      if (step_ms > 0 && el.value().is_number())
        shares[el.key()] = el.value().get<double>() / (step_ms - pcgrad_ms + el.value().get<double>());
    row["stage_ms"] = times;
    if (step_ms > 0) row["share_of_step"] = shares;
    rows.push_back(row);
  }
  return rows;
}

}  // namespace bench
