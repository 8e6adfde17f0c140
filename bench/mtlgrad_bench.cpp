// mtlgrad_bench: the multi-task step (forward, per-task gradients, spatial, temporal) and each of
// its phases, for the sizes of issue #9, against a same-run GEMM rate. Table on stderr, JSON on
// stdout. See docs/performance.md.
#include <cstdio>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <iostream>

#include <CLI/CLI.hpp>

#include "bench_cases.hpp"
#include "bench_kernels.hpp"
#include "bench_solvers.hpp"
#include "bench_stage_t.hpp"
#include "mtlgrad/core/blas.hpp"
#include "mtlgrad/core/parallel.hpp"

namespace {

using nlohmann::json;

bench::MlpCase mlp(const std::string& name, std::size_t in, std::size_t width, std::size_t T, std::size_t classes,
                   std::size_t batch) {
  bench::MlpCase c;
  c.name = name;
  c.in = in;
  c.trunk = {width, width};
  c.tasks = T;
  c.classes = classes;
  c.batch = batch;
  return c;
}

std::string mlp_name(std::size_t width, std::size_t T) {
  return "mlp784-" + std::to_string(width) + "-" + std::to_string(width) + "-T" + std::to_string(T);
}

void print_steps(const json& rows, double gemm) {
  std::fprintf(stderr, "%-22s %9s %8s %8s %8s %8s %8s %7s %7s %6s %7s\n", "case", "ms/step", "fwd", "bwd", "spatial",
               "temporal", "other", "GF/s", "%gemm", "batch", "alloc");
  for (const json& r : rows)
    std::fprintf(stderr, "%-22s %9.4f %8.4f %8.4f %8.4f %8.4f %8.4f %7.2f %6.1f%% %6s %7.1f\n",
                 r["name"].get<std::string>().c_str(), r["ms"].get<double>(), r["forward_ms"].get<double>(),
                 r["backward_ms"].get<double>(), r["spatial_ms"].get<double>(), r["temporal_ms"].get<double>(),
                 r["other_ms"].get<double>(), r["gflops"].get<double>(), 100 * r["gflops"].get<double>() / gemm,
                 r["batched"].get<bool>() ? "yes" : "no", r["allocs_per_step"].get<double>());
}

// Issue #19: the Gramian and combine kernels for T up to 64 on the 784-256-256 J.
json gramian_t_table() {
  json rows = json::array();
  std::fprintf(stderr, "\nGramian and combine for T up to 64, P = 266 752, %d thread(s) (ms)\n%3s %9s %9s %9s %9s %9s %9s "
               "%9s %9s %9s\n", mtlgrad::parallel::threads(), "T", "dots2048", "syrk2048", "syrk8192", "syrk32768",
               "syrk", "mtlgrad", "combine", "gemv", "gemv2048");
  for (std::size_t T : {2, 4, 8, 16, 32, 64}) {
    json r = bench::gramian_combine_kernels(T, 266752, T >= 32 ? 5 : 15);
    std::fprintf(stderr, "%3zu %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n", T,
                 r["dots2048_ms"].get<double>(), r["syrk2048_ms"].get<double>(), r["syrk8192_ms"].get<double>(),
                 r["syrk32768_ms"].get<double>(), r["syrk_ms"].get<double>(), r["mtlgrad_ms"].get<double>(),
                 r["combine_ms"].get<double>(), r["gemv_ms"].get<double>(), r["gemv2048_ms"].get<double>());
    rows.push_back(r);
  }
  return rows;
}

// Issue #19: ∂W₁ of every task by T GEMMs into J, or by one GEMM (with the copies it needs).
json dw_table(const std::vector<std::size_t>& Ts) {
  json rows = json::array();
  std::fprintf(stderr, "\ndW1 = x^T G_t for every task (x 256x784, G_t 256x256), ms\n%3s %10s %14s %22s\n", "T",
               "T GEMMs", "one GEMM+copy", "one GEMM (no copies)");
  for (std::size_t T : Ts) {
    json r = bench::dw_kernels(T, 256, 784, 256, 11);
    std::fprintf(stderr, "%3zu %10.3f %14.3f %22.3f\n", T, r["per_task_ms"].get<double>(),
                 r["one_gemm_ms"].get<double>(), r["one_gemm_without_copies_ms"].get<double>());
    rows.push_back(r);
  }
  return rows;
}

// Issue #19: the peak resident set of a process that builds the 784-256-256 step for T tasks and
// runs it (a few steps, no reference GEMM): run as its own process, one T per process.
json rss_case(std::size_t T, const bench::Settings& s) {
  bench::Settings few = s;
  few.warmup = 2;
  few.min_reps = 3;
  few.min_seconds = 0;
  json r = bench::time_step(mlp(mlp_name(256, T), 784, 256, T, 10, 256), few);
  // VmHWM, this process's own peak: getrusage's ru_maxrss survives exec, so a child of a big
  // process (python with torch) would report its parent's peak.
  long kb = -1;
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) kb = std::stol(line.substr(6));
  if (kb < 0) {
    struct rusage u {};
    getrusage(RUSAGE_SELF, &u);
    kb = u.ru_maxrss;
  }
  std::fprintf(stderr, "peak RSS, %s: %.1f MB\n", r["name"].get<std::string>().c_str(), double(kb) / 1024);
  return {{"name", r["name"]}, {"tasks", T}, {"max_rss_kb", kb}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mtlgrad_bench: times the multi-task step of issue #9 (JSON on stdout, table on stderr)"};
  int threads = 1;
  std::vector<std::string> cases = {"gemm", "tiny", "mlp", "paths", "gramian", "toy"};
  bench::Settings s;
  std::size_t toy_steps = 100000, gemm_n = 1024;
  std::vector<std::size_t> Ts = {2, 4, 8};
  app.add_option("--threads", threads, "OpenBLAS threads and mtlgrad's own (parallel::set_threads)")->check(CLI::Range(1, 64));
  app.add_option("--case", cases,
                 "any of: gemm tiny mlp lenet paths gramian gramian_t dw rss toy sweep_t sweep_width small_gemm solvers certificates stage_t (default: gemm tiny mlp "
                 "paths gramian toy)");
  app.add_option("--tasks", Ts, "T of the 784-256-256 cases (default 2 4 8)");
  app.add_option("--warmup", s.warmup, "warm-up steps per case")->check(CLI::NonNegativeNumber);
  app.add_option("--min-reps", s.min_reps, "at least this many timed steps")->check(CLI::PositiveNumber);
  app.add_option("--min-seconds", s.min_seconds, "and at least this long per case")->check(CLI::NonNegativeNumber);
  app.add_option("--toy-steps", toy_steps, "steps of the toy run");
  app.add_option("--gemm-n", gemm_n, "size of the reference square GEMM");
  std::vector<std::size_t> stage_ts = {2, 4, 8, 16, 32, 64, 128, 256, 500};
  std::vector<std::string> stages = bench::stage_t_default_stages();
  std::size_t synthetic_p = 10000, step_max_t = 64;
  double stage_budget = 5;
  app.add_option("--stage-t-tasks", stage_ts, "T of --case stage_t (default 2 4 8 16 32 64 128 256 500)");
  app.add_option("--stages", stages, "the stages of --case stage_t (default: the gradient-surgery family)");
  app.add_option("--synthetic-p", synthetic_p, "columns of stage_t's N(0,1) J for T > 64")->check(CLI::PositiveNumber);
  app.add_option("--step-max-t", step_max_t, "stage_t times the full step up to this T")->check(CLI::NonNegativeNumber);
  app.add_option("--stage-budget", stage_budget,
                 "stage_t skips a stage at a larger T when its time grown like T^4 would pass this many seconds")
      ->check(CLI::PositiveNumber);
  bool cpu_clock = false;
  app.add_flag("--cpu-clock", cpu_clock, "time steps with the process's CPU time (for a loaded machine; one thread)");
  CLI11_PARSE(app, argc, argv);
  bench::use_cpu_clock(cpu_clock);
  mtlgrad::blas::set_threads(threads);
  mtlgrad::parallel::set_threads(threads);  // our kernels' threads: the same count

  auto wants = [&](const char* c) { return std::find(cases.begin(), cases.end(), c) != cases.end(); };
  json out = {{"real", sizeof(mtlgrad::real) == 8 ? "double" : "float"}, {"threads", threads},
              {"clock", cpu_clock ? "cpu" : "wall"}};
  // The reference rate, in the same process, whenever a step is timed (a toy-only run times the
  // whole process and skips it).
  double gemm = 0;
  if (wants("gemm") || wants("tiny") || wants("mlp") || wants("lenet") || wants("sweep_t") || wants("sweep_width")) {
    gemm = bench::gemm_gflops(gemm_n, 15);  // median of 15: this VM's rate wanders by up to 40% for ~0.1 s
    out["gemm_gflops"] = gemm;
    out["gemm_n"] = gemm_n;
    std::fprintf(stderr, "mtlgrad_bench: %s, %d BLAS thread(s); %zu^3 %cgemm: %.2f GF/s\n",
                 out["real"].get<std::string>().c_str(), threads, gemm_n, sizeof(mtlgrad::real) == 8 ? 'd' : 's', gemm);
  }

  std::vector<bench::MlpCase> step_cases;
  if (wants("tiny")) step_cases.push_back(mlp("mlp2-32-32-T2", 2, 32, 2, 0, 64));
  if (wants("mlp"))
    for (std::size_t T : Ts) step_cases.push_back(mlp(mlp_name(256, T), 784, 256, T, 10, 256));
  json steps = json::array();
  for (const auto& c : step_cases) steps.push_back(bench::time_step(c, s));
  if (wants("lenet")) steps.push_back(bench::time_step(bench::LenetCase{}, s));
  if (!steps.empty()) print_steps(steps, gemm);
  out["steps"] = steps;

  if (wants("paths")) {
    json rows = json::array();
    std::vector<bench::MlpCase> pc = {mlp("mlp2-32-32-T2", 2, 32, 2, 0, 64)};
    for (std::size_t T : Ts) pc.push_back(mlp(mlp_name(256, T), 784, 256, T, 10, 256));
    std::fprintf(stderr, "\nper-task gradients: T reverse sweeps vs one batched sweep\n%-22s %11s %11s %8s %12s\n",
                 "case", "per-task ms", "batched ms", "speedup", "max rel diff");
    for (const auto& c : pc) {
      json r = bench::time_paths(c, s);
      std::fprintf(stderr, "%-22s %11.4f %11.4f %7.2fx %12.2e\n", c.name.c_str(), r["per_task_ms"].get<double>(),
                   r["batched_ms"].get<double>(), r["speedup"].get<double>(), r["max_rel_diff"].get<double>());
      rows.push_back(r);
    }
    out["paths"] = rows;
  }

  if (wants("certificates")) {
    json rows = json::array();
    std::vector<bench::MlpCase> cc = {mlp("mlp2-32-32-T2", 2, 32, 2, 0, 64)};
    for (std::size_t T : Ts) cc.push_back(mlp(mlp_name(256, T), 784, 256, T, 10, 256));
    std::fprintf(stderr, "\ncertificates and record per step (ms; share of the step)\n%-22s %9s %12s %7s %9s %7s %9s %11s %11s\n",
                 "case", "step", "certificates", "share", "record", "share", "level 0", "rec bytes", "raw bytes");
    for (const auto& c : cc) {
      json r = bench::time_certificates(c, s);
      std::fprintf(stderr, "%-22s %9.4f %12.4f %6.2f%% %9.4f %6.1f%% %9.4f %11zu %11zu\n", c.name.c_str(),
                   r["step_ms"].get<double>(), r["certificates_ms"].get<double>(),
                   100 * r["certificates_share"].get<double>(), r["record_ms"].get<double>(),
                   100 * r["record_share"].get<double>(), r["record_level0_ms"].get<double>(),
                   r["record_bytes"].get<std::size_t>(), r["record_raw_bytes"].get<std::size_t>());
      rows.push_back(r);
    }
    out["certificates"] = rows;
  }

  if (wants("gramian")) {
    json rows = json::array();
    std::fprintf(stderr, "\nGramian G = J J^T kernels (ms)\n%3s %8s %9s %9s %9s %11s %11s %9s\n", "T", "P", "dots",
                 "syrk", "gemm", "blocked2048", "blocked8192", "mtlgrad");
    for (std::size_t T : {2, 4, 8, 16})
      for (std::size_t P : {1184, 266752}) {
        json r = bench::gramian_kernels(T, P, P > 10000 ? 15 : 2001);
        std::fprintf(stderr, "%3zu %8zu %9.4f %9.4f %9.4f %11.4f %11.4f %9.4f\n", T, P, r["dots_ms"].get<double>(),
                     r["syrk_ms"].get<double>(), r["gemm_ms"].get<double>(), r["blocked2048_ms"].get<double>(),
                     r["blocked8192_ms"].get<double>(), r["mtlgrad_ms"].get<double>());
        rows.push_back(r);
      }
    out["gramian"] = rows;
  }

  if (wants("rss")) out["rss"] = rss_case(Ts.front(), s);
  if (wants("gramian_t")) out["gramian_t"] = gramian_t_table();
  if (wants("dw")) out["dw"] = dw_table(Ts);

  if (wants("small_gemm")) {
    json rows = json::array();
    std::fprintf(stderr, "\ndx = G W^T (G m x n, W k x n): NT GEMM vs W^T copied + NN GEMM (ms)\n%5s %5s %5s %10s %12s\n",
                 "m", "k", "n", "NT", "copy+NN");
    const std::size_t shapes[][3] = {{128, 32, 32}, {64, 32, 32}, {128, 32, 2}, {512, 256, 256}, {2048, 256, 256}, {256, 256, 10}};
    for (const auto& sh : shapes) {
      json r = bench::dx_kernels(sh[0], sh[1], sh[2], sh[0] * sh[1] * sh[2] > 1000000 ? 21 : 2001);
      std::fprintf(stderr, "%5zu %5zu %5zu %10.4f %12.4f\n", sh[0], sh[1], sh[2], r["nt_ms"].get<double>(),
                   r["transpose_nn_ms"].get<double>());
      rows.push_back(r);
    }
    out["small_gemm"] = rows;
  }

  if (wants("solvers")) {
    json rows = json::array();
    std::fprintf(stderr, "\nT x T solver kernels (us): hand Cholesky solve vs xt::linalg cholesky + solve_cholesky; "
                 "symmetric_eigen (xt::linalg::eigh) vs dsyev\n%4s %10s %10s %10s %10s\n", "T", "chol hand", "chol xt",
                 "eigh", "dsyev");
    for (std::size_t T : {2, 4, 8, 16, 32, 64}) {
      json r = bench::solver_kernels(T, T > 16 ? 2001 : 20001);
      std::fprintf(stderr, "%4zu %10.3f %10.3f %10.3f %10.3f\n", T, r["cholesky_hand_us"].get<double>(),
                   r["cholesky_xt_us"].get<double>(), r["eigen_xt_us"].get<double>(), r["eigen_syev_us"].get<double>());
      rows.push_back(r);
    }
    out["solvers"] = rows;
  }

  if (wants("sweep_t")) {
    json rows = json::array();
    for (std::size_t T : {2, 4, 6, 8, 12, 16}) rows.push_back(bench::time_step(mlp(mlp_name(256, T), 784, 256, T, 10, 256), s));
    std::fprintf(stderr, "\ncost versus T (784-256-256, B = 256)\n");
    print_steps(rows, gemm);
    out["sweep_t"] = rows;
  }
  if (wants("sweep_width")) {
    json rows = json::array();
    for (std::size_t w : {64, 128, 256, 512, 1024}) rows.push_back(bench::time_step(mlp(mlp_name(w, 4), 784, w, 4, 10, 256), s));
    std::fprintf(stderr, "\ncost versus width (784-w-w, T = 4, B = 256)\n");
    print_steps(rows, gemm);
    out["sweep_width"] = rows;
  }

  if (wants("stage_t")) out["stage_t"] = bench::time_stage_t(stage_ts, stages, synthetic_p, step_max_t, stage_budget, s);

  if (wants("toy")) {
    json r = bench::run_toy(toy_steps);
    std::fprintf(stderr, "\ntoy: %zu steps of pcgrad + adam in %.3f s (%.3f us/step, %.1f allocations/step), x = (%.4f, %.4f)\n",
                 toy_steps, r["seconds"].get<double>(), r["us_per_step"].get<double>(),
                 r["allocs_per_step"].get<double>(), r["x"][0].get<double>(), r["x"][1].get<double>());
    out["toy"] = r;
  }
  std::cout << out.dump(1) << "\n";
  return 0;
}
