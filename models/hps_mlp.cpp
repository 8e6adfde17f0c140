#include "models/hps_mlp.hpp"

#include <nlohmann/json.hpp>

#include "mtlgrad/core/options.hpp"

namespace mtlgrad::models {

HpsMlp::HpsMlp(const HpsMlpOptions& o, const DataSplit& data, std::size_t batch_size, Rng init_rng, Rng data_rng)
    : train_(data.train), test_(data.test), sampler_(data.train.size(), std::min(batch_size, data.train.size()), data_rng) {
  std::vector<std::size_t> sizes = {train_.input_dim()};
  sizes.insert(sizes.end(), o.trunk.begin(), o.trunk.end());
  trunk_ = mlp(sizes, o.activation, init_rng, /*activate_last=*/true);
  const std::size_t z = sizes.back();
  for (const TaskSpec& t : train_.tasks) {
    std::vector<std::size_t> h = {z};
    h.insert(h.end(), o.head.begin(), o.head.end());
    h.push_back(t.size);  // classes, or regression outputs
    heads_.push_back(mlp(h, o.activation, init_rng));
  }
  draw_batch();
}

std::vector<std::string> HpsMlp::task_names() const {
  std::vector<std::string> n;
  for (const TaskSpec& t : train_.tasks) n.push_back(t.name);
  return n;
}

std::vector<NamedParameter> HpsMlp::head_parameters(std::size_t task) {
  return heads_.at(task)->named_parameters("head" + std::to_string(task) + ".");
}

void HpsMlp::losses_of(Tape& tape, const Batch& batch, std::vector<Var>& losses, std::vector<Var>* outputs,
                       Var* representation) {
  Var z = trunk_->forward(tape, tape.input(batch.inputs));
  if (representation) *representation = z;
  losses.resize(heads_.size());
  if (outputs) outputs->resize(heads_.size());
  for (std::size_t i = 0; i < heads_.size(); ++i) {
    Var y = heads_[i]->forward(tape, z);
    if (outputs) (*outputs)[i] = y;
    if (train_.tasks[i].kind == TaskSpec::Kind::classification) {
      const Tensor& t = batch.targets[i];
      labels_.resize(t.shape(0));
      for (std::size_t r = 0; r < labels_.size(); ++r) labels_[r] = std::size_t(t(r, 0));
      losses[i] = cross_entropy(y, labels_);
    } else {
      losses[i] = mse(y, tape.input(batch.targets[i]));
    }
  }
}

void HpsMlp::forward(Tape& tape, std::vector<Var>& losses) { losses_of(tape, batch_, losses, nullptr, &z_); }

void HpsMlp::draw_batch() {
  state_before_batch_ = sampler_.state();
  gather(train_, sampler_.next(), batch_);
}

bool HpsMlp::next_batch() {
  const std::size_t epoch = sampler_.epoch();
  draw_batch();
  return sampler_.epoch() != epoch;
}

void HpsMlp::load_data_state(const nlohmann::json& state) {
  sampler_.load_state(state);
  draw_batch();
}

void HpsMlp::full_pass(const MultiTaskData& data, std::vector<real>& losses, std::vector<Tensor>* outputs, Batch& all) {
  std::vector<std::size_t> idx(data.size());
  for (std::size_t k = 0; k < idx.size(); ++k) idx[k] = k;
  gather(data, idx, all);
  Tape tape;
  std::vector<Var> l, out;
  losses_of(tape, all, l, &out);
  losses.resize(l.size());
  for (std::size_t i = 0; i < l.size(); ++i) losses[i] = l[i].item();
  if (outputs) {
    outputs->resize(out.size());
    for (std::size_t i = 0; i < out.size(); ++i) (*outputs)[i] = out[i].value();
  }
}

bool HpsMlp::training_losses(std::vector<real>& losses) {
  Batch all;
  full_pass(train_, losses, nullptr, all);
  return true;
}

nlohmann::json HpsMlp::evaluate() {
  if (test_.size() == 0) return nlohmann::json::object();
  Batch all;
  std::vector<real> losses;
  std::vector<Tensor> outputs;
  full_pass(test_, losses, &outputs, all);
  nlohmann::json loss = nlohmann::json::array(), acc = nlohmann::json::array();
  for (std::size_t i = 0; i < losses.size(); ++i) {
    loss.push_back(double(losses[i]));
    if (test_.tasks[i].kind != TaskSpec::Kind::classification) {
      acc.push_back(nullptr);
      continue;
    }
    const Tensor& y = outputs[i];
    std::size_t right = 0;
    for (std::size_t r = 0; r < y.shape(0); ++r) {
      std::size_t best = 0;
      for (std::size_t c = 1; c < y.shape(1); ++c)
        if (y(r, c) > y(r, best)) best = c;
      right += best == std::size_t(all.targets[i](r, 0));
    }
    acc.push_back(double(right) / double(y.shape(0)));
  }
  return {{"loss", loss}, {"accuracy", acc}, {"n", test_.size()}};
}

std::string HpsMlp::describe() const {
  std::string s = "hps_mlp: trunk " + trunk_->describe();
  for (std::size_t i = 0; i < heads_.size(); ++i) s += ", head" + std::to_string(i) + " " + heads_[i]->describe();
  return s;
}

ModelEntry hps_mlp_entry() {
  ModelEntry e;
  e.name = "hps_mlp";
  e.summary = "hard parameter sharing: a shared MLP trunk and one MLP head per task (needs \"data\")";
  e.defaults = {{"trunk", {64, 64}}, {"head", nlohmann::json::array()}, {"activation", "relu"}};
  e.default_config = "models/configs/hps_mlp.json";
  e.needs_data = true;
  e.make = [](const nlohmann::json& spec, const std::string& path, ModelContext& ctx) -> std::unique_ptr<MultiTaskModel> {
    OptionReader r(spec, path);
    r.declare("name");
    HpsMlpOptions o;
    o.trunk = r.get<std::vector<std::size_t>>("trunk", o.trunk);
    o.head = r.get<std::vector<std::size_t>>("head", o.head);
    o.activation = r.get<std::string>("activation", o.activation);
    for (std::size_t s : o.trunk) r.check(s > 0, "trunk", "positive layer sizes");
    for (std::size_t s : o.head) r.check(s > 0, "head", "positive layer sizes");
    const std::vector<std::string> acts = {"relu", "tanh", "sigmoid", "leaky_relu"};
    if (std::find(acts.begin(), acts.end(), o.activation) == acts.end())
      throw ConfigError(r.key_path("activation") + ": unknown activation '" + o.activation + "'" +
                        did_you_mean(o.activation, acts) + "; allowed: " + join(acts));
    r.finish();
    return std::make_unique<HpsMlp>(o, *ctx.data, ctx.batch_size, ctx.init_rng, ctx.data_rng);
  };
  return e;
}

}  // namespace mtlgrad::models
