// Deterministic reductions over a "team" of threads that cooperate on one row: a warp (kWidth = 32,
// shuffles only) or a whole block (kWidth = blockDim.x, shuffles then shared memory). Every thread of
// the team gets the same bits, and the combination order is fixed, so a result never depends on
// timing. Each thread of the team must call the reduction (no early exits). nvcc-only header.
#pragma once
#include <cstdint>

#include "cuda_common.cuh"

namespace ckeras::cuda {

constexpr unsigned kFullMask = 0xffffffffu;

struct SumOp {
    __device__ double operator()(double a, double b) const { return a + b; }
};
// max that keeps a NaN once seen (as the CPU's row max does); -inf is its identity.
struct NanMaxOp {
    __device__ double operator()(double a, double b) const { return (a > b || a != a) ? a : b; }
};

// Grid-stride loop bounds for flat element loops.
__device__ inline int64_t global_thread() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ inline int64_t global_threads() { return int64_t(gridDim.x) * blockDim.x; }

template <class Op>
__device__ double warp_reduce(double v, Op op) {
    for (int d = 16; d > 0; d >>= 1) v = op(v, __shfl_xor_sync(kFullMask, v, d));
    // Lane 0's bits everywhere: op(a, b) and op(b, a) may differ in the sign of a zero.
    return __shfl_sync(kFullMask, v, 0);
}

// kWidth == 32: the calling warp; otherwise the whole block, whose size must be kWidth.
template <int kWidth, class Op>
__device__ double team_reduce(double v, Op op) {
    static_assert(kWidth % 32 == 0 && kWidth <= 1024, "a team is a warp or a block of whole warps");
    v = warp_reduce(v, op);
    if constexpr (kWidth == 32) {
        return v;
    } else {
        __shared__ double partial[kWidth / 32];
        if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
        __syncthreads();
        double r = partial[0];
        for (int k = 1; k < kWidth / 32; ++k) r = op(r, partial[k]);
        __syncthreads();  // the next reduction may overwrite `partial`
        return r;
    }
}

template <int kWidth>
__device__ double team_sum(double v) { return team_reduce<kWidth>(v, SumOp{}); }
template <int kWidth>
__device__ double team_max(double v) { return team_reduce<kWidth>(v, NanMaxOp{}); }

// Runs body.template row<kWidth>(b, lane) for every row b in [0, rows), one team per row: a warp for
// rows up to kWideRow elements, a block of kBlock threads above. Body is a plain struct (pointers,
// sizes) passed by value.
constexpr int64_t kWideRow = 2048;

template <class Body, int kWidth>
__global__ void rows_kernel(Body body, int64_t rows) {
    const int lane = threadIdx.x % kWidth;
    const int64_t team = global_thread() / kWidth, teams = global_threads() / kWidth;
    for (int64_t b = team; b < rows; b += teams) body.template row<kWidth>(b, lane);  // uniform per team
}

template <class Body>
void launch_rows(const Body& body, int64_t rows, int64_t row_len, const char* op) {
    if (rows <= 0) return;
    if (row_len >= kWideRow)
        rows_kernel<Body, kBlock><<<grid_for(rows * kBlock), kBlock, 0, stream()>>>(body, rows);
    else
        rows_kernel<Body, 32><<<grid_for(rows * 32), kBlock, 0, stream()>>>(body, rows);
    CKERAS_CUDA_LAUNCHED(op);
}

}  // namespace ckeras::cuda
