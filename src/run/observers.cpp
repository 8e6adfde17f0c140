#include "mtlgrad/run/observer.hpp"

namespace mtlgrad {

const std::vector<ObserverEntry>& run_observers() {
  static const std::vector<ObserverEntry> r = {};
  return r;
}

}  // namespace mtlgrad
