#include "test_util.hpp"

#include <nlohmann/json.hpp>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/core/stored_state.hpp"
#include "mtlgrad/core/blas.hpp"

using namespace mtlgrad;
using nlohmann::json;

TEST_SUITE("core") {

TEST_CASE("xoshiro256** matches the reference generator's first outputs") {
  // Reference: xoshiro256starstar.c (Blackman & Vigna) with state seeded by splitmix64 from 0.
  // splitmix64(0) sequence: e220a8397b1dcdaf 6e789e6aa1b965f4 06c45d188009454f f88bb8a8724c81ec
  // (splitmix64.c, seed 0); the first xoshiro256** output is rotl(s1 * 5, 7) * 9 computed by hand
  // below from s1 = 0x6e789e6aa1b965f4.
  Rng r(0);
  const std::uint64_t s1 = 0x6e789e6aa1b965f4ULL;
  const std::uint64_t x = s1 * 5;
  const std::uint64_t expected = ((x << 7) | (x >> 57)) * 9;
  CHECK(r.next_u64() == expected);
}

TEST_CASE("Rng: same seed, same stream, and the state round-trips bit-identically") {
  Rng a(42), b(42);
  for (int i = 0; i < 100; ++i) CHECK(a.next_u64() == b.next_u64());
  a.normal();  // leaves a cached second normal
  Rng c(7);
  c.load_state(a.state());
  for (int i = 0; i < 10; ++i) CHECK(a.normal() == c.normal());
  Rng before = c;
  CHECK_THROWS_WITH_SUBSTR(c.load_state(json{{"s", {1, 2}}}), "rng.s: expected 4 non-negative integers");
  CHECK_THROWS_WITH_SUBSTR(c.load_state(json{{"s", {1, 2, 3}}}), "rng.s: expected 4 non-negative integers");
  CHECK_THROWS_WITH_SUBSTR(c.load_state(json{{"s", {1, -2, 3, 4}}}), "rng.s[1]: expected a non-negative integer");
  CHECK_THROWS_WITH_SUBSTR(c.load_state(json{{"s", {0, 0, 0, 0}}, {"normal_cached", false}, {"normal", 0.0}}),
                           "rng.s: all four words are zero");
  CHECK_THROWS_WITH_SUBSTR(c.load_state(json{{"s", {1, 2, 3, 4}}, {"normal", 0.0}}), "rng.normal_cached: missing");
  // A refused state leaves the generator as it was.
  CHECK(c.next_u64() == before.next_u64());
}

TEST_CASE("Rng: uniform in range, below unbiased and in range, permutation is a permutation") {
  Rng r(1);
  double mean = 0;
  for (int i = 0; i < 20000; ++i) {
    const double u = r.uniform();
    CHECK((u >= 0.0 && u < 1.0));
    mean += u / 20000;
  }
  CHECK(mean == doctest::Approx(0.5).epsilon(0.02));
  std::array<int, 3> counts{};
  for (int i = 0; i < 30000; ++i) counts[r.below(3)]++;
  for (int c : counts) CHECK(std::abs(c - 10000) < 400);  // ~4.9 standard deviations
  auto p = r.permutation(10);
  std::sort(p.begin(), p.end());
  for (std::size_t i = 0; i < 10; ++i) CHECK(p[i] == i);
  CHECK_THROWS_WITH_SUBSTR(r.below(0), "n must be > 0");
}

TEST_CASE("Rng: normals have mean 0 and variance 1") {
  Rng r(3);
  double s = 0, s2 = 0;
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    const double z = r.normal();
    s += z;
    s2 += z * z;
  }
  CHECK(std::abs(s / n) < 0.03);
  CHECK(std::abs(s2 / n - 1) < 0.03);
}

