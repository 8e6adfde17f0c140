#pragma once
/// @file conv.hpp
/// Image layers on [B, C·H·W] batches (NCHW per row, see ImageShape in autograd/ops.hpp): Conv2d
/// and MaxPool2d. Each knows the image shape it takes, and says the one it gives (output()), so
/// a stack of them is built by chaining output() into the next layer's input.
///
/// Conv2d's weight is PyTorch's [Cout, C, k, k] flattened to [Cout, C·k·k] (no transpose, unlike
/// Linear), its bias [1, Cout]. Initialisation is PyTorch's default, U(−1/√fan_in, 1/√fan_in)
/// for both with fan_in = C·k·k, drawn from an explicit Rng: the weight in row-major order, then
/// the bias.

#include "mtlgrad/nn/module.hpp"

namespace mtlgrad {

class Conv2d : public Module {
 public:
  Conv2d(const ImageShape& in, std::size_t out_channels, std::size_t kernel, Rng& rng, std::size_t stride = 1,
         std::size_t padding = 0);
  Var forward(Tape& tape, Var x) override;
  void collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) override;
  /// "Conv2d(1, 10, kernel_size=9)" (", stride=s" and ", padding=p" when not the defaults).
  std::string describe() const override;
  const ImageShape& input() const { return in_; }
  const ImageShape& output() const { return out_; }

  Parameter weight;  ///< [Cout, C·k·k]
  Parameter bias;    ///< [1, Cout]

 private:
  ImageShape in_, out_;
  std::size_t kernel_, stride_, padding_;
};

class MaxPool2d : public Module {
 public:
  /// stride 0: the kernel size (PyTorch's default).
  MaxPool2d(const ImageShape& in, std::size_t kernel, std::size_t stride = 0);
  Var forward(Tape& tape, Var x) override;
  std::string describe() const override;  ///< "MaxPool2d(2)", or "MaxPool2d(3, stride=2)"
  const ImageShape& input() const { return in_; }
  const ImageShape& output() const { return out_; }

 private:
  ImageShape in_, out_;
  std::size_t kernel_, stride_;
};

}  // namespace mtlgrad
