// The AVX2 + FMA float32 GEMM micro-kernel: a 6x16 register tile of C (12 ymm accumulators, two ymm
// of B and one broadcast of A per k). This file alone is compiled with -mavx2 -mfma; gemm_cpu.cpp
// calls it only after checking the CPU (cpu_has_avx2_fma). Empty on non-x86 targets.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "cpu/gemm_cpu.h"

namespace ckeras::cpu {
namespace {

// R rows of the tile (R = mr, so edge tiles do no wasted FMAs); a is packed with stride 6 per k. The
// accumulators are named variables, not an array, so that GCC keeps all twelve in ymm registers.
#define CKERAS_FMA_ROW(r)                                               \
    if constexpr (R > r) {                                              \
        const __m256 ar = _mm256_broadcast_ss(a + r);                   \
        c##r##0 = _mm256_fmadd_ps(ar, b0, c##r##0);                     \
        c##r##1 = _mm256_fmadd_ps(ar, b1, c##r##1);                     \
    }
#define CKERAS_SPILL_ROW(r)                                             \
    if constexpr (R > r) {                                              \
        acc[r][0] = _mm256_mul_ps(va, c##r##0);                         \
        acc[r][1] = _mm256_mul_ps(va, c##r##1);                         \
    }

template <int R>
void micro_rows(int64_t kc, const float* a, const float* b, int64_t bs, float* c, int64_t ldc, int nr,
                float alpha, float beta) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#pragma GCC unroll 4
    for (int64_t k = 0; k < kc; ++k) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        CKERAS_FMA_ROW(0) CKERAS_FMA_ROW(1) CKERAS_FMA_ROW(2)
        CKERAS_FMA_ROW(3) CKERAS_FMA_ROW(4) CKERAS_FMA_ROW(5)
        a += kAvx2MR;
        b += bs;
    }
    // acc = alpha * tile, one (2 x ymm) row per C row.
    const __m256 va = _mm256_set1_ps(alpha);
    __m256 acc[R][2];
    CKERAS_SPILL_ROW(0) CKERAS_SPILL_ROW(1) CKERAS_SPILL_ROW(2)
    CKERAS_SPILL_ROW(3) CKERAS_SPILL_ROW(4) CKERAS_SPILL_ROW(5)
    if (nr == kAvx2NR) {
        const __m256 vb = _mm256_set1_ps(beta);
        for (int r = 0; r < R; ++r) {
            float* cr = c + r * ldc;
            if (beta != 0.f) {
                acc[r][0] = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), acc[r][1]);
            }
            _mm256_storeu_ps(cr, acc[r][0]);
            _mm256_storeu_ps(cr + 8, acc[r][1]);
        }
        return;
    }
    // Right edge (nr < 16): write only the nr valid columns.
    for (int r = 0; r < R; ++r) {
        alignas(32) float row[kAvx2NR];
        _mm256_store_ps(row, acc[r][0]);
        _mm256_store_ps(row + 8, acc[r][1]);
        store_tile_row_edge(row, c + r * ldc, nr, beta);
    }
}
#undef CKERAS_FMA_ROW
#undef CKERAS_SPILL_ROW

}  // namespace

void sgemm_micro_avx2(int64_t kc, const float* a, const float* b, int64_t bs, float* c, int64_t ldc, int mr,
                      int nr, float alpha, float beta) {
    switch (mr) {
        case 6: micro_rows<6>(kc, a, b, bs, c, ldc, nr, alpha, beta); break;
        case 5: micro_rows<5>(kc, a, b, bs, c, ldc, nr, alpha, beta); break;
        case 4: micro_rows<4>(kc, a, b, bs, c, ldc, nr, alpha, beta); break;
        case 3: micro_rows<3>(kc, a, b, bs, c, ldc, nr, alpha, beta); break;
        case 2: micro_rows<2>(kc, a, b, bs, c, ldc, nr, alpha, beta); break;
        case 1: micro_rows<1>(kc, a, b, bs, c, ldc, nr, alpha, beta); break;
        default: break;
    }
}

}  // namespace ckeras::cpu

#endif  // x86
