// The float32 unary kernels of unary_vec_impl.h compiled for AVX2 + FMA (this file alone gets
// -mavx2 -mfma). Call only when cpu_has_avx2_fma(); unary_vec.h chooses.
#include <cstdint>

#include "ckeras/kernels.h"
#include "cpu/vec_math.h"

namespace ckeras::cpu::avx2 {
#include "cpu/unary_vec_impl.h"
}  // namespace ckeras::cpu::avx2
