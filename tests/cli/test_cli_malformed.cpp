// Malformed input through the real `mtlgrad` binary: configs, --set overrides, the JSON on the
// standard input of aggregate and optimize, IDX data files, a missing file, and runs whose
// numbers stop being finite. Each row names the exit code and the words its message must hold;
// no row may end in a signal, an uncaught-exception abort or an assertion.
#include "test_util.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

// AddressSanitizer aborts on an allocation it cannot serve instead of throwing std::bad_alloc, and
// reserves terabytes of address space (so ulimit -v stops it at once).
#if defined(__SANITIZE_ADDRESS__)
#define MTLGRAD_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MTLGRAD_TEST_ASAN 1
#endif
#endif
#ifndef MTLGRAD_TEST_ASAN
#define MTLGRAD_TEST_ASAN 0
#endif

namespace {

struct Case {
  const char* name;
  /// After "mtlgrad ": {in} is a file holding `input`, {dir} a scratch directory.
  const char* command;
  std::string input;
  int code;
  std::vector<std::string> words;
  /// Files written into {dir} before the run: {name, bytes}.
  std::vector<std::pair<std::string, std::string>> files = {};
  /// Runs before the binary in the same shell ("ulimit -v 300000 && exec ").
  std::string shell_prefix = "";
  /// False for the rows about running out of memory, which AddressSanitizer handles itself.
  bool under_asan = true;
};

struct Outcome {
  int status = -1;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

Outcome run_case(const Case& c, const fs::path& dir) {
  fs::create_directories(dir);
  for (const auto& [name, bytes] : c.files) std::ofstream(dir / name, std::ios::binary) << bytes;
  std::string input = c.input, command = c.command;
  replace_all(input, "{dir}", dir.string());
  std::ofstream(dir / "in.json", std::ios::binary) << input;
  replace_all(command, "{in}", "'" + (dir / "in.json").string() + "'");
  replace_all(command, "{dir}", dir.string());
  const std::string shell = c.shell_prefix + "'" + MTLGRAD_CLI + "' " + command + " > /dev/null 2> '" +
                            (dir / "err").string() + "'";
  Outcome o;
  o.status = std::system(shell.c_str());
  o.err = slurp(dir / "err");
  return o;
}

// Big-endian IDX building blocks (idx.hpp has the format).
std::string be32(std::uint32_t v) {
  return {char(v >> 24), char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)};
}
std::string idx_images(std::uint32_t count, std::uint32_t rows = 28, std::uint32_t cols = 28,
                       std::size_t data_bytes = std::size_t(-1), std::uint32_t magic = 0x803) {
  if (data_bytes == std::size_t(-1)) data_bytes = std::size_t(count) * rows * cols;
  return be32(magic) + be32(count) + be32(rows) + be32(cols) + std::string(data_bytes, '\x07');
}
std::string idx_labels(std::uint32_t count, std::string labels = "") {
  if (labels.empty()) labels.assign(count, '\x01');
  return be32(0x801) + be32(count) + labels;
}
// The two training files of a Fashion-MNIST directory.
std::vector<std::pair<std::string, std::string>> train_files(std::string images, std::string labels) {
  return {{"train-images-idx3-ubyte.gz", std::move(images)}, {"train-labels-idx1-ubyte.gz", std::move(labels)}};
}

const std::string kToy = R"("model": {"name": "toy2d"})";
// Magnitudes that are finite in `real` but overflow once squared (kHuge) or summed (kMax).
const std::string kHuge = std::is_same_v<mtlgrad::real, double> ? "1e200" : "1e30";
const std::string kMax = std::is_same_v<mtlgrad::real, double> ? "1e308" : "3e38";
const std::string kMlp = R"("model": {"name": "hps_mlp", "trunk": [4]})";
const std::string kFashion =
    R"({"model": {"name": "hps_mlp", "trunk": [4]}, "data": {"name": "multifashion", "dir": "{dir}", "n": 2, "n_test": 2}})";
std::string toy(const std::string& more) { return "{" + kToy + ", " + more + "}"; }
std::string mlp(const std::string& data, const std::string& more = "") {
  return "{" + kMlp + ", \"data\": " + data + (more.empty() ? "" : ", " + more) + "}";
}
std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

const char* const kCheck = "run --check {in}";
const char* const kAgg = "aggregate < {in}";
const char* const kOpt = "optimize < {in}";
const std::string kPc = R"("aggregator": "pcgrad")";
const std::string kSgd = R"("optimizer": "sgd")";

std::vector<Case> cases() {
  return {
      // ---- configs: keys, types, ranges
      {"unknown top-level key", kCheck, toy(R"("optimiser": "adam")"), 1,
       {"optimiser: unknown key", "did you mean 'optimizer'?", "allowed: "}},
      {"unknown stage option", kCheck, toy(R"("optimizer": {"name": "adam", "beta": [0.9, 0.99]})"), 1,
       {"optimizer.beta: unknown key", "did you mean 'betas'?"}},
      {"unknown model option", kCheck, R"({"model": {"name": "toy2d", "strat": [1, 2]}})", 1,
       {"model.strat: unknown key", "did you mean 'start'?"}},
      {"wrong type: string for steps", kCheck, toy(R"("steps": "many")"), 1,
       {"steps: expected a non-negative integer, got string \"many\""}},
      {"wrong type: string for lr", kCheck, toy(R"("optimizer": {"name": "adam", "lr": "fast"})"), 1,
       {"optimizer.lr: expected a number, got string \"fast\""}},
      {"wrong type: boolean for lr", kCheck, toy(R"("optimizer": {"name": "sgd", "lr": true})"), 1,
       {"optimizer.lr: expected a number, got boolean true"}},
      {"wrong type: negative seed", kCheck, toy(R"("seed": -1)"), 1, {"seed: expected a non-negative integer", "-1"}},
      {"wrong type: fractional batch_size", kCheck, toy(R"("batch_size": 1.5)"), 1,
       {"batch_size: expected a non-negative integer, got number 1.5"}},
      {"wrong type: seed beyond 64 bits", kCheck, toy(R"("seed": 184467440737095516150)"), 1,
       {"seed: expected a non-negative integer"}},
      {"wrong type: steps beyond every integer type", kCheck, toy(R"("steps": 1e30)"), 1,
       {"steps: expected a non-negative integer, got number 1e+30"}},
      {"wrong type: a whole number beyond int", kCheck,
       toy(R"("aggregator": {"name": "pcgrad"}, "optimizer": {"name": "sgd", "lr": 0.1}, "seed": -5e18)"), 1,
       {"seed: expected a non-negative integer"}},
      {"wrong type: name is a number", kCheck, toy(R"("name": 5)"), 1, {"name: expected a string, got number 5"}},
      {"wrong type: start of one value", kCheck, R"({"model": {"name": "toy2d", "start": [1]}})", 1,
       {"model.start: expected an array of 2 values, got array [1]"}},
      {"wrong type: start holds a string", kCheck, R"({"model": {"name": "toy2d", "start": [1, "a"]}})", 1,
       {"model.start[1]: expected a number, got string \"a\""}},
      {"wrong type: aggregator is a number", kCheck, toy(R"("aggregator": 5)"), 1,
       {"aggregator: expected an object {\"name\": ...}, got 5"}},
      {"out of range: batch_size 0", kCheck, toy(R"("batch_size": 0)"), 1,
       {"batch_size: 0 is out of range (expected >= 1)"}},
      {"out of range: log_every 0", kCheck, toy(R"("log_every": 0)"), 1, {"log_every: 0 is out of range"}},
      {"out of range: negative lr", kCheck, toy(R"("optimizer": {"name": "adam", "lr": -1})"), 1,
       {"optimizer", "lr = -1 is out of range (expected >= 0)"}},
      {"out of range: negative task weight", kCheck, toy(R"("task_weights": [1, -2])"), 1,
       {"task_weights: [1,-2] is out of range (expected finite values >= 0)"}},
      {"out of range: hps_mlp layer of size 0", kCheck,
       R"({"model": {"name": "hps_mlp", "trunk": [0]}, "data": {"name": "teacher"}})", 1,
       {"model.trunk: [0] is out of range (expected positive layer sizes)"}},
      {"out of range: teacher n 0", kCheck, mlp(R"({"name": "teacher", "n": 0})"), 1,
       {"data.n: 0 is out of range (expected >= 1)"}},
      {"out of range: multifashion n 1", kCheck, mlp(R"({"name": "multifashion", "n": 1})"), 1,
       {"data.n: 1 is out of range", "each item needs a partner"}},
      // ---- configs: names and choices
      {"unknown model name", kCheck, R"({"model": {"name": "toy2"}})", 1,
       {"model.name: unknown model 'toy2' (did you mean 'toy2d'?)", "available: "}},
      {"unknown aggregator name", kCheck, toy(R"("aggregator": "pcgard")"), 1,
       {"aggregator.name: unknown aggregator 'pcgard' (did you mean 'pcgrad'?)"}},
      {"unknown optimizer name", kCheck, toy(R"("optimizer": {"name": "adan"})"), 1,
       {"optimizer.name: unknown optimizer 'adan' (did you mean 'adam'?)"}},
      {"unknown data set name", kCheck, mlp(R"({"name": "multifashon"})"), 1,
       {"data.name: unknown data set 'multifashon' (did you mean 'multifashion'?)"}},
      {"unknown teacher task kind", kCheck, mlp(R"({"name": "teacher", "tasks": [{"kind": "regresion"}]})"), 1,
       {"data.tasks[0].kind: unknown kind 'regresion' (did you mean 'regression'?)"}},
      {"unknown activation", kCheck,
       R"({"model": {"name": "hps_mlp", "activation": "rellu"}, "data": {"name": "teacher"}})", 1,
       {"model.activation: unknown activation 'rellu' (did you mean 'relu'?)"}},
      {"unknown non-finite policy", kCheck, toy(R"("nonfinite": "skipp")"), 1,
       {"nonfinite: unknown policy 'skipp' (did you mean 'skip'?); allowed: error, skip"}},
      {"unknown scope", kCheck, toy(R"("scope": "none")"), 1, {"scope: unknown scope 'none'", "shared, all"}},
      // ---- configs: inconsistent sizes and sections
      {"task_weights vs tasks", kCheck, toy(R"("task_weights": [1, 2, 3])"), 1,
       {"task_weights: 3 values, but the model has 2 tasks"}},
      {"data section for the toy", kCheck, toy(R"("data": {"name": "teacher"})"), 1,
       {"data: the model 'toy2d' takes no data"}},
      {"hps_mlp without data", kCheck, "{" + kMlp + "}", 1, {"the model 'hps_mlp' trains on data", "\"data\" section"}},
      {"empty teacher task list", kCheck, mlp(R"({"name": "teacher", "tasks": []})"), 1,
       {"data.tasks: expected a non-empty array"}},
      {"a data set larger than memory", kCheck, mlp(R"({"name": "teacher", "n": 10000000000000})"), 1,
       {"out of memory", "a size in the input"}, {}, "", false},
      {"missing model", kCheck, R"({"steps": 3})", 1, {"config: missing required key 'model'"}},
      {"epochs × batches beyond 64 bits", kCheck, mlp(R"({"name": "teacher", "n": 256})", R"("epochs": 7905747460161236407)"), 1,
       {"epochs: 7905747460161236407 is out of range (× 8 batches per epoch exceeds 18446744073709551615 steps)"}},
      {"epochs beyond 64 bits", kCheck, mlp(R"({"name": "teacher"})", R"("epochs": 18446744073709551616)"), 1,
       {"epochs: expected a non-negative integer"}},
      // ---- configs: task names (CSV columns, plot labels): validated, not quoted
      {"task name with a comma", kCheck, mlp(R"({"name": "teacher", "tasks": [{"kind": "regression", "name": "a,b"}]})"), 1,
       {"task name \"a,b\" (task 0): holds a comma"}},
      {"task name with a newline", kCheck,
       mlp(R"({"name": "teacher", "tasks": [{"kind": "regression"}, {"kind": "regression", "name": "a\nsystem \"x\""}]})"), 1,
       {"(task 1): holds the control character \"\\n\""}},
      {"task name with a double quote", kCheck, mlp(R"({"name": "teacher", "tasks": [{"kind": "regression", "name": "a\"b"}]})"), 1,
       {"(task 0): holds a double quote"}},
      {"task name with a tab", kCheck, mlp(R"({"name": "teacher", "tasks": [{"kind": "regression", "name": "a\tb"}]})"), 1,
       {"(task 0): holds the control character \"\\t\""}},
      {"empty task name", kCheck, mlp(R"({"name": "teacher", "tasks": [{"kind": "regression", "name": ""}]})"), 1,
       {"task 0: the task name is empty"}},
      {"duplicate task names", kCheck,
       mlp(R"({"name": "teacher", "tasks": [{"kind": "regression", "name": "y"}, {"kind": "regression", "name": "y"}]})"), 1,
       {"task name \"y\" (task 1): task 0 has the same name; names must be unique"}},
      // ---- duplicate keys, wherever JSON is read
      {"duplicate top-level key", kCheck, toy(R"("steps": 1, "steps": 2)"), 1, {"in.json: duplicate key 'steps'"}},
      {"duplicate key in a stage", kCheck, toy(R"("optimizer": {"name": "sgd", "lr": 0.1, "lr": 1})"), 1,
       {"in.json: duplicate key 'optimizer.lr'"}},
      {"duplicate key inside a list", kCheck,
       mlp(R"({"name": "teacher", "tasks": [{"kind": "regression"}, {"kind": "regression", "kind": "classification"}]})"), 1,
       {"in.json: duplicate key 'data.tasks[1].kind'"}},
      {"duplicate key in --set", "run --check {in} --set 'optimizer={\"name\": \"sgd\", \"name\": \"adam\"}'",
       toy("\"steps\": 1"), 1, {"duplicate key 'name'"}},
      {"duplicate key in --grid", "sweep {in} --out {dir}/s --grid 'optimizer={\"name\": \"sgd\", \"name\": \"adam\"}'",
       toy("\"steps\": 1"), 2, {"duplicate key 'name'"}},
      // ---- configs: the file itself
      {"bad JSON names the byte", kCheck, R"({"model": {"name": "toy2d"},})", 1,
       {"in.json: not valid JSON (at byte 29)", "expected string literal"}},
      {"NaN in a config", kCheck, toy(R"("task_weights": [NaN, 1])"), 1,
       {"not valid JSON (at byte", "NaN and Infinity are not JSON numbers"}},
      {"empty config file", kCheck, "", 1, {"in.json is empty; expected a JSON object"}},
      {"white space only", kCheck, " \n\t ", 1, {"in.json is empty"}},
      {"config is not an object", kCheck, "[1, 2]", 1, {"a config must be a JSON object, got array"}},
      {"deeply nested config", kCheck, toy("\"aggregator\": " + nested(100000)), 1,
       {"in.json: arrays and objects nested deeper than 128 levels"}},
      {"number beyond double in a config", kCheck, toy(R"("seed": 1e999)"), 1, {"in.json: holds a number that is not finite"}},
      {"missing config file", "run --check {dir}/nowhere.json", "", 1, {"cannot read", "nowhere.json"}},
      // ---- --set and the command line
      {"--set without '='", "run --check {in} --set foo", toy("\"steps\": 1"), 1, {"--set foo: expected key.path=value"}},
      {"--set through a number", "run --check {in} --set steps.x=1", toy("\"steps\": 3"), 1,
       {"--set steps.x=1: 'steps' is number, not an object"}},
      {"--set with an empty key", "run --check {in} --set a..b=1", toy("\"steps\": 1"), 1,
       {"--set a..b=1: empty key in 'a..b'"}},
      {"--set of an unknown stage option", "run --check {in} --set optimizer.lrr=1",
       toy(R"("optimizer": {"name": "adam"})"), 1, {"optimizer.lrr: unknown key (did you mean 'lr'?)"}},
      {"--set of an unknown stage", "run --check {in} --set aggregator.name=pcgrd", toy("\"steps\": 1"), 1,
       {"unknown aggregator 'pcgrd' (did you mean 'pcgrad'?)"}},
      {"unknown option of run", "run {in} --bogus", toy("\"steps\": 1"), 2, {"--bogus"}},
      {"run without a config", "run", "", 2, {"config is required"}},
      // ---- a config name that would leave runs/ (without --out it names the run directory)
      {"run name with ../", "run {in}", toy(R"("name": "../../../../x", "steps": 1)"), 1,
       {"name: \"../../../../x\" cannot be the folder runs/<name>", "--out"}},
      {"run name absolute", "run {in}", toy(R"("name": "/tmp/x", "steps": 1)"), 1, {"name: \"/tmp/x\"", "--out"}},
      {"run name with a newline", "run {in}", toy(R"("name": "a\nb", "steps": 1)"), 1, {"name: \"a\\nb\"", "--out"}},
      {"run name not a string", "run {in}", toy(R"("name": 5, "steps": 1)"), 1, {"name: expected a string, got number 5"}},
      {"sweep name with ../", "sweep {in} --grid seed=0", toy(R"("name": "../x", "steps": 1)"), 1,
       {"name: \"../x\" cannot be the folder runs/sweep-<name>"}},
      {"unknown command", "ruin", "", 2, {"unknown command 'ruin'", "usage: mtlgrad"}},
      {"unknown option of sweep", "sweep {in} --bogus", toy("\"steps\": 1"), 2, {"--bogus"}},
      {"sweep --jobs 0", "sweep {in} --jobs 0", toy("\"steps\": 1"), 2,
       {"--jobs: 0 is out of range (expected 1 to 1024)"}},
      {"sweep --jobs too many", "sweep {in} --jobs 100000", toy("\"steps\": 1"), 2,
       {"--jobs: 100000 is out of range (expected 1 to 1024)"}},
      {"sweep --jobs negative", "sweep {in} --jobs -1", toy("\"steps\": 1"), 2, {"--jobs"}},
      {"sweep without a config", "sweep --grid seed=1", "", 2, {"a config is required"}},
      {"sweep --shard out of range", "sweep {in} --shard 3/2", toy("\"steps\": 1"), 2, {"--shard 3/2"}},
      {"unknown option of list", "list --bogus", "", 2, {"unknown argument '--bogus'"}},
      {"argument to aggregate", "aggregate x", "", 2, {"unexpected argument 'x'"}},
      {"argument to optimize", "optimize x", "", 2, {"unexpected argument 'x'"}},
      // ---- suggestions ignore letter case
      {"optimizer name in the wrong case", kCheck, toy(R"("optimizer": "Adam")"), 1,
       {"unknown optimizer 'Adam' (did you mean 'adam'?)"}},
      {"aggregator name in capitals", kCheck, toy(R"("aggregator": "PCGRAD")"), 1,
       {"unknown aggregator 'PCGRAD' (did you mean 'pcgrad'?)"}},
      {"key in the wrong case", kCheck, toy(R"("STEPS": 3)"), 1, {"STEPS: unknown key (did you mean 'steps'?)"}},
      // ---- numerical faults in a run
      {"a loss that is not finite stops the run", "run --quiet --out {dir}/run {in}",
       R"({"model": {"name": "toy2d", "start": [0, -)" + kHuge + R"(]}, "steps": 5})", 1, {"step 1: loss of task 0 (f1) is inf"}},
      // uw on negative losses: s_i falls without bound, w_i = e^{-s_i} overflows, d is inf.
      {"a direction that is not finite stops the run", "run --quiet --out {dir}/run {in}",
       R"({"model": {"name": "toy2d", "start": [-8.5, -5]}, "aggregator": {"name": "uw", "lr": 100}, "steps": 5})", 1,
       {"step ", "the aggregator 'uw' returned a non-finite direction (d[0] = "}},
      // ---- aggregate: standard input
      {"aggregate: empty input", kAgg, "", 1, {"aggregate: standard input is empty"}},
      {"aggregate: top level is a list", kAgg, "[[1]]", 1, {"input: expected an object, got array"}},
      {"aggregate: ragged rows", kAgg, "{" + kPc + R"(, "steps": [[[1, 2], [3]]]})", 1,
       {"steps[0][1]: has 1 values but steps[0][0] has 2"}},
      {"aggregate: empty list of steps", kAgg, "{" + kPc + R"(, "steps": []})", 1,
       {"input.steps: expected a non-empty list of Jacobians"}},
      {"aggregate: an empty Jacobian", kAgg, "{" + kPc + R"(, "steps": [[]]})", 1,
       {"steps[0]: expected a non-empty list of rows"}},
      {"aggregate: a string for a number", kAgg, "{" + kPc + R"(, "steps": [[[1, "2"]]]})", 1,
       {"steps[0][0][1]: expected a number, got string \"2\""}},
      {"aggregate: NaN token", kAgg, "{" + kPc + R"(, "steps": [[[1, NaN]]]})", 1,
       {"aggregate: standard input: not valid JSON (at byte", "NaN and Infinity are not JSON numbers"}},
      {"aggregate: -Infinity token", kAgg, "{" + kPc + R"(, "steps": [[[1, -Infinity]]]})", 1,
       {"not valid JSON", "NaN and Infinity are not JSON numbers"}},
      {"aggregate: huge nesting", kAgg, "{" + kPc + R"(, "steps": [[)" + nested(100000) + "]]}", 1,
       {"aggregate: standard input: arrays and objects nested deeper than 128 levels"}},
      {"aggregate: T changes between steps", kAgg, "{" + kPc + R"(, "steps": [[[1, 2]], [[1, 2], [3, 4]]]})", 1,
       {"steps[1]: a Jacobian of shape [2,2]", "T and P cannot change between steps"}},
      {"aggregate: steps is an object", kAgg, "{" + kPc + R"(, "steps": {"a": 1}})", 1,
       {"input.steps: expected a non-empty list of Jacobians, got object"}},
      {"aggregate: overflowing direction", kAgg, R"({"aggregator": "sum", "steps": [[[)" + kMax + "], [" + kMax + R"(]]]})", 1,
       {"steps[0]: the update direction of sum is not finite"}},
      {"aggregate: overflowing Gramian", kAgg, "{" + kPc + R"(, "steps": [[[)" + kMax + ", " + kMax + "], [" + kMax + ", " + kMax + R"(]]]})", 1,
       {"steps[0]: ", "overflow"}},
      {"aggregate: duplicate key", kAgg, "{" + kPc + R"(, "steps": [[[1]]], "steps": [[[2]]]})", 1,
       {"aggregate: standard input: duplicate key 'steps'"}},
      {"aggregate: duplicate stage option", kAgg, R"({"aggregator": {"name": "pcgrad-momentum", "beta": 0.5, "beta": 0.9}, "steps": [[[1]]]})", 1,
       {"aggregate: standard input: duplicate key 'aggregator.beta'"}},
      {"aggregate: unknown key", kAgg, "{" + kPc + R"(, "step": [[[1]]]})", 1,
       {"input.step: unknown key (did you mean 'steps'?)"}},
      // ---- optimize: standard input
      {"optimize: empty input", kOpt, "  ", 1, {"optimize: standard input is empty"}},
      {"optimize: top level is a string", kOpt, "\"adam\"", 1, {"input: expected an object, got string"}},
      {"optimize: ragged gradients", kOpt, "{" + kSgd + R"(, "params": [1, 2], "grads": [[1, 2], [1, 2, 3]]})", 1,
       {"grads[1]: has 3 values but params has 2"}},
      {"optimize: empty params", kOpt, "{" + kSgd + R"(, "params": [], "grads": [[1]]})", 1,
       {"params: expected a non-empty list of numbers"}},
      {"optimize: empty gradient list", kOpt, "{" + kSgd + R"(, "params": [1], "grads": []})", 1,
       {"grads: expected a non-empty list of gradients"}},
      {"optimize: null for a number", kOpt, "{" + kSgd + R"(, "params": [1, 2], "grads": [[1, null]]})", 1,
       {"grads[0][1]: expected a number, got null"}},
      {"optimize: Infinity token", kOpt, "{" + kSgd + R"(, "params": [1], "grads": [[Infinity]]})", 1,
       {"optimize: standard input: not valid JSON", "NaN and Infinity are not JSON numbers"}},
      {"optimize: number beyond double", kOpt, "{" + kSgd + R"(, "params": [1], "grads": [[1e999]]})", 1,
       {"optimize: standard input: holds a number that is not finite"}},
      {"optimize: huge nesting", kOpt, "{" + kSgd + R"(, "params": )" + nested(5000) + R"(, "grads": [[1]]})", 1,
       {"nested deeper than 128 levels"}},
      {"optimize: divergence", kOpt,
       R"({"optimizer": {"name": "sgd", "lr": )" + kMax + R"(}, "params": [)" + kMax + R"(], "grads": [[)" + kMax + R"(]]})", 1,
       {"step 1: the parameters are no longer finite", "try a smaller lr"}},
      {"optimize: duplicate key", kOpt, R"({"optimizer": {"name": "sgd", "lr": 0.1, "lr": 1}, "params": [1], "grads": [[1]]})", 1,
       {"optimize: standard input: duplicate key 'optimizer.lr'"}},
      {"optimize: unknown key", kOpt, "{" + kSgd + R"(, "params": [1], "grad": [[1]]})", 1,
       {"input.grad: unknown key (did you mean 'grads'?)"}},
      // ---- IDX data files, through a multifashion config pointing at {dir}
      {"IDX: missing files", kCheck, kFashion, 1, {"train-images-idx3-ubyte.gz: cannot open (No such file"}},
      {"IDX: wrong magic", kCheck, kFashion, 1,
       {"train-images-idx3-ubyte.gz: byte offset 0: wrong magic number 0x0000dead (expected 0x00000803"},
       train_files(idx_images(3, 28, 28, std::size_t(-1), 0xdead), idx_labels(3))},
      {"IDX: label magic in the image file", kCheck, kFashion, 1,
       {"byte offset 3: wrong dimension count 1"}, train_files(idx_images(3, 28, 28, std::size_t(-1), 0x801), idx_labels(3))},
      {"IDX: empty file", kCheck, kFashion, 1,
       {"byte offset 0: truncated: expected 4 bytes of magic number, the file ends after 0"},
       train_files("", idx_labels(3))},
      {"IDX: truncated header", kCheck, kFashion, 1, {"byte offset 8: truncated", "dimension sizes"},
       train_files(be32(0x803) + be32(3), idx_labels(3))},
      {"IDX: truncated pixel data", kCheck, kFashion, 1,
       {"byte offset 16: truncated: expected 2352 bytes of pixel data (3 images of 28×28), the file ends after 100"},
       train_files(idx_images(3, 28, 28, 100), idx_labels(3))},
      {"IDX: a header claiming a million images", kCheck, kFashion, 1,
       {"truncated: expected 822083584 bytes of pixel data", "the file ends after 10"},
       train_files(idx_images(1u << 20, 28, 28, 10), idx_labels(3))},
      {"IDX: implausible sizes", kCheck, kFashion, 1, {"byte offset 4: implausible sizes"},
       train_files(idx_images(0x80000000u, 1u << 20, 28, 10), idx_labels(3))},
      {"IDX: trailing bytes", kCheck, kFashion, 1, {"byte offset 2368: expected the end of the file, found more data"},
       train_files(idx_images(3) + "x", idx_labels(3))},
      {"IDX: label out of range", kCheck, kFashion, 1,
       {"train-labels-idx1-ubyte.gz: byte offset 9: label 12 of item 1 is out of range (expected < 10)"},
       train_files(idx_images(3), idx_labels(3, std::string("\x01\x0c\x03", 3)))},
      {"IDX: truncated labels", kCheck, kFashion, 1, {"train-labels-idx1-ubyte.gz: byte offset 8: truncated"},
       train_files(idx_images(3), be32(0x801) + be32(3) + "\x01")},
      {"IDX: image and label counts differ", kCheck, kFashion, 1, {"holds 3 images but", "holds 4 labels"},
       train_files(idx_images(3), idx_labels(4))},
      {"IDX: images of the wrong size", kCheck, kFashion, 1, {"expected 28×28 items, got 4×4"},
       train_files(idx_images(3, 4, 4), idx_labels(3))},
      {"IDX: corrupt gzip", kCheck, kFashion, 1, {"train-images-idx3-ubyte.gz: byte offset 0: read error"},
       train_files(std::string("\x1f\x8b\x08\x00garbagegarbage", 18), idx_labels(3))},
      {"IDX: more items requested than the file holds", kCheck,
       mlp(R"({"name": "multifashion", "dir": "{dir}", "n": 5, "n_test": 2})"), 1, {"5 items requested", "holds 3"},
       train_files(idx_images(3), idx_labels(3))},
  };
}

}  // namespace

