// CUDA twin of cpu/softmax_cpu.cpp: softmax and log-softmax over the middle dim of a contiguous
// (outer, n, inner) buffer, and their backward from the forward output; float32 and float64.
//
// The CPU's arithmetic: the row max (NaN sticky) subtracted in T, exp in T, sums and the final scaling
// in double. So a row holding +inf or NaN, or only -inf, gives NaN across that row and nowhere else.
// Only the order of the double sums differs from the CPU.
//
// inner == 1: a block per row, reductions by warp shuffles then shared memory. inner > 1: 32x8 blocks,
// each thread a column walking every 8th row, combined through shared memory.
#include <algorithm>

#include "kernel_util.cuh"

namespace ckeras::cuda {
namespace {

template <class T>
__device__ __forceinline__ T nan_max(T m, T x) { return (m > x || m != m) ? m : x; }  // NaN is sticky

struct MaxOp { template <class T> __device__ T operator()(T a, T b) const { return nan_max(a, b); } };
struct SumOp { __device__ double operator()(double a, double b) const { return a + b; } };

// Combines v over the 1D block (blockDim.x a multiple of 32) and returns the result to every thread.
// smem: 32 elements; the trailing barrier lets the caller reuse it at once.
template <class V, class F>
__device__ V block_allreduce(V v, V* smem, F f) {
    for (int d = 16; d > 0; d /= 2) v = f(v, __shfl_down_sync(0xffffffffu, v, d));
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    v = smem[0];
    for (int w = 1; w < nwarps; ++w) v = f(v, smem[w]);  // same order in every thread
    __syncthreads();
    return v;
}

// Combines v over the kColsY rows of a 32 x kColsY block, per column, and returns it to every thread.
constexpr int kColsX = 32, kColsY = 8;
template <class V, class F>
__device__ V column_allreduce(V v, V (*smem)[kColsX], F f) {
    const int tx = threadIdx.x, ty = threadIdx.y;
    smem[ty][tx] = v;
    __syncthreads();
    for (int h = kColsY / 2; h > 0; h /= 2) {
        if (ty < h) smem[ty][tx] = f(smem[ty][tx], smem[ty + h][tx]);
        __syncthreads();
    }
    v = smem[0][tx];
    __syncthreads();
    return v;
}

// ---- inner == 1: one block per row of (rows, n) --------------------------------------------------

template <class T>
__global__ void softmax_rows_kernel(T* y, const T* x, int64_t rows, int64_t n, bool log) {
    __shared__ T smem_t[32];
    __shared__ double smem_d[32];
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const T* xr = x + row * n;
        T* yr = y + row * n;
        T m = lowest_value<T>();
        for (int64_t k = threadIdx.x; k < n; k += blockDim.x) m = nan_max(m, xr[k]);
        m = block_allreduce(m, smem_t, MaxOp{});
        double s = 0;
        for (int64_t k = threadIdx.x; k < n; k += blockDim.x) s += static_cast<double>(exp(xr[k] - m));
        s = block_allreduce(s, smem_d, SumOp{});
        if (log) {
            const double shift = static_cast<double>(m) + ::log(s);  // log-sum-exp
            for (int64_t k = threadIdx.x; k < n; k += blockDim.x) yr[k] = static_cast<T>(static_cast<double>(xr[k]) - shift);
        } else {
            const double inv = 1.0 / s;
            for (int64_t k = threadIdx.x; k < n; k += blockDim.x)
                yr[k] = static_cast<T>(static_cast<double>(exp(xr[k] - m)) * inv);
        }
    }
}

// softmax: dx = y * (dy - sum(dy * y)); log-softmax: dx = dy - exp(y) * sum(dy).
template <class T>
__global__ void softmax_backward_rows_kernel(T* dx, const T* dy, const T* y, int64_t rows, int64_t n, bool log) {
    __shared__ double smem_d[32];
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const int64_t base = row * n;
        double s = 0;
        for (int64_t k = threadIdx.x; k < n; k += blockDim.x)
            s += log ? static_cast<double>(dy[base + k]) : static_cast<double>(dy[base + k]) * static_cast<double>(y[base + k]);
        s = block_allreduce(s, smem_d, SumOp{});
        for (int64_t k = threadIdx.x; k < n; k += blockDim.x) {
            const double g = dy[base + k], v = y[base + k];
            dx[base + k] = static_cast<T>(log ? g - __dmul_rn(::exp(v), s) : v * (g - s));
        }
    }
}

// ---- inner > 1: item (o, tile) covers columns tile*32 + x of slice o; element (k, j) at k*inner + j --

