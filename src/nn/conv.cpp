#include "mtlgrad/nn/conv.hpp"

#include <cmath>

namespace mtlgrad {

Conv2d::Conv2d(const ImageShape& in, std::size_t out_channels, std::size_t kernel, Rng& rng, std::size_t stride,
               std::size_t padding)
    : in_(in), out_(conv2d_shape(in, out_channels, kernel, stride, padding)), kernel_(kernel), stride_(stride),
      padding_(padding) {
  if (in.channels == 0 || out_channels == 0)
    throw std::invalid_argument("Conv2d: channels must be positive, got in = " + std::to_string(in.channels) +
                                ", out = " + std::to_string(out_channels));
  const std::size_t fan_in = in.channels * kernel * kernel;
  const real bound = real(1) / std::sqrt(real(fan_in));
  weight.name = "weight";
  weight.value = rng.uniform_tensor(out_channels, fan_in, -bound, bound);
  bias.name = "bias";
  bias.value = rng.uniform_tensor(1, out_channels, -bound, bound);
}

Var Conv2d::forward(Tape& tape, Var x) {
  return conv2d(x, tape.param(weight), tape.param(bias), in_, kernel_, stride_, padding_);
}

void Conv2d::collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) {
  out.push_back({prefix + "weight", &weight});
  out.push_back({prefix + "bias", &bias});
}

std::string Conv2d::describe() const {
  std::string s = "Conv2d(" + std::to_string(in_.channels) + ", " + std::to_string(out_.channels) +
                  ", kernel_size=" + std::to_string(kernel_);
  if (stride_ != 1) s += ", stride=" + std::to_string(stride_);
  if (padding_ != 0) s += ", padding=" + std::to_string(padding_);
  return s + ")";
}

MaxPool2d::MaxPool2d(const ImageShape& in, std::size_t kernel, std::size_t stride)
    : in_(in), out_(max_pool2d_shape(in, kernel, stride)), kernel_(kernel), stride_(stride ? stride : kernel) {}

Var MaxPool2d::forward(Tape&, Var x) { return max_pool2d(x, in_, kernel_, stride_); }

std::string MaxPool2d::describe() const {
  std::string s = "MaxPool2d(" + std::to_string(kernel_);
  if (stride_ != kernel_) s += ", stride=" + std::to_string(stride_);
  return s + ")";
}

}  // namespace mtlgrad