TEST_CASE("OptionReader: defaults, types, ranges, unknown keys with a suggestion") {
  json j = {{"name", "adam"}, {"lr", 0.01}, {"betas", {0.8, 0.9}}, {"amsgrad", true}};
  OptionReader r(j, "optimizer");
  r.declare("name");
  CHECK(r.get<real>("lr", 1) == doctest::Approx(0.01));
  CHECK(r.get<real>("eps", real(1e-8)) == real(1e-8));
  auto b = r.get<std::array<real, 2>>("betas", {0, 0});
  CHECK(b[1] == doctest::Approx(0.9));
  CHECK(r.get<bool>("amsgrad", false));
  r.finish();

  json bad = {{"lr", "fast"}};
  OptionReader r2(bad, "optimizer");
  CHECK_THROWS_WITH_SUBSTR(r2.get<real>("lr", 1), "optimizer.lr: expected a number, got string \"fast\"");

  json typo = {{"lerning_rate", 1}};
  OptionReader r3(typo, "optimizer");
  r3.get<real>("lr", 1);
  r3.get<real>("learning_rate_decay", 1);
  CHECK_THROWS_WITH_SUBSTR(r3.finish(), "optimizer.lerning_rate: unknown key");

  json typo2 = {{"betaz", {0.9, 0.99}}};
  OptionReader r4(typo2, "optimizer");
  r4.get<std::array<real, 2>>("betas", {0, 0});
  CHECK_THROWS_WITH_SUBSTR(r4.finish(), "did you mean 'betas'?");

  json neg = {{"lr", -1}};
  OptionReader r5(neg, "optimizer");
  const real lr = r5.get<real>("lr", 1);
  CHECK_THROWS_WITH_SUBSTR(r5.check(lr >= 0, "lr", ">= 0"), "optimizer.lr: -1 is out of range (expected >= 0)");

  json arr = {{"betas", {0.9}}};
  OptionReader r6(arr, "optimizer");
  CHECK_THROWS_WITH_SUBSTR((r6.get<std::array<real, 2>>("betas", {0, 0})), "expected an array of 2 values");
  CHECK_THROWS_WITH_SUBSTR(OptionReader(json::array(), "model"), "model: expected an object");

  json ints = {{"steps", 2.5}, {"n", -3}};
  OptionReader r7(ints, "");
  CHECK_THROWS_WITH_SUBSTR(r7.get<long long>("steps", 1), "steps: expected an integer");
  CHECK_THROWS_WITH_SUBSTR(r7.get<std::size_t>("n", 1), "n: expected a non-negative integer");
}

TEST_CASE("tensor JSON round trip is bit-exact and malformed input names the problem") {
  Rng r(5);
  Tensor t = r.normal_tensor(3, 4);
  t(0, 0) = real(0.1);
  const Tensor back = tensor_from_json(json::parse(tensor_to_json(t).dump()), "t");
  for (std::size_t k = 0; k < t.size(); ++k) CHECK(back.data()[k] == t.data()[k]);
  CHECK_THROWS_WITH_SUBSTR(tensor_from_json(json{{"shape", {2, 2}}, {"data", {1, 2, 3}}}, "state.m"),
                           "state.m: shape [2,2] needs 4 values, got 3");
  Tensor bad = zeros(1, 1);
  bad(0, 0) = std::numeric_limits<real>::quiet_NaN();
  CHECK_THROWS_WITH_SUBSTR(tensor_to_json(bad), "non-finite");
  CHECK_THROWS_WITH_SUBSTR(matrix({{1, 2}, {3}}), "row 1 has 1 values, row 0 has 2");
}

