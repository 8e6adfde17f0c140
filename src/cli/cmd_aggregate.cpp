// mtlgrad aggregate: one spatial stage run over a sequence of Jacobians from stdin (docs/design.md).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <utility>

#include "commands.hpp"
#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/run/record.hpp"

namespace mtlgrad::cli {
namespace {

const char* const kHelp = R"(usage: mtlgrad aggregate [--from-record FILE] [--record-out FILE] < input.json

Runs one spatial stage (aggregator) over a sequence of task Jacobians and prints the update
direction of each step. One aggregator (its state carries over: memory stages, pcgrad-momentum)
and one random generator Rng(seed) (pcgrad's random order) serve all the steps.

input (stdin), one JSON object:
  {"aggregator": {"name": "pcgrad", ...options},   a stage spec, as in a config ('mtlgrad list')
   "seed": 0,                                       optional, default 0
   "steps": [J_1, J_2, ...],                        each J a list of T rows of P numbers;
                                                    T and P stay the same across the steps
   "losses": [[L_1, ..., L_T], ...],                optional: each step's T task losses, one list
                                                    per step (the loss-based stages dwa, uw, famo,
                                                    gradnorm, imtl, moco need them; the others
                                                    ignore them)
   "losses_after": [[L'_1, ..., L'_T], ...],        optional: each step's T losses after its
                                                    update, passed right after that step (famo's
                                                    update "after" needs them)
   "extra_steps": [[J_a, J_b], ...]}                optional: per step the Jacobians of two more
                                                    mini-batches, each T x P like the step's J,
                                                    passed before it (sdmgrad; without them it
                                                    uses the step's J for both)
output (stdout):
  {"steps": [{"grad": [P numbers],
              "weights": [T numbers],               when the stage is a weighting (d = Σ w_i g_i)
              "pair_strength": [[T x T]]}, ...]}    when the stage reports one (memory stages)

options:
  --from-record FILE   the steps are the Jacobians and losses of a gradient record (a run's
                       gradients.rec, docs/diagnostics.md); the input then holds only the
                       "aggregator", and each step draws from the run's Rng state of that step
                       (the run's own stage gives its recorded directions)
  --record-out FILE    also write the steps (J, losses when given, the stage's weights and d) as
                       a gradient record, for `mtlgrad replay` and tools/read_record.py

example:
  echo '{"aggregator": {"name": "pcgrad"}, "steps": [[[-4, 1, 1], [6, 1, 1]]]}' | mtlgrad aggregate
)";

// One finite number of the input (in range of real); `where` names it in the error (built only then).
template <class Where>
real read_finite(const nlohmann::json& v, Where&& where) {
  if (!v.is_number())
    throw std::invalid_argument(where() + ": expected a number, got " + json_type(v) + " " + v.dump().substr(0, 40));
  const double x = v.get<double>();
  if (!std::isfinite(x) || !std::isfinite(real(x)))
    throw std::invalid_argument(where() + ": " + v.dump() + " is not a finite number");
  return real(x);
}

// steps[s] (or another key path `at`) as a T×P tensor; every malformation named by its index path.
Tensor read_jacobian(const nlohmann::json& J, const std::string& at) {
  if (!J.is_array() || J.empty())
    throw std::invalid_argument(at + ": expected a non-empty list of rows (one per task), got " + json_type(J) +
                                " " + J.dump().substr(0, 60));
  const std::size_t T = J.size();
  std::size_t P = 0;
  for (std::size_t i = 0; i < T; ++i) {
    const auto& r = J[i];
    const std::string ri = at + "[" + std::to_string(i) + "]";
    if (!r.is_array() || r.empty())
      throw std::invalid_argument(ri + ": expected a non-empty list of numbers (a task's gradient), got " +
                                  json_type(r) + " " + r.dump().substr(0, 60));
    if (i == 0) P = r.size();
    if (r.size() != P)
      throw std::invalid_argument(ri + ": has " + std::to_string(r.size()) + " values but " + at +
                                  "[0] has " + std::to_string(P) + " (rows must have equal length)");
  }
  Tensor out = zeros(T, P);
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t k = 0; k < P; ++k)
      out(i, k) = read_finite(J[i][k], [&] { return at + "[" + std::to_string(i) + "][" + std::to_string(k) + "]"; });
  return out;
}

// losses[s] (`key` = "losses") or losses_after[s]: T finite numbers for step s.
std::vector<real> read_losses(const nlohmann::json& L, const char* key, std::size_t s, std::size_t T) {
  const std::string at = std::string("input.") + key + "[" + std::to_string(s) + "]";
  if (!L.is_array() || L.size() != T)
    throw std::invalid_argument(at + ": expected a list of " + std::to_string(T) + " numbers (one per task, as steps[" +
                                std::to_string(s) + "] has T = " + std::to_string(T) + "), got " + json_type(L) + " " +
                                L.dump().substr(0, 60));
  std::vector<real> out(T);
  for (std::size_t i = 0; i < T; ++i) out[i] = read_finite(L[i], [&] { return at + "[" + std::to_string(i) + "]"; });
  return out;
}

// extra_steps[s]: [J_a, J_b], each of the step's shape T×P.
std::pair<Tensor, Tensor> read_extra(const nlohmann::json& E, std::size_t s, std::size_t T, std::size_t P) {
  const std::string at = "extra_steps[" + std::to_string(s) + "]";
  if (!E.is_array() || E.size() != 2)
    throw std::invalid_argument(at + ": expected [J_a, J_b], two Jacobians of shape " + std::to_string(T) + "×" +
                                std::to_string(P) + ", got " + json_type(E) + " " + E.dump().substr(0, 60));
  Tensor J[2];
  for (std::size_t e = 0; e < 2; ++e) {
    const std::string ae = at + "[" + std::to_string(e) + "]";
    J[e] = read_jacobian(E[e], ae);
    if (J[e].shape(0) != T || J[e].shape(1) != P)
      throw std::invalid_argument(ae + ": expected " + std::to_string(T) + "×" + std::to_string(P) + ", got " +
                                  std::to_string(J[e].shape(0)) + "×" + std::to_string(J[e].shape(1)) +
                                  " (the shape of steps[" + std::to_string(s) + "])");
  }
  return {std::move(J[0]), std::move(J[1])};
}

nlohmann::json matrix_json(const Tensor& t) {
  nlohmann::json rows = nlohmann::json::array();
  for (std::size_t i = 0; i < t.shape(0); ++i) {
    nlohmann::json r = nlohmann::json::array();
    for (std::size_t j = 0; j < t.shape(1); ++j) r.push_back(double(t(i, j)));
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace

int cmd_aggregate(const Args& args) {
  std::string from_record, record_out;
  for (std::size_t k = 0; k < args.size(); ++k) {
    const std::string& a = args[k];
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    }
    if ((a == "--from-record" || a == "--record-out") && k + 1 < args.size()) {
      (a == "--from-record" ? from_record : record_out) = args[++k];
      continue;
    }
    std::fprintf(stderr, "mtlgrad aggregate: unexpected argument '%s' (the input is read from stdin)\n\n%s",
                 a.c_str(), kHelp);
    return 2;
  }
  const nlohmann::json in = read_stdin_json("aggregate");
  OptionReader r(in, "input");
  auto agg = make_aggregator(r.require<nlohmann::json>("aggregator"), "aggregator");
  Rng rng(r.get<std::uint64_t>("seed", 0));
  const nlohmann::json* steps = r.raw("steps");
  const nlohmann::json* losses = r.raw("losses");
  const nlohmann::json* losses_after = r.raw("losses_after");
  const nlohmann::json* extra_steps = r.raw("extra_steps");
  r.finish();
  RecordHeader out_header;
  std::string out_bytes;
  GradientRecord out_record;
  // One step into --record-out's bytes (the header before the first).
  const auto record_step = [&](std::size_t s, const Tensor& J, const nlohmann::json& rng_before,
                               const std::vector<real>& step_losses, const Aggregation& a) {
    if (record_out.empty()) return;
    if (s == 0) {
      out_header.T = J.shape(0);
      out_header.P = J.shape(1);
      nlohmann::json tasks = nlohmann::json::array();
      for (std::size_t i = 0; i < out_header.T; ++i) tasks.push_back("task" + std::to_string(i));
      out_header.meta = {{"tasks", tasks}, {"aggregator", agg->options()}, {"every", 1}, {"source", "mtlgrad aggregate"}};
      out_bytes = encode_record_header(out_header);
    }
    out_record.step = s + 1;
    out_record.rng = rng_before;
    // Losses not given: NaN (a record holds T of them).
    out_record.losses = step_losses.empty() ? std::vector<real>(J.shape(0), std::numeric_limits<real>::quiet_NaN())
                                            : step_losses;
    out_record.weights = a.weights;
    out_record.J = J;
    out_record.direction = a.direction;
    out_bytes += encode_record(out_header, out_record, 1);
  };
  if (!from_record.empty()) {
    if (steps || losses)
      throw ConfigError("input: 'steps' and 'losses' come from --from-record " + from_record + "; give only the aggregator");
    RecordReader reader(from_record);
    if (reader.header().content != RecordContent::jacobian)
      throw std::runtime_error(from_record + ": a gramian record holds no J; replay it with `mtlgrad replay`");
    nlohmann::json out_steps = nlohmann::json::array();
    GradientRecord rec;
    Aggregation out;
    for (std::size_t s = 0; reader.next(rec); ++s) {
      Rng step_rng;
      step_rng.load_state(rec.rng);
      agg->observe_losses(rec.losses);
      agg->aggregate(rec.J, step_rng, out);
      record_step(s, rec.J, rec.rng, rec.losses, out);
      nlohmann::json o{{"step", rec.step}, {"grad", flat_json(out.direction)}};
      if (!out.weights.empty()) o["weights"] = std::vector<double>(out.weights.begin(), out.weights.end());
      if (out.pair_strength.size() > 0) o["pair_strength"] = matrix_json(out.pair_strength);
      out_steps.push_back(std::move(o));
    }
    if (!record_out.empty() && !out_bytes.empty()) write_file_atomic(record_out, out_bytes);
    std::cout << nlohmann::json{{"steps", out_steps}}.dump() << "\n";
    return 0;
  }
  if (steps == nullptr) throw ConfigError("input: missing required key 'steps' (a list of Jacobians)");
  if (!steps->is_array() || steps->empty())
    throw ConfigError("input.steps: expected a non-empty list of Jacobians, got " + json_type(*steps) + " " +
                      steps->dump().substr(0, 60));
  if (losses && (!losses->is_array() || losses->size() != steps->size()))
    throw ConfigError("input.losses: expected a list of " + std::to_string(steps->size()) +
                      " loss lists (one per step), got " + json_type(*losses) + " " + losses->dump().substr(0, 60));
  if (losses_after && (!losses_after->is_array() || losses_after->size() != steps->size()))
    throw ConfigError("input.losses_after: expected a list of " + std::to_string(steps->size()) +
                      " loss lists (one per step), got " + json_type(*losses_after) + " " +
                      losses_after->dump().substr(0, 60));
  if (extra_steps && (!extra_steps->is_array() || extra_steps->size() != steps->size()))
    throw ConfigError("input.extra_steps: expected a list of " + std::to_string(steps->size()) +
                      " pairs [J_a, J_b] (one per step), got " + json_type(*extra_steps) + " " +
                      extra_steps->dump().substr(0, 60));

  nlohmann::json out_steps = nlohmann::json::array();
  Aggregation out;
  std::size_t T = 0, P = 0;
  for (std::size_t s = 0; s < steps->size(); ++s) {
    const std::string at = "steps[" + std::to_string(s) + "]";
    const Tensor J = read_jacobian((*steps)[s], at);
    if (s == 0) {
      T = J.shape(0);
      P = J.shape(1);
    } else if (J.shape(0) != T || J.shape(1) != P) {
      throw std::invalid_argument(at + ": a Jacobian of shape " + shape_str(J) + " (T = " +
                                  std::to_string(J.shape(0)) + " tasks) but steps[0] has shape " +
                                  shape_str(Shape{T, P}) + " (T = " + std::to_string(T) +
                                  "); T and P cannot change between steps");
    }
    std::vector<real> step_losses;
    if (losses) {
      step_losses = read_losses((*losses)[s], "losses", s, T);
      agg->observe_losses(step_losses);
    }
    const nlohmann::json rng_before = record_out.empty() ? nlohmann::json() : rng.state();
    std::vector<real> after;
    if (losses_after) after = read_losses((*losses_after)[s], "losses_after", s, T);
    std::pair<Tensor, Tensor> extra;
    if (extra_steps) extra = read_extra((*extra_steps)[s], s, T, P);
    try {
      if (extra_steps && agg->wants_extra_jacobians()) agg->observe_extra_jacobians(extra.first, extra.second);
      agg->aggregate(J, rng, out);
      if (losses_after && agg->wants_losses_after_step()) agg->observe_losses_after_step(after);
    } catch (const std::invalid_argument& e) {
      const std::string hint = losses ? "" : " (give them as \"losses\": one list of T numbers per step)";
      const bool needs_losses = std::string(e.what()).find("task losses") != std::string::npos;
      throw std::invalid_argument(at + ": " + e.what() + (needs_losses ? hint : ""));
    }
    if (!all_finite(out.direction))
      throw std::invalid_argument(at + ": the update direction of " + agg->name() +
                                  " is not finite (the values overflow; scale the Jacobian down)");
    record_step(s, J, rng_before, step_losses, out);
    nlohmann::json o{{"grad", flat_json(out.direction)}};
    if (!out.weights.empty()) {
      nlohmann::json w = nlohmann::json::array();
      for (real v : out.weights) w.push_back(double(v));
      o["weights"] = std::move(w);
    }
    if (out.pair_strength.size() > 0) o["pair_strength"] = matrix_json(out.pair_strength);
    out_steps.push_back(std::move(o));
  }
  if (!record_out.empty()) write_file_atomic(record_out, out_bytes);
  std::cout << nlohmann::json{{"steps", out_steps}}.dump() << "\n";
  return 0;
}

}  // namespace mtlgrad::cli
