#pragma once
/// @file observer.hpp
/// Extensions of a run that have their own config section: gradient agreement ("agreement"),
/// plots ("plots"), ... Each registers an ObserverEntry in src/run/observers.cpp; the experiment
/// runner creates the observer when its key is in the config (or always, if `always` is set),
/// calls it after every step and at the end, and saves its state in checkpoints.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/mtl/trainer.hpp"

namespace mtlgrad {

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  /// Once before the first step (after a resumed run's load_state()), with the run directory:
  /// an observer that appends to a file of its own opens it here.
  virtual void open(const std::string& /*out_dir*/) {}
  /// After every step, before the next batch is drawn (the model's current batch is this step's).
  virtual void on_step(Trainer& /*trainer*/, const StepRecord& /*record*/) {}
  /// After the run, with summary.json's content (add keys to it); files go into out_dir, written
  /// with write_file_atomic.
  virtual void on_end(Trainer& /*trainer*/, const std::string& /*out_dir*/, nlohmann::json& /*summary*/) {}
  /// For checkpoints: a resumed run restores it and continues as if never interrupted.
  virtual nlohmann::json state() const { return nullptr; }
  virtual void load_state(const nlohmann::json& /*state*/) {}
};

struct ObserverEntry {
  std::string key;          ///< the config key of its section, e.g. "agreement"
  std::string summary;      ///< one line for `mtlgrad list`
  nlohmann::json defaults;  ///< its options with their defaults
  bool always = false;      ///< created even when the config has no section (with the defaults)
  /// Builds from the section (an object; {} when absent and `always`), its key path, the trainer.
  std::function<std::unique_ptr<RunObserver>(const nlohmann::json& section, const std::string& path, Trainer& trainer)>
      make;
};

/// Every registered observer (src/run/observers.cpp).
const std::vector<ObserverEntry>& run_observers();

}  // namespace mtlgrad
