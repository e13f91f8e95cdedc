// The AVX2 + FMA float32 GEMM micro-kernel: a 6x16 register tile of C (12 ymm accumulators, two ymm
// of B and one broadcast of A per k). This file alone is compiled with -mavx2 -mfma; gemm_cpu.cpp
// calls it only after checking the CPU (cpu_has_avx2_fma). Empty on non-x86 targets.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "cpu/gemm_cpu.h"

namespace ckeras::cpu {
namespace {

// Where the micro-kernel finds A's element (r, k): a[r + 6 k] packed, a[r * lda + k] read in place from a
// row-major A, a[r + k * lda] read in place from a transposed one (the columns of the stored matrix).
enum AMode : int { kAPacked = 0, kARows = 1, kACols = 2 };

// R rows of the tile (R = mr, so edge tiles do no wasted FMAs); rows past R of an A read in place are never
// touched. The accumulators are named variables, not an array, so that GCC keeps all twelve in ymm registers.
#define CKERAS_FMA_ROW(r)                                               \
    if constexpr (R > r) {                                              \
        const __m256 ar = _mm256_broadcast_ss(a + r * a_rs);            \
        c##r##0 = _mm256_fmadd_ps(ar, b0, c##r##0);                     \
        c##r##1 = _mm256_fmadd_ps(ar, b1, c##r##1);                     \
    }
#define CKERAS_SPILL_ROW(r)                                             \
    if constexpr (R > r) {                                              \
        acc[r][0] = scale ? _mm256_mul_ps(va, c##r##0) : c##r##0;       \
        acc[r][1] = scale ? _mm256_mul_ps(va, c##r##1) : c##r##1;       \
    }

// prefetch_next: A is read in place row-major and 6 more rows follow this tile's: bring their lines in while
// this tile runs, one line per row every 16 k-steps. A fresh batch comes from DRAM in 6 short row streams that
// the hardware prefetchers ramp up on late: 1024x784 @ 784x64 with a new A per call went 1.52-1.59 -> 1.45-1.47
// ms on Zen 1 (2 threads); with A in cache it is unchanged.
template <int R, int kMode = kAPacked>
void micro_rows(int64_t kc, const float* a, const float* b, int64_t bs, float* c, int64_t ldc, int nr,
                float alpha, float beta, int64_t lda = 0, bool prefetch_next = false) {
    const int64_t a_rs = kMode == kARows ? lda : 1;
    const int64_t a_ks = kMode == kAPacked ? kAvx2MR : kMode == kARows ? 1 : lda;
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#pragma GCC unroll 4
    for (int64_t k = 0; k < kc; ++k) {
        if (kMode == kARows && prefetch_next && (k & 15) == 0) {
            for (int r = kAvx2MR; r < 2 * kAvx2MR; ++r)
                _mm_prefetch(reinterpret_cast<const char*>(a + r * a_rs), _MM_HINT_T0);
        }
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        CKERAS_FMA_ROW(0) CKERAS_FMA_ROW(1) CKERAS_FMA_ROW(2)
        CKERAS_FMA_ROW(3) CKERAS_FMA_ROW(4) CKERAS_FMA_ROW(5)
        a += a_ks;
        b += bs;
    }
    // acc = alpha * tile, one (2 x ymm) row per C row (alpha = 1, a Dense layer's case, skips the product: the
    // same bits).
    const __m256 va = _mm256_set1_ps(alpha);
    const bool scale = alpha != 1.f;
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

// ---- small M: one or two rows of C, straight from A and B (no packing) --------------------------
// With R = 1 or 2 rows the 6x16 tile keeps only 2R accumulator chains busy, fewer than the FMA latency
// needs; here each k step feeds 8 independent accumulators: R rows x (8 / R) column vectors of B's row k.
constexpr int64_t kSmallPrefetchRows = 4;

template <int R, int V>
inline void small_block(int64_t K, const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb,
                        float* c, int64_t ldc, __m256i tail, bool masked, float alpha, float beta) {
    __m256 acc[R][V];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < V; ++v) acc[r][v] = _mm256_setzero_ps();
    for (int64_t k = 0; k < K; ++k, b += ldb) {
        // B streams from L2 (a 784x128 layer is 401 KB): asking for the lines a few rows ahead into L1
        // took 1x784 @ 784x128 from 10-11 to 8 us on Zen 1; 16 or more rows ahead made it slower.
#pragma GCC unroll 8
        for (int v = 0; v < V; v += 2)
            _mm_prefetch(reinterpret_cast<const char*>(b + kSmallPrefetchRows * ldb + 8 * v), _MM_HINT_T0);
        __m256 bv[V];
#pragma GCC unroll 8
        for (int v = 0; v < V; ++v) bv[v] = masked ? _mm256_maskload_ps(b + 8 * v, tail) : _mm256_loadu_ps(b + 8 * v);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            const __m256 ar = _mm256_broadcast_ss(a + r * a_rs + k * a_cs);
#pragma GCC unroll 8
            for (int v = 0; v < V; ++v) acc[r][v] = _mm256_fmadd_ps(ar, bv[v], acc[r][v]);
        }
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < V; ++v) {
            float* cp = c + r * ldc + 8 * v;
            __m256 out = _mm256_mul_ps(va, acc[r][v]);
            if (beta != 0.f) out = _mm256_fmadd_ps(vb, masked ? _mm256_maskload_ps(cp, tail) : _mm256_loadu_ps(cp), out);
            if (masked) _mm256_maskstore_ps(cp, tail, out);
            else _mm256_storeu_ps(cp, out);
        }
}

template <int R>
void small_rows(int64_t N, int64_t K, float alpha, const float* a, int64_t a_rs, int64_t a_cs, const float* b,
                int64_t ldb, float beta, float* c, int64_t ldc) {
    constexpr int V = 8 / R;
    const __m256i all = _mm256_set1_epi32(-1);
    int64_t j = 0;
    for (; j + 8 * V <= N; j += 8 * V) small_block<R, V>(K, a, a_rs, a_cs, b + j, ldb, c + j, ldc, all, false, alpha, beta);
    for (; j + 8 <= N; j += 8) small_block<R, 1>(K, a, a_rs, a_cs, b + j, ldb, c + j, ldc, all, false, alpha, beta);
    if (j < N) {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(N - j)), lane);
        small_block<R, 1>(K, a, a_rs, a_cs, b + j, ldb, c + j, ldc, tail, true, alpha, beta);
    }
}

}  // namespace

