// The vectorised float32 dropout forward (dropout_vec_impl.h) in its AVX2 build; random_cpu.cpp holds the
// baseline build and picks one at run time.
#pragma once
#include <cstdint>

namespace ckeras::cpu::avx2 {  // call only when the CPU has AVX2 and FMA
void dropout_f32_avx2(float* out, bool* keep, const float* inp, int64_t n, uint32_t threshold, float keep_prob,
                      uint64_t seed, uint64_t offset);
}  // namespace ckeras::cpu::avx2
