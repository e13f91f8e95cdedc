// CUDA-core GEMM for float32 (full FP32 math) and float64: shared-memory tiles, a TM x TN register
// block per thread, and double-buffered shared memory fed through registers (the next K step is read
// from global memory while the current one is multiplied). The global -> shared copy also transposes,
// so the four transpose combinations share one inner loop; edges are zero-filled on load and masked on
// store, so any M, N, K works. Tensor-core paths are in gemm_tf32.cu.
#include "gemm_common.cuh"

namespace ckeras::cuda {
namespace {

// Four consecutive elements from 16-byte-aligned shared memory into d[0..3].
__device__ inline void lds4(float* d, const float* p) {
    const float4 v = *reinterpret_cast<const float4*>(p);
    d[0] = v.x, d[1] = v.y, d[2] = v.z, d[3] = v.w;
}
__device__ inline void lds4(double* d, const double* p) {
    const double2 v0 = *reinterpret_cast<const double2*>(p), v1 = *reinterpret_cast<const double2*>(p + 2);
    d[0] = v0.x, d[1] = v0.y, d[2] = v1.x, d[3] = v1.y;
}

// The copy of one operand's K step into shared memory, through registers. The operand is a tile of
// X rows (m of A or n of B) by BK, stored as (X, K) with k contiguous (KFAST) or as (K, X); shared
// memory holds it k-major, (BK, X + 4). Each of the NT threads copies kCount elements: one fixed
// coordinate along the contiguous direction (so a warp reads consecutive addresses) and kCount along
// the other, kStep apart. Elements outside the matrix, or at k >= k_end, read as zero.
template <class T, int X, int BK, int NT, bool KFAST>
struct TileCopy {
    static constexpr int kFast = KFAST ? BK : X, kStep = NT / kFast, kCount = X * BK / NT, kLd = X + 4;
    static_assert(NT % kFast == 0 && kCount * NT == X * BK && kCount <= 32, "tile copy shape");
    const T* src;  // this thread's first element of the first K step
    int64_t ld;
    int fast, slow;
    unsigned x_ok;  // bit l: copy l lies inside the matrix along X

