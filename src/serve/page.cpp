#include "mtlgrad/serve/api.hpp"
#include "mtlgrad_serve_page.hpp"  // generated from web/index.html (cmake/embed_page.cmake)

namespace mtlgrad::serve {

const std::string& page() {
  static const std::string p(generated::kPage, generated::kPageSize);
  return p;
}

}  // namespace mtlgrad::serve
