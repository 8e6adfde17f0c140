#pragma once
// The spatial stages' cost versus the number of tasks T (issue #19): each stage's
// aggregate_with_gramian on a step's J with the trainer's Gramian given, beside the full step.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_cases.hpp"

namespace bench {

/// For every T of `Ts` and every stage of `stages`: the median ms of one aggregate_with_gramian
/// (G = J Jᵀ made beforehand, as the trainer does). J: T ≤ 64 the 784-256-256 trainer's own J
/// after 3 steps (P = 266 752); T > 64 (no step case: J would take T·2 MB) J ~ N(0, 1) of
/// `synthetic_p` columns. The step (pcgrad + adam) is timed for T ≤ `step_max_t`; a stage's share
/// is its time over (step − pcgrad's aggregation as timed here + its time). A stage whose last time, grown
/// like T⁴, would pass `budget_s` is skipped at the larger T (reported as null).
nlohmann::json time_stage_t(const std::vector<std::size_t>& Ts, const std::vector<std::string>& stages,
                            std::size_t synthetic_p, std::size_t step_max_t, double budget_s, const Settings& s);

/// The stages timed by default.
std::vector<std::string> stage_t_default_stages();

}  // namespace bench
