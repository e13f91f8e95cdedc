// The vectorised float32 unary kernels and the run-time choice between their two builds: avx2::
// (unary_avx2.cpp, -mavx2 -mfma) and generic:: (unary_generic.cpp, baseline), one source
// (unary_vec_impl.h). Each returns false for an op or parameter it does not handle (Sqrt/Rsqrt unless
// built with -fno-math-errno, pow with exponents other than 0, ±1, 2, 3, 0.5), and the caller then
// runs the reference loop. Neither parallelises: call them inside parallel_for.
#pragma once
#include <cstdint>
#include <cstring>

#include "ckeras/device.h"
#include "ckeras/kernels.h"

namespace ckeras::cpu {

namespace avx2 {  // call only when the CPU has AVX2 and FMA
bool unary_f32(UnaryOp op, float* out, const float* inp, int64_t n, float alpha, float beta);
bool unary_backward_f32(UnaryOp op, float* dinp, const float* dout, const float* inp, const float* out,
                        int64_t n, float alpha, float beta);
}  // namespace avx2

namespace generic {
bool unary_f32(UnaryOp op, float* out, const float* inp, int64_t n, float alpha, float beta);
bool unary_backward_f32(UnaryOp op, float* dinp, const float* dout, const float* inp, const float* out,
                        int64_t n, float alpha, float beta);
}  // namespace generic

enum class UnaryVecLevel : uint8_t { Generic, Avx2 };

// Avx2 when CPUID reports AVX2 and FMA, unless CKERAS_CPU_SIMD=generic or the test override
// (set_gemm_simd_override) says otherwise: the choice cpu_simd_level() reports and the GEMM takes.
// Reads the environment, so call it once per kernel call, not per chunk.
inline UnaryVecLevel unary_vec_level() {
    return std::strcmp(cpu_simd_level(), "generic") == 0 ? UnaryVecLevel::Generic : UnaryVecLevel::Avx2;
}

inline bool unary_vec_f32(UnaryVecLevel level, UnaryOp op, float* out, const float* inp, int64_t n, float alpha,
                          float beta) {
    return level == UnaryVecLevel::Avx2 ? avx2::unary_f32(op, out, inp, n, alpha, beta)
                                        : generic::unary_f32(op, out, inp, n, alpha, beta);
}
inline bool unary_backward_vec_f32(UnaryVecLevel level, UnaryOp op, float* dinp, const float* dout,
                                   const float* inp, const float* out, int64_t n, float alpha, float beta) {
    return level == UnaryVecLevel::Avx2 ? avx2::unary_backward_f32(op, dinp, dout, inp, out, n, alpha, beta)
                                        : generic::unary_backward_f32(op, dinp, dout, inp, out, n, alpha, beta);
}

}  // namespace ckeras::cpu
