#pragma once
/// @file idx.hpp
/// Reader for the IDX files of MNIST and Fashion-MNIST (LeCun et al., "The MNIST database";
/// Xiao, Rasul & Vollgraf 2017, arXiv 1708.07747), gzip-compressed or plain (zlib's gzread reads
/// both). The format, all integers big-endian:
///
///     offset 0   magic: 0x00 0x00 <type> <ndims>   type 0x08 = unsigned byte
///                images 0x00000803 (3 dims), labels 0x00000801 (1 dim)
///     offset 4   ndims 32-bit sizes (images: count, rows, cols; labels: count)
///     then       the count·rows·cols (or count) bytes of data, row-major; nothing after them
///
/// Every error in a file is a std::runtime_error that names the file, the byte offset and what
/// was expected there: a missing file, a truncated header or data, a wrong magic or dimension count,
/// trailing bytes, labels out of range, image and label counts that disagree.
///
/// Debian's dataset-fashion-mnist package installs the four files in
/// /usr/share/datasets/fashion-mnist as {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

struct IdxImages {
  std::size_t count = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;  ///< count·rows·cols bytes, image after image, row-major
};

/// Reads an IDX3 unsigned-byte image file.
IdxImages read_idx_images(const std::string& path);
/// Reads an IDX1 unsigned-byte label file; every label must be < `classes`.
std::vector<std::uint8_t> read_idx_labels(const std::string& path, std::size_t classes);

/// Images as real in [0, 1] (pixel / 255), one flattened image per row, and their class labels.
struct LabelledImages {
  Tensor images;                     ///< count × (rows·cols)
  std::vector<std::uint8_t> labels;  ///< count
  std::size_t rows = 0, cols = 0;
};

/// The default directory of Debian's dataset-fashion-mnist package.
inline const char* fashion_mnist_dir() { return "/usr/share/datasets/fashion-mnist"; }

/// Reads <dir>/<split>-images-idx3-ubyte.gz and <dir>/<split>-labels-idx1-ubyte.gz, split "train"
/// or "t10k"; the first `limit` items only when limit > 0 (limit larger than the file: error).
/// Labels must be < 10; the two files must hold the same count.
LabelledImages load_fashion_mnist(const std::string& dir, const std::string& split, std::size_t limit = 0);

}  // namespace mtlgrad
