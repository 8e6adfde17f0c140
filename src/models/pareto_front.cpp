#include "mtlgrad/models/pareto_front.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace mtlgrad::models {
namespace {

double dot(const std::vector<double>& u, const std::vector<double>& v) {
  double s = 0;
  for (std::size_t k = 0; k < u.size(); ++k) s += u[k] * v[k];
  return s;
}
std::vector<double> sub(const std::vector<double>& u, const std::vector<double>& v) {
  std::vector<double> r(u.size());
  for (std::size_t k = 0; k < u.size(); ++k) r[k] = u[k] - v[k];
  return r;
}
void check_sizes(std::size_t n, std::initializer_list<const std::vector<double>*> vs) {
  for (const auto* v : vs)
    if (v->size() != n)
      throw std::invalid_argument("pareto: points of " + std::to_string(n) + " and " + std::to_string(v->size()) +
                                  " coordinates");
}

/// The 2-D hypervolume of points already below the reference, sorted by f_1 ascending.
double hv2_sorted(const std::vector<std::array<double, 2>>& p, double r1, double r2) {
  double area = 0, best2 = r2;  // best2: the lowest f_2 seen so far (the staircase's height)
  for (std::size_t k = 0; k < p.size(); ++k) {
    if (p[k][1] < best2) {
      // The strip from this point's f_1 to the next point's that improves f_2 is covered up to best2.
      best2 = p[k][1];
    }
    const double next1 = k + 1 < p.size() ? p[k + 1][0] : r1;
    area += (next1 - p[k][0]) * (r2 - best2);
  }
  return area;
}

}  // namespace

SegmentPoint closest_on_segment(const std::vector<double>& x, const std::vector<double>& a, const std::vector<double>& b) {
  check_sizes(x.size(), {&a, &b});
  const auto ab = sub(b, a);
  const double len2 = dot(ab, ab);
  double t = len2 > 0 ? dot(sub(x, a), ab) / len2 : 0;
  t = std::clamp(t, 0.0, 1.0);
  SegmentPoint s{a, t};
  for (std::size_t k = 0; k < a.size(); ++k) s.point[k] = a[k] + t * ab[k];
  return s;
}

TrianglePoint closest_on_triangle(const std::vector<double>& x, const std::vector<double>& a,
                                  const std::vector<double>& b, const std::vector<double>& c) {
  check_sizes(x.size(), {&a, &b, &c});
  // Ericson's Voronoi-region tests: a vertex region, an edge region, or the face.
  const auto ab = sub(b, a), ac = sub(c, a), ap = sub(x, a);
  auto at = [&](double u, double v, double w) {
    TrianglePoint r;
    r.barycentric = {u, v, w};
    r.point.resize(x.size());
    for (std::size_t k = 0; k < x.size(); ++k) r.point[k] = u * a[k] + v * b[k] + w * c[k];
    return r;
  };
  const double d1 = dot(ab, ap), d2 = dot(ac, ap);
  if (d1 <= 0 && d2 <= 0) return at(1, 0, 0);
  const auto bp = sub(x, b);
  const double d3 = dot(ab, bp), d4 = dot(ac, bp);
  if (d3 >= 0 && d4 <= d3) return at(0, 1, 0);
  const double vc = d1 * d4 - d3 * d2;
  if (vc <= 0 && d1 >= 0 && d3 <= 0) {
    const double v = d1 / (d1 - d3);
    return at(1 - v, v, 0);
  }
  const auto cp = sub(x, c);
  const double d5 = dot(ab, cp), d6 = dot(ac, cp);
  if (d6 >= 0 && d5 <= d6) return at(0, 0, 1);
  const double vb = d5 * d2 - d1 * d6;
  if (vb <= 0 && d2 >= 0 && d6 <= 0) {
    const double w = d2 / (d2 - d6);
    return at(1 - w, 0, w);
  }
  const double va = d3 * d6 - d5 * d4;
  if (va <= 0 && (d4 - d3) >= 0 && (d5 - d6) >= 0) {
    const double w = (d4 - d3) / ((d4 - d3) + (d5 - d6));
    return at(0, 1 - w, w);
  }
  const double denom = 1 / (va + vb + vc), v = vb * denom, w = vc * denom;
  return at(1 - v - w, v, w);
}

double hypervolume(const std::vector<std::vector<double>>& points, const std::vector<double>& reference) {
  const std::size_t m = reference.size();
  if (m != 2 && m != 3)
    throw std::invalid_argument("hypervolume: " + std::to_string(m) + " objectives; exact algorithms for 2 and 3 only");
  // Only the points strictly below the reference in every objective dominate a positive volume.
  std::vector<std::vector<double>> in;
  for (const auto& p : points) {
    if (p.size() != m)
      throw std::invalid_argument("hypervolume: a point of " + std::to_string(p.size()) + " losses against a reference of " +
                                  std::to_string(m));
    bool below = true;
    for (std::size_t k = 0; k < m; ++k) below = below && std::isfinite(p[k]) && p[k] < reference[k];
    if (below) in.push_back(p);
  }
  if (in.empty()) return 0;
  if (m == 2) {
    std::vector<std::array<double, 2>> p;
    for (const auto& q : in) p.push_back({q[0], q[1]});
    std::sort(p.begin(), p.end());
    return hv2_sorted(p, reference[0], reference[1]);
  }
  // m = 3: sort by f_3; the slice between level k and the next (or r_3) is the 2-D hypervolume
  // of the first k + 1 points' (f_1, f_2).
  std::sort(in.begin(), in.end(), [](const auto& u, const auto& v) { return u[2] < v[2]; });
  std::vector<std::array<double, 2>> slice;
  double volume = 0;
  for (std::size_t k = 0; k < in.size(); ++k) {
    const std::array<double, 2> q{in[k][0], in[k][1]};
    slice.insert(std::upper_bound(slice.begin(), slice.end(), q), q);
    const double next3 = k + 1 < in.size() ? in[k + 1][2] : reference[2];
    if (next3 > in[k][2]) volume += (next3 - in[k][2]) * hv2_sorted(slice, reference[0], reference[1]);
  }
  return volume;
}

nlohmann::json pareto_summary(const nlohmann::json& spec, MultiTaskModel& model, const nlohmann::json& final_losses) {
  const auto* e = spec.is_object() && spec.contains("name") && spec["name"].is_string()
                      ? model_registry().find(spec["name"].get<std::string>())
                      : nullptr;
  if (!e || !e->extra.pareto) return nullptr;
  const ParetoMeasure p = e->extra.pareto->measure(model);
  std::vector<double> losses;
  for (const auto& v : final_losses) losses.push_back(v.is_number() ? v.get<double>() : NAN);
  nlohmann::json out = {{"distance", p.distance},
                        {"hit", p.distance <= kParetoHitTolerance},
                        {"tolerance", kParetoHitTolerance},
                        {"weights", p.weights},
                        {"nearest", p.nearest},
                        {"reference", p.reference},
                        {"hypervolume", losses.size() == p.reference.size() ? hypervolume({losses}, p.reference) : 0.0}};
  return out;
}

}  // namespace mtlgrad::models
