// mtlgrad list [--json]: every model, spatial stage and temporal stage with its options and defaults.
#include <cstdio>

#include "commands.hpp"
#include "mtlgrad/mtl/model.hpp"
#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/optimizer.hpp"
#include "mtlgrad/run/observer.hpp"

namespace mtlgrad::cli {
namespace {

template <class R>
nlohmann::json entries(const R& reg) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : reg.entries()) out.push_back({{"name", e.name}, {"summary", e.summary}, {"options", e.defaults}});
  return out;
}

void print_section(const char* title, const nlohmann::json& items) {
  std::printf("%s\n", title);
  for (const auto& e : items) {
    std::printf("  %-18s %s\n", e["name"].get<std::string>().c_str(), e["summary"].get<std::string>().c_str());
    if (!e["options"].empty()) std::printf("  %-18s options: %s\n", "", e["options"].dump().c_str());
  }
  std::printf("\n");
}

}  // namespace

int cmd_list(const Args& args) {
  bool as_json = false;
  for (const auto& a : args) {
    if (a == "--json") as_json = true;
    else if (a == "--help" || a == "-h") {
      std::printf("usage: mtlgrad list [--json]\nLists every model, spatial stage (aggregator) and temporal stage "
                  "(optimizer) with its options and their defaults.\n");
      return 0;
    } else {
      std::fprintf(stderr, "mtlgrad list: unknown argument '%s' (allowed: --json)\n", a.c_str());
      return 2;
    }
  }
  nlohmann::json models = nlohmann::json::array();
  for (const auto& m : model_registry())
    models.push_back({{"name", m.name}, {"summary", m.summary}, {"options", m.defaults}, {"default_config", m.default_config}});
  nlohmann::json extensions = nlohmann::json::array();
  for (const auto& o : run_observers())
    extensions.push_back({{"name", o.key}, {"summary", o.summary}, {"options", o.defaults}});
  const nlohmann::json all = {{"models", models},
                              {"aggregators", entries(aggregators())},
                              {"optimizers", entries(optimizers())},
                              {"run_extensions", extensions}};
  if (as_json) {
    std::printf("%s\n", all.dump(2).c_str());
    return 0;
  }
  print_section("models", all["models"]);
  print_section("spatial stages (\"aggregator\")", all["aggregators"]);
  print_section("temporal stages (\"optimizer\")", all["optimizers"]);
  print_section("run extensions (config sections)", all["run_extensions"]);
  return 0;
}

}  // namespace mtlgrad::cli
