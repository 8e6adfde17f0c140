// models/configs/multifashion.json trains: an MLP on a 3000-item MultiFashion subset reaches well
// above chance (10 %) on both tasks in a few epochs. Skipped when the IDX files are absent.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/data/idx.hpp"
#include "mtlgrad/run/experiment.hpp"

namespace fs = std::filesystem;

TEST_SUITE("multifashion config") {

TEST_CASE("an MLP on a MultiFashion subset beats chance on both tasks") {
  if (!fs::exists(std::string(mtlgrad::fashion_mnist_dir()) + "/train-images-idx3-ubyte.gz")) {
    FAIL("Fashion-MNIST IDX files not found in " << mtlgrad::fashion_mnist_dir()
                                                 << " (Debian package dataset-fashion-mnist; scripts/deps installs it)");
  }
  nlohmann::json config =
      nlohmann::json::parse(mtlgrad::read_file(std::string(MTLGRAD_SOURCE_DIR) + "/models/configs/multifashion.json"));
  config["data"]["n"] = 3000;
  config["data"]["n_test"] = 1000;
  config["epochs"] = 4;
  config["plots"] = {{"enabled", false}};
  const auto dir = fs::temp_directory_path() / ("mtlgrad_multifashion_" + std::to_string(::getpid()));
  const nlohmann::json s = mtlgrad::run_experiment(config, dir.string());
  REQUIRE(s.contains("eval"));
  CHECK(s["task_names"] == nlohmann::json::parse(R"(["left", "right"])"));
  const double left = s["eval"]["accuracy"][0], right = s["eval"]["accuracy"][1];
  MESSAGE("held-out accuracy left " << left << ", right " << right << " after " << s["steps"] << " steps");
  CHECK(left > 0.4);  // chance is 0.1
  CHECK(right > 0.4);
  CHECK(s["final_losses"][0].get<double>() < s["initial_losses"][0].get<double>());
  fs::remove_all(dir);
}

}  // TEST_SUITE
