// CPU GEMM internals shared by gemm_cpu.cpp, gemm_avx2.cpp, simd_level.cpp and the tests: the naive
// reference, the SIMD-path override, and the AVX2 float32 micro-kernel. Host-only; no intrinsics here.
#pragma once
#include <cstdint>

#include "ckeras/dtype.h"

namespace ckeras::cpu {

// The spec for KernelTable::gemm, as a plain triple loop (double accumulation). Row-major
// C(M, N) = alpha * op(A)(M, K) @ op(B)(K, N) + beta * C. A is stored (M, K) with row stride lda, or
// (K, M) when trans_a; B is stored (K, N) with row stride ldb, or (N, K) when trans_b. beta == 0 never
// reads C; alpha == 0 or K == 0 gives C = beta * C without reading A or B (BLAS semantics).
void gemm_reference_cpu(DType dtype, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                        double alpha, const void* A, int64_t lda, const void* B, int64_t ldb, double beta,
                        void* C, int64_t ldc);

// Forces the SIMD path that cpu_simd_level() reports and gemm takes, for tests: "generic", "avx2"
// (ValueError when this CPU lacks AVX2+FMA), or nullptr / "" to go back to detection plus the
// CKERAS_CPU_SIMD environment variable.
void set_gemm_simd_override(const char* level);
// CPUID says AVX2 and FMA are both present (and the OS saves YMM state).
bool cpu_has_avx2_fma();

// ---- AVX2 + FMA float32 micro-kernel (gemm_avx2.cpp, compiled with -mavx2 -mfma) ----------------
// Call only when cpu_has_avx2_fma(). One register tile of C (mr <= 6 rows, nr <= 16 columns):
//   C[i*ldc + j] = alpha * sum_k a[k*6 + i] * b[k*bs + j] + beta * C[i*ldc + j]   (beta == 0: C not read)
// a: packed A micro-panel (kc, 6), k-major, rows past mr zero or unused. b: (kc, 16) rows with row
// stride bs (16 for a packed B micro-panel, ldb when B is read in place); all 16 columns must be
// readable even when nr < 16.
constexpr int kAvx2MR = 6, kAvx2NR = 16;
void sgemm_micro_avx2(int64_t kc, const float* a, const float* b, int64_t bs, float* c, int64_t ldc, int mr,
                      int nr, float alpha, float beta);

}  // namespace ckeras::cpu
