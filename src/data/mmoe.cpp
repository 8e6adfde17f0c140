#include "mtlgrad/data/mmoe.hpp"

#include <cmath>
#include <stdexcept>

#include "mtlgrad/core/blas.hpp"
#include "mtlgrad/core/options.hpp"

namespace mtlgrad {
namespace {

// Reads a T×T matrix given as an array of T arrays of T numbers.
Tensor read_matrix(const nlohmann::json& v, const std::string& where) {
  const auto bad = [&] { return ConfigError(where + ": expected a number or a square array of arrays of numbers, got " + v.dump()); };
  if (!v.is_array() || v.empty()) throw bad();
  const std::size_t t = v.size();
  Tensor P = zeros(t, t);
  for (std::size_t i = 0; i < t; ++i) {
    if (!v[i].is_array() || v[i].size() != t) throw bad();
    for (std::size_t j = 0; j < t; ++j) {
      if (!v[i][j].is_number()) throw bad();
      P(i, j) = v[i][j].get<real>();
    }
  }
  return P;
}

// Modified Gram–Schmidt, applied twice for orthogonality to rounding, on the rows of U.
void orthonormalise_rows(Tensor& U) {
  const std::size_t t = U.shape(0), d = U.shape(1);
  for (int pass = 0; pass < 2; ++pass)
    for (std::size_t i = 0; i < t; ++i) {
      real* ui = U.data() + i * d;
      for (std::size_t k = 0; k < i; ++k) {
        const real* uk = U.data() + k * d;
        blas::axpy(d, -blas::dot(d, uk, ui), uk, ui);
      }
      const real norm = std::sqrt(blas::dot(d, ui, ui));
      for (std::size_t j = 0; j < d; ++j) ui[j] /= norm;
    }
}

}  // namespace

Tensor group_relatedness(const std::vector<std::size_t>& groups, real p_in, real p_out) {
  const std::size_t t = groups.size();
  Tensor P = zeros(t, t);
  for (std::size_t i = 0; i < t; ++i)
    for (std::size_t j = 0; j < t; ++j) P(i, j) = i == j ? real(1) : groups[i] == groups[j] ? p_in : p_out;
  return P;
}

Tensor relatedness_factor(const Tensor& P, const std::string& what) {
  const std::size_t t = P.shape(0);
  if (P.shape(1) != t) throw std::invalid_argument(what + ": relatedness matrix must be square, got " + shape_str(P));
  const real tol = tolerance(1e-10, 1e-5);
  for (std::size_t i = 0; i < t; ++i) {
    if (P(i, i) != 1)
      throw std::invalid_argument(what + ": diagonal entry [" + std::to_string(i) + "][" + std::to_string(i) +
                                  "] = " + std::to_string(double(P(i, i))) + " (expected 1: a task's cosine with itself)");
    for (std::size_t j = 0; j < i; ++j)
      if (!(std::abs(P(i, j) - P(j, i)) <= tol) || !(std::abs(P(i, j)) <= 1))
        throw std::invalid_argument(what + ": entries [" + std::to_string(i) + "][" + std::to_string(j) + "] = " +
                                    std::to_string(double(P(i, j))) + " and [" + std::to_string(j) + "][" +
                                    std::to_string(i) + "] = " + std::to_string(double(P(j, i))) +
                                    " must be equal and in [-1, 1]");
  }
  Tensor L = zeros(t, t);
  for (std::size_t j = 0; j < t; ++j) {
    real pivot = P(j, j) - blas::dot(j, L.data() + j * t, L.data() + j * t);
    if (pivot < -tol)
      throw std::invalid_argument(what + ": the relatedness matrix is not positive semidefinite (pivot " +
                                  std::to_string(j) + " = " + std::to_string(double(pivot)) +
                                  "); no unit vectors have these cosines");
    const real ljj = pivot > tol ? std::sqrt(pivot) : real(0);
    L(j, j) = ljj;
    for (std::size_t i = j + 1; i < t; ++i) {
      const real r = P(i, j) - blas::dot(j, L.data() + i * t, L.data() + j * t);
      if (ljj > 0) {
        L(i, j) = r / ljj;
      } else if (std::abs(r) > tol) {
        throw std::invalid_argument(what + ": the relatedness matrix is not positive semidefinite (zero pivot " +
                                    std::to_string(j) + " with residual " + std::to_string(double(r)) + " in row " +
                                    std::to_string(i) + "); no unit vectors have these cosines");
      }
    }
  }
  return L;
}

MmoeOptions read_mmoe_options(const nlohmann::json& spec, const std::string& path) {
  OptionReader r(spec, path);
  r.declare("name");
  MmoeOptions o;
  o.n = r.get<std::size_t>("n", o.n);
  o.n_test = r.get<std::size_t>("n_test", o.n_test);
  o.dim = r.get<std::size_t>("dim", o.dim);
  o.c = r.get<real>("c", o.c);
  o.m = r.get<std::size_t>("m", o.m);
  o.alpha_std = r.get<real>("alpha_std", o.alpha_std);
  o.beta_std = r.get<real>("beta_std", o.beta_std);
  o.seed = r.get<std::uint64_t>("seed", o.seed);
  r.check(o.n >= 1, "n", ">= 1");
  r.check(o.c > 0, "c", "> 0");
  r.check(o.alpha_std >= 0, "alpha_std", ">= 0");
  r.check(o.beta_std >= 0, "beta_std", ">= 0");

  const nlohmann::json* p = r.raw("p");
  const nlohmann::json* groups = r.raw("groups");
  if (groups) {
    if (p) throw ConfigError(r.key_path("groups") + ": give either 'p' or 'groups' (with p_in, p_out), not both");
    const auto g = r.get<std::vector<std::size_t>>("groups", {});
    r.check(!g.empty(), "groups", "one group id per task");
    o.relatedness = group_relatedness(g, r.get<real>("p_in", real(0.9)), r.get<real>("p_out", real(0)));
  } else if (r.has("p_in") || r.has("p_out")) {
    const std::string key = r.has("p_in") ? "p_in" : "p_out";
    r.declare(key);
    throw ConfigError(r.key_path(key) + ": only used with 'groups' (task -> group id)");
  } else if (p && !p->is_number()) {
    o.relatedness = read_matrix(*p, r.key_path("p"));
  } else {
    const real pv = r.get<real>("p", real(0.5));
    const std::size_t t = r.get<std::size_t>("tasks", 2);
    r.check(t >= 1, "tasks", ">= 1");
    o.relatedness = group_relatedness(std::vector<std::size_t>(t, 0), pv, pv);
  }
  const std::size_t t = o.relatedness.shape(0);
  if (r.has("tasks") && r.get<std::size_t>("tasks", t) != t)
    throw ConfigError(r.key_path("tasks") + ": " + std::to_string(r.get<std::size_t>("tasks", t)) +
                      " disagrees with the " + std::to_string(t) + " tasks of the relatedness");
  const std::string rel_key = groups ? "groups" : "p";
  try {
    relatedness_factor(o.relatedness, r.key_path(rel_key));
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
  r.check(o.dim >= t, "dim", ">= the number of tasks (" + std::to_string(t) + "): the tasks need orthogonal directions");

  const nlohmann::json* noise = r.raw("noise_std");
  if (!noise || noise->is_number())
    o.noise_std.assign(t, r.get<real>("noise_std", real(0.1)));
  else
    o.noise_std = r.get<std::vector<real>>("noise_std", {});
  r.check(o.noise_std.size() == t, "noise_std", "a number or " + std::to_string(t) + " numbers, one per task");
  for (real s : o.noise_std) r.check(s >= 0, "noise_std", ">= 0");
  r.finish();
  return o;
}

MmoeTeacher make_mmoe_teacher(const MmoeOptions& o, Rng& rng) {
  const Tensor L = relatedness_factor(o.relatedness, "mmoe");
  const std::size_t t = L.shape(0);
  if (o.dim < t)
    throw std::invalid_argument("mmoe: dim = " + std::to_string(o.dim) + " is smaller than the " +
                                std::to_string(t) + " tasks");
  Tensor U = rng.normal_tensor(t, o.dim);
  orthonormalise_rows(U);
  MmoeTeacher teacher;
  teacher.weights = zeros(t, o.dim);
  blas::gemm("mmoe weights", L, false, U, false, teacher.weights, o.c);  // [T,T] x [T,d] -> [T,d]
  teacher.alpha = rng.normal_tensor(1, o.m, 0, o.alpha_std);
  teacher.beta = rng.normal_tensor(1, o.m, 0, o.beta_std);
  teacher.noise_std = o.noise_std;
  return teacher;
}

MultiTaskData sample_mmoe(const MmoeTeacher& teacher, std::size_t n, Rng& rng) {
  const std::size_t t = teacher.weights.shape(0), d = teacher.weights.shape(1), m = teacher.alpha.shape(1);
  if (teacher.noise_std.size() != t)
    throw std::invalid_argument("mmoe: " + std::to_string(teacher.noise_std.size()) + " noise levels for " +
                                std::to_string(t) + " tasks");
  MultiTaskData data;
  data.inputs = zeros(n, d);
  Tensor noise = zeros(n, t);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < d; ++k) data.inputs(i, k) = rng.normal();
    for (std::size_t k = 0; k < t; ++k) noise(i, k) = rng.normal(0, teacher.noise_std[k]);
  }
  Tensor z = zeros(n, t);
  blas::gemm("mmoe", data.inputs, false, teacher.weights, true, z);  // [N,d] x [d,T] -> [N,T]
  for (std::size_t k = 0; k < t; ++k) {
    Tensor y = zeros(n, 1);
    for (std::size_t i = 0; i < n; ++i) {
      const real zi = z(i, k);
      real s = zi;
      for (std::size_t j = 0; j < m; ++j) s += std::sin(teacher.alpha(0, j) * zi + teacher.beta(0, j));
      y(i, 0) = s + noise(i, k);
    }
    data.targets.push_back(std::move(y));
    data.tasks.push_back(TaskSpec::regression("task" + std::to_string(k)));
  }
  return data;
}

DataSplit make_mmoe(const MmoeOptions& o) {
  Rng rng(o.seed);
  const MmoeTeacher teacher = make_mmoe_teacher(o, rng);
  DataSplit s;
  s.train = sample_mmoe(teacher, o.n, rng);
  s.test = sample_mmoe(teacher, o.n_test, rng);
  return s;
}

}  // namespace mtlgrad
