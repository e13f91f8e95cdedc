// The float32 unary kernels of unary_vec_impl.h compiled for the baseline ISA (SSE2 on x86-64), for
// CPUs without AVX2 + FMA and for CKERAS_CPU_SIMD=generic.
#include <cstdint>

#include "ckeras/kernels.h"
#include "cpu/vec_math.h"

namespace ckeras::cpu::generic {
#include "cpu/unary_vec_impl.h"
}  // namespace ckeras::cpu::generic