void sgemm_small_m_avx2(int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t a_rs, int64_t a_cs,
                        const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
    int64_t i = 0;
    for (; i + 2 <= M; i += 2) small_rows<2>(N, K, alpha, a + i * a_rs, a_rs, a_cs, b, ldb, beta, c + i * ldc, ldc);
    if (i < M) small_rows<1>(N, K, alpha, a + i * a_rs, a_rs, a_cs, b, ldb, beta, c + i * ldc, ldc);
}

namespace {
// A strip of mr rows as 6-row tiles from the top, then the last 1-6 rows; the next tile's A starts 6 micro-panel
// rows (packed: 6 kc floats), 6 rows (row-major: 6 lda) or 6 columns (transposed: 6) further on.
template <int kMode>
void micro_strip(int64_t kc, const float* a, int64_t lda, const float* b, int64_t bs, float* c, int64_t ldc, int mr,
                 int nr, float alpha, float beta) {
    const int64_t a_step = kMode == kAPacked ? kAvx2MR * kc : kMode == kARows ? kAvx2MR * lda : kAvx2MR;
    for (; mr > kAvx2MR; mr -= kAvx2MR, a += a_step, c += kAvx2MR * ldc)
        micro_rows<kAvx2MR, kMode>(kc, a, b, bs, c, ldc, nr, alpha, beta, lda, mr >= 2 * kAvx2MR);
    switch (mr) {
        case 6: micro_rows<6, kMode>(kc, a, b, bs, c, ldc, nr, alpha, beta, lda); break;
        case 5: micro_rows<5, kMode>(kc, a, b, bs, c, ldc, nr, alpha, beta, lda); break;
        case 4: micro_rows<4, kMode>(kc, a, b, bs, c, ldc, nr, alpha, beta, lda); break;
        case 3: micro_rows<3, kMode>(kc, a, b, bs, c, ldc, nr, alpha, beta, lda); break;
        case 2: micro_rows<2, kMode>(kc, a, b, bs, c, ldc, nr, alpha, beta, lda); break;
        case 1: micro_rows<1, kMode>(kc, a, b, bs, c, ldc, nr, alpha, beta, lda); break;
        default: break;
    }
}
}  // namespace

void sgemm_micro_avx2(int64_t kc, const float* a, const float* b, int64_t bs, float* c, int64_t ldc, int mr,
                      int nr, float alpha, float beta) {
    micro_strip<kAPacked>(kc, a, 0, b, bs, c, ldc, mr, nr, alpha, beta);
}

void sgemm_micro_avx2_direct(int64_t kc, const float* a, int64_t lda, const float* b, int64_t bs, float* c,
                             int64_t ldc, int mr, int nr, float alpha, float beta) {
    micro_strip<kARows>(kc, a, lda, b, bs, c, ldc, mr, nr, alpha, beta);
}

void sgemm_micro_avx2_direct_t(int64_t kc, const float* a, int64_t lda, const float* b, int64_t bs, float* c,
                               int64_t ldc, int mr, int nr, float alpha, float beta) {
    micro_strip<kACols>(kc, a, lda, b, bs, c, ldc, mr, nr, alpha, beta);
}

}  // namespace ckeras::cpu

#endif  // x86
