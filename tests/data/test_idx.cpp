#include "test_util.hpp"

#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "mtlgrad/data/idx.hpp"

using namespace mtlgrad;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<std::uint8_t>;

void put_u32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(std::uint8_t(v >> s));
}

Bytes idx(std::uint32_t magic, const std::vector<std::uint32_t>& dims, const Bytes& data) {
  Bytes b;
  put_u32(b, magic);
  for (auto d : dims) put_u32(b, d);
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

// A scratch directory, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() : path(fs::temp_directory_path() / ("mtlgrad_test_idx_" + std::to_string(::getpid()))) {
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

void write_plain(const std::string& path, const Bytes& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

void write_gz(const std::string& path, const Bytes& b) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, b.data(), unsigned(b.size())) == int(b.size()));
  gzclose(f);
}

// Two 2×3 images with pixels 0..5 and 250..255.
const Bytes kPixels = {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255};

}  // namespace

TEST_SUITE("data") {

TEST_CASE("IDX: valid image and label files in gzip and plain") {
  TempDir dir;
  write_gz(dir.file("im.gz"), idx(0x803, {2, 2, 3}, kPixels));
  write_plain(dir.file("im.raw"), idx(0x803, {2, 2, 3}, kPixels));
  for (const char* name : {"im.gz", "im.raw"}) {
    CAPTURE(name);
    const IdxImages im = read_idx_images(dir.file(name));
    CHECK(im.count == 2);
    CHECK(im.rows == 2);
    CHECK(im.cols == 3);
    CHECK(im.pixels == kPixels);
  }
  write_gz(dir.file("lab.gz"), idx(0x801, {3}, {9, 0, 3}));
  CHECK(read_idx_labels(dir.file("lab.gz"), 10) == Bytes{9, 0, 3});
}

TEST_CASE("IDX: every malformed file is an error naming the file and offset and what was expected") {
  TempDir dir;
  const std::string f = dir.file("bad");
  CHECK_THROWS_WITH_SUBSTR(read_idx_images(dir.file("missing.gz")), "missing.gz: cannot open (No such file");

  write_gz(f, {0, 0, 8});
  CHECK_THROWS_WITH_SUBSTR(read_idx_images(f), "bad: byte offset 0: truncated: expected 4 bytes of magic number, the file ends after 3");
  write_gz(f, idx(0x803, {2, 2}, {}));
  CHECK_THROWS_WITH_SUBSTR(read_idx_images(f), "byte offset 12: truncated: expected 4 bytes of dimension sizes, the file ends after 0");
  write_gz(f, idx(0x803, {2, 2, 3}, Bytes(kPixels.begin(), kPixels.end() - 1)));
  CHECK_THROWS_WITH_SUBSTR(read_idx_images(f),
                           "byte offset 16: truncated: expected 12 bytes of pixel data (2 images of 2×3), the file ends after 11");
  write_gz(f, idx(0x801, {2}, {1, 2}));
  CHECK_THROWS_WITH_SUBSTR(read_idx_images(f),
                           "byte offset 3: wrong dimension count 1 (magic 0x00000801; expected 3 for images, magic 0x00000803)");
  write_gz(f, idx(0x803, {2, 2, 3}, kPixels));
  CHECK_THROWS_WITH_SUBSTR(read_idx_labels(f, 10),
                           "byte offset 3: wrong dimension count 3 (magic 0x00000803; expected 1 for labels, magic 0x00000801)");
  write_gz(f, idx(0xd03, {2, 2, 3}, kPixels));  // 0x0d: IEEE double data
  CHECK_THROWS_WITH_SUBSTR(read_idx_images(f),
                           "byte offset 0: wrong magic number 0x00000d03 (expected 0x00000803 for IDX images");
  write_plain(f, {0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13});  // gzip magic, garbage body
  CHECK_THROWS_WITH_SUBSTR(read_idx_images(f), "bad: byte offset 0: read error: ");
  Bytes trailing = idx(0x803, {2, 2, 3}, kPixels);
  trailing.push_back(7);
  write_gz(f, trailing);
  CHECK_THROWS_WITH_SUBSTR(read_idx_images(f), "byte offset 28: expected the end of the file, found more data");
  write_gz(f, idx(0x801, {3}, {9, 10, 3}));
  CHECK_THROWS_WITH_SUBSTR(read_idx_labels(f, 10), "bad: byte offset 9: label 10 of item 1 is out of range (expected < 10)");
  write_gz(f, idx(0x803, {0xffffffffu, 0xffffffffu, 0xffffffffu}, {}));
  CHECK_THROWS_WITH_SUBSTR(read_idx_images(f), "byte offset 4: implausible sizes");
}

TEST_CASE("load_fashion_mnist: scaling to [0 1] and limits and counts that disagree") {
  TempDir dir;
  write_gz(dir.file("train-images-idx3-ubyte.gz"), idx(0x803, {2, 2, 3}, kPixels));
  write_gz(dir.file("train-labels-idx1-ubyte.gz"), idx(0x801, {2}, {7, 1}));
  const LabelledImages all = load_fashion_mnist(dir.path.string(), "train");
  CHECK(all.rows == 2);
  CHECK(all.cols == 3);
  CHECK(all.labels == Bytes{7, 1});
  CHECK_TENSOR_NEAR(all.images, matrix({{0, 1 / 255., 2 / 255., 3 / 255., 4 / 255., 5 / 255.},
                                        {250 / 255., 251 / 255., 252 / 255., 253 / 255., 254 / 255., 1}}),
                    tolerance(1e-15, 1e-7));
  const LabelledImages one = load_fashion_mnist(dir.path.string(), "train", 1);
  CHECK(one.images.shape(0) == 1);
  CHECK(one.labels == Bytes{7});
  CHECK_THROWS_WITH_SUBSTR(load_fashion_mnist(dir.path.string(), "train", 3), "3 items requested");
  CHECK_THROWS_WITH_SUBSTR(load_fashion_mnist(dir.path.string(), "test"), "unknown split 'test' (expected train or t10k)");
  CHECK_THROWS_WITH_SUBSTR(load_fashion_mnist(dir.path.string(), "t10k"), "t10k-images-idx3-ubyte.gz: cannot open");

  write_gz(dir.file("train-labels-idx1-ubyte.gz"), idx(0x801, {3}, {7, 1, 2}));
  CHECK_THROWS_WITH_SUBSTR(load_fashion_mnist(dir.path.string(), "train"),
                           "train-images-idx3-ubyte.gz holds 2 images but");
  CHECK_THROWS_WITH_SUBSTR(load_fashion_mnist(dir.path.string(), "train"),
                           "train-labels-idx1-ubyte.gz holds 3 labels");
}

TEST_CASE("Fashion-MNIST as Debian installs it") {
  if (!fs::exists(std::string(fashion_mnist_dir()) + "/train-images-idx3-ubyte.gz")) {
    FAIL("dataset-fashion-mnist is not installed (scripts/deps installs it); this case reads the real files");
  }
  // Expected values read with Python's gzip module (tools/gen_data_golden.py stores the first
  // training labels in the fixture; the t10k ones were read the same way).
  const nlohmann::json fx = test::load_fixture("data_resize.json");
  const LabelledImages train = load_fashion_mnist(fashion_mnist_dir(), "train");
  CHECK(train.images.shape(0) == 60000);
  CHECK(train.images.shape(1) == 784);
  CHECK(train.rows == 28);
  CHECK(train.cols == 28);
  const Bytes first(train.labels.begin(), train.labels.begin() + 6);
  CHECK(first == Bytes{9, 0, 0, 3, 0, 2});
  CHECK(fx.at("first_train_labels").get<Bytes>() == first);
  CHECK(xt::amin(train.images)() == 0);
  CHECK(xt::amax(train.images)() == 1);
  const LabelledImages test = load_fashion_mnist(fashion_mnist_dir(), "t10k");
  CHECK(test.images.shape(0) == 10000);
  CHECK(Bytes(test.labels.begin(), test.labels.begin() + 6) == Bytes{9, 2, 1, 1, 6, 1});
}

}  // TEST_SUITE
