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

// Forces the SIMD path that cpu_simd_level() reports and gemm takes, for tests: "generic", "avx2",
// "avx512" (ValueError when this CPU lacks it), or nullptr / "" to go back to detection plus the
// CKERAS_CPU_SIMD environment variable.
void set_gemm_simd_override(const char* level);
// The GEMM reads a row-major B (a Dense weight) in place instead of packing it when the rows of one KC block
// span at most this many bytes (and a thread has few enough rows of A to run against it: gemm_cpu.cpp). In
// place, a 16-column panel of B is kc rows ldb floats apart: for ldb = 128 they fall in 1/8 of L1's sets, so
// once the block outgrows L1 each 6-row tile of A streams the panel from L2 again. That hides behind the FMAs
// only where 256-bit FMAs run at half rate (Zen 1), and there in place measured as fast as packing or faster
// (packing costs every thread a copy of B). On Zen 3 packing measured 20-27% faster (256x784 @ 784x128: 395
// -> 306 us, 1024x784 @ 784x128: 2035 -> 1520 us, 2 threads, interleaved), so elsewhere B is read in place
// only while the block fits in L1 (K = 32: a weight gradient's dY).
constexpr int64_t kGemmBInPlaceL1Span = 32 << 10, kGemmBInPlaceMaxSpan = 256 << 10;
int64_t gemm_b_in_place_max_span();
// For tests: -1 the CPU decides (above), 0 B is always packed, 1 read in place up to kGemmBInPlaceMaxSpan.
void set_gemm_b_in_place_override(int mode);
// CPUID says AVX2 and FMA are both present (and the OS saves YMM state).
bool cpu_has_avx2_fma();
// CPUID says AVX-512 F, DQ, BW and VL are present (and the OS saves ZMM state), besides AVX2+FMA.
bool cpu_has_avx512();

// ---- AVX2 + FMA float32 micro-kernel (gemm_avx2.cpp, compiled with -mavx2 -mfma) ----------------
// Call only when cpu_has_avx2_fma(). One register tile of C (mr <= 6 rows, nr <= 16 columns), or a strip of
// mr > 6 rows run as 6-row tiles, micro-panel after micro-panel (a advances by 6 kc per tile):
//   C[i*ldc + j] = alpha * sum_k a[k*6 + i] * b[k*bs + j] + beta * C[i*ldc + j]   (beta == 0: C not read)
// a: packed A micro-panel (kc, 6), k-major, rows past mr zero or unused. b: (kc, 16) rows with row
// stride bs (16 for a packed B micro-panel, ldb when B is read in place); all 16 columns must be
// readable even when nr < 16.
constexpr int kAvx2MR = 6, kAvx2NR = 16;

// The right edge of a micro-kernel's tile row (nr < NR): C[j] = row[j] + beta C[j] for the nr valid
// columns (beta == 0: C not read). `row` holds alpha * the row's sums.
inline void store_tile_row_edge(const float* row, float* c, int nr, float beta) {
    if (beta == 0.f) {
        for (int j = 0; j < nr; ++j) c[j] = row[j];
    } else {
        for (int j = 0; j < nr; ++j) c[j] = row[j] + beta * c[j];
    }
}
void sgemm_micro_avx2(int64_t kc, const float* a, const float* b, int64_t bs, float* c, int64_t ldc, int mr,
                      int nr, float alpha, float beta);
// The same tile with A read in place, row-major: a[i * lda + k] (only rows i < mr are read). The sums run
// in the same order, so the result has the packed kernel's bits. Like it, these take a strip of mr > 6 rows,
// run as 6-row tiles from the top (the driver calls them once per column panel of an MC block).
void sgemm_micro_avx2_direct(int64_t kc, const float* a, int64_t lda, const float* b, int64_t bs, float* c,
                             int64_t ldc, int mr, int nr, float alpha, float beta);
// The same tile with a transposed A read in place: op(A)(i, k) = a[i + k * lda] (A stored (K, M)), as the
// weight gradient X^T dY of a Dense layer has it. Same sums in the same order, so the packed kernel's bits.
void sgemm_micro_avx2_direct_t(int64_t kc, const float* a, int64_t lda, const float* b, int64_t bs, float* c,
                               int64_t ldc, int mr, int nr, float alpha, float beta);

// C (M, N) = alpha * A (M, K) @ B (K, N) + beta * C for M <= 2 rows (any M works, two rows at a time),
// without packing: A's element (i, k) at a[i * a_rs + k * a_cs], B row-major with row stride ldb. For
// single-sample inference and other GEMV-like products, where the tiled kernel is latency-bound.
void sgemm_small_m_avx2(int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t a_rs, int64_t a_cs,
                        const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
constexpr int64_t kAvx2SmallM = 2;

// ---- AVX-512 float32 micro-kernel (gemm_avx512.cpp, compiled with -mavx512f) ------------------
// Call only when cpu_has_avx512(). The same contract with a 12x32 tile (a packed with stride 12).
constexpr int kAvx512MR = 12, kAvx512NR = 32;
void sgemm_micro_avx512(int64_t kc, const float* a, const float* b, int64_t bs, float* c, int64_t ldc, int mr,
                        int nr, float alpha, float beta);

// The packed float32 driver run with a given micro-kernel and its tile, (6, 16) or (12, 32), whatever
// the CPU: for tests of a kernel this CPU cannot run natively (the AVX-512 one built against SIMDe).
using SgemmMicroFn = void (*)(int64_t, const float*, const float*, int64_t, float*, int64_t, int, int, float,
                              float);
void sgemm_packed_with_micro(SgemmMicroFn micro, int mr, int nr, bool trans_a, bool trans_b, int64_t M, int64_t N,
                             int64_t K, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
                             float beta, float* C, int64_t ldc);

}  // namespace ckeras::cpu
