// The "record" run observer: appends every n-th step's J (or G), losses, weights and d to
// gradients.rec (record.hpp has the format).
#include <memory>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/mtl/certificates.hpp"
#include "mtlgrad/run/checkpoint.hpp"
#include "mtlgrad/run/record.hpp"

namespace mtlgrad {
namespace {

struct Options {
  std::size_t every = 1;
  RecordContent content = RecordContent::jacobian;
  int level = 1;
};

// J's columns per parameter (name, first and end column), for the per-layer conflict map of
// `mtlgrad replay`: each named parameter tensor (trunk.0.weight, trunk.0.bias, ...) its own row.
nlohmann::json column_groups(const Trainer& trainer) {
  nlohmann::json groups = nlohmann::json::array();
  if (trainer.options().granularity == Granularity::representation) return groups;  // Z: no parameters
  const auto& layout = trainer.layout();
  const auto all = trainer.options().scope == GradientScope::all ? layout.all() : layout.shared;
  std::size_t col = 0;
  for (const auto& p : all) {
    groups.push_back({{"name", p.name}, {"begin", col}, {"end", col + p.param->value.size()}});
    col += p.param->value.size();
  }
  return groups;
}

class RecordObserver : public RunObserver {
 public:
  RecordObserver(const Options& o, Trainer& trainer) : o_(o), next_rng_(trainer.rng().state()) {
    h_.T = trainer.model().num_tasks();
    h_.content = o.content;
    h_.meta = {{"tasks", trainer.model().task_names()},
               {"aggregator", trainer.aggregator().options()},
               {"every", o.every},
               {"granularity", to_string(trainer.options().granularity)},
               {"scope", trainer.options().scope == GradientScope::all ? "all" : "shared"},
               {"groups", column_groups(trainer)}};
  }

  // A run that stops with an error (a diverged step, a failed write elsewhere) still leaves its
  // whole records on disk: those steps are the ones worth replaying.
  ~RecordObserver() override {
    try {
      if (log_) log_->sync();
    } catch (const std::exception&) {
      // Nothing to do in a destructor: the file keeps the records written before.
    }
  }

  void open(const std::string& out_dir) override {
    path_ = out_dir + "/gradients.rec";
    log_ = resumed_bytes_ ? std::make_unique<AppendLog>(path_, resumed_bytes_) : std::make_unique<AppendLog>(path_);
  }

  void on_step(Trainer& trainer, const StepRecord& record) override {
    if (!record.skipped && record.step % o_.every == 0) write(trainer, record);
    // The Rng the stage will draw from at the next step (only the spatial stage draws from it).
    next_rng_ = trainer.rng().state();
  }

  void on_end(Trainer&, const std::string&, nlohmann::json& summary) override {
    summary["record"] = {{"file", "gradients.rec"}, {"records", records_}, {"bytes", log_->sync()}};
  }

  nlohmann::json state() const override {
    return {{"bytes", log_ ? log_->sync() : 0},
            {"records", records_},
            {"header", header_written_},
            {"P", h_.P},
            {"rng", next_rng_}};
  }

  void load_state(const nlohmann::json& s) override {
    if (!s.is_object() || !s.contains("bytes") || !s["bytes"].is_number_unsigned() || !s.contains("records") ||
        !s["records"].is_number_unsigned() || !s.contains("header") || !s["header"].is_boolean() || !s.contains("rng") ||
        !s.contains("P") || !s["P"].is_number_unsigned())
      throw std::invalid_argument("record: malformed observer state");
    resumed_bytes_ = s["bytes"].get<std::uint64_t>();
    records_ = s["records"].get<std::size_t>();
    header_written_ = s["header"].get<bool>();
    h_.P = s["P"].get<std::size_t>();  // the header's P, written at the first record
    next_rng_ = s["rng"];
    if (header_written_ != (resumed_bytes_ > 0))
      throw std::invalid_argument("record: the observer state's header flag disagrees with its length");
  }

 private:
  void write(Trainer& trainer, const StepRecord& record) {
    const Tensor& J = trainer.task_gradients().J;
    const Tensor& d = trainer.aggregation().direction;
    if (!header_written_) {
      h_.P = J.shape(1);
      log_->append(encode_record_header(h_));
      header_written_ = true;
    }
    rec_.step = record.step;
    rec_.rng = next_rng_;
    rec_.losses = record.losses;
    rec_.weights = record.weights;
    if (o_.content == RecordContent::jacobian) {
      rec_.J = J;
      rec_.direction = d;
    } else {
      rec_.G = trainer.gramian();
      Certifier::jacobian_times(J, d, rec_.Jd);
      rec_.dd = 0;
      for (real v : d) rec_.dd += v * v;
    }
    log_->append(encode_record(h_, rec_, o_.level));
    ++records_;
  }

  Options o_;
  RecordHeader h_;
  nlohmann::json next_rng_;
  std::string path_;
  std::unique_ptr<AppendLog> log_;
  std::uint64_t resumed_bytes_ = 0;
  std::size_t records_ = 0;
  bool header_written_ = false;
  GradientRecord rec_;
};

}  // namespace

ObserverEntry record_observer_entry() {
  ObserverEntry e;
  e.key = "record";
  e.summary = "record every n-th step's J (or its Gramian), losses, weights and d into gradients.rec, for "
              "`mtlgrad replay` and tools/read_record.py";
  e.defaults = {{"every", 1}, {"content", "jacobian"}, {"level", 1}};
  e.make = [](const nlohmann::json& section, const std::string& path, Trainer& trainer) -> std::unique_ptr<RunObserver> {
    OptionReader r(section, path);
    Options o;
    o.every = r.get<std::size_t>("every", o.every);
    r.check(o.every >= 1, "every", ">= 1");
    const std::string content = r.get<std::string>("content", "jacobian");
    if (content != "jacobian" && content != "gramian")
      throw ConfigError(path + ".content: unknown content '" + content + "'" +
                        did_you_mean(content, {"jacobian", "gramian"}) + "; allowed: jacobian, gramian");
    o.content = content == "jacobian" ? RecordContent::jacobian : RecordContent::gramian;
    o.level = r.get<int>("level", o.level);
    r.check(o.level >= 0 && o.level <= 9, "level", "0 to 9");
    r.finish();
    if (trainer.options().granularity == Granularity::per_layer)
      throw ConfigError(path + ": granularity \"per_layer\" cannot be recorded (a replay runs one stage on the "
                               "whole J); record a run with granularity \"whole\" or \"representation\"");
    return std::make_unique<RecordObserver>(o, trainer);
  };
  return e;
}

}  // namespace mtlgrad