    __device__ TileCopy(const T* base, int64_t ld_, int x0, int x_size, int k_begin, int tid)
        : ld(ld_), fast(tid % kFast), slow(tid / kFast), x_ok(0) {
        src = KFAST ? base + int64_t(x0 + slow) * ld + k_begin + fast
                    : base + int64_t(k_begin + slow) * ld + x0 + fast;
#pragma unroll
        for (int l = 0; l < kCount; ++l)
            if ((KFAST ? x0 + slow + l * kStep : x0 + fast) < x_size) x_ok |= 1u << l;
    }
    // The K step starting kb past k_begin, of which k_left elements along K remain in the split.
    __device__ void load(T (&r)[kCount], int kb, int k_left) const {
        const T* p = src + (KFAST ? int64_t(kb) : int64_t(kb) * ld);
#pragma unroll
        for (int l = 0; l < kCount; ++l) {
            const int k = KFAST ? fast : slow + l * kStep;
            r[l] = (x_ok >> l & 1u) && k < k_left ? p[int64_t(l) * kStep * ld] : T(0);
        }
    }
    __device__ void store(T* s, const T (&r)[kCount]) const {
#pragma unroll
        for (int l = 0; l < kCount; ++l) {
            const int k = KFAST ? fast : slow + l * kStep, x = KFAST ? slow + l * kStep : fast;
            s[k * kLd + x] = r[l];
        }
    }
};

// One block computes a BM x BN tile of C with (BM / TM) x (BN / TN) threads; thread (tx, ty) owns the
// rows ty * 4 + {0..3} + r * BM / RM (r < RM = TM / 4) and the columns likewise, so that its reads of
// a shared-memory row are 16-byte vectors and a warp's reads hit distinct banks or broadcast.
// Shared memory holds op(A) as (BK, BM) and op(B) as (BK, BN), rows padded by 4 elements: the
// transposing stores (k varying fastest across a warp) then fall into distinct banks.
// TA / TB: A stored (K, M) / B stored (N, K). __launch_bounds__ asks for 512 resident threads per SM
// (at most 128 registers per thread).
template <class T, int BM, int BN, int BK, int TM, int TN, bool TA, bool TB>
__global__ void __launch_bounds__((BM / TM) * (BN / TN), 512 / ((BM / TM) * (BN / TN)))
    gemm_simt_kernel(const GemmParams<T> p) {
    constexpr int NT = (BM / TM) * (BN / TN), RM = TM / 4, RN = TN / 4;
    static_assert(TM % 4 == 0 && TN % 4 == 0, "register tile");
    using CopyA = TileCopy<T, BM, BK, NT, !TA>;
    using CopyB = TileCopy<T, BN, BK, NT, TB>;
    __shared__ __align__(16) T sa[2][BK][CopyA::kLd];
    __shared__ __align__(16) T sb[2][BK][CopyB::kLd];

    const int tid = threadIdx.x, tx = tid % (BN / TN), ty = tid / (BN / TN);
    int m0, n0;
    tile_origin<BM, BN>(p.tiles_m, p.tiles_n, m0, n0);
    const int k_begin = blockIdx.y * p.k_chunk, k_len = min(p.K, k_begin + p.k_chunk) - k_begin;
    const int steps = (k_len + BK - 1) / BK;
    const CopyA copy_a(p.A, p.lda, m0, p.M, k_begin, tid);
    const CopyB copy_b(p.B, p.ldb, n0, p.N, k_begin, tid);
    T ra[CopyA::kCount], rb[CopyB::kCount];

    T acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = T(0);

    copy_a.load(ra, 0, k_len);
    copy_b.load(rb, 0, k_len);
    copy_a.store(&sa[0][0][0], ra);
    copy_b.store(&sb[0][0][0], rb);
    __syncthreads();
    for (int s = 0; s < steps; ++s) {
        const int buf = s & 1;
        const bool more = s + 1 < steps;
        if (more) {  // in flight while this step multiplies
            copy_a.load(ra, (s + 1) * BK, k_len - (s + 1) * BK);
            copy_b.load(rb, (s + 1) * BK, k_len - (s + 1) * BK);
        }
#pragma unroll
        for (int k = 0; k < BK; ++k) {
            T a[TM], b[TN];
#pragma unroll
            for (int r = 0; r < RM; ++r) lds4(&a[r * 4], &sa[buf][k][r * (BM / RM) + ty * 4]);
#pragma unroll
            for (int r = 0; r < RN; ++r) lds4(&b[r * 4], &sb[buf][k][r * (BN / RN) + tx * 4]);
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
                for (int j = 0; j < TN; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        // The other buffer was last read in step s - 1, which every thread finished before the
        // barrier that ended it; one barrier per step then orders both hazards.
        if (more) {
            copy_a.store(&sa[buf ^ 1][0][0], ra);
            copy_b.store(&sb[buf ^ 1][0][0], rb);
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < TM; ++i) {
        const int gi = m0 + (i / 4) * (BM / RM) + ty * 4 + i % 4;
        if (gi >= p.M) continue;
#pragma unroll
        for (int j = 0; j < TN; ++j) {
            const int gj = n0 + (j / 4) * (BN / RN) + tx * 4 + j % 4;
            if (gj < p.N) emit(p, gi, gj, acc[i][j]);
        }
    }
    split_k_finish<T, BM, BN, NT>(p, m0, n0);
}

template <class T, int BM, int BN, int BK, int TM, int TN>
void launch(const GemmArgs& a, const GemmPlan& plan) {
    std::shared_ptr<void> hold;
    const GemmParams<T> p = gemm_params<T>(a, plan, &hold);
    constexpr int NT = (BM / TM) * (BN / TN);
    const dim3 grid = gemm_grid(plan);
    if (!a.ta && !a.tb) gemm_simt_kernel<T, BM, BN, BK, TM, TN, false, false><<<grid, NT, 0, stream()>>>(p);
    if (!a.ta && a.tb) gemm_simt_kernel<T, BM, BN, BK, TM, TN, false, true><<<grid, NT, 0, stream()>>>(p);
    if (a.ta && !a.tb) gemm_simt_kernel<T, BM, BN, BK, TM, TN, true, false><<<grid, NT, 0, stream()>>>(p);
    if (a.ta && a.tb) gemm_simt_kernel<T, BM, BN, BK, TM, TN, true, true><<<grid, NT, 0, stream()>>>(p);
    CKERAS_CUDA_LAUNCHED("matmul (gemm_simt)");
}

// float32: 128x128 tiles with 8x8 per thread (256 threads, 2 blocks per SM) for large products, 64x64
// with 8x4 (128 threads) when 128x128 tiles cannot fill the GPU, 32x32 with 4x4 (64 threads) plus a
// split of K for small ones. The kmin values are rough guesses (no tuning run yet): a split must leave
// each block enough K steps to hide the first load. ptxas (sm_90) keeps the 128x128 kernel within
// 128 registers by spilling up to 32 bytes; the others do not spill.
constexpr TileShape kFloatShapes[] = {{128, 128, 8, 512}, {64, 64, 8, 256}, {32, 32, 8, 64}};
// float64: 64x64 with 4x4 per thread (256 threads; 8x8 doubles would spill), 32x32 with 4x4.
constexpr TileShape kDoubleShapes[] = {{64, 64, 8, 256}, {32, 32, 8, 64}};

}  // namespace

void gemm_simt_cuda(DType dtype, const GemmArgs& a) {
    if (dtype == DType::Float32) {
        const GemmPlan plan = plan_gemm(a.M, a.N, a.K, kFloatShapes, 3);
        if (plan.shape == 0) return launch<float, 128, 128, 8, 8, 8>(a, plan);
        if (plan.shape == 1) return launch<float, 64, 64, 8, 8, 4>(a, plan);
        return launch<float, 32, 32, 8, 4, 4>(a, plan);
    }
    const GemmPlan plan = plan_gemm(a.M, a.N, a.K, kDoubleShapes, 2);
    if (plan.shape == 0) return launch<double, 64, 64, 8, 4, 4>(a, plan);
    return launch<double, 32, 32, 8, 4, 4>(a, plan);
}

}  // namespace ckeras::cuda
