// The AVX-512 float32 GEMM micro-kernel: a 12x32 register tile of C (24 zmm accumulators, two zmm of B
// and one broadcast of A per k). This file alone is compiled with -mavx512f (see CMakeLists.txt);
// gemm_cpu.cpp calls it only after checking the CPU (cpu_has_avx512). Empty on non-x86 targets.
//
// The tests also compile this file a second time against SIMDe's portable AVX-512 intrinsics
// (CKERAS_AVX512_EMULATE, with the kernel renamed), so that its tiling, edges and alpha/beta handling
// are checked on machines without AVX-512 too.
#if defined(CKERAS_AVX512_EMULATE)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#define CKERAS_HAS_AVX512_SOURCE 1
#elif defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CKERAS_HAS_AVX512_SOURCE 1
#endif

#if defined(CKERAS_HAS_AVX512_SOURCE)
#include <utility>

#include "cpu/gemm_cpu.h"

namespace ckeras::cpu {
namespace {

// R rows of the tile (R = mr, so edge tiles do no wasted FMAs); a is packed with stride 12 per k.
// Named accumulators, not an array, so that the compiler keeps all 24 in zmm registers.
#define CKERAS_FMA_ROW(r)                                               \
    if constexpr (R > r) {                                              \
        const __m512 ar = _mm512_set1_ps(a[r]);                         \
        c##r##_0 = _mm512_fmadd_ps(ar, b0, c##r##_0);                   \
        c##r##_1 = _mm512_fmadd_ps(ar, b1, c##r##_1);                   \
    }
#define CKERAS_SPILL_ROW(r)                                             \
    if constexpr (R > r) {                                              \
        acc[r][0] = _mm512_mul_ps(va, c##r##_0);                        \
        acc[r][1] = _mm512_mul_ps(va, c##r##_1);                        \
    }

template <int R>
void micro_rows(int64_t kc, const float* a, const float* b, int64_t bs, float* c, int64_t ldc, int nr,
                float alpha, float beta) {
    __m512 c0_0 = _mm512_setzero_ps(), c0_1 = c0_0, c1_0 = c0_0, c1_1 = c0_0, c2_0 = c0_0, c2_1 = c0_0;
    __m512 c3_0 = c0_0, c3_1 = c0_0, c4_0 = c0_0, c4_1 = c0_0, c5_0 = c0_0, c5_1 = c0_0;
    __m512 c6_0 = c0_0, c6_1 = c0_0, c7_0 = c0_0, c7_1 = c0_0, c8_0 = c0_0, c8_1 = c0_0;
    __m512 c9_0 = c0_0, c9_1 = c0_0, c10_0 = c0_0, c10_1 = c0_0, c11_0 = c0_0, c11_1 = c0_0;
#pragma GCC unroll 2
    for (int64_t k = 0; k < kc; ++k) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        CKERAS_FMA_ROW(0) CKERAS_FMA_ROW(1) CKERAS_FMA_ROW(2) CKERAS_FMA_ROW(3)
        CKERAS_FMA_ROW(4) CKERAS_FMA_ROW(5) CKERAS_FMA_ROW(6) CKERAS_FMA_ROW(7)
        CKERAS_FMA_ROW(8) CKERAS_FMA_ROW(9) CKERAS_FMA_ROW(10) CKERAS_FMA_ROW(11)
        a += kAvx512MR;
        b += bs;
    }
    // acc = alpha * tile, one (2 x zmm) row per C row.
    const __m512 va = _mm512_set1_ps(alpha);
    __m512 acc[R][2];
    CKERAS_SPILL_ROW(0) CKERAS_SPILL_ROW(1) CKERAS_SPILL_ROW(2) CKERAS_SPILL_ROW(3)
    CKERAS_SPILL_ROW(4) CKERAS_SPILL_ROW(5) CKERAS_SPILL_ROW(6) CKERAS_SPILL_ROW(7)
    CKERAS_SPILL_ROW(8) CKERAS_SPILL_ROW(9) CKERAS_SPILL_ROW(10) CKERAS_SPILL_ROW(11)
    if (nr == kAvx512NR) {
        const __m512 vb = _mm512_set1_ps(beta);
        for (int r = 0; r < R; ++r) {
            float* cr = c + r * ldc;
            if (beta != 0.f) {
                acc[r][0] = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr), acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr + 16), acc[r][1]);
            }
            _mm512_storeu_ps(cr, acc[r][0]);
            _mm512_storeu_ps(cr + 16, acc[r][1]);
        }
        return;
    }
    // Right edge (nr < 32): write only the nr valid columns.
    for (int r = 0; r < R; ++r) {
        alignas(64) float row[kAvx512NR];
        _mm512_store_ps(row, acc[r][0]);
        _mm512_store_ps(row + 16, acc[r][1]);
        store_tile_row_edge(row, c + r * ldc, nr, beta);
    }
}
#undef CKERAS_FMA_ROW
#undef CKERAS_SPILL_ROW

template <int... Rs>
void dispatch_rows(int mr, int64_t kc, const float* a, const float* b, int64_t bs, float* c, int64_t ldc, int nr,
                   float alpha, float beta, std::integer_sequence<int, Rs...>) {
    ((mr == Rs + 1 ? micro_rows<Rs + 1>(kc, a, b, bs, c, ldc, nr, alpha, beta) : void()), ...);
}

}  // namespace

void sgemm_micro_avx512(int64_t kc, const float* a, const float* b, int64_t bs, float* c, int64_t ldc, int mr,
                        int nr, float alpha, float beta) {
    dispatch_rows(mr, kc, a, b, bs, c, ldc, nr, alpha, beta, std::make_integer_sequence<int, kAvx512MR>{});
}

}  // namespace ckeras::cpu

#undef CKERAS_HAS_AVX512_SOURCE
#endif  // x86 or emulated
