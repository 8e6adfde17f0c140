#pragma once
// Helpers of the serve tests: a scratch folder, and one call of the API as the server makes it.
#include <filesystem>
#include <string>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "mtlgrad/serve/api.hpp"

namespace mtlgrad::test {

inline std::string serve_scratch(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("mtlgrad_serve_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d.string();
}

struct Answer {
  int status = 0;
  std::string content_type, body;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
  std::string error() const { return nlohmann::json::parse(body).value("error", std::string("<no error>")); }
};

inline Answer call(const serve::Api& api, const std::string& method, const std::string& target, const std::string& body = "",
                   const std::string& content_type = "application/json") {
  const serve::Response r = api.handle({method, target, body, content_type});
  return {r.status, r.content_type, r.body};
}

}  // namespace mtlgrad::test
