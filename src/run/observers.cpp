#include "mtlgrad/run/observer.hpp"
#include "mtlgrad/run/agreement_observer.hpp"
#include "mtlgrad/run/plots.hpp"
#include "mtlgrad/run/record.hpp"

namespace mtlgrad {

const std::vector<ObserverEntry>& run_observers() {
  static const std::vector<ObserverEntry> r = {agreement_observer_entry(), plots_observer_entry(), record_observer_entry()};
  return r;
}

}  // namespace mtlgrad
