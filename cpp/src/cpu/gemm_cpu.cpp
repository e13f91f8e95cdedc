// CPU GEMM (KernelTable::gemm): a BLIS/GotoBLAS-style packed, cache-blocked driver. op(A) is packed into
// MR-row micro-panels and op(B) into NR-column micro-panels, so the four transpose combinations differ
// only in the packing and all share one micro-kernel: AVX-512 12x32 (gemm_avx512.cpp) or AVX2+FMA 6x16
// (gemm_avx2.cpp) when the CPU has it, else a portable one; one or two rows of C against an untransposed B
// skip packing (sgemm_small_m_avx2: single-sample inference), and with AVX2 an A against at most 256 columns is
// read in place (sgemm_micro_avx2_direct, and sgemm_micro_avx2_direct_t for a transposed A over a short K).
// Also the naive reference. No BLAS library is used.
#include "cpu/gemm_cpu.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "ckeras/device.h"
#include "cpu/cpu_common.h"

namespace ckeras::cpu {
namespace {

// ---- reference -------------------------------------------------------------------------------
template <class T>
void scale_c(T* C, int64_t M, int64_t N, int64_t ldc, T beta) {
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == T(0) ? T(0) : beta * C[i * ldc + j];
}

template <class T>
void gemm_reference(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                    const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
    if (K == 0 || alpha == T(0)) return scale_c(C, M, N, ldc, beta);
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
            double acc = 0;
            for (int64_t k = 0; k < K; ++k)
                acc += double(ta ? A[k * lda + i] : A[i * lda + k]) * double(tb ? B[j * ldb + k] : B[k * ldb + j]);
            T& c = C[i * ldc + j];
            c = beta == T(0) ? T(alpha * acc) : T(alpha * acc + beta * c);
        }
}

// ---- packing ---------------------------------------------------------------------------------
// A matrix operand as a strided view: element (r, k) at p[r * rs + k * cs]; one of rs, cs is 1.
// op(A) is viewed as (M, K); op(B) is viewed transposed, as (N, K), so one routine packs both.
template <class T>
struct View {
    const T* p;
    int64_t rs, cs;
    const T* at(int64_t r, int64_t k) const { return p + r * rs + k * cs; }
};

// Packs rows [0, rows) x k [0, kc) of v into micro-panels of W rows: dst[(r / W) * W * kc + k * W + r % W],
// i.e. each panel is (kc, W), k-major. Rows past `rows` in the last panel are zero.
template <class T, int W>
void pack_panels(const View<T>& v, int64_t rows, int64_t kc, T* dst) {
    if (v.rs == 1) {
        // For each k the block's rows are contiguous: walk k in chunks, so that a chunk of source lines
        // stays in L1 while it is scattered into every panel (each panel takes only W elements per k).
        constexpr int64_t kChunk = 16;
        for (int64_t k0 = 0; k0 < kc; k0 += kChunk) {
            const int64_t k1 = std::min(kc, k0 + kChunk);
            T* panel = dst;
            for (int64_t r0 = 0; r0 < rows; r0 += W, panel += W * kc) {
                const int n = int(std::min<int64_t>(W, rows - r0));
                for (int64_t k = k0; k < k1; ++k) {
                    const T* src = v.at(r0, k);
                    T* d = panel + k * W;
                    if (n == W) {
                        std::memcpy(d, src, sizeof(T) * W);  // a fixed-size copy: vector moves
                    } else {
                        for (int i = 0; i < W; ++i) d[i] = i < n ? src[i] : T(0);
                    }
                }
            }
        }
        return;
    }
    // Each row is contiguous along k: every panel is a transpose of (n, kc) into (kc, W).
    for (int64_t r0 = 0; r0 < rows; r0 += W, dst += W * kc) {
        const int n = int(std::min<int64_t>(W, rows - r0));
        int i = 0;
#ifdef __SSE2__
        if constexpr (std::is_same_v<T, float>) {
            for (; i + 4 <= n; i += 4) {  // 4x4 register transposes
                const float *s0 = v.at(r0 + i, 0), *s1 = s0 + v.rs, *s2 = s1 + v.rs, *s3 = s2 + v.rs;
                int64_t k = 0;
                for (; k + 4 <= kc; k += 4) {
                    __m128 x0 = _mm_loadu_ps(s0 + k), x1 = _mm_loadu_ps(s1 + k);
                    __m128 x2 = _mm_loadu_ps(s2 + k), x3 = _mm_loadu_ps(s3 + k);
                    _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
                    float* d = dst + k * W + i;
                    _mm_storeu_ps(d, x0);
                    _mm_storeu_ps(d + W, x1);
                    _mm_storeu_ps(d + 2 * W, x2);
                    _mm_storeu_ps(d + 3 * W, x3);
                }
                for (; k < kc; ++k) {
                    float* d = dst + k * W + i;
                    d[0] = s0[k], d[1] = s1[k], d[2] = s2[k], d[3] = s3[k];
                }
            }
        }
#endif
        for (; i < W; ++i) {
            T* d = dst + i;
            if (i < n) {
                const T* s = v.at(r0 + i, 0);
                for (int64_t k = 0; k < kc; ++k) d[k * W] = s[k];
            } else {
                for (int64_t k = 0; k < kc; ++k) d[k * W] = T(0);
            }
        }
    }
}

// ---- portable micro-kernel -------------------------------------------------------------------
// Same contract as sgemm_micro_avx2 with an (MR, NR) tile; plain loops that GCC keeps in registers and
// vectorises for the baseline ISA (SSE2 on x86-64).
template <class T, int MR, int NR>
void micro_generic(int64_t kc, const T* a, const T* b, int64_t bs, T* c, int64_t ldc, int mr, int nr, T alpha,
                   T beta) {
    T acc[MR][NR] = {};
    for (int64_t k = 0; k < kc; ++k, a += MR, b += bs)
        for (int r = 0; r < MR; ++r)
            for (int j = 0; j < NR; ++j) acc[r][j] += a[r] * b[j];
    for (int r = 0; r < MR; ++r)
        for (int j = 0; j < NR; ++j) {
            if (r >= mr || j >= nr) continue;
            T& cij = c[r * ldc + j];
            cij = beta == T(0) ? alpha * acc[r][j] : alpha * acc[r][j] + beta * cij;
        }
}

template <class T>
using MicroFn = void (*)(int64_t, const T*, const T*, int64_t, T*, int64_t, int, int, T, T);
// A micro-kernel reading op(A) in place from the stored A and its leading dimension lda: row-major
// (sgemm_micro_avx2_direct) or transposed (sgemm_micro_avx2_direct_t).
template <class T>
using MicroDirectFn = void (*)(int64_t, const T*, int64_t, const T*, int64_t, T*, int64_t, int, int, T, T);

// ---- scratch ---------------------------------------------------------------------------------
// Per-thread packing buffers (64-byte aligned), kept between calls: OpenMP threads persist, and a fresh
// large malloc per call would page-fault on every GEMM. nullptr when out of memory.
void* scratch(int slot, size_t bytes) {
    struct Buf {
        void* p = nullptr;
        size_t cap = 0;
        ~Buf() { std::free(p); }
    };
    thread_local Buf bufs[2];
    Buf& b = bufs[slot];
    if (bytes > b.cap) {
        std::free(b.p);
        b.cap = (bytes + 4095) & ~size_t(4095);
        b.p = std::aligned_alloc(64, b.cap);
        if (b.p == nullptr) b.cap = 0;
    }
    return b.p;
}

// ---- driver ----------------------------------------------------------------------------------
template <class T>
struct Problem {
    View<T> a, bt;            // op(A) as (M, K); op(B) transposed, as (N, K)
    const T* b;               // stored B, for reading it in place when !trans_b
    int64_t ldb, K, ldc;
    T alpha, beta, *c;
    int64_t lda;  // stored A's row stride, for the micro-kernels that read A in place
    bool strips;  // the packed micro-kernel takes a strip of mr > MR rows (as the in-place ones always do)
};

// Block sizes in elements: a packed A block (MC, KC) stays in L2, a B micro-panel (KC, NR) in L1 and
// a packed B block (KC, NC) in L3. Tuned on a 2-core AMD EPYC (32 KiB L1d, 512 KiB L2 per core).
struct Blocking { int64_t mc, kc, nc; };

// Splits n into ceil(n / max_block) near-equal blocks, each a multiple of `unit`.
int64_t balanced_block(int64_t n, int64_t max_block, int64_t unit) {
    const int64_t blocks = (n + max_block - 1) / max_block;
    const int64_t per = (n + blocks - 1) / blocks;
    return (per + unit - 1) / unit * unit;
}

// C[i0:i1, j0:j1] for one thread; j0 is a multiple of NR. When `b_in_place`, full NR-wide
// column panels of B are read straight from the stored (K, N) matrix instead of being packed.
template <class T, int MR, int NR>
bool gemm_range(const Problem<T>& g, const Blocking& bk, MicroFn<T> micro, MicroDirectFn<T> micro_direct,
                int64_t i0, int64_t i1, int64_t j0, int64_t j1, bool b_in_place) {
    if (i0 >= i1 || j0 >= j1) return true;
    const int64_t kc_max = balanced_block(g.K, bk.kc, 1);
    const int64_t mc_max = balanced_block(i1 - i0, bk.mc, MR);
    const int64_t nc_max = balanced_block(j1 - j0, bk.nc, NR);
    T* pa = micro_direct ? nullptr : static_cast<T*>(scratch(0, sizeof(T) * size_t(mc_max * kc_max)));
    T* pb = static_cast<T*>(scratch(1, sizeof(T) * size_t(kc_max * (b_in_place ? NR : nc_max))));
    if ((pa == nullptr && !micro_direct) || pb == nullptr) return false;
    for (int64_t jc = j0; jc < j1; jc += nc_max) {
        const int64_t nc = std::min(nc_max, j1 - jc);
        const int64_t n_direct = b_in_place ? nc / NR * NR : 0;  // columns [jc, jc + n_direct) read in place
        for (int64_t pc = 0; pc < g.K; pc += kc_max) {
            const int64_t kc = std::min(kc_max, g.K - pc);
            const T beta = pc == 0 ? g.beta : T(1);
            pack_panels<T, NR>({g.bt.at(jc + n_direct, pc), g.bt.rs, g.bt.cs}, nc - n_direct, kc, pb);
            for (int64_t ic = i0; ic < i1; ic += mc_max) {
                const int64_t mc = std::min(mc_max, i1 - ic);
                if (!micro_direct) pack_panels<T, MR>({g.a.at(ic, pc), g.a.rs, g.a.cs}, mc, kc, pa);
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    const int nr = int(std::min<int64_t>(NR, nc - jr));
                    const bool direct = jr < n_direct;
                    const T* bp = direct ? g.b + pc * g.ldb + jc + jr : pb + (jr - n_direct) * kc;
                    const int64_t bs = direct ? g.ldb : NR;
                    T* cp = g.c + ic * g.ldc + jc + jr;
                    // The whole strip of mc rows in one call where the kernel takes one (see gemm_cpu.h): at
                    // K = 32 a 6-row tile is ~400 cycles, and a call per tile cost 5-10% of the product.
                    if (micro_direct) {
                        micro_direct(kc, g.a.at(ic, pc), g.lda, bp, bs, cp, g.ldc, int(mc), nr, g.alpha, beta);
                    } else if (g.strips) {
                        micro(kc, pa, bp, bs, cp, g.ldc, int(mc), nr, g.alpha, beta);
                    } else {
                        for (int64_t ir = 0; ir < mc; ir += MR)
                            micro(kc, pa + ir * kc, bp, bs, cp + ir * g.ldc, g.ldc, int(std::min<int64_t>(MR, mc - ir)),
                                  nr, g.alpha, beta);
                    }
                }
            }
        }
    }
    return true;
}

