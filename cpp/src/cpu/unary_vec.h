// The vectorised float32 unary kernels and the run-time choice between their builds: avx512::
// (unary_avx512.cpp), avx2:: (unary_avx2.cpp, -mavx2 -mfma) and generic:: (unary_generic.cpp), one source
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

namespace avx512 {  // call only when cpu_has_avx512()
bool unary_f32(UnaryOp op, float* out, const float* inp, int64_t n, float alpha, float beta);
bool unary_backward_f32(UnaryOp op, float* dinp, const float* dout, const float* inp, const float* out,
                        int64_t n, float alpha, float beta);
}  // namespace avx512

namespace generic {
bool unary_f32(UnaryOp op, float* out, const float* inp, int64_t n, float alpha, float beta);
bool unary_backward_f32(UnaryOp op, float* dinp, const float* dout, const float* inp, const float* out,
                        int64_t n, float alpha, float beta);
}  // namespace generic

enum class UnaryVecLevel : uint8_t { Generic, Avx2, Avx512 };

// The choice cpu_simd_level() reports and the GEMM takes: CPUID, capped by CKERAS_CPU_SIMD or the
// test override (set_gemm_simd_override). Reads the environment, so call it once per kernel call.
inline UnaryVecLevel unary_vec_level() {
    const char* level = cpu_simd_level();
    if (std::strcmp(level, "avx512") == 0) return UnaryVecLevel::Avx512;
    return std::strcmp(level, "avx2") == 0 ? UnaryVecLevel::Avx2 : UnaryVecLevel::Generic;
}

inline bool unary_vec_f32(UnaryVecLevel level, UnaryOp op, float* out, const float* inp, int64_t n, float alpha,
                          float beta) {
    switch (level) {
        case UnaryVecLevel::Avx512: return avx512::unary_f32(op, out, inp, n, alpha, beta);
        case UnaryVecLevel::Avx2: return avx2::unary_f32(op, out, inp, n, alpha, beta);
        default: return generic::unary_f32(op, out, inp, n, alpha, beta);
    }
}
inline bool unary_backward_vec_f32(UnaryVecLevel level, UnaryOp op, float* dinp, const float* dout,
                                   const float* inp, const float* out, int64_t n, float alpha, float beta) {
    switch (level) {
        case UnaryVecLevel::Avx512: return avx512::unary_backward_f32(op, dinp, dout, inp, out, n, alpha, beta);
        case UnaryVecLevel::Avx2: return avx2::unary_backward_f32(op, dinp, dout, inp, out, n, alpha, beta);
        default: return generic::unary_backward_f32(op, dinp, dout, inp, out, n, alpha, beta);
    }
}

}  // namespace ckeras::cpu
