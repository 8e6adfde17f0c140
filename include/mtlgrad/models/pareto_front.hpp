#pragma once
/// @file pareto_front.hpp
/// Exact measures for the models whose Pareto set is known (toy2d, pareto_mtl, quadratics; their
/// registry entries carry a KnownFront, models/registry.hpp): the closest point of a segment or of
/// a triangle, the hypervolume of a set of loss vectors, and summary.json's "pareto" section.
///
/// Hypervolume (Zitzler & Thiele 1998): the Lebesgue measure of the region dominated by the points
/// and bounded by the reference point r, ∪_p [p_1, r_1] × ... × [p_m, r_m]. Points not strictly
/// below r in every objective add nothing. Exact for m = 2 (sort by f_1, sum the rectangles of the
/// staircase, O(n log n)) and m = 3 (sweep f_3 upward; between two consecutive f_3 levels the
/// slice is the 2-D hypervolume of the points at or below it, O(n² log n)); other m throw.

#include <array>
#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/models/registry.hpp"

namespace mtlgrad::models {

/// Hit tolerance: a run "hits" the Pareto set when the distance of its final parameters to it is
/// at most this (in the parameters' own units; every known-front problem has a set about 1 to 14
/// units wide).
constexpr double kParetoHitTolerance = 1e-2;

/// The closest point to x on the segment [a, b] (any dimension): a + t (b − a), t ∈ [0, 1].
struct SegmentPoint {
  std::vector<double> point;
  double t = 0;
};
SegmentPoint closest_on_segment(const std::vector<double>& x, const std::vector<double>& a, const std::vector<double>& b);

/// The closest point to x on the triangle conv{a, b, c} (any dimension; Ericson 2005, "Real-Time
/// Collision Detection", §5.1.5, with dot products only): point = Σ β_i vertex_i, β ≥ 0, Σ β = 1.
struct TrianglePoint {
  std::vector<double> point;
  std::array<double, 3> barycentric{};
};
TrianglePoint closest_on_triangle(const std::vector<double>& x, const std::vector<double>& a,
                                  const std::vector<double>& b, const std::vector<double>& c);

/// The hypervolume of `points` (each of m = 2 or 3 losses) against `reference` (m values). A
/// non-finite point adds nothing; a mismatched size or m ∉ {2, 3} throws std::invalid_argument.
double hypervolume(const std::vector<std::vector<double>>& points, const std::vector<double>& reference);

/// summary.json's "pareto" for the model `spec` names, at its current parameters and with its
/// final losses: {"distance", "hit", "tolerance", "weights", "nearest", "reference",
/// "hypervolume" (of the one final loss vector)}; null for a model without a KnownFront.
nlohmann::json pareto_summary(const nlohmann::json& spec, MultiTaskModel& model, const nlohmann::json& final_losses);

}  // namespace mtlgrad::models
