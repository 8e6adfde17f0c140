#include "mtlgrad/models/shared_trunk.hpp"

#include <algorithm>
#include <stdexcept>

namespace mtlgrad {

TaskLoss mse_loss() {
  return [](Tape& tape, Var y, const Tensor& target) { return mse(y, tape.input(target)); };
}

TaskLoss cross_entropy_loss() {
  return [](Tape&, Var y, const Tensor& target) {
    std::vector<std::size_t> labels(target.shape(0));
    for (std::size_t r = 0; r < labels.size(); ++r) labels[r] = std::size_t(target(r, 0));
    return cross_entropy(y, labels);
  };
}

SharedTrunkModel::SharedTrunkModel(std::string name, std::unique_ptr<Module> trunk,
                                   std::vector<std::unique_ptr<Module>> heads, const DataSplit& data,
                                   std::size_t batch_size, Rng data_rng, std::vector<TaskLoss> losses)
    : name_(std::move(name)),
      train_(data.train),
      test_(data.test),
      trunk_(std::move(trunk)),
      heads_(std::move(heads)),
      losses_(std::move(losses)),
      sampler_(data.train.size(), std::min(batch_size, data.train.size()), data_rng) {
  if (!trunk_) throw std::invalid_argument(name_ + ": no trunk");
  if (heads_.size() != train_.tasks.size())
    throw std::invalid_argument(name_ + ": " + std::to_string(heads_.size()) + " heads for " +
                                std::to_string(train_.tasks.size()) + " tasks of the data");
  for (std::size_t i = 0; i < heads_.size(); ++i)
    if (!heads_[i]) throw std::invalid_argument(name_ + ": head " + std::to_string(i) + " is null");
  if (!losses_.empty() && losses_.size() != heads_.size())
    throw std::invalid_argument(name_ + ": " + std::to_string(losses_.size()) + " losses for " +
                                std::to_string(heads_.size()) + " tasks (give one per task, or none)");
  draw_batch();
}

std::vector<std::string> SharedTrunkModel::task_names() const {
  std::vector<std::string> n;
  for (const TaskSpec& t : train_.tasks) n.push_back(t.name);
  return n;
}

std::vector<NamedParameter> SharedTrunkModel::head_parameters(std::size_t task) {
  return heads_.at(task)->named_parameters("head" + std::to_string(task) + ".");
}

void SharedTrunkModel::losses_of(Tape& tape, const Batch& batch, std::vector<Var>& losses, std::vector<Var>* outputs,
                                 Var* representation) {
  Var z = trunk_->forward(tape, tape.input(batch.inputs));
  if (representation) *representation = z;
  losses.resize(heads_.size());
  if (outputs) outputs->resize(heads_.size());
  for (std::size_t i = 0; i < heads_.size(); ++i) {
    Var y = heads_[i]->forward(tape, z);
    if (outputs) (*outputs)[i] = y;
    if (!losses_.empty()) {
      losses[i] = losses_[i](tape, y, batch.targets[i]);
    } else if (train_.tasks[i].kind == TaskSpec::Kind::classification) {
      const Tensor& t = batch.targets[i];
      labels_.resize(t.shape(0));
      for (std::size_t r = 0; r < labels_.size(); ++r) labels_[r] = std::size_t(t(r, 0));
      losses[i] = cross_entropy(y, labels_);
    } else {
      losses[i] = mse(y, tape.input(batch.targets[i]));
    }
  }
}

void SharedTrunkModel::forward(Tape& tape, std::vector<Var>& losses) { losses_of(tape, batch_, losses, nullptr, &z_); }

void SharedTrunkModel::draw_batch() {
  state_before_batch_ = sampler_.state();
  gather(train_, sampler_.next(), batch_);
}

bool SharedTrunkModel::next_batch() {
  const std::size_t epoch = sampler_.epoch();
  draw_batch();
  return sampler_.epoch() != epoch;
}

void SharedTrunkModel::load_data_state(const nlohmann::json& state) {
  sampler_.load_state(state);
  draw_batch();
}

void SharedTrunkModel::full_pass(const MultiTaskData& data, std::vector<real>& losses, std::vector<Tensor>* outputs,
                                 Batch& all) {
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

bool SharedTrunkModel::training_losses(std::vector<real>& losses) {
  Batch all;
  full_pass(train_, losses, nullptr, all);
  return true;
}

nlohmann::json SharedTrunkModel::evaluate() {
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

std::string SharedTrunkModel::describe() const {
  std::string s = name_ + ": trunk " + trunk_->describe();
  for (std::size_t i = 0; i < heads_.size(); ++i) s += ", head" + std::to_string(i) + " " + heads_[i]->describe();
  return s;
}

}  // namespace mtlgrad
