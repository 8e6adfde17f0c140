// The gradient record (run/record.hpp) and the replay (run/replay.hpp): the file's contents, its
// errors on truncation and corruption, resume, bit-for-bit replay of the run's own stage, and the
// certificates in metrics.csv.
#include "test_util.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <unistd.h>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/run/experiment.hpp"
#include "mtlgrad/run/record.hpp"
#include "mtlgrad/run/replay.hpp"

using namespace mtlgrad;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string scratch(const std::string& name) {
  const std::string d = (fs::temp_directory_path() / ("mtlgrad_test_" + name + "_" + std::to_string(::getpid()))).string();
  fs::remove_all(d);
  return d;
}

// Three tasks, so that pcgrad's random order matters.
json mmoe_config(const json& aggregator, std::size_t steps = 12) {
  return {{"name", "rec"},
          {"seed", 4},
          {"model", {{"name", "hps_mlp"}, {"trunk", {6}}, {"activation", "tanh"}}},
          {"data", {{"name", "mmoe"}, {"n", 200}, {"n_test", 20}, {"dim", 8}, {"tasks", 3}, {"seed", 2}}},
          {"batch_size", 16},
          {"steps", steps},
          {"log_every", 1},
          {"aggregator", aggregator},
          {"optimizer", {{"name", "sgd"}, {"lr", 0.05}}},
          {"plots", false},
          {"record", json::object()}};
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no error>";
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  return out;
}

}  // namespace

TEST_CASE("record: every step's J, losses and d, with the sum's d = Σ g_i") {
  const std::string dir = scratch("record_sum");
  run_experiment(mmoe_config("sum", 5), dir);
  RecordReader reader(dir + "/gradients.rec");
  CHECK(reader.header().T == 3);
  CHECK(reader.header().real_size == sizeof(real));
  CHECK(reader.header().meta["tasks"].size() == 3);
  GradientRecord r;
  std::size_t n = 0;
  while (reader.next(r)) {
    ++n;
    CHECK(r.step == n);
    REQUIRE(r.J.shape(0) == 3);
    const std::size_t P = r.J.shape(1);
    CHECK(P == reader.header().P);
    // sum: d_k = Σ_i J_ik, computed here independently.
    double worst = 0;
    for (std::size_t k = 0; k < P; ++k)
      worst = std::max(worst, std::abs(double(r.J(0, k) + r.J(1, k) + r.J(2, k)) - double(r.direction(0, k))));
    CHECK(worst <= 1e-5);
    CHECK(r.losses.size() == 3);
  }
  CHECK(n == 5);
}

TEST_CASE("replay: the run's own stage reproduces its directions bit for bit, stateful ones too") {
  for (const json& stage : {json("pcgrad"), json{{"name", "gradvac"}}, json("mgda")}) {
    CAPTURE(stage.dump());
    const std::string dir = scratch("replay_own");
    run_experiment(mmoe_config(stage), dir);
    const json s = replay_record(dir, {stage, "sum"}, dir + "/replay");
    REQUIRE(s["stages"].size() == 2);
    CHECK(s["records"] == 12);
    CHECK(s["stages"][0]["same_as_recorded"] == true);
    CHECK(s["stages"][1]["same_as_recorded"] == false);
    // cos of a stage with itself is 1 at every step.
    CHECK(s["stages"][0]["mean_cos"][s["stages"][0]["stage"].get<std::string>()].get<double>() ==
          doctest::Approx(1).epsilon(1e-5));
    CHECK(fs::exists(dir + "/replay/replay.csv"));
    CHECK(fs::exists(dir + "/replay/layer_conflicts.csv"));
  }
}

TEST_CASE("replay: mgda's certificates (no task hurt, margin ≥ 0) and replay.csv's rows") {
  const std::string dir = scratch("replay_mgda");
  run_experiment(mmoe_config("sum"), dir);
  const json s = replay_record(dir, {"mgda", "sum"}, dir + "/out");
  // MGDA's d is the min-norm point: g_i·d ≥ ‖d‖² − tol·max‖g‖² ≥ -tiny for every i (mgda.hpp).
  CHECK(s["stages"][0]["min_margin"].get<double>() >= -1e-4);
  std::ifstream in(dir + "/out/replay.csv");
  std::string line;
  std::getline(in, line);
  const auto head = split(line);
  std::size_t rows = 0;
  while (std::getline(in, line)) ++rows;
  CHECK(rows == 24);
  CHECK(head[0] == "step");
  CHECK(head.back() == "same_as_recorded");
}