// Below this many multiply-adds per thread (~5 us), another thread costs more than it saves (measured
// with warm OpenMP threads: a second thread already pays off at 2^18 multiply-adds in all).
constexpr double kMinFmaPerThread = 1 << 17;
// Packing one element costs about this many micro-kernel multiply-adds (used to pick the thread grid):
// a copy of contiguous runs, or a transpose.
constexpr double kPackCopyCost = 4, kPackTransposeCost = 8;
// B (!trans_b) is read in place rather than packed when the rows of one KC block span at most
// gemm_b_in_place_max_span() bytes (L1 or, on Zen 1, 256 KiB: in L2 without set conflicts and in the L1 TLB)
// and a thread has at most this many A micro-panels to run against it. Measured on Zen 1: in place wins for a
// (784, 128) weight, loses for 4 KiB strides.
constexpr int64_t kInPlaceMaxPanels = 96;
// op(A) is read in place (A not transposed, a micro-kernel for it given) for at most this many columns: packing
// A then costs more than it saves, since each packed element would serve only N / NR micro-kernel calls.
constexpr int64_t kDirectMaxN = 256;
// A transposed op(A) (a weight gradient X^T dY) is read in place for K (the batch) up to this. Measured with
// 2 threads, 784x128 output: K = 32 went 115 -> 110 us (with the kernel's alpha = 1 shortcut: 113 alone);
// K = 256 in place was slower, 752 -> 799 us (each k-step then touches a new row of A: the panel outgrows L1).
constexpr int64_t kDirectTMaxK = 64;

