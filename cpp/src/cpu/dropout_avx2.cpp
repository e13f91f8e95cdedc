// The float32 dropout loop of dropout_vec_impl.h compiled for AVX2 (this file alone gets -mavx2 -mfma). Call only
// when cpu_has_avx2_fma(); random_cpu.cpp chooses.
#include <immintrin.h>

#include <cstdint>

#include "cpu/dropout_vec.h"
#include "cpu/philox.h"

namespace ckeras::cpu::avx2 {
#include "cpu/dropout_vec_impl.h"
void dropout_f32_avx2(float* out, bool* keep, const float* inp, int64_t n, uint32_t threshold, float keep_prob,
                      uint64_t seed, uint64_t offset) {
    dropout_f32(out, keep, inp, n, threshold, keep_prob, seed, offset);
}
}  // namespace ckeras::cpu::avx2