TEST_CASE("parse_json and parse_cbor refuse a duplicate key, naming its key path") {
  CHECK_THROWS_WITH_SUBSTR(parse_json(R"({"a": 1, "a": 2})", "c.json"), "c.json: duplicate key 'a'");
  CHECK_THROWS_WITH_SUBSTR(parse_json(R"({"m": {"x": 1, "y": {}, "x": 2}})", "c.json"), "c.json: duplicate key 'm.x'");
  CHECK_THROWS_WITH_SUBSTR(parse_json(R"({"l": [1, {"k": 0}, {"k": 1, "k": 2}]})", "c.json"),
                           "c.json: duplicate key 'l[2].k'");
  CHECK_THROWS_WITH_SUBSTR(parse_json(R"([[0], [1, [2, {"a": {"b": 1, "b": 1}}]]])", "in"), "in: duplicate key '[1][1][1].a.b'");
  // The same key in different objects, and keys that differ only in case, are fine.
  CHECK(parse_json(R"({"a": {"k": 1}, "b": {"k": 2}, "K": 3, "k": 4})", "c.json").size() == 4);
  CHECK(parse_json(R"([{"k": 1}, {"k": 2}])", "c.json")[1]["k"] == 2);
  // CBOR: a map of two entries with the same key "a" (0xa2: map of 2; 0x61 0x61: text "a").
  const std::string dup("\xa2\x61\x61\x01\x61\x61\x02", 7), ok("\xa2\x61\x61\x01\x61\x62\x02", 7);
  CHECK_THROWS_WITH_SUBSTR(parse_cbor(dup, "ck.cbor"), "ck.cbor: duplicate key 'a'");
  CHECK(parse_cbor(ok, "ck.cbor") == json{{"a", 1}, {"b", 2}});
  CHECK_THROWS_WITH_SUBSTR(parse_cbor(std::string("\xa2\x61", 2), "ck.cbor"), "ck.cbor: not valid CBOR");
  // The depth limit and the other checks still hold.
  CHECK_THROWS_WITH_SUBSTR(parse_json(std::string(200, '[') + std::string(200, ']'), "d"),
                           "d: arrays and objects nested deeper than 128 levels");
  CHECK(parse_json(std::string(128, '[') + std::string(128, ']'), "d").is_array());
  CHECK_THROWS_WITH_SUBSTR(parse_json("[1e999]", "d"), "d: holds a number that is not finite");
}

TEST_CASE("state_field and friends: missing fields and wrong types named by their path, no wrap") {
  const json j = {{"n", 5}, {"neg", -5}, {"f", 1.5}, {"b", true}, {"s", "x"}, {"inf", 1e308}};
  CHECK(state_uint(j, "n", "ck") == 5);
  CHECK_THROWS_WITH_SUBSTR(state_uint(j, "neg", "ck"), "ck.neg: expected a non-negative integer, got -5");
  CHECK_THROWS_WITH_SUBSTR(state_uint(j, "f", "ck"), "ck.f: expected a non-negative integer, got 1.5");
  CHECK_THROWS_WITH_SUBSTR(state_uint(j, "gone", "ck"), "ck.gone: missing");
  CHECK_THROWS_WITH_SUBSTR(state_bool(j, "n", "ck"), "ck.n: expected true or false, got 5");
  CHECK_THROWS_WITH_SUBSTR(state_string(j, "b", "ck"), "ck.b: expected a string, got true");
  CHECK(state_number(j, "inf", "ck") == 1e308);
  CHECK_THROWS_WITH_SUBSTR(state_field(json::array(), "k", "ck"), "ck: expected an object");
}

TEST_CASE("did_you_mean ignores letter case") {
  CHECK(did_you_mean("Adam", {"adam", "sgd"}) == " (did you mean 'adam'?)");
  CHECK(did_you_mean("PCGRAD", {"pcgrad", "mgda"}) == " (did you mean 'pcgrad'?)");
  CHECK(did_you_mean("Pcgrd", {"pcgrad", "mgda"}) == " (did you mean 'pcgrad'?)");
  CHECK(did_you_mean("xyz", {"pcgrad", "mgda"}).empty());
}

TEST_CASE("blas::gemm computes op(A)op(B) and checks shapes") {
  const Tensor A = matrix({{1, 2, 3}, {4, 5, 6}});     // 2×3
  const Tensor B = matrix({{1, 0}, {0, 1}, {1, 1}});   // 3×2
  Tensor C = zeros(2, 2);
  blas::gemm("test", A, false, B, false, C);
  // By hand: [1+3, 2+3; 4+6, 5+6]
  CHECK(C == matrix({{4, 5}, {10, 11}}));
  Tensor D = zeros(3, 3);
  blas::gemm("test", A, true, A, false, D);  // AᵀA
  CHECK(D(0, 0) == 17);  // 1·1 + 4·4
  CHECK(D(1, 2) == 36);  // 2·3 + 5·6
  Tensor E = zeros(2, 3);
  CHECK_THROWS_WITH_SUBSTR(blas::gemm("matmul", A, false, B, false, E), "matmul: shapes [2,3] x [3,2] -> [2,3] do not match");
  const Tensor x = row({1, 2, 3}), y = row({4, 5, 6});
  CHECK(blas::dot(3, x.data(), y.data()) == 32);
}

}  // TEST_SUITE