template <class T>
__global__ void softmax_cols_kernel(T* y, const T* x, int64_t outer, int64_t n, int64_t inner, int64_t ntiles,
                                    bool log) {
    __shared__ T smem_t[kColsY][kColsX];
    __shared__ double smem_d[kColsY][kColsX];
    for (int64_t item = blockIdx.x; item < outer * ntiles; item += gridDim.x) {
        const int64_t o = item / ntiles, j = (item % ntiles) * kColsX + threadIdx.x;
        const bool live = j < inner;
        const T* xc = x + o * n * inner + j;
        T* yc = y + o * n * inner + j;
        T m = lowest_value<T>();
        if (live)
            for (int64_t k = threadIdx.y; k < n; k += kColsY) m = nan_max(m, xc[k * inner]);
        m = column_allreduce(m, smem_t, MaxOp{});
        double s = 0;
        if (live)
            for (int64_t k = threadIdx.y; k < n; k += kColsY) s += static_cast<double>(exp(xc[k * inner] - m));
        s = column_allreduce(s, smem_d, SumOp{});
        if (!live) continue;
        const double shift = log ? static_cast<double>(m) + ::log(s) : 0.0, inv = log ? 0.0 : 1.0 / s;
        for (int64_t k = threadIdx.y; k < n; k += kColsY) {
            const T v = xc[k * inner];
            yc[k * inner] = static_cast<T>(log ? static_cast<double>(v) - shift : static_cast<double>(exp(v - m)) * inv);
        }
    }
}

template <class T>
__global__ void softmax_backward_cols_kernel(T* dx, const T* dy, const T* y, int64_t outer, int64_t n, int64_t inner,
                                             int64_t ntiles, bool log) {
    __shared__ double smem_d[kColsY][kColsX];
    for (int64_t item = blockIdx.x; item < outer * ntiles; item += gridDim.x) {
        const int64_t o = item / ntiles, j = (item % ntiles) * kColsX + threadIdx.x;
        const bool live = j < inner;
        const int64_t base = o * n * inner + j;
        double s = 0;
        if (live)
            for (int64_t k = threadIdx.y; k < n; k += kColsY) {
                const int64_t i = base + k * inner;
                s += log ? static_cast<double>(dy[i]) : static_cast<double>(dy[i]) * static_cast<double>(y[i]);
            }
        s = column_allreduce(s, smem_d, SumOp{});
        if (!live) continue;
        for (int64_t k = threadIdx.y; k < n; k += kColsY) {
            const int64_t i = base + k * inner;
            const double g = dy[i], v = y[i];
            dx[i] = static_cast<T>(log ? g - __dmul_rn(::exp(v), s) : v * (g - s));
        }
    }
}

// Threads per row for the row kernels: a power of two in [32, 512], about one per element.
int row_threads(int64_t n) {
    int t = 32;
    while (t < 512 && t < n) t *= 2;
    return t;
}

void softmax_cuda(DType dtype, void* out, const void* in, int64_t outer, int64_t n, int64_t inner, bool log) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        if (outer <= 0 || n <= 0 || inner <= 0) return;
        T* y = static_cast<T*>(out);
        const T* x = static_cast<const T*>(in);
        if (inner == 1) {
            const unsigned grid = static_cast<unsigned>(std::min<int64_t>(outer, int64_t(sm_count()) * 32));
            softmax_rows_kernel<T><<<grid, row_threads(n), 0, stream()>>>(y, x, outer, n, log);
        } else {
            const int64_t ntiles = ceil_div<int64_t>(inner, kColsX);
            const unsigned grid = static_cast<unsigned>(std::min<int64_t>(outer * ntiles, int64_t(sm_count()) * 8));
            softmax_cols_kernel<T><<<grid, dim3(kColsX, kColsY), 0, stream()>>>(y, x, outer, n, inner, ntiles, log);
        }
        CKERAS_CUDA_LAUNCHED(log ? "log_softmax" : "softmax");
    });
}

void softmax_backward_cuda(DType dtype, void* dinp, const void* dout, const void* out, int64_t outer, int64_t n,
                           int64_t inner, bool log) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        if (outer <= 0 || n <= 0 || inner <= 0) return;
        T* dx = static_cast<T*>(dinp);
        const T* dy = static_cast<const T*>(dout);
        const T* y = static_cast<const T*>(out);
        if (inner == 1) {
            const unsigned grid = static_cast<unsigned>(std::min<int64_t>(outer, int64_t(sm_count()) * 32));
            softmax_backward_rows_kernel<T><<<grid, row_threads(n), 0, stream()>>>(dx, dy, y, outer, n, log);
        } else {
            const int64_t ntiles = ceil_div<int64_t>(inner, kColsX);
            const unsigned grid = static_cast<unsigned>(std::min<int64_t>(outer * ntiles, int64_t(sm_count()) * 8));
            softmax_backward_cols_kernel<T><<<grid, dim3(kColsX, kColsY), 0, stream()>>>(dx, dy, y, outer, n, inner,
                                                                                         ntiles, log);
        }
        CKERAS_CUDA_LAUNCHED(log ? "log_softmax_backward" : "softmax_backward");
    });
}

}  // namespace

void register_softmax_cuda(KernelTable& t) {
    t.softmax = softmax_cuda;
    t.softmax_backward = softmax_backward_cuda;
}

}  // namespace ckeras::cuda
