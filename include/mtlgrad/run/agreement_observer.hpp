#pragma once
/// @file agreement_observer.hpp
/// The run observer of config key "agreement" (docs/algorithms.md "Gradient agreement", mtl/agreement.hpp):
///
///     "agreement": {"beta": 0.99, "groups": 2, "tag_every": 0, "tag_lr": null, "history_every": 1}
///
/// | option        | meaning                                                                  | default |
/// |---------------|--------------------------------------------------------------------------|---------|
/// | beta          | EMA decay of the running means, in [0, 1) (reported bias-corrected)        | 0.99    |
/// | groups        | k of the best grouping into k groups (0: none; T ≤ 10 tasks)               | 2       |
/// | tag_every     | TAG look-ahead affinity every n steps (0: off)                             | 0       |
/// | tag_lr        | η of the look-ahead step (null: the optimizer's lr() when computed)        | null    |
/// | history_every | keep the cosines of every n-th step in agreement.json (0: none)            | 1       |
///
/// "agreement": true is the defaults. Unknown keys and bad values are ConfigErrors naming
/// "agreement.<key>". At the end it writes agreement.json into the run directory (the matrices,
/// conflict rates, EMAs, the grouping with its score, TAG's affinity and grouping when on, the
/// history) and, when gnuplot is on the PATH, the heatmaps agreement.png (mean cos) and
/// conflicts.png (conflict rate) from agreement_cos.dat, agreement_conflicts.dat and agreement.gp,
/// which stay in the directory. gnuplot runs through run_gnuplot (plots.hpp: no shell, task names
/// escaped, 60 s at most, its messages in agreement.gplog); if it is missing or fails, the run
/// still succeeds and summary.json's "agreement"."plots" says why. The TAG computation runs
/// on the step's batch at the parameters after the step (see TagAffinity).

#include "mtlgrad/run/observer.hpp"

namespace mtlgrad {

/// The registry entry (src/run/observers.cpp).
ObserverEntry agreement_observer_entry();

}  // namespace mtlgrad