TEST_CASE("record: truncated and corrupt files are one-line errors naming the file and offset") {
  const std::string dir = scratch("record_bad");
  run_experiment(mmoe_config("sum", 3), dir);
  const std::string path = dir + "/gradients.rec";
  const std::string bytes = read_file(path);
  // Offsets of the records: walk them.
  std::vector<std::uint64_t> starts;
  {
    RecordReader reader(path);
    GradientRecord r;
    starts.push_back(reader.offset());
    while (reader.next(r)) starts.push_back(reader.offset());
  }
  REQUIRE(starts.size() == 4);
  CHECK(starts.back() == bytes.size());
  const std::string cut = dir + "/cut.rec";
  write_file_atomic(cut, bytes.substr(0, bytes.size() - 5));
  const std::string e = error_of([&] { decode_record_bytes(read_file(cut), cut); });
  CHECK(e.find(cut + ": truncated record") == 0);
  CHECK(e.find("at offset " + std::to_string(starts[2])) != std::string::npos);
  CHECK(e.find('\n') == std::string::npos);
  // One flipped bit in the last record's payload.
  std::string flipped = bytes;
  flipped[starts[2] + 30] ^= 1;
  CHECK(error_of([&] { decode_record_bytes(flipped, "f.rec"); }) ==
        "f.rec: corrupt record (checksum mismatch) at offset " + std::to_string(starts[2]));
  // The header: magic, checksum, empty.
  CHECK(error_of([&] { decode_record_bytes("MTLGRAX\n" + bytes.substr(8), "m.rec"); }) ==
        "m.rec: not a gradient record (bad magic) at offset 0");
  std::string h = bytes;
  h[24] = char(sizeof(real) == 8 ? 4 : 8);  // another real type: caught by the header's checksum first
  CHECK(error_of([&] { decode_record_bytes(h, "h.rec"); }).find("h.rec: header checksum mismatch") == 0);
  CHECK(error_of([&] { decode_record_bytes("", "e.rec"); }).find("e.rec: empty") == 0);
  // Through replay: the same error, no output.
  fs::copy_file(cut, path, fs::copy_options::overwrite_existing);
  CHECK(error_of([&] { replay_record(dir, {"sum"}, dir + "/r"); }).find(path + ": truncated record") == 0);
  CHECK(error_of([&] { replay_record(dir, {"pcgrd"}, dir + "/r"); }).find("did you mean") != std::string::npos);
  CHECK(error_of([&] { replay_record(dir, {}, dir + "/r"); }).find("no stage given") != std::string::npos);
}

TEST_CASE("record: an interrupted and resumed run writes the same gradients.rec as an uninterrupted one") {
  const std::string a = scratch("record_full"), b = scratch("record_resumed");
  json cfg = mmoe_config("pcgrad", 10);
  cfg["checkpoint_every"] = 4;
  run_experiment(cfg, a);
  RunOptions stop;
  stop.on_step = [](const Trainer&, const StepRecord& r) {
    if (r.step == 7) throw std::runtime_error("killed");
  };
  CHECK(error_of([&] { run_experiment(cfg, b, stop); }) == "killed");
  RunOptions resume;
  resume.resume = true;
  run_experiment(cfg, b, resume);
  CHECK(read_file(a + "/gradients.rec") == read_file(b + "/gradients.rec"));
}

TEST_CASE("record: options are checked, gramian content replays through a factor of G") {
  json cfg = mmoe_config("sum");
  cfg["record"] = {{"every", 0}};
  CHECK(error_of([&] { resolve_config(cfg); }).find("record.every") != std::string::npos);
  cfg["record"] = {{"content", "jacobians"}};
  CHECK(error_of([&] { resolve_config(cfg); }).find("did you mean") != std::string::npos);
  cfg["record"] = {{"every", 2}, {"content", "gramian"}};
  const std::string dir = scratch("record_gramian");
  run_experiment(cfg, dir);
  RecordReader reader(dir + "/gradients.rec");
  GradientRecord r;
  REQUIRE(reader.next(r));
  CHECK(r.step == 2);
  CHECK(r.G.shape(0) == 3);
  CHECK(r.J.size() == 0);
  // The jacobian record of the same run gives the same G, J d and ‖d‖² (sum: J d = G 1).
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(double(r.Jd[i]) == doctest::Approx(double(r.G(i, 0) + r.G(i, 1) + r.G(i, 2))).epsilon(1e-4));
  const json s = replay_record(dir, {"sum", "mgda"}, dir + "/r");
  CHECK(s["records"] == 6);
  CHECK(s["stages"][0]["same_as_recorded"].is_null());
  // The sum's ‖d‖ on the factor equals the recorded ‖d‖ (1ᵀG1 = ‖Σ g_i‖²).
  std::ifstream in(dir + "/r/replay.csv");
  std::string line;
  std::getline(in, line);
  std::getline(in, line);
  CHECK(std::stod(split(line)[2]) == doctest::Approx(std::sqrt(double(r.dd))).epsilon(1e-4));
}

TEST_CASE("metrics.csv: the certificate columns, checked against its own g_i and cos columns") {
  // toy2d, sum: d = g1 + g2, so g1·d = n1² + n1 n2 c and ‖d‖ is dnorm: margin = min_i cos(g_i, d).
  const std::string dir = scratch("metrics_cert");
  json cfg = {{"name", "c"},         {"seed", 1},       {"model", {{"name", "toy2d"}, {"start", {-8.5, 7.5}}}},
              {"aggregator", "sum"}, {"steps", 3},      {"log_every", 1},
              {"plots", false},      {"optimizer", {{"name", "sgd"}, {"lr", 0.01}}}};
  run_experiment(cfg, dir);
  std::ifstream in(dir + "/metrics.csv");
  std::string line;
  std::getline(in, line);
  const auto head = split(line);
  auto col = [&](const std::string& n) {
    for (std::size_t k = 0; k < head.size(); ++k)
      if (head[k] == n) return k;
    FAIL("no column " << n);
    return std::size_t(0);
  };
  std::size_t rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    const auto v = split(line);
    const double n1 = std::stod(v[col("gnorm_f1")]), n2 = std::stod(v[col("gnorm_f2")]), c = std::stod(v[col("cos_f1_f2")]),
                 dn = std::stod(v[col("dnorm")]);
    const double c1 = (n1 * n1 + n1 * n2 * c) / (n1 * dn), c2 = (n2 * n2 + n1 * n2 * c) / (n2 * dn);
    CHECK(std::stod(v[col("cert_margin")]) == doctest::Approx(std::min(c1, c2)).epsilon(1e-4));
    CHECK(std::stod(v[col("cert_hurt")]) == (c1 < 0) + (c2 < 0));
    CHECK(std::stod(v[col("cert_grad_ratio")]) == doctest::Approx(std::max(n1, n2) / std::min(n1, n2)).epsilon(1e-4));
  }
  CHECK(rows == 3);
}
