// libFuzzer target: every input reaches both decoders; both must refuse or decode, and a decoded
// envelope must render as JSON. Built only with clang (tests/schemas/CMakeLists.txt):
//   cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ && cmake --build build-fuzz \
//     --target schemas_decode_fuzz && build-fuzz/tests/schemas/schemas_decode_fuzz -max_len=4096

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "schemas/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto d = backline::schemas::decode(bytes)) {
    (void)backline::schemas::to_json(*d);
  }
  (void)backline::schemas::decode_command(bytes);
  return 0;
}
