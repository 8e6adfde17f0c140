#include "mtlgrad/core/registry.hpp"

#include <charconv>

namespace mtlgrad {
namespace {

// The shortest text that reads back to `v` ("1", "0.5", "1e-08").
std::string number_text(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, real(v));
  return std::string(buf, r.ptr);
}

bool number_in(const Range& r, double v) {
  if (std::isnan(v)) return false;
  if (r.lo_open ? !(v > r.lo) : !(v >= r.lo)) return false;
  if (r.hi_open ? !(v < r.hi) : !(v <= r.hi)) return false;
  return true;
}

}  // namespace

std::string Range::text() const {
  if (!choices.empty()) {
    std::vector<std::string> c;
    for (const auto& v : choices) c.push_back(format_option_value(v));
    return join(c, " | ");
  }
  const bool has_lo = !std::isinf(lo), has_hi = !std::isinf(hi);
  if (has_lo && has_hi)
    return "∈ " + std::string(lo_open ? "(" : "[") + number_text(lo) + ", " + number_text(hi) + (hi_open ? ")" : "]");
  if (has_lo) return (lo_open ? "> " : "≥ ") + number_text(lo);
  if (has_hi) return (hi_open ? "< " : "≤ ") + number_text(hi);
  return "";
}

bool Range::contains(const nlohmann::json& v) const {
  if (!choices.empty()) {
    for (const auto& c : choices)
      if (c == v) return true;
    return false;
  }
  if (empty()) return true;
  if (v.is_array()) {
    for (const auto& x : v)
      if (!contains(x)) return false;
    return true;
  }
  return v.is_number() && number_in(*this, v.get<double>());
}

std::string format_option_value(const nlohmann::json& v) {
  if (v.is_number_float()) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, real(v.get<double>()));
    return std::string(buf, r.ptr);
  }
  if (v.is_array()) {
    std::vector<std::string> items;
    for (const auto& x : v) items.push_back(format_option_value(x));
    return "[" + join(items) + "]";
  }
  return v.dump();
}

std::string options_cell(const OptionSchema& schema) {
  std::vector<std::string> parts;
  for (const auto& o : schema) {
    std::string p = "`" + o.name + "`";
    if (o.required) p += " (required)";
    else if (o.filled) p += " (" + format_option_value(o.default_value) + ")";
    const std::string range = o.range.text();
    if (!range.empty()) p += " " + range;
    parts.push_back(p);
  }
  return parts.empty() ? "—" : join(parts);
}

OptionSpec free_option(std::string name, std::string doc) {
  OptionSpec s{name, "json", nullptr, false, false, {}, std::move(doc), {}};
  s.read = [name](OptionReader& r, nlohmann::json& out) {
    if (const nlohmann::json* v = r.raw(name)) out[name] = *v;
  };
  return s;
}

nlohmann::json schema_defaults(const std::string& name, const OptionSchema& schema) {
  nlohmann::json j = {{"name", name}};
  for (const auto& o : schema)
    if (o.filled && !o.required) j[o.name] = o.default_value;
  return j;
}

nlohmann::json schema_json(const OptionSchema& schema) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& o : schema)
    out.push_back({{"name", o.name}, {"type", o.type}, {"default", o.default_value}, {"required", o.required},
                   {"range", o.range.text()}, {"doc", o.doc}});
  return out;
}

nlohmann::json read_schema(const OptionSchema& schema, const nlohmann::json& spec, const std::string& path) {
  OptionReader r(spec, path);
  r.declare("name");
  nlohmann::json out = nlohmann::json::object();
  if (spec.contains("name")) out["name"] = spec["name"];
  for (const auto& o : schema) o.read(r, out);
  r.finish();
  return out;
}

void check_ranges(const OptionSchema& schema, const nlohmann::json& options, const std::string& path) {
  for (const auto& o : schema) {
    auto it = options.find(o.name);
    if (it == options.end() || o.range.contains(*it)) continue;
    throw ConfigError((path.empty() ? o.name : path + "." + o.name) + ": " + format_option_value(*it) +
                      " is out of range (expected " + o.range.text() + ")");
  }
}

}  // namespace mtlgrad
