// CUDA twin of cpu/reduce_cpu.cpp: sum, prod, max, min, argmax, argmin over the middle dim of a
// contiguous (outer, r, inner) buffer, writing (outer, inner); bool input is rejected.
//
// Semantics as on the CPU: NaN propagates through sum/prod/max/min; argmax/argmin give the first index
// of the extreme, or of the first NaN when the row has one (int64 out); integer sum/prod wrap modulo
// 2^bits; r == 0 gives 0 (sum), 1 (prod) and writes nothing for the others. Float sums and products
// accumulate in double (the CPU adds float32 runs of 16 in float lanes first), in a tree order, so they
// match the CPU to rounding, not bitwise; every other result is exact.
//
// inner == 1: a block per (row, chunk of the row), a warp-shuffle then shared-memory tree. inner > 1:
// 32x8 blocks, each thread a column walking every 8th row of its chunk, then a tree over the 8. Rows are
// cut into chunks only when there are too few rows to fill the GPU; the chunks' partial accumulators
// go through scratch memory to a second pass of the same kernel. Fixed shapes, no atomics: the result
// is the same on every run on the same GPU.
#include <algorithm>

#include "kernel_util.cuh"

namespace ckeras::cuda {
namespace {

// Sum/prod accumulators: double for floats, unsigned (wrapping) for integers.
template <class T, bool kFloat = std::is_floating_point_v<T>> struct WrappedT { using type = double; };
template <class T> struct WrappedT<T, false> { using type = std::make_unsigned_t<T>; };
template <class T> using Wrapped = typename WrappedT<T>::type;

// Each op: an accumulator type, its identity, make (element k of the row), combine, finish.
template <class T>
struct SumR {
    using Acc = Wrapped<T>;
    using Out = T;
    static __host__ __device__ Acc identity() { return Acc(0); }
    static __host__ __device__ Acc make(T x, int64_t) { return static_cast<Acc>(x); }
    static __host__ __device__ Acc combine(Acc a, Acc b) { return a + b; }
    static __host__ __device__ Out finish(Acc a) { return static_cast<Out>(a); }
};
template <class T>
struct ProdR {
    using Acc = Wrapped<T>;
    using Out = T;
    static __host__ __device__ Acc identity() { return Acc(1); }
    static __host__ __device__ Acc make(T x, int64_t) { return static_cast<Acc>(x); }
    static __host__ __device__ Acc combine(Acc a, Acc b) { return a * b; }
    static __host__ __device__ Out finish(Acc a) { return static_cast<Out>(a); }
};
// Max/min: a NaN on either side is kept; otherwise the larger (smaller).
template <class T, bool kMax>
struct ExtremeR {
    using Acc = T;
    using Out = T;
    static __host__ __device__ Acc identity() { return kMax ? lowest_value<T>() : highest_value<T>(); }
    static __host__ __device__ Acc make(T x, int64_t) { return x; }
    static __host__ __device__ Acc combine(Acc a, Acc b) {
        if (is_nan(a)) return a;
        return (kMax ? a >= b : a <= b) ? a : b;
    }
    static __host__ __device__ Out finish(Acc a) { return a; }
};
// Argmax/argmin: (value, index); i < 0 is the empty identity. The first NaN beats everything; among
// equal values (or NaNs) the lower index wins, so any combine order gives the first occurrence.
template <class T>
struct ArgAcc {
    T v;
    int64_t i;
};
template <class T, bool kMax>
struct ArgR {
    using Acc = ArgAcc<T>;
    using Out = int64_t;
    static __host__ __device__ Acc identity() { return {T(0), -1}; }
    static __host__ __device__ Acc make(T x, int64_t k) { return {x, k}; }
    static __host__ __device__ Acc combine(Acc a, Acc b) {
        if (a.i < 0) return b;
        if (b.i < 0) return a;
        const bool an = is_nan(a.v), bn = is_nan(b.v);
        if (an != bn) return an ? a : b;
        if (!an) {
            if (kMax ? b.v > a.v : b.v < a.v) return b;
            if (kMax ? a.v > b.v : a.v < b.v) return a;
        }
        return b.i < a.i ? b : a;
    }
    static __host__ __device__ Out finish(Acc a) { return a.i; }
};

template <class A>
__device__ __forceinline__ A shfl_down(A v, int delta) { return __shfl_down_sync(0xffffffffu, v, delta); }
template <class T>
__device__ __forceinline__ ArgAcc<T> shfl_down(ArgAcc<T> v, int delta) {
    return {__shfl_down_sync(0xffffffffu, v.v, delta), __shfl_down_sync(0xffffffffu, v.i, delta)};
}

// Element k of an input row: raw T values on the first pass, partial accumulators on the second.
template <class R, class In>
__device__ __forceinline__ typename R::Acc load(const In& x, int64_t k) {
    if constexpr (std::is_same_v<In, typename R::Acc>) return x;
    else return R::make(x, k);
}
template <class R, class Out>
__device__ __forceinline__ Out store(const typename R::Acc& a) {
    if constexpr (std::is_same_v<Out, typename R::Acc>) return a;
    else return R::finish(a);
}

// Combine over the block (blockDim.x a multiple of 32, 1D); the result is valid in thread 0.
template <class R>
__device__ typename R::Acc block_reduce(typename R::Acc v, typename R::Acc* smem) {
    for (int d = 16; d > 0; d /= 2) v = R::combine(v, shfl_down(v, d));
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    if (nwarps == 1) return v;
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < nwarps ? smem[lane] : R::identity();
        for (int d = 16; d > 0; d /= 2) v = R::combine(v, shfl_down(v, d));
    }
    __syncthreads();  // smem is reused by the next item
    return v;
}

// inner == 1. Item (row, s) reduces elements [s*chunk, min(r, (s+1)*chunk)) of row `row` of (rows, r)
// and writes out[row * nsplit + s].
template <class R, class In, class Out>
__global__ void reduce_rows_kernel(Out* out, const In* in, int64_t rows, int64_t r, int64_t nsplit, int64_t chunk) {
    using Acc = typename R::Acc;
    __shared__ __align__(16) unsigned char smem_raw[32 * sizeof(Acc)];
    Acc* smem = reinterpret_cast<Acc*>(smem_raw);
    for (int64_t item = blockIdx.x; item < rows * nsplit; item += gridDim.x) {
        const int64_t row = item / nsplit, k0 = (item % nsplit) * chunk, k1 = min(r, k0 + chunk);
        const In* p = in + row * r;
        Acc acc = R::identity();
        for (int64_t k = k0 + threadIdx.x; k < k1; k += blockDim.x) acc = R::combine(acc, load<R>(p[k], k));
        acc = block_reduce<R>(acc, smem);
        if (threadIdx.x == 0) out[item] = store<R, Out>(acc);
    }
}

constexpr int kColsX = 32, kColsY = 8;  // columns kernel block: 32 columns x 8 row lanes

// inner > 1. Item (o, s, tile) reduces rows [s*chunk, min(r, (s+1)*chunk)) of columns tile*32 + x of
// slice o of (outer, r, inner) and writes out[(o * nsplit + s) * inner + column].
template <class R, class In, class Out>
__global__ void reduce_cols_kernel(Out* out, const In* in, int64_t outer, int64_t r, int64_t inner, int64_t nsplit,
                                   int64_t chunk, int64_t ntiles) {
    using Acc = typename R::Acc;
    __shared__ __align__(16) unsigned char smem_raw[kColsY * kColsX * sizeof(Acc)];
    Acc(*smem)[kColsX] = reinterpret_cast<Acc(*)[kColsX]>(smem_raw);
    const int tx = threadIdx.x, ty = threadIdx.y;
    for (int64_t item = blockIdx.x; item < outer * nsplit * ntiles; item += gridDim.x) {
        const int64_t tile = item % ntiles, os = item / ntiles;  // os = o * nsplit + s
        const int64_t o = os / nsplit, k0 = (os % nsplit) * chunk, k1 = min(r, k0 + chunk);
        const int64_t j = tile * kColsX + tx;
        Acc acc = R::identity();
        if (j < inner)
            for (int64_t k = k0 + ty; k < k1; k += kColsY) acc = R::combine(acc, load<R>(in[(o * r + k) * inner + j], k));
        smem[ty][tx] = acc;
        __syncthreads();
        for (int h = kColsY / 2; h > 0; h /= 2) {
            if (ty < h) smem[ty][tx] = R::combine(smem[ty][tx], smem[ty + h][tx]);
            __syncthreads();
        }
        if (ty == 0 && j < inner) out[os * inner + j] = store<R, Out>(smem[0][tx]);
        __syncthreads();
    }
}

template <class R, class T>
void reduce_rows(void* out, const T* in, int64_t outer, int64_t r) {
    using Acc = typename R::Acc;
    using Out = typename R::Out;
    const int64_t target = 4 * static_cast<int64_t>(sm_count());  // blocks that fill the GPU
    int64_t nsplit = 1;
    if (outer < target && r > 8192) nsplit = std::min(ceil_div<int64_t>(r, 4096), ceil_div<int64_t>(target, outer));
    const int64_t chunk = ceil_div<int64_t>(r, nsplit);
    nsplit = ceil_div<int64_t>(r, chunk);
    int threads = 32;
    while (threads < 512 && threads < chunk) threads *= 2;
    const int64_t cap = static_cast<int64_t>(sm_count()) * 32;
    if (nsplit == 1) {
        reduce_rows_kernel<R, T, Out><<<static_cast<unsigned>(std::min(outer, cap)), threads, 0, stream()>>>(
            static_cast<Out*>(out), in, outer, r, 1, r);
        CKERAS_CUDA_LAUNCHED("reduce");
        return;
    }
    std::shared_ptr<void> buf = scratch(outer * nsplit * static_cast<int64_t>(sizeof(Acc)));
    Acc* part = static_cast<Acc*>(buf.get());
    reduce_rows_kernel<R, T, Acc><<<static_cast<unsigned>(std::min(outer * nsplit, cap)), threads, 0, stream()>>>(
        part, in, outer, r, nsplit, chunk);
    CKERAS_CUDA_LAUNCHED("reduce");
    int threads2 = 32;
    while (threads2 < 512 && threads2 < nsplit) threads2 *= 2;
    reduce_rows_kernel<R, Acc, Out><<<static_cast<unsigned>(std::min(outer, cap)), threads2, 0, stream()>>>(
        static_cast<Out*>(out), part, outer, nsplit, 1, nsplit);
    CKERAS_CUDA_LAUNCHED("reduce");
}

template <class R, class T>
void reduce_cols(void* out, const T* in, int64_t outer, int64_t r, int64_t inner) {
    using Acc = typename R::Acc;
    using Out = typename R::Out;
    const int64_t ntiles = ceil_div<int64_t>(inner, kColsX);
    const int64_t target = 4 * static_cast<int64_t>(sm_count());
    int64_t nsplit = 1;
    if (outer * ntiles < target && r > 256)
        nsplit = std::min(ceil_div<int64_t>(r, 64), ceil_div<int64_t>(target, outer * ntiles));
    const int64_t chunk = ceil_div<int64_t>(r, nsplit);
    nsplit = ceil_div<int64_t>(r, chunk);
    const int64_t cap = static_cast<int64_t>(sm_count()) * 8;
    const dim3 block(kColsX, kColsY);
    if (nsplit == 1) {
        reduce_cols_kernel<R, T, Out><<<static_cast<unsigned>(std::min(outer * ntiles, cap)), block, 0, stream()>>>(
            static_cast<Out*>(out), in, outer, r, inner, 1, r, ntiles);
        CKERAS_CUDA_LAUNCHED("reduce");
        return;
    }
    std::shared_ptr<void> buf = scratch(outer * nsplit * inner * static_cast<int64_t>(sizeof(Acc)));
    Acc* part = static_cast<Acc*>(buf.get());
    reduce_cols_kernel<R, T, Acc><<<static_cast<unsigned>(std::min(outer * nsplit * ntiles, cap)), block, 0,
                                    stream()>>>(part, in, outer, r, inner, nsplit, chunk, ntiles);
    CKERAS_CUDA_LAUNCHED("reduce");
    reduce_cols_kernel<R, Acc, Out><<<static_cast<unsigned>(std::min(outer * ntiles, cap)), block, 0, stream()>>>(
        static_cast<Out*>(out), part, outer, nsplit, inner, 1, nsplit, ntiles);
    CKERAS_CUDA_LAUNCHED("reduce");
}

template <class R, class T>
void reduce_typed(void* out, const void* in, int64_t outer, int64_t r, int64_t inner) {
    const T* x = static_cast<const T*>(in);
    if (inner == 1) reduce_rows<R>(out, x, outer, r);
    else reduce_cols<R>(out, x, outer, r, inner);
}

template <class T>
void reduce_dispatch(ReduceOp op, void* out, const void* in, int64_t outer, int64_t r, int64_t inner) {
    switch (op) {
        case ReduceOp::Sum: return reduce_typed<SumR<T>, T>(out, in, outer, r, inner);
        case ReduceOp::Prod: return reduce_typed<ProdR<T>, T>(out, in, outer, r, inner);
        case ReduceOp::Max: return reduce_typed<ExtremeR<T, true>, T>(out, in, outer, r, inner);
        case ReduceOp::Min: return reduce_typed<ExtremeR<T, false>, T>(out, in, outer, r, inner);
        case ReduceOp::ArgMax: return reduce_typed<ArgR<T, true>, T>(out, in, outer, r, inner);
        case ReduceOp::ArgMin: return reduce_typed<ArgR<T, false>, T>(out, in, outer, r, inner);
        case ReduceOp::kCount: break;
    }
    throw_error(ErrorKind::Value, "reduce: invalid op ", static_cast<int>(op));
}

template <class T>
__global__ void reduce_empty_kernel(T* out, int64_t n, T value) {
    for (int64_t i = grid_start(); i < n; i += grid_step()) out[i] = value;
}

// out: (outer, inner), dtype `dtype` (int64 for ArgMax/ArgMin); in: (outer, r, inner) contiguous.
void reduce_cuda(ReduceOp op, DType dtype, void* out, const void* in, int64_t outer, int64_t r, int64_t inner) {
    if (dtype == DType::Bool)
        throw_error(ErrorKind::Type, "reduce: the kernel does not take bool input; cast it first");
    if (outer <= 0 || inner <= 0) return;
    if (r <= 0) {
        // Empty axis: sum -> 0, prod -> 1; max/min/arg have no identity and write nothing.
        if (op != ReduceOp::Sum && op != ReduceOp::Prod) return;
        const double v = op == ReduceOp::Sum ? 0.0 : 1.0;
        const int64_t n = outer * inner;
        CKERAS_DISPATCH_ALL(dtype, T, {
            reduce_empty_kernel<T><<<grid_for(n), kBlock, 0, stream()>>>(static_cast<T*>(out), n, static_cast<T>(v));
        });
        CKERAS_CUDA_LAUNCHED("reduce");
        return;
    }
    switch (dtype) {
        case DType::Float32: return reduce_dispatch<float>(op, out, in, outer, r, inner);
        case DType::Float64: return reduce_dispatch<double>(op, out, in, outer, r, inner);
        case DType::Int32: return reduce_dispatch<int32_t>(op, out, in, outer, r, inner);
        case DType::Int64: return reduce_dispatch<int64_t>(op, out, in, outer, r, inner);
        case DType::Bool: break;
    }
}

}  // namespace

void register_reduce_cuda(KernelTable& t) { t.reduce = reduce_cuda; }

}  // namespace ckeras::cuda
