// Shared by the CUDA kernel files of the copy, elementwise, reduce and softmax families: dtype dispatch
// in launchers (ckeras/dtype_dispatch.h, as on the CPU), grid-stride indexing, and strided
// operands: host-side dimension collapsing into a fixed-rank layout that kernels take by value.
// nvcc-only header.
#pragma once
#include <cstdint>
#include <type_traits>

#include "ckeras/dtype_dispatch.h"
#include "ckeras/error.h"
#include "ckeras/kernels.h"
#include "cuda_common.cuh"

namespace ckeras::cuda {

// First index and step of a grid-stride loop, in int64 so that n may exceed 2^31.
__device__ __forceinline__ int64_t grid_start() {
    return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_step() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// out = static_cast<Out>(in), except that bool is `in != 0` (NaN -> true): the CPU's conversion.
template <class Out, class In>
__host__ __device__ __forceinline__ Out convert(In v) {
    if constexpr (std::is_same_v<Out, bool>) return v != In(0);
    else return static_cast<Out>(v);
}

template <class T>
__host__ __device__ __forceinline__ bool is_nan(T x) {
    if constexpr (std::is_floating_point_v<T>) return x != x;
    else return false;
}

// -inf / +inf for floats, the extreme values for integers (std::numeric_limits is host-only in device
// code without --expt-relaxed-constexpr).
template <class T>
__host__ __device__ constexpr T lowest_value() {
    if constexpr (std::is_same_v<T, float>) return -__builtin_huge_valf();
    else if constexpr (std::is_same_v<T, double>) return -__builtin_huge_val();
    else if constexpr (std::is_same_v<T, int32_t>) return INT32_MIN;
    else return INT64_MIN;
}
template <class T>
__host__ __device__ constexpr T highest_value() {
    if constexpr (std::is_same_v<T, float>) return __builtin_huge_valf();
    else if constexpr (std::is_same_v<T, double>) return __builtin_huge_val();
    else if constexpr (std::is_same_v<T, int32_t>) return INT32_MAX;
    else return INT64_MAX;
}

// Dims kept after collapsing; a layout that needs more raises NotImplemented.
constexpr int kMaxDims = 8;

// N operands walked together over one row-major shape. Built on the host by collapse(), passed to
// kernels by value (8 + 8N int64s).
template <int N>
struct Strided {
    int ndim = 1;
    int64_t shape[kMaxDims];
    int64_t strides[N][kMaxDims];

    // Element offsets of operand k for the row-major linear index i over `shape`.
    __device__ __forceinline__ void offsets(int64_t i, int64_t (&off)[N]) const {
#pragma unroll
        for (int k = 0; k < N; ++k) off[k] = 0;
#pragma unroll
        for (int d = kMaxDims - 1; d > 0; --d) {
            if (d >= ndim) continue;
            const int64_t len = shape[d];
            int64_t q;
            // Unsigned 32-bit division when both fit: several times cheaper than the 64-bit one.
            if (((static_cast<uint64_t>(i) | static_cast<uint64_t>(len)) >> 32) == 0)
                q = static_cast<uint32_t>(i) / static_cast<uint32_t>(len);
            else
                q = i / len;
            const int64_t idx = i - q * len;
            i = q;
#pragma unroll
            for (int k = 0; k < N; ++k) off[k] += idx * strides[k][d];
        }
#pragma unroll
        for (int k = 0; k < N; ++k) off[k] += i * strides[k][0];
    }
};

// Fills L from (shape, strides[k]) as the CPU's collapse_dims does: size-1 dims dropped, neighbours
// merged where every operand's strides chain. Returns the element count (0: nothing to do). `op` names
// the caller in the NotImplemented error raised above kMaxDims collapsed dims.
template <int N>
int64_t collapse(const int64_t* shape, int ndim, const int64_t* const (&strides)[N], Strided<N>& L,
                 const char* op) {
    int64_t numel = 1;
    for (int d = 0; d < ndim; ++d) numel *= shape[d];
    if (numel == 0) return 0;
    int nd = 0;
    for (int d = 0; d < ndim; ++d) {
        if (shape[d] == 1) continue;
        bool merge = nd > 0;
        for (int k = 0; k < N && merge; ++k) merge = L.strides[k][nd - 1] == strides[k][d] * shape[d];
        if (merge) {
            L.shape[nd - 1] *= shape[d];
            for (int k = 0; k < N; ++k) L.strides[k][nd - 1] = strides[k][d];
            continue;
        }
        if (nd == kMaxDims)
            throw_error(ErrorKind::NotImplemented, op, " on cuda supports at most ", kMaxDims,
                        " dimensions after merging contiguous ones; this layout of ", ndim, " dims needs more");
        L.shape[nd] = shape[d];
        for (int k = 0; k < N; ++k) L.strides[k][nd] = strides[k][d];
        ++nd;
    }
    if (nd == 0) {  // a scalar: one element
        L.shape[0] = 1;
        for (int k = 0; k < N; ++k) L.strides[k][0] = 0;
        nd = 1;
    }
    L.ndim = nd;
    return numel;
}

}  // namespace ckeras::cuda
