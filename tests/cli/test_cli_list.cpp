// mtlgrad list: the registries' schemas are what the docs say. docs/options.md is the output of
// `mtlgrad list --markdown`, and the options column of README's stage tables is the registry's
// options_cell() of each stage: editing a default, a range or an option without regenerating
// the docs fails here. And every declared range is what building the stage enforces.
#include <sstream>

#include "cli/cli_util.hpp"
#include "test_util.hpp"

#include <xtensor/xview.hpp>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/data/data.hpp"
#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/optimizer.hpp"

using namespace mtlgrad;
using mtlgrad::test::run_cli;
using nlohmann::json;

namespace {

std::string source_file(const std::string& rel) { return read_file(std::string(MTLGRAD_SOURCE_DIR) + "/" + rel); }

std::vector<std::string> split_cells(const std::string& line) {
  // "| a | b \| c | d |" → {"a", "b \| c", "d"}: an escaped bar stays in its cell.
  std::vector<std::string> cells;
  std::string cur;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cur += "\\|";
      ++i;
    } else if (line[i] == '|') {
      const auto b = cur.find_first_not_of(' '), e = cur.find_last_not_of(' ');
      cells.push_back(b == std::string::npos ? "" : cur.substr(b, e - b + 1));
      cur.clear();
    } else {
      cur += line[i];
    }
  }
  return cells;
}