template <class T, int MR, int NR>
void gemm_packed(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
                 int64_t ldb, T beta, T* C, int64_t ldc, const Blocking& bk, MicroFn<T> micro,
                 MicroDirectFn<T> micro_rows_in_place = nullptr, MicroDirectFn<T> micro_cols_in_place = nullptr,
                 bool micro_strips = false) {
    Problem<T> g{{A, ta ? 1 : lda, ta ? lda : 1}, {B, tb ? ldb : 1, tb ? 1 : ldb}, B, ldb, K, ldc, alpha, beta, C,
                 lda, micro_strips};
    // A in place (no packing): untransposed for at most kDirectMaxN columns; transposed also only for a short K,
    // where the kernel's k-steps over the rows of the stored A stay within L1.
    MicroDirectFn<T> micro_direct = nullptr;
    if (N <= kDirectMaxN) micro_direct = !ta ? micro_rows_in_place : K <= kDirectTMaxK ? micro_cols_in_place : nullptr;
    const int64_t nt = (N + NR - 1) / NR;  // NR-wide column panels
    int threads = 1;
#ifdef _OPENMP
    const double fma = double(M) * double(N) * double(K);
    if (!omp_in_parallel())
        threads = int(std::clamp<double>(std::floor(fma / kMinFmaPerThread), 1, omp_get_max_threads()));
#endif
    const bool b_span_ok = !tb && balanced_block(K, bk.kc, 1) * ldb * int64_t(sizeof(T)) <= gemm_b_in_place_max_span();
    auto in_place = [&](int64_t rows) { return b_span_ok && (rows + MR - 1) / MR <= kInPlaceMaxPanels; };
    // Thread grid tm x tn: rows split evenly (the micro-kernel takes any row count), columns in NR-wide
    // panels. Pick the grid minimising one thread's multiply-adds (columns padded to NR) plus its packing.
    int tm = 1, tn = 1;
    double best = -1;
    for (int a = 1; a <= threads; ++a) {
        if (threads % a != 0) continue;
        const int64_t rows = (M + a - 1) / a, cols = (nt + threads / a - 1) / (threads / a) * NR;
        const double pack = (micro_direct ? 0 : ta ? kPackCopyCost : kPackTransposeCost) * double(rows) +
                            (in_place(rows) ? 0 : (tb ? kPackTransposeCost : kPackCopyCost) * double(cols));
        const double cost = (double(rows) * double(cols) + pack) * double(K);
        if (best < 0 || cost < best) best = cost, tm = a, tn = threads / a;
    }
    const bool b_in_place = in_place((M + tm - 1) / tm);
    std::atomic<bool> ok{true};
    auto work = [&](int t) {
        const int ti = t / tn, tj = t % tn;
        const int64_t i0 = M * ti / tm, i1 = M * (ti + 1) / tm;
        const int64_t j0 = std::min(N, nt * tj / tn * NR), j1 = std::min(N, nt * (tj + 1) / tn * NR);
        if (!gemm_range<T, MR, NR>(g, bk, micro, micro_direct, i0, i1, j0, j1, b_in_place)) ok = false;
    };
    if (threads == 1) {
        work(0);
    } else {
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
        for (int t = omp_get_thread_num(); t < threads; t += omp_get_num_threads()) work(t);
#endif
    }
    if (!ok) throw_error(ErrorKind::Memory, "gemm: cannot allocate packing buffers");
}

