#include "mtlgrad/data/idx.hpp"

#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>

#include <zlib.h>

namespace mtlgrad {
namespace {

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// A gzip (or plain) file read front to back, tracking the byte offset for messages.
class IdxFile {
 public:
  explicit IdxFile(std::string path) : path_(std::move(path)) {
    errno = 0;
    f_ = gzopen(path_.c_str(), "rb");
    if (!f_)
      throw std::runtime_error(path_ + ": cannot open (" + (errno ? std::strerror(errno) : "out of memory") + ")");
  }
  ~IdxFile() { gzclose(f_); }
  IdxFile(const IdxFile&) = delete;
  IdxFile& operator=(const IdxFile&) = delete;

  [[noreturn]] void fail(std::size_t at, const std::string& what) const {
    throw std::runtime_error(path_ + ": byte offset " + std::to_string(at) + ": " + what);
  }

  // Reads up to n bytes; returns how many arrived (fewer only at the end of the file).
  std::size_t read_some(std::uint8_t* out, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      const unsigned chunk = unsigned(std::min<std::size_t>(n - got, 1u << 30));
      const int r = gzread(f_, out + got, chunk);
      if (r < 0) {
        int code = 0;
        fail(offset_ + got, std::string("read error: ") + gzerror(f_, &code));
      }
      if (r == 0) break;
      got += std::size_t(r);
    }
    offset_ += got;
    return got;
  }

  // Reads exactly n bytes of `what`, or fails naming where the file ended.
  void read_exact(std::uint8_t* out, std::size_t n, const std::string& what) {
    const std::size_t start = offset_;
    const std::size_t got = read_some(out, n);
    if (got < n)
      fail(start, "truncated: expected " + std::to_string(n) + " bytes of " + what + ", the file ends after " +
                      std::to_string(got));
  }

  // Reads exactly n bytes of `what` into `out`, which grows as the data arrives: a header that
  // claims more than the file holds costs no more memory than the file's content plus one chunk.
  void read_exact(std::vector<std::uint8_t>& out, std::size_t n, const std::string& what) {
    constexpr std::size_t kChunk = std::size_t(1) << 24;
    const std::size_t start = offset_;
    out.clear();
    while (out.size() < n) {
      const std::size_t have = out.size(), want = std::min(kChunk, n - have);
      out.resize(have + want);
      const std::size_t got = read_some(out.data() + have, want);
      out.resize(have + got);
      if (got < want)
        fail(start, "truncated: expected " + std::to_string(n) + " bytes of " + what + ", the file ends after " +
                        std::to_string(out.size()));
    }
  }

  std::uint32_t read_u32(const std::string& what) {
    std::uint8_t b[4];
    read_exact(b, 4, what);
    return (std::uint32_t(b[0]) << 24) | (std::uint32_t(b[1]) << 16) | (std::uint32_t(b[2]) << 8) | b[3];
  }

  void expect_end() {
    std::uint8_t b;
    const std::size_t at = offset_;
    if (read_some(&b, 1) != 0) fail(at, "expected the end of the file, found more data");
  }

  std::size_t offset() const { return offset_; }

 private:
  std::string path_;
  gzFile f_ = nullptr;
  std::size_t offset_ = 0;
};

// Reads the magic and the sizes of an unsigned-byte IDX file of `ndims` dimensions.
std::vector<std::size_t> read_header(IdxFile& f, std::uint32_t ndims, const char* kind) {
  const std::uint32_t expected = 0x00000800u | ndims;
  const std::uint32_t magic = f.read_u32("magic number");
  if ((magic & 0xffffff00u) != 0x00000800u)
    f.fail(0, "wrong magic number " + hex32(magic) + " (expected " + hex32(expected) + " for IDX " + kind +
                  ": unsigned-byte data)");
  if ((magic & 0xffu) != ndims)
    f.fail(3, "wrong dimension count " + std::to_string(magic & 0xffu) + " (magic " + hex32(magic) +
                  "; expected " + std::to_string(ndims) + " for " + kind + ", magic " + hex32(expected) + ")");
  std::vector<std::size_t> dims(ndims);
  for (auto& d : dims) d = f.read_u32("dimension sizes");
  return dims;
}

}  // namespace

IdxImages read_idx_images(const std::string& path) {
  IdxFile f(path);
  const auto dims = read_header(f, 3, "images");
  IdxImages im;
  im.count = dims[0];
  im.rows = dims[1];
  im.cols = dims[2];
  // The sizes are < 2^32 each, so the product fits in 96 bits; refuse what cannot be a real file
  // before allocating it.
  const unsigned __int128 bytes = (unsigned __int128)im.count * im.rows * im.cols;
  if (bytes > (unsigned __int128)(std::size_t(1) << 40))
    f.fail(4, "implausible sizes " + std::to_string(im.count) + "×" + std::to_string(im.rows) + "×" +
                  std::to_string(im.cols));
  f.read_exact(im.pixels, std::size_t(bytes),
               "pixel data (" + std::to_string(im.count) + " images of " + std::to_string(im.rows) + "×" +
                   std::to_string(im.cols) + ")");
  f.expect_end();
  return im;
}

std::vector<std::uint8_t> read_idx_labels(const std::string& path, std::size_t classes) {
  IdxFile f(path);
  const std::size_t count = read_header(f, 1, "labels")[0];
  std::vector<std::uint8_t> labels;
  const std::size_t start = f.offset();
  f.read_exact(labels, count, "labels (" + std::to_string(count) + ")");
  f.expect_end();
  for (std::size_t i = 0; i < count; ++i)
    if (labels[i] >= classes)
      f.fail(start + i, "label " + std::to_string(labels[i]) + " of item " + std::to_string(i) +
                            " is out of range (expected < " + std::to_string(classes) + ")");
  return labels;
}

LabelledImages load_fashion_mnist(const std::string& dir, const std::string& split, std::size_t limit) {
  if (split != "train" && split != "t10k")
    throw std::invalid_argument("load_fashion_mnist: unknown split '" + split + "' (expected train or t10k)");
  const std::string images_path = dir + "/" + split + "-images-idx3-ubyte.gz";
  const std::string labels_path = dir + "/" + split + "-labels-idx1-ubyte.gz";
  const IdxImages im = read_idx_images(images_path);
  LabelledImages out;
  out.labels = read_idx_labels(labels_path, 10);
  if (out.labels.size() != im.count)
    throw std::runtime_error(images_path + " holds " + std::to_string(im.count) + " images but " + labels_path +
                             " holds " + std::to_string(out.labels.size()) + " labels");
  if (limit > im.count)
    throw std::invalid_argument("load_fashion_mnist: " + std::to_string(limit) + " items requested, " +
                                images_path + " holds " + std::to_string(im.count));
  const std::size_t n = limit ? limit : im.count;
  const std::size_t d = im.rows * im.cols;
  out.rows = im.rows;
  out.cols = im.cols;
  out.labels.resize(n);
  out.images = zeros(n, d);
  real* dst = out.images.data();
  for (std::size_t k = 0; k < n * d; ++k) dst[k] = real(im.pixels[k]) / real(255);
  return out;
}

}  // namespace mtlgrad
