// The float32 unary kernels of unary_vec_impl.h compiled for AVX-512 (this file alone gets -mavx512f,
// -mavx512dq, -mavx512bw, -mavx512vl, -mfma and 512-bit vectors). Call only when cpu_has_avx512();
// unary_vec.h chooses. The source is the AVX2 build's, so the tests that check that build against the
// reference check this one too wherever the CPU runs it.
#include <cstdint>

#include "ckeras/kernels.h"
#include "cpu/vec_math.h"

namespace ckeras::cpu::avx512 {
#include "cpu/unary_vec_impl.h"
}  // namespace ckeras::cpu::avx512
