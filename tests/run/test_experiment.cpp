// The experiment runner: config overrides and errors, the run directory, determinism, resume.
#include "test_util.hpp"
#include "scripted_stage.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mtlgrad/core/blas.hpp"
#include "mtlgrad/core/interrupt.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/run/checkpoint.hpp"
#include "mtlgrad/run/experiment.hpp"

using namespace mtlgrad;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json toy_config(std::size_t steps = 300) {
  return json{{"name", "t"},
              {"seed", 3},
              {"model", {{"name", "toy2d"}, {"start", {-8.5, 7.5}}}},
              {"aggregator", {{"name", "pcgrad"}}},
              {"optimizer", {{"name", "adam"}, {"lr", 0.01}}},
              {"steps", steps},
              {"log_every", 50}};
}

std::string scratch(const std::string& name) {
  const std::string d = (fs::temp_directory_path() / ("mtlgrad_test_" + name + "_" + std::to_string(::getpid()))).string();
  fs::remove_all(d);
  return d;
}

std::string config_error(const json& c) {
  try {
    resolve_config(c);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no error>";
}

json without_seconds(json s) {
  s.erase("seconds");
  return s;
}

RunOptions scripted(std::vector<int> bad, std::vector<int> capped = {}) {
  RunOptions o;
  // The scripted stage's d = (inf, ...) at its calls in `bad`.
  o.aggregator = [bad, capped] {
    return std::make_unique<test::ScriptedStage>(
        bad, [](Tensor& d) { d(0, 0) = std::numeric_limits<real>::infinity(); }, capped);
  };
  return o;
}

std::vector<std::vector<std::string>> csv_rows(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  std::size_t begin = 0;
  while (begin < csv.size()) {
    const std::size_t end = csv.find('\n', begin);
    std::vector<std::string> cells;
    std::size_t b = begin;
    while (true) {
      const std::size_t comma = csv.find(',', b);
      if (comma == std::string::npos || comma > end) {
        cells.push_back(csv.substr(b, end - b));
        break;
      }
      cells.push_back(csv.substr(b, comma - b));
      b = comma + 1;
    }
    rows.push_back(cells);
    begin = end + 1;
  }
  return rows;
}

/// Runs f with stderr going to a file; returns what was written there.
template <class F>
std::string capture_stderr(const std::string& path, F&& f) {
  std::fflush(stderr);
  const int saved = ::dup(2);
  FILE* file = std::fopen(path.c_str(), "w");
  REQUIRE(file);
  ::dup2(::fileno(file), 2);
  try {
    f();
  } catch (...) {
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    std::fclose(file);
    throw;
  }
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(file);
  return read_file(path);
}

}  // namespace