TEST_SUITE("cli") {

TEST_CASE("malformed input: every row gets its exit code and a message naming what was wrong") {
  const auto table = cases();
  CHECK(table.size() >= 40);
  const fs::path root = fs::temp_directory_path() / ("mtlgrad_malformed_" + std::to_string(::getpid()));
  std::size_t k = 0;
  for (const Case& c : table) {
    if (MTLGRAD_TEST_ASAN && !c.under_asan) continue;
    CAPTURE(std::string(c.name));
    const Outcome o = run_case(c, root / std::to_string(k++));
    CAPTURE(o.err);
    REQUIRE_MESSAGE(WIFEXITED(o.status), "killed by a signal or not run (status " << o.status << ")");
    CHECK(WEXITSTATUS(o.status) == c.code);
    for (const auto& w : c.words)
      CHECK_MESSAGE(o.err.find(w) != std::string::npos, "stderr lacks '" << w << "'");
    for (const char* bad : {"terminate called", "Assertion", "Segmentation", "[json.exception.type_error"})
      CHECK_MESSAGE(o.err.find(bad) == std::string::npos, "stderr holds '" << bad << "'");
  }
  fs::remove_all(root);
}

TEST_CASE("write errors: output that does not reach stdout is exit code 1 with a message, never exit 0") {
  const fs::path dir = fs::temp_directory_path() / ("mtlgrad_write_err_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "agg.json") << R"({"aggregator": "pcgrad", "steps": [[[1, 2], [3, 4]]]})";
  std::ofstream(dir / "opt.json") << R"({"optimizer": "sgd", "params": [1], "grads": [[1]]})";
  std::ofstream(dir / "run.json") << R"({"model": {"name": "toy2d"}, "steps": 3})";
  const std::string d = dir.string(), bin = std::string("'") + MTLGRAD_CLI + "' ";
  const std::vector<std::string> commands = {"aggregate < " + d + "/agg.json", "optimize < " + d + "/opt.json",
                                             "list", "list --json", "run --quiet --json --out " + d + "/r " + d + "/run.json"};
  for (const std::string& to : {std::string("> /dev/full"), std::string(">&-")}) {
    for (const std::string& c : commands) {
      CAPTURE(c);
      CAPTURE(to);
      const int status = std::system((bin + c + " " + to + " 2> '" + d + "/err'").c_str());
      const std::string err = slurp(dir / "err");
      CAPTURE(err);
      REQUIRE(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) == 1);
      CHECK(err.find(": error: cannot write standard output: ") != std::string::npos);
      CHECK(err.find(to == ">&-" ? "Bad file descriptor" : "No space left on device") != std::string::npos);
    }
  }
  // A closed stdout is not handed to the run's first file: metrics.csv holds only metrics.
  CHECK(slurp(dir / "r" / "metrics.csv").rfind("step,", 0) == 0);
  // A pipe whose reader is gone (EPIPE): a message, not a silent death by SIGPIPE.
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[0]);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    const int err = ::open((dir / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(err, 2);
    ::execl(MTLGRAD_CLI, MTLGRAD_CLI, "list", "--json", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  const std::string err = slurp(dir / "err");
  CAPTURE(err);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(err.find("mtlgrad list: error: cannot write standard output: Broken pipe") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("out of memory: a million gradients to optimize under ulimit -v is a one-line error, exit 1") {
#if MTLGRAD_TEST_ASAN
  MESSAGE("skipped under AddressSanitizer");
#else
  std::string input = R"({"optimizer": "sgd", "params": [1, 2, 3, 4, 5, 6, 7, 8], "grads": [)";
  for (int t = 0; t < 1000000; ++t) input += (t ? ",[1,2,3,4,5,6,7,8]" : "[1,2,3,4,5,6,7,8]");
  input += "]}";
  const Case c{"", kOpt, input, 1, {}, {}, "ulimit -v 400000 && exec ", false};
  const fs::path dir = fs::temp_directory_path() / ("mtlgrad_malformed_oom_" + std::to_string(::getpid()));
  const Outcome o = run_case(c, dir);
  CAPTURE(o.err);
  REQUIRE(WIFEXITED(o.status));
  CHECK(WEXITSTATUS(o.status) == 1);
  CHECK(o.err.find("mtlgrad optimize: error: out of memory") != std::string::npos);
  CHECK(std::count(o.err.begin(), o.err.end(), '\n') == 1);
  fs::remove_all(dir);
#endif
}

TEST_CASE("malformed input: an IDX header claiming 800 MB of pixels allocates only what the file holds") {
#if MTLGRAD_TEST_ASAN
  MESSAGE("skipped under AddressSanitizer");
#else
  // 300 MB of address space is plenty for a 26-byte file but not for the 784 MB the header claims.
  const Case c{"", kCheck, kFashion, 1, {}, train_files(idx_images(1u << 20, 28, 28, 10), idx_labels(3)),
               "ulimit -v 300000 && exec ", false};
  const fs::path dir = fs::temp_directory_path() / ("mtlgrad_malformed_mem_" + std::to_string(::getpid()));
  const Outcome o = run_case(c, dir);
  CAPTURE(o.err);
  REQUIRE(WIFEXITED(o.status));
  CHECK(WEXITSTATUS(o.status) == 1);
  CHECK(o.err.find("truncated: expected 822083584 bytes of pixel data") != std::string::npos);
  CHECK(o.err.find("bad_alloc") == std::string::npos);
  fs::remove_all(dir);
#endif
}

}  // TEST_SUITE
