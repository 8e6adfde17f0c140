#include "mtlgrad/optim/optimizer_loop.hpp"

#include "for_values.hpp"

#include <algorithm>
#include <stdexcept>

#include "mtlgrad/core/serialize.hpp"

namespace mtlgrad {

namespace {
std::string at(const char* list, std::size_t k) { return std::string(list) + "[" + std::to_string(k) + "]"; }
}  // namespace

void OptimizerLoop::check(const std::vector<Tensor*>& params, const std::vector<const Tensor*>& grads) const {
  if (params.size() != grads.size())
    throw std::invalid_argument(name_ + ": " + std::to_string(params.size()) + " params but " +
                                std::to_string(grads.size()) + " grads");
  if (!states_.empty() && states_.size() != params.size())
    throw std::invalid_argument(name_ + ": " + std::to_string(params.size()) + " params, but the state holds " +
                                std::to_string(states_.size()) +
                                " (pass the same parameter list every step, or reset() first)");
  for (std::size_t k = 0; k < params.size(); ++k) {
    if (params[k] == nullptr) throw std::invalid_argument(name_ + ": " + at("params", k) + " is null");
    if (grads[k] == nullptr) continue;
    if (grads[k]->shape() != params[k]->shape())
      throw std::invalid_argument(name_ + ": " + at("grads", k) + " has shape " + shape_str(*grads[k]) + " but " +
                                  at("params", k) + " has shape " + shape_str(*params[k]));
    if (!states_.empty() && states_[k].live && states_[k].shape != shape_of(*params[k]))
      throw std::invalid_argument(name_ + ": " + at("params", k) + " has shape " + shape_str(*params[k]) +
                                  " but its state has shape " + shape_str(states_[k].shape) +
                                  " (pass the same parameter list every step, or reset() first)");
  }
}

ParamState OptimizerLoop::fresh_state(const Shape& shape) const {
  ParamState s;
  s.live = true;
  s.shape = shape;
  const StateLayout l = layout();
  for (const auto& e : l.tensors) s.tensors.emplace_back(shape, e.init);
  for (const auto& e : l.scalars) s.scalars.push_back(e.init);
  return s;
}

void OptimizerLoop::step(const std::vector<Tensor*>& params, const std::vector<const Tensor*>& grads) {
  check(params, grads);
  if (states_.empty()) states_.resize(params.size());
  const real wd = coupled_weight_decay();
  for (std::size_t k = 0; k < params.size(); ++k) {
    if (grads[k] == nullptr) continue;
    Tensor& p = *params[k];
    ParamState& s = states_[k];
    if (!s.live) s = fresh_state(shape_of(p));
    ++s.step;
    if (wd == 0) {
      update(p, *grads[k], s);
      continue;
    }
    if (s.scratch.shape() != p.shape()) s.scratch.resize(p.shape());
    const real* g = grads[k]->data();
    const real* w = p.data();
    real* d = s.scratch.data();
    for_values(p.size(), [&](std::size_t i0, std::size_t i1) {
      for (std::size_t i = i0; i < i1; ++i) d[i] = g[i] + wd * w[i];
    });
    update(p, s.scratch, s);
  }
}

nlohmann::json OptimizerLoop::state() const {
  const StateLayout l = layout();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : states_) {
    if (!s.live) {
      list.push_back(nullptr);
      continue;
    }
    nlohmann::json j = {{"step", s.step}, {"shape", {s.shape[0], s.shape[1]}}};
    for (std::size_t i = 0; i < l.tensors.size(); ++i) j[l.tensors[i].name] = tensor_to_json(s.tensors[i]);
    for (std::size_t i = 0; i < l.scalars.size(); ++i) j[l.scalars[i].name] = double(s.scalars[i]);
    list.push_back(std::move(j));
  }
  return {{"optimizer", name_}, {"param_states", std::move(list)}};
}

void OptimizerLoop::load_state(const nlohmann::json& j) {
  const std::string what = name_ + ": load_state";
  if (!j.is_object() || !j.contains("optimizer") || !j.contains("param_states"))
    throw std::invalid_argument(what + ": expected {\"optimizer\": ..., \"param_states\": [...]}");
  if (j["optimizer"] != name_)
    throw std::invalid_argument(what + ": the state was saved by optimizer " + j["optimizer"].dump() +
                                ", not '" + name_ + "'");
  const auto& list = j["param_states"];
  if (!list.is_array()) throw std::invalid_argument(what + ": param_states must be an array");
  const StateLayout l = layout();
  std::vector<std::string> keys = {"step", "shape"};
  for (const auto& e : l.tensors) keys.push_back(e.name);
  for (const auto& e : l.scalars) keys.push_back(e.name);

  std::vector<ParamState> loaded(list.size());
  for (std::size_t k = 0; k < list.size(); ++k) {
    const auto& e = list[k];
    const std::string where = what + ": " + at("param_states", k);
    if (e.is_null()) continue;
    if (!e.is_object()) throw std::invalid_argument(where + ": expected null or an object");
    for (auto it = e.begin(); it != e.end(); ++it)
      if (std::find(keys.begin(), keys.end(), it.key()) == keys.end())
        throw std::invalid_argument(where + ": unknown key '" + it.key() + "'; expected " + join(keys));
    for (const auto& key : keys)
      if (!e.contains(key)) throw std::invalid_argument(where + ": missing key '" + key + "'");
    ParamState& s = loaded[k];
    s.live = true;
    if (!e["step"].is_number_integer() || e["step"].get<long long>() < 1)
      throw std::invalid_argument(where + ".step: expected an integer >= 1, got " + e["step"].dump());
    s.step = e["step"].get<long long>();
    const auto& shape = e["shape"];
    if (!shape.is_array() || shape.size() != 2 || !shape[0].is_number_unsigned() || !shape[1].is_number_unsigned())
      throw std::invalid_argument(where + ".shape: expected [rows, cols], got " + shape.dump());
    s.shape = Shape{shape[0].get<std::size_t>(), shape[1].get<std::size_t>()};
    for (const auto& t : l.tensors)
      s.tensors.push_back(state_tensor(e, t.name, name_ + ": " + at("param_states", k), s.shape));
    for (const auto& c : l.scalars) {
      if (!e[c.name].is_number())
        throw std::invalid_argument(where + "." + c.name + ": expected a number, got " + e[c.name].dump());
      s.scalars.push_back(real(e[c.name].get<double>()));
    }
  }
  states_ = std::move(loaded);
}

}  // namespace mtlgrad