TEST_SUITE("experiment") {

TEST_CASE("apply_override parses JSON values, creates objects, and names bad paths") {
  json c = toy_config();
  apply_override(c, "optimizer.lr=1e-3");
  CHECK(c["optimizer"]["lr"] == 1e-3);
  apply_override(c, "aggregator.name=mean");  // not JSON: a string
  CHECK(c["aggregator"]["name"] == "mean");
  apply_override(c, "model.start=[1,2]");
  CHECK(c["model"]["start"] == json({1, 2}));
  apply_override(c, "agreement.groups=2");
  CHECK(c["agreement"]["groups"] == 2);
  json s = {{"aggregator", "sum"}};
  apply_override(s, "aggregator.order=\"fixed\"");  // the string shorthand becomes an object
  CHECK(s["aggregator"] == json({{"name", "sum"}, {"order", "fixed"}}));
  // A stage the config does not name: the option goes to the default stage (sum, sgd).
  json bare = {{"model", {{"name", "toy2d"}}}};
  apply_override(bare, "optimizer.lr=0.5");
  apply_override(bare, "aggregator.reduction=mean");
  CHECK(bare["optimizer"] == json({{"name", "sgd"}, {"lr", 0.5}}));
  CHECK(bare["aggregator"] == json({{"name", "sum"}, {"reduction", "mean"}}));
  json named = {{"model", {{"name", "toy2d"}}}};
  apply_override(named, "optimizer.name=adam");
  CHECK(named["optimizer"] == json({{"name", "adam"}}));
  CHECK_THROWS_WITH_SUBSTR(apply_override(c, "steps"), "expected key.path=value");
  CHECK_THROWS_WITH_SUBSTR(apply_override(c, "steps.x=1"), "'steps' is number, not an object");
  CHECK_THROWS_WITH_SUBSTR(apply_override(c, "a..b=1"), "empty key");
}

TEST_CASE("config errors name the key path and what was expected") {
  auto with = [](const std::string& set) {
    json c = toy_config();
    apply_override(c, set);
    return config_error(c);
  };
  CHECK(with("stepz=10").find("stepz: unknown key (did you mean 'steps'?)") != std::string::npos);
  CHECK(with("steps=\"many\"").find("steps: expected a non-negative integer, got string \"many\"") != std::string::npos);
  CHECK(with("steps=-5").find("steps: expected a non-negative integer") != std::string::npos);
  CHECK(with("log_every=0").find("log_every: 0 is out of range (expected >= 1)") != std::string::npos);
  CHECK(with("threads=0").find("threads: 0 is out of range (expected 1 to 256)") != std::string::npos);
  CHECK(with("threads=1.5").find("threads: expected") != std::string::npos);
  CHECK(with("scope=\"everything\"").find("scope: unknown scope 'everything'") != std::string::npos);
  CHECK(with("nonfinite=\"skipp\"").find("nonfinite: unknown policy 'skipp' (did you mean 'skip'?)") != std::string::npos);
  CHECK(with("model.name=\"toy3d\"").find("model.name: unknown model 'toy3d' (did you mean 'toy2d'?)") != std::string::npos);
  CHECK(with("model.start=[1]").find("model.start: expected an array of 2 values") != std::string::npos);
  CHECK(with("model.begin=[1,2]").find("model.begin: unknown key") != std::string::npos);
  CHECK(with("aggregator.name=\"pcgard\"").find("aggregator.name: unknown aggregator 'pcgard' (did you mean 'pcgrad'?)") != std::string::npos);
  CHECK(with("optimizer.lr=-1").find("optimizer") != std::string::npos);
  CHECK(with("optimizer.lr=-1").find("lr") != std::string::npos);
  CHECK(with("task_weights=[1]").find("task_weights: 1 values, but the model has 2 tasks") != std::string::npos);
  CHECK(with("data={\"name\":\"teacher\"}").find("data: the model 'toy2d' takes no data") != std::string::npos);
  json no_model = toy_config();
  no_model.erase("model");
  CHECK(config_error(no_model).find("missing required key 'model'") != std::string::npos);
  CHECK(config_error(json::array()).find("expected an object") != std::string::npos);
}

TEST_CASE("a run writes its directory, and the same config gives the same bytes") {
  const std::string d1 = scratch("run1"), d2 = scratch("run2");
  const json s1 = run_experiment(toy_config(), d1);
  const json s2 = run_experiment(toy_config(), d2);
  for (const char* f : {"config.json", "metrics.csv", "timing.csv", "final_params.json", "summary.json"})
    CHECK(fs::exists(d1 + "/" + f));
  CHECK_FALSE(fs::exists(d1 + "/checkpoint.cbor"));
  CHECK(read_file(d1 + "/metrics.csv") == read_file(d2 + "/metrics.csv"));
  CHECK(without_seconds(s1) == without_seconds(s2));
  const json parsed = json::parse(read_file(d1 + "/summary.json"));
  CHECK(parsed == s1);
  CHECK(parsed["steps"] == 300);
  // The final parameters have their own file, not summary.json: x is the last logged row's x_0, x_1.
  CHECK_FALSE(parsed.contains("final_params"));
  const json params = json::parse(read_file(d1 + "/final_params.json"));
  CHECK(params["x"]["shape"] == json::array({1, 2}));
  CHECK(read_file(d1 + "/final_params.json") == read_file(d2 + "/final_params.json"));
  {
    const std::string rows = read_file(d1 + "/metrics.csv");
    const std::string last = rows.substr(rows.rfind('\n', rows.size() - 2) + 1);
    std::vector<std::string> cells;
    std::stringstream ls(last);
    for (std::string c; std::getline(ls, c, ',');) cells.push_back(c);
    REQUIRE(cells.size() == 20);  // the header below: x_0, x_1 are columns 17 and 18
    CHECK(params["x"]["data"][0].get<double>() == std::stod(cells[17]));
    CHECK(params["x"]["data"][1].get<double>() == std::stod(cells[18]));
  }
  for (int k = 0; k < 2; ++k) CHECK(parsed["final_losses"][k].get<double>() < parsed["initial_losses"][k].get<double>());
  // metrics.csv: header + rows at steps 1, 50, ..., 300.
  const std::string csv = read_file(d1 + "/metrics.csv");
  CHECK(csv.rfind("step,loss_f1,loss_f2,gnorm_f1,gnorm_f2,cos_f1_f2,conflicts,dnorm,w_f1,w_f2,cert_margin,cert_hurt,cert_gap,cert_induced,cert_resolved,cert_grad_ratio,cert_loss_ratio,x_0,x_1,skipped\n", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 1 + 6);
  // The resolved config lists every option of both stages.
  const json cfg = json::parse(read_file(d1 + "/config.json"));
  CHECK(cfg["optimizer"]["betas"].size() == 2);
  CHECK(cfg["aggregator"].contains("order"));
  fs::remove_all(d1);
  fs::remove_all(d2);
}

TEST_CASE("a run stopped by a non-finite direction writes summary.json with status diverged, the step and the stage") {
  const std::string d = scratch("diverged");
  json c = toy_config(20);
  c["log_every"] = 1;
  try {
    run_experiment(c, d, scripted({5}));
    FAIL("no exception");
  } catch (const NonFiniteError& e) {
    CHECK(std::string(e.what()) == "step 5: the aggregator 'scripted' returned a non-finite direction (d[0] = inf)");
  }
  const json summary = json::parse(read_file(d + "/summary.json"));
  CHECK(summary["status"] == "diverged");
  CHECK(summary["step"] == 5);
  CHECK(summary["source"] == "aggregator scripted");
  CHECK(summary["message"] == "step 5: the aggregator 'scripted' returned a non-finite direction (d[0] = inf)");
  CHECK(summary["steps"] == 4);
  // The rows logged before the stop: header and steps 1..4.
  const auto rows = csv_rows(read_file(d + "/metrics.csv"));
  CHECK(rows.size() == 5);
  CHECK(rows.back()[0] == "4");
  // A finished run says so.
  const std::string f = scratch("finished");
  CHECK(run_experiment(toy_config(5), f)["status"] == "finished");
  fs::remove_all(d);
  fs::remove_all(f);
}

TEST_CASE("under skip a skipped step's row is NaN for the stage's outputs and says skipped=1") {
  const std::string d = scratch("skiprow");
  json c = toy_config(6);
  c["log_every"] = 1;
  c["nonfinite"] = "skip";
  const json summary = run_experiment(c, d, scripted({3}));
  CHECK(summary["status"] == "finished");
  CHECK(summary["skipped_steps"] == 1);
  const auto rows = csv_rows(read_file(d + "/metrics.csv"));
  REQUIRE(rows.size() == 7);
  const auto& h = rows[0];
  CHECK(h == std::vector<std::string>{"step", "loss_f1", "loss_f2", "gnorm_f1", "gnorm_f2", "cos_f1_f2", "conflicts",
                                      "dnorm", "w_f1", "w_f2", "solver_iters", "solver_residual", "cert_margin",
                                      "cert_hurt", "cert_gap", "cert_induced", "cert_resolved", "cert_grad_ratio",
                                      "cert_loss_ratio", "x_0", "x_1", "skipped"});
  auto at = [&](std::size_t row, const std::string& col) {
    return rows[row][std::size_t(std::find(h.begin(), h.end(), col) - h.begin())];
  };
  for (const char* col : {"dnorm", "w_f1", "w_f2", "solver_iters", "solver_residual", "cert_margin", "cert_gap"}) {
    INFO(col);
    CHECK(at(3, col) == "nan");
    CHECK(at(2, col) != "nan");
  }
  CHECK(at(3, "skipped") == "1");
  CHECK(at(2, "skipped") == "0");
  // The step's own measurements stay (they are this step's, not stale), and θ did not move.
  CHECK(std::isfinite(std::stod(at(3, "loss_f1"))));
  CHECK(at(3, "x_0") == at(2, "x_0"));
  CHECK(at(3, "x_1") == at(2, "x_1"));
  // The stage's state was restored: step 4 is its third call.
  CHECK(at(4, "solver_iters") == "3");
  fs::remove_all(d);
}

TEST_CASE("a stage's solver report: metric columns, one warning per run, solver_capped_steps") {
  const std::string d = scratch("capped");
  json c = toy_config(10);
  c["log_every"] = 5;
  json summary;
  const std::string err = capture_stderr(d + ".stderr", [&] { summary = run_experiment(c, d, scripted({}, {3, 4, 7})); });
  CHECK(summary["solver_capped_steps"] == 3);
  CHECK(json::parse(read_file(d + "/summary.json"))["solver_capped_steps"] == 3);
  CHECK(err.find("warning: step 3: a solver of the aggregator 'scripted' stopped at its max_iter") != std::string::npos);
  CHECK(err.find("warning:", err.find("warning:") + 1) == std::string::npos);  // once
  const auto rows = csv_rows(read_file(d + "/metrics.csv"));
  REQUIRE(rows.size() == 4);  // header, steps 1, 5, 10
  CHECK(rows[0][10] == "solver_iters");
  CHECK(rows[2][10] == "5");
  CHECK(std::stod(rows[3][11]) == doctest::Approx(0.1).epsilon(tolerance(1e-15, 1e-7)));
  // A stage that declares nothing adds no column, and the count is 0.
  const std::string plain = scratch("plain");
  CHECK(run_experiment(toy_config(3), plain)["solver_capped_steps"] == 0);
  fs::remove_all(d);
  fs::remove(d + ".stderr");
  fs::remove_all(plain);
}

TEST_CASE("a run stopped after a checkpoint resumes to the same bytes as an uninterrupted one") {
  for (const std::string agg : {"pcgrad", "adam-pcgrad"}) {
    INFO(agg);
    json c = toy_config(400);
    c["aggregator"]["name"] = agg;
    c["checkpoint_every"] = 100;
    const std::string full = scratch("full"), cut = scratch("cut");
    const json ref = run_experiment(c, full);
    RunOptions crash;
    crash.on_step = [](const Trainer& t, const StepRecord&) {
      if (t.steps() == 250) throw std::runtime_error("simulated crash");
    };
    CHECK_THROWS_WITH_SUBSTR(run_experiment(c, cut, crash), "simulated crash");
    CHECK(fs::exists(cut + "/checkpoint.cbor"));
    CHECK_FALSE(fs::exists(cut + "/summary.json"));
    RunOptions resume;
    resume.resume = true;
    const json got = run_experiment(c, cut, resume);
    CHECK(without_seconds(got) == without_seconds(ref));
    CHECK(read_file(cut + "/metrics.csv") == read_file(full + "/metrics.csv"));
    CHECK_FALSE(fs::exists(cut + "/checkpoint.cbor"));
    fs::remove_all(full);
    fs::remove_all(cut);
  }
}

TEST_CASE("an interrupt stops the run between steps with a checkpoint, even without checkpoint_every") {
  // on_step sets the flag as the SIGINT handler would; the run stops after that step (137, not a
  // multiple of log_every), and --resume ends with the bytes of an uninterrupted run.
  json c = toy_config(400);
  c["plots"] = {{"enabled", false}};
  const std::string full = scratch("int_full"), cut = scratch("int_cut");
  const json ref = run_experiment(c, full);
  clear_interrupt();
  RunOptions stop;
  stop.on_step = [](const Trainer& t, const StepRecord&) {
    if (t.steps() == 137) request_interrupt(SIGTERM);
  };
  std::size_t step = 0;
  int signal = 0;
  bool off = false;
  try {
    run_experiment(c, cut, stop);
  } catch (const RunInterrupted& e) {
    step = e.step;
    signal = e.signal;
    off = e.checkpointing_off;
    CHECK(std::string(e.what()) == "interrupted at step 137");
  }
  clear_interrupt();
  CHECK(step == 137);
  CHECK(signal == SIGTERM);
  CHECK(off);
  CHECK(fs::exists(cut + "/checkpoint.cbor"));
  CHECK_FALSE(fs::exists(cut + "/summary.json"));
  RunOptions resume;
  resume.resume = true;
  const json got = run_experiment(c, cut, resume);
  CHECK(without_seconds(got) == without_seconds(ref));
  for (const char* f : {"metrics.csv", "final_params.json", "config.json"}) CHECK(read_file(cut + "/" + f) == read_file(full + "/" + f));
  CHECK_FALSE(fs::exists(cut + "/checkpoint.cbor"));

  // Set before the run starts: it stops at step 0, resumable all the same.
  fs::remove_all(cut);
  request_interrupt(SIGINT);
  CHECK_THROWS_WITH_SUBSTR(run_experiment(c, cut), "interrupted at step 0");
  clear_interrupt();
  CHECK(without_seconds(run_experiment(c, cut, resume)) == without_seconds(ref));
  fs::remove_all(full);
  fs::remove_all(cut);
}

TEST_CASE("resume errors: no checkpoint, a different config") {
  json c = toy_config(200);
  c["checkpoint_every"] = 50;
  const std::string d = scratch("resume_err");
  RunOptions resume;
  resume.resume = true;
  CHECK_THROWS_WITH_SUBSTR(run_experiment(c, d, resume), "--resume: no checkpoint in");
  RunOptions crash;
  crash.on_step = [](const Trainer& t, const StepRecord&) {
    if (t.steps() == 120) throw std::runtime_error("stop");
  };
  CHECK_THROWS(run_experiment(c, d, crash));
  c["optimizer"]["lr"] = 0.02;
  CHECK_THROWS_WITH_SUBSTR(run_experiment(c, d, resume), "written by a different config");
  write_file_atomic(d + "/checkpoint.cbor", "not cbor");
  c["optimizer"]["lr"] = 0.01;
  CHECK_THROWS_WITH_SUBSTR(run_experiment(c, d, resume), "checkpoint.cbor: not an mtlgrad checkpoint");
  fs::remove_all(d);
}

TEST_CASE("resume verifies the checkpoint: checksum, every field, the logs, each error naming the file and the field") {
  json c = toy_config(200);
  c["checkpoint_every"] = 50;
  c["log_every"] = 1;
  const std::string d = scratch("ckpt_verify"), ck_path = d + "/checkpoint.cbor";
  RunOptions crash;
  crash.on_step = [](const Trainer& t, const StepRecord&) {
    if (t.steps() == 120) throw std::runtime_error("stop");
  };
  CHECK_THROWS(run_experiment(c, d, crash));
  const std::string good = read_file(ck_path), metrics = read_file(d + "/metrics.csv");
  const json state = open_checkpoint(good, ck_path);
  // The checkpoint at step 100 records the bytes of the header and rows 1..100 (log_every 1).
  std::size_t upto100 = 0;
  for (int lines = 0; lines < 101; ++lines) upto100 = metrics.find('\n', upto100) + 1;
  CHECK(state.at("metrics").at("bytes").get<std::size_t>() == upto100);
  CHECK(state.at("trainer").at("step") == 100);
  RunOptions resume;
  resume.resume = true;
  const auto refused = [&](const std::string& bytes, const std::string& words) {
    INFO(words);
    write_file_atomic(ck_path, bytes);
    CHECK_THROWS_WITH_SUBSTR(run_experiment(c, d, resume), words);
  };
  const auto with = [&](const std::function<void(json&)>& change) {
    json s = state;
    change(s);
    return seal_checkpoint(s);
  };
  const std::string file = ck_path + ": ";
  // The bytes: each of the payload's 8 bits of one byte, the header, the length.
  for (int bit = 0; bit < 8; ++bit) {
    std::string flipped = good;
    flipped[flipped.size() / 2] = char(flipped[flipped.size() / 2] ^ (1 << bit));
    refused(flipped, file + "checksum mismatch");
  }
  refused(good.substr(0, good.size() - 1), file + "truncated or extended: the header records");
  refused(good + "x", file + "truncated or extended");
  refused("mtlgrad ckpt v2\n" + good.substr(16), file + "not an mtlgrad checkpoint");
  refused("", file + "not an mtlgrad checkpoint");
  // The fields.
  refused(with([](json& s) { s["trainer"]["step"] = -5; }), file + "trainer.step: expected a non-negative integer, got -5");
  refused(with([](json& s) { s["trainer"]["step"] = 201; }), file + "trainer.step: 201 is past the run's 200 steps");
  refused(with([](json& s) { s["trainer"]["step"] = 1.5; }), file + "trainer.step: expected a non-negative integer, got 1.5");
  refused(with([](json& s) { s["trainer"]["skipped"] = 101; }), file + "trainer.skipped: 101 skipped steps of 100");
  refused(with([](json& s) { s["trainer"]["rng"]["s"] = {0, 0, 0, 0}; }), file + "rng.s: all four words are zero");
  refused(with([](json& s) { s["trainer"]["rng"].erase("s"); }), file + "rng.s: missing");
  refused(with([](json& s) { s["trainer"]["optimizer"]["param_states"] = json::array(); }),
          file + "trainer.optimizer.param_states: 0 states after 100 steps, but the model has 1 parameters");
  refused(with([](json& s) { s["trainer"]["optimizer"]["param_states"][0]["shape"] = {2, 1}; }),
          file + "trainer.optimizer.param_states[0].shape: [2,1], but the parameter has shape [1,2]");
  refused(with([](json& s) { s["trainer"].erase("params"); }), file + "trainer.params: missing");
  for (const char* key : {"metrics", "timing", "trainer", "evals", "seconds", "observers", "initial_losses", "config"})
    refused(with([&](json& s) { s.erase(key); }), file + key + ": missing");
  refused(with([](json& s) { s["metrics"].erase("header"); }), file + "metrics.header: missing");
  refused(with([](json& s) { s["metrics"]["bytes"] = -1; }), file + "metrics.bytes: expected a non-negative integer");
  refused(with([](json& s) { s["seconds"] = "soon"; }), file + "seconds: expected a finite number, got \"soon\"");
  refused(with([](json& s) { s["evals"] = 3; }), file + "evals: expected a list");
  refused(with([](json& s) { s["observers"] = json::array({1, 2, 3, 4, 5}); }), file + "observers: expected the states of");
  // The logs the checkpoint points into: shorter than it records is refused.
  refused(with([&](json& s) { s["metrics"]["bytes"] = metrics.size() + 1; }),
          "metrics.csv holds " + std::to_string(metrics.size()) + " bytes but the checkpoint records " +
              std::to_string(metrics.size() + 1));
  // The good checkpoint still resumes, cutting the rows past step 100 and ending as a whole run does.
  write_file_atomic(ck_path, good);
  run_experiment(c, d, resume);
  const std::string whole = scratch("ckpt_verify_whole");
  run_experiment(c, whole);
  CHECK(read_file(d + "/metrics.csv") == read_file(whole + "/metrics.csv"));
  fs::remove_all(d);
  fs::remove_all(whole);
}

TEST_CASE("a run removes the temporaries a killed run left, and only those") {
  const std::string d = scratch("stale_tmp");
  fs::create_directories(d);
  const pid_t dead = ::fork();  // a pid that surely belonged to a process that is gone
  if (dead == 0) ::_exit(0);
  REQUIRE(dead > 0);
  ::waitpid(dead, nullptr, 0);
  const std::string stale = d + "/metrics.csv.tmp." + std::to_string(dead);
  const std::string alive = d + "/summary.json.tmp." + std::to_string(::getppid());
  const std::string ours = d + "/notes.json.tmp." + std::to_string(::getpid());  // no file the run writes
  const std::string other = d + "/notes.tmp.x1";
  for (const auto& f : {stale, alive, ours, other}) std::ofstream(f) << "half";
  run_experiment(toy_config(20), d);
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(alive));
  CHECK(fs::exists(ours));
  CHECK(fs::exists(other));
  CHECK(fs::exists(d + "/metrics.csv"));
  CHECK(remove_stale_temporaries(d + "/no-such-dir") == 0);
  fs::remove_all(d);
}

TEST_CASE("threads: the run uses the config's OpenBLAS thread count, records it, and restores the caller's") {
  const std::string d = scratch("threads");
  const int before = blas::threads();
  json c = toy_config(5);
  c["threads"] = 2;
  int seen = 0;
  RunOptions o;
  o.on_step = [&](const Trainer&, const StepRecord&) { seen = blas::threads(); };
  run_experiment(c, d, o);
  CHECK(seen == 2);
  CHECK(blas::threads() == before);
  CHECK(json::parse(read_file(d + "/config.json"))["threads"] == 2);
  o.force = true;  // another config into the same directory: started over, not refused
  run_experiment(toy_config(5), d, o);  // the default: one thread, written out
  CHECK(seen == 1);
  CHECK(json::parse(read_file(d + "/config.json"))["threads"] == 1);
  fs::remove_all(d);
}

}  // TEST_SUITE
