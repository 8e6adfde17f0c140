#include "mtlgrad/models/shared_trunk.hpp"

#include <algorithm>
#include <stdexcept>

namespace mtlgrad {
namespace detail {
void log_softmax_rows(const Tensor& x, Tensor& y);  // src/autograd/ops_reduce.cpp
}

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

void SharedTrunkModel::set_eval_chunk_rows(std::size_t rows) {
  if (rows == 0) throw std::invalid_argument(name_ + ": eval_chunk_rows must be at least 1");
  eval_chunk_rows_ = rows;
}

void SharedTrunkModel::full_pass(const MultiTaskData& data, std::vector<real>& losses,
                                 std::vector<std::size_t>* right) {
  const std::size_t n = data.size(), T = heads_.size();
  // Default losses: the per-example terms summed in row order over all chunks, divided once at the
  // end, as cross_entropy and mse do over one batch. A custom loss: its chunk means weighted by rows.
  std::vector<real> sum(T, real(0));
  if (right) right->assign(T, 0);
  std::vector<std::size_t> idx;
  Batch chunk;
  Tensor logp;
  for (std::size_t begin = 0; begin < n; begin += eval_chunk_rows_) {
    const std::size_t rows = std::min(eval_chunk_rows_, n - begin);
    idx.resize(rows);
    for (std::size_t k = 0; k < rows; ++k) idx[k] = begin + k;
    gather(data, idx, chunk);
    Tape tape;
    Var z = trunk_->forward(tape, tape.input(chunk.inputs));
    for (std::size_t i = 0; i < T; ++i) {
      Var yv = heads_[i]->forward(tape, z);
      const Tensor& y = yv.value();
      const Tensor& target = chunk.targets[i];
      const bool classification = data.tasks[i].kind == TaskSpec::Kind::classification;
      if (!losses_.empty()) {
        sum[i] += real(rows) * losses_[i](tape, yv, target).item();
      } else if (classification) {
        if (y.shape(0) != rows || target.shape(0) != rows)
          throw std::invalid_argument(name_ + ": task " + std::to_string(i) + " output " + shape_str(y) +
                                      " for " + std::to_string(rows) + " rows");
        logp.resize({y.shape(0), y.shape(1)});
        detail::log_softmax_rows(y, logp);
        for (std::size_t r = 0; r < rows; ++r) {
          const std::size_t label = std::size_t(target(r, 0));
          if (label >= y.shape(1))
            throw std::invalid_argument(name_ + ": task " + std::to_string(i) + " label " + std::to_string(label) +
                                        " at row " + std::to_string(begin + r) + " is out of range for " +
                                        std::to_string(y.shape(1)) + " classes");
          sum[i] -= logp(r, label);
        }
      } else {
        if (shape_of(y) != shape_of(target))
          throw std::invalid_argument(name_ + ": task " + std::to_string(i) + " output " + shape_str(y) +
                                      " and target " + shape_str(target) + " differ in shape");
        for (std::size_t k = 0; k < y.size(); ++k) {
          const real d = y.data()[k] - target.data()[k];
          sum[i] += d * d;
        }
      }
      if (right && classification) {
        for (std::size_t r = 0; r < y.shape(0); ++r) {
          std::size_t best = 0;
          for (std::size_t c = 1; c < y.shape(1); ++c)
            if (y(r, c) > y(r, best)) best = c;
          (*right)[i] += best == std::size_t(target(r, 0));
        }
      }
    }
  }
  losses.resize(T);
  for (std::size_t i = 0; i < T; ++i) {
    const bool mse_default = losses_.empty() && data.tasks[i].kind != TaskSpec::Kind::classification;
    const std::size_t cols = data.targets.empty() ? 1 : data.targets[i].shape(1);
    losses[i] = sum[i] / real(mse_default ? n * cols : n);
  }
}

bool SharedTrunkModel::training_losses(std::vector<real>& losses) {
  full_pass(train_, losses, nullptr);
  return true;
}

nlohmann::json SharedTrunkModel::evaluate() {
  if (test_.size() == 0) return nlohmann::json::object();
  std::vector<real> losses;
  std::vector<std::size_t> right;
  full_pass(test_, losses, &right);
  nlohmann::json loss = nlohmann::json::array(), acc = nlohmann::json::array();
  for (std::size_t i = 0; i < losses.size(); ++i) {
    loss.push_back(double(losses[i]));
    if (test_.tasks[i].kind != TaskSpec::Kind::classification)
      acc.push_back(nullptr);
    else
      acc.push_back(double(right[i]) / double(test_.size()));
  }
  return {{"loss", loss}, {"accuracy", acc}, {"n", test_.size()}};
}

std::string SharedTrunkModel::describe() const {
  std::string s = name_ + ": trunk " + trunk_->describe();
  for (std::size_t i = 0; i < heads_.size(); ++i) s += ", head" + std::to_string(i) + " " + heads_[i]->describe();
  return s;
}

}  // namespace mtlgrad