constexpr Blocking kAvx2Blocking{144, 400, 2048};
constexpr Blocking kGenericBlocking{96, 256, 2048};
// Not tuned on a machine (none with AVX-512 was at hand): a (192, 32) B micro-panel fills 24 KiB of L1
// and a (144, 192) A block 108 KiB of L2.
constexpr Blocking kAvx512Blocking{144, 192, 2048};
// Portable tiles: float 6x8 (12 SSE2 accumulators), double 4x4 (8).

template <class T>
void gemm_typed(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
                int64_t ldb, T beta, T* C, int64_t ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0 || alpha == T(0)) return scale_c(C, M, N, ldc, beta);
    if constexpr (std::is_same_v<T, float>) {
#if defined(__x86_64__) || defined(__i386__)  // gemm_avx2.cpp and gemm_avx512.cpp are built for x86 only
        const char* level = cpu_simd_level();
        const bool avx512 = std::strcmp(level, "avx512") == 0, avx2 = std::strcmp(level, "avx2") == 0;
        // AVX-512 CPUs have AVX2+FMA too. One thread: splitting B's columns between two threads measured
        // 10.5 -> 6.7 us for 1x784 @ 784x128 on a quiet machine, but 20 us with the other core busy.
        if ((avx2 || avx512) && M <= kAvx2SmallM && !tb)
            return sgemm_small_m_avx2(M, N, K, alpha, A, ta ? 1 : lda, ta ? lda : 1, B, ldb, beta, C, ldc);
        if (avx512)
            return gemm_packed<float, kAvx512MR, kAvx512NR>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                                                            kAvx512Blocking, sgemm_micro_avx512);
        if (avx2)
            return gemm_packed<float, kAvx2MR, kAvx2NR>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                                                        kAvx2Blocking, sgemm_micro_avx2, sgemm_micro_avx2_direct,
                                                        sgemm_micro_avx2_direct_t, true);
