// Shared by the CUDA GEMM kernels (gemm_simt.cu, gemm_tf32.cu) and their dispatcher (gemm.cu): the
// kernel parameters, the tile order, the alpha/beta epilogue and the split-K reduction, plus the host
// side that picks a tile shape and a split of K. nvcc-only header.
//
// Every kernel computes one BM x BN tile of C per block (blockIdx.x, in the grouped order of
// tile_origin) over one slice of K (blockIdx.y, `split`). With one split a block writes C directly.
// With several, each block writes its raw sums to a float workspace ws (splits, M, N); the block that
// finishes a tile last (a per-tile arrival counter) adds the slices in split order and writes C, so the
// result is deterministic and the whole GEMM stays one launch.
#pragma once
#include <cstdint>
#include <memory>

#include "cuda_common.cuh"
#include "gemm_cuda.h"

namespace ckeras::cuda {

// One GEMM as the kernels see it; T is the element and accumulator type (float or double).
template <class T>
struct GemmParams {
    const T* A;
    const T* B;
    T* C;
    T* ws;          // split-K partial sums (splits, M, N); unused with one split
    int* counters;  // per-tile arrival counts, zero between launches; unused with one split
    int64_t lda, ldb, ldc;
    int M, N, K;
    int tiles_m, tiles_n;
    int splits, k_chunk;  // split z covers k in [z * k_chunk, min(K, (z + 1) * k_chunk))
    T alpha, beta;
};

// The GEMM as the host launchers receive it (sizes already checked to fit in int).
struct GemmArgs {
    bool ta, tb;
    int M, N, K;
    double alpha, beta;
    const void* A;
    int64_t lda;
    const void* B;
    int64_t ldb;
    void* C;
    int64_t ldc;
};

// ---- device side -------------------------------------------------------------------------------

// Origin (m0, n0) of this block's tile. Tiles go in groups of kGroup tile rows, column by column inside
// a group, so that blocks running together share rows of A and columns of B in L2.
template <int BM, int BN>
__device__ inline void tile_origin(int tiles_m, int tiles_n, int& m0, int& n0) {
    constexpr int kGroup = 8;
    const int pid = blockIdx.x, width = kGroup * tiles_n;
    const int first = pid / width * kGroup;
    const int rows = min(tiles_m - first, kGroup);
    const int r = pid % width;
    m0 = (first + r % rows) * BM;
    n0 = (r / rows) * BN;
}

// C(i, j) = alpha * acc + beta * C(i, j); beta == 0 never reads C (a NaN there does not propagate).
template <class T>
__device__ inline void store_c(const GemmParams<T>& p, int i, int j, T acc) {
    T* c = p.C + int64_t(i) * p.ldc + j;
    *c = p.beta == T(0) ? p.alpha * acc : p.alpha * acc + p.beta * *c;
}

// Where a block puts the sum for C(i, j) (in range): C itself, or its split's workspace slice.
template <class T>
__device__ inline void emit(const GemmParams<T>& p, int i, int j, T acc) {
    if (p.splits == 1) store_c(p, i, j, acc);
    else p.ws[(int64_t(blockIdx.y) * p.M + i) * p.N + j] = acc;
}

// Called by every thread of a block after it has emitted its tile. With several splits, the last
// block to arrive at this tile adds the workspace slices in split order and writes C (threadFence
// reduction pattern: each writer fences before its block arrives; the last block fences after).
template <class T, int BM, int BN, int NT>
__device__ void split_k_finish(const GemmParams<T>& p, int m0, int n0) {
    if (p.splits == 1) return;
    __shared__ int is_last;
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) {
        const int arrived = atomicAdd(&p.counters[blockIdx.x], 1);
        is_last = arrived == p.splits - 1;
        if (is_last) p.counters[blockIdx.x] = 0;  // every split has arrived: ready for the next launch
    }
    __syncthreads();
    if (!is_last) return;
    __threadfence();
    const int64_t slice = int64_t(p.M) * p.N;
    for (int e = threadIdx.x; e < BM * BN; e += NT) {
        const int i = m0 + e / BN, j = n0 + e % BN;
        if (i >= p.M || j >= p.N) continue;
        const T* w = p.ws + int64_t(i) * p.N + j;
        T sum = T(0);
        for (int z = 0; z < p.splits; ++z) sum += __ldcg(w + z * slice);  // L2: other blocks wrote these
        store_c(p, i, j, sum);
    }
}

// ---- host side ---------------------------------------------------------------------------------

// A kernel's tile: BM x BN of C, K in steps of bk; a split of K is worth it only from kmin upwards.
struct TileShape {
    int bm, bn, bk, kmin;
};

// The launch a shape list gives for one problem: which shape, the tile grid and the split of K.
struct GemmPlan {
    int shape;  // index into the list given to plan_gemm
    int tiles_m, tiles_n, splits, k_chunk;
};

// Picks the first (largest) shape whose tiles, times a split of K into pieces of at least kmin, give
// every SM a block; failing that, the last (smallest) shape with as many splits as kmin allows.
// Shapes are ordered from largest to smallest. Splits stay at most 32 and need a tile grid small
// enough for the arrival counters.
GemmPlan plan_gemm(int M, int N, int K, const TileShape* shapes, int count);

// Fills the device parts of GemmParams for a plan: workspace (kept alive by *hold until the launch
// is queued) and arrival counters when K is split.
void* gemm_workspace(const GemmPlan& plan, int M, int N, size_t elem_size, std::shared_ptr<void>* hold);
int* gemm_tile_counters();

template <class T>
GemmParams<T> gemm_params(const GemmArgs& a, const GemmPlan& plan, std::shared_ptr<void>* hold) {
    GemmParams<T> p;
    p.A = static_cast<const T*>(a.A);
    p.B = static_cast<const T*>(a.B);
    p.C = static_cast<T*>(a.C);
    p.ws = static_cast<T*>(gemm_workspace(plan, a.M, a.N, sizeof(T), hold));
    p.counters = plan.splits > 1 ? gemm_tile_counters() : nullptr;
    p.lda = a.lda, p.ldb = a.ldb, p.ldc = a.ldc;
    p.M = a.M, p.N = a.N, p.K = a.K;
    p.tiles_m = plan.tiles_m, p.tiles_n = plan.tiles_n;
    p.splits = plan.splits, p.k_chunk = plan.k_chunk;
    p.alpha = T(a.alpha), p.beta = T(a.beta);
    return p;
}

// Facts about the current device that the launchers need (cached per device).
struct DeviceCaps {
    int major;       // compute capability major version
    int smem_optin;  // largest dynamic shared memory a block may ask for, in bytes
};
const DeviceCaps& device_caps();

inline dim3 gemm_grid(const GemmPlan& plan) {
    return dim3(unsigned(plan.tiles_m) * unsigned(plan.tiles_n), unsigned(plan.splits), 1);
}

// Launchers of the two kernel families (gemm_simt.cu, gemm_tf32.cu). K >= 1, alpha != 0, M, N >= 1.
void gemm_simt_cuda(DType dtype, const GemmArgs& args);
void gemm_mma_cuda(GemmMath math, const GemmArgs& args);

}  // namespace ckeras::cuda