// name → options cell of every "| `name` | cell | ..." row between the two headings.
std::map<std::string, std::string> option_cells(const std::string& text, const std::string& from, const std::string& to) {
  const auto a = text.find(from), b = text.find(to, a == std::string::npos ? 0 : a);
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  std::map<std::string, std::string> cells;
  std::istringstream in(text.substr(a, b - a));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| `", 0) != 0) continue;
    const auto c = split_cells(line);
    if (c.size() >= 2) cells[c[0].substr(1, c[0].size() - 2)] = c[1];
  }
  return cells;
}

}  // namespace

TEST_CASE("list --markdown is docs/options.md") {
  const auto r = run_cli("list", "", "--markdown");
  REQUIRE(r.code == 0);
  CHECK_MESSAGE(r.out == source_file("docs/options.md"),
                "docs/options.md is stale: regenerate it with build/mtlgrad list --markdown > docs/options.md");
}

TEST_CASE("README's stage tables show each stage's options as the registry declares them") {
  const std::string readme = source_file("README.md");
  const std::string generated = run_cli("list", "", "--markdown").out;
  for (const auto& [kind, readme_from, readme_to, gen_from, gen_to] :
       std::vector<std::array<std::string, 5>>{
           {"optimizer", "### Temporal stages", "### Spatial stages", "## Temporal stages", "### optimizer "},
           {"aggregator", "### Spatial stages", "\n## ", "## Spatial stages", "### aggregator "}}) {
    const auto in_readme = option_cells(readme, readme_from, readme_to);
    const auto declared = option_cells(generated, gen_from, gen_to);
    REQUIRE(declared.size() >= 8);
    for (const auto& [name, cell] : declared) {
      INFO(kind << " " << name);
      REQUIRE_MESSAGE(in_readme.count(name), "README has no row for " << kind << " '" << name << "'");
      CHECK_MESSAGE(in_readme.at(name) == cell, "README's options cell should read: " << cell);
    }
    for (const auto& [name, cell] : in_readme) CHECK_MESSAGE(declared.count(name), "README lists an unknown " << kind << " " << name);
  }
}

TEST_CASE("list --json: every kind, each option with its type, default, range and meaning") {
  const auto r = run_cli("list", "", "--json");
  REQUIRE(r.code == 0);
  const json all = json::parse(r.out);
  for (const char* kind : {"models", "data_sets", "aggregators", "optimizers"}) {
    INFO(kind);
    REQUIRE(all.contains(kind));
    CHECK_FALSE(all[kind].empty());
    for (const auto& e : all[kind])
      for (const auto& o : e["schema"]) {
        CHECK_FALSE(o["doc"].get<std::string>().empty());
        if (!o["required"].get<bool>() && !o["default"].is_null()) CHECK(e["options"][o["name"].get<std::string>()] == o["default"]);
      }
  }
  CHECK(all["data_sets"][0]["name"] == "mmoe");
  CHECK(all["models"][1]["needs_data"] == true);
  const auto cagrad = [&] {
    for (const auto& e : all["aggregators"])
      if (e["name"] == "cagrad") return e;
    return json();
  }();
  CHECK(cagrad["schema"][0] == json{{"name", "c"}, {"type", "number"}, {"default", 0.5}, {"required", false},
                                    {"range", "≥ 0"}, {"doc", "how far d may move from the mean gradient: radius c‖g_0‖"}});
  CHECK(cagrad["schema"][1]["range"] == "0 | 1 | 2");
  CHECK(run_cli("list", "", "--json --markdown").code == 2);
}

// A value just outside each declared bound (and every non-choice) is refused; the closed bounds
// themselves are accepted.
template <class R, class Make>
void check_declared_ranges(const R& reg, Make make) {
  for (const auto& e : reg.entries())
    for (const auto& o : e.options) {
      if (o.range.empty() || o.required || !o.filled) continue;
      INFO(e.name << "." << o.name << " " << o.range.text());
      const auto with = [&](json v) {
        json spec = e.defaults;
        spec[o.name] = o.default_value.is_array() ? json::array({v, v}) : v;
        return spec;
      };
      if (!o.range.choices.empty()) {
        CHECK_THROWS_AS(make(with(o.type == "string" ? json("none-of-these") : json(7))), ConfigError);
        for (const auto& c : o.range.choices) CHECK_NOTHROW(make(with(c)));
        continue;
      }
      if (!std::isinf(o.range.lo)) {
        CHECK_THROWS_AS(make(with(o.range.lo_open ? o.range.lo : o.range.lo - 1)), ConfigError);
        if (!o.range.lo_open) CHECK_NOTHROW(make(with(o.range.lo)));
      }
      if (!std::isinf(o.range.hi)) {
        CHECK_THROWS_AS(make(with(o.range.hi_open ? o.range.hi : o.range.hi + 1)), ConfigError);
        if (!o.range.hi_open) CHECK_NOTHROW(make(with(o.range.hi)));
      }
    }
}

TEST_CASE("every declared range is what building the stage enforces") {
  check_declared_ranges(aggregators(), [](const json& s) { return make_aggregator(s); });
  check_declared_ranges(optimizers(), [](const json& s) { return make_optimizer(s); });
}

TEST_CASE("a registered stage without checks of its own gets its schema's: types, unknown keys, ranges") {
  struct Half : Aggregator {
    explicit Half(real f) : f_(f) {}
    std::string name() const override { return "test-half"; }
    void aggregate(const Tensor& J, Rng&, Aggregation& out) override { out.direction = f_ * xt::view(J, xt::range(0, 1), xt::all()); }
    nlohmann::json options() const override { return {{"name", name()}, {"f", f_}}; }
    real f_;
  };
  Registry<Aggregator> reg("aggregator");
  reg.add({"test-half", "f g_0", {option<real>("f", real(0.5), "the factor", Range::closed(0, 1))},
           [](const json& o, const std::string&) -> std::unique_ptr<Aggregator> { return std::make_unique<Half>(o["f"].get<real>()); }});
  CHECK(reg.entries()[0].defaults == json{{"name", "test-half"}, {"f", 0.5}});
  CHECK(reg.create("test-half", "aggregator")->options()["f"] == 0.5);
  CHECK_THROWS_WITH_SUBSTR(reg.create(json{{"name", "test-half"}, {"f", 2}}, "aggregator"),
                           "aggregator.f: 2 is out of range (expected ∈ [0, 1])");
  CHECK_THROWS_WITH_SUBSTR(reg.create(json{{"name", "test-half"}, {"f", "x"}}, "aggregator"),
                           "aggregator.f: expected a number, got string");
  CHECK_THROWS_WITH_SUBSTR(reg.create(json{{"name", "test-half"}, {"ff", 1}}, "aggregator"),
                           "aggregator.ff: unknown key (did you mean 'f'?)");
  CHECK_THROWS_WITH_SUBSTR(reg.add({"test-half", "again", {}, [](const json&, const std::string&) { return std::unique_ptr<Aggregator>(); }}),
                           "already registered");
  CHECK_THROWS_WITH_SUBSTR(reg.add({"bad-default", "", {option<real>("f", real(3), "", Range::closed(0, 1))},
                                    [](const json&, const std::string&) { return std::unique_ptr<Aggregator>(); }}),
                           "the default of 'f', 3.0, is outside its range ∈ [0, 1]");
}

TEST_CASE("docs/extending.md shows the consumer test's files verbatim") {
  const std::string doc = source_file("docs/extending.md");
  std::size_t shown = 0;
  for (const char* rel : {"tests/consumer/CMakeLists.txt", "tests/consumer/extensions.hpp", "tests/consumer/my_mtlgrad.cpp",
                          "tests/consumer/my_model.cpp", "tests/consumer/my_aggregator.cpp",
                          "tests/consumer/my_optimizer.cpp", "tests/consumer/my_run.json"}) {
    INFO(rel);
    const std::string head = std::string("`") + rel + "`:\n\n```";
    const auto at = doc.find(head);
    REQUIRE(at != std::string::npos);
    const auto body = doc.find('\n', at + head.size()) + 1, end = doc.find("\n```\n", body);
    REQUIRE(end != std::string::npos);
    CHECK_MESSAGE(doc.substr(body, end + 1 - body) == source_file(rel), "docs/extending.md differs from " << rel);
    ++shown;
  }
  CHECK(shown == 7);
}