#endif
        return gemm_packed<float, 6, 8>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, kGenericBlocking,
                                        micro_generic<float, 6, 8>);
    } else {
        return gemm_packed<T, 4, 4>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, kGenericBlocking,
                                    micro_generic<T, 4, 4>);
    }
}

void gemm_cpu(DType dtype, bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const void* A,
              int64_t lda, const void* B, int64_t ldb, double beta, void* C, int64_t ldc) {
    CKERAS_DISPATCH_FLOAT(dtype, T,
                          gemm_typed<T>(ta, tb, M, N, K, T(alpha), static_cast<const T*>(A), lda,
                                        static_cast<const T*>(B), ldb, T(beta), static_cast<T*>(C), ldc));
}

}  // namespace

void gemm_reference_cpu(DType dtype, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
                        const void* A, int64_t lda, const void* B, int64_t ldb, double beta, void* C, int64_t ldc) {
    CKERAS_DISPATCH_FLOAT(dtype, T,
                          gemm_reference<T>(trans_a, trans_b, M, N, K, T(alpha), static_cast<const T*>(A), lda,
                                            static_cast<const T*>(B), ldb, T(beta), static_cast<T*>(C), ldc));
}

void sgemm_packed_with_micro(SgemmMicroFn micro, int mr, int nr, bool ta, bool tb, int64_t M, int64_t N, int64_t K,
                             float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                             float* C, int64_t ldc) {
    if (M == 0 || N == 0) return;
    if (K == 0 || alpha == 0.f) return scale_c(C, M, N, ldc, beta);
    if (mr == kAvx2MR && nr == kAvx2NR)
        return gemm_packed<float, kAvx2MR, kAvx2NR>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                                                    kAvx2Blocking, micro);
    CKERAS_CHECK(mr == kAvx512MR && nr == kAvx512NR, "sgemm_packed_with_micro: unsupported tile ", mr, "x", nr);
    gemm_packed<float, kAvx512MR, kAvx512NR>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, kAvx512Blocking,
                                             micro);
}

void register_gemm_cpu(KernelTable& t) { t.gemm = gemm_cpu; }

}  // namespace ckeras::cpu
