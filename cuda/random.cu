// CUDA kernels for the counter-based random slots: `random` (uniform, normal, truncated normal),
// `dropout` and its backward; twins of cpp/src/cpu/random_cpu.cpp. Element i is the same pure function
// of (seed, offset + i) as on the CPU (cpu/philox.h, shared host/device code), so the Philox words, the
// uniforms and the dropout masks are bit-identical on both devices; normal values differ only by the
// device libm's log/cos/sin (a few ulp).
#include "cpu/cpu_common.h"
#include "cpu/philox.h"
#include "team_reduce.cuh"

namespace ckeras::cuda {
namespace {

// out: (n,). out[i] = sample of `Dist` at index offset + i (mod 2^64).
template <class T, RandomDist Dist>
__global__ void random_forward_kernel(T* out, int64_t n, uint64_t seed, uint64_t offset, T a, T b) {
    for (int64_t i = global_thread(); i < n; i += global_threads()) {
        const uint64_t index = offset + static_cast<uint64_t>(i);
        if constexpr (Dist == RandomDist::Uniform) out[i] = philox_uniform<T>(seed, index, a, b);
        else if constexpr (Dist == RandomDist::Normal) out[i] = philox_normal<T>(seed, index, a, b);
        else out[i] = philox_truncated_normal<T>(seed, index, a, b);
    }
}

template <class T, RandomDist Dist>
void launch_random(T* out, int64_t n, uint64_t seed, uint64_t offset, T a, T b) {
    random_forward_kernel<T, Dist><<<grid_for(n), kBlock, 0, stream()>>>(out, n, seed, offset, a, b);
    CKERAS_CUDA_LAUNCHED("random");
}

void random_cuda(RandomDist dist, DType dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double a,
                 double b) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        T* o = static_cast<T*>(out);
        const T ta = static_cast<T>(a), tb = static_cast<T>(b);
        switch (dist) {
            case RandomDist::Uniform:
                if (n > 0) launch_random<T, RandomDist::Uniform>(o, n, seed, offset, ta, tb);
                return;
            case RandomDist::Normal:
                if (n > 0) launch_random<T, RandomDist::Normal>(o, n, seed, offset, ta, tb);
                return;
            case RandomDist::TruncatedNormal:
                if (n > 0) launch_random<T, RandomDist::TruncatedNormal>(o, n, seed, offset, ta, tb);
                return;
        }
        throw_error(ErrorKind::Value, "random: unknown distribution ", static_cast<int>(dist));
    });
}

// How dropout treats every element: rate in (0, 1) draws a coin; rate <= 0 keeps all, rate >= 1 drops all.
enum class DropMode : int { Coin, KeepAll, DropAll };

// out, inp: (n,); keep: (n,) or null. keep[i] = philox_dropout_unit(seed, offset + i) >= rate (the float32
// uniform for both dtypes); out[i] = keep[i] ? inp[i] / keep_prob : 0, keep_prob = T(1 - rate).
template <class T>
__global__ void dropout_forward_kernel(T* out, bool* keep, const T* inp, int64_t n, double rate, T keep_prob,
                                       uint64_t seed, uint64_t offset, DropMode mode) {
    for (int64_t i = global_thread(); i < n; i += global_threads()) {
        bool k;
        if (mode == DropMode::Coin) {
            k = philox_dropout_unit(seed, offset + static_cast<uint64_t>(i)) >= rate;
            out[i] = k ? inp[i] / keep_prob : T(0);
        } else {
            k = mode == DropMode::KeepAll;
            out[i] = k ? inp[i] : T(0);
        }
        if (keep) keep[i] = k;
    }
}

void dropout_cuda(DType dtype, void* out, bool* keep, const void* inp, int64_t n, double rate, uint64_t seed,
                  uint64_t offset) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        if (n <= 0) return;
        const DropMode mode = rate <= 0.0 ? DropMode::KeepAll : rate >= 1.0 ? DropMode::DropAll : DropMode::Coin;
        dropout_forward_kernel<T><<<grid_for(n), kBlock, 0, stream()>>>(
            static_cast<T*>(out), keep, static_cast<const T*>(inp), n, rate, static_cast<T>(1.0 - rate), seed,
            offset, mode);
        CKERAS_CUDA_LAUNCHED("dropout");
    });
}

// dinp, dout, keep: (n,). dinp[i] = keep[i] ? dout[i] / keep_prob : 0; dinp may alias dout.
template <class T>
__global__ void dropout_backward_kernel(T* dinp, const T* dout, const bool* keep, int64_t n, T keep_prob) {
    for (int64_t i = global_thread(); i < n; i += global_threads()) dinp[i] = keep[i] ? dout[i] / keep_prob : T(0);
}

void dropout_backward_cuda(DType dtype, void* dinp, const void* dout, const bool* keep, int64_t n, double rate) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        if (n <= 0) return;
        dropout_backward_kernel<T><<<grid_for(n), kBlock, 0, stream()>>>(
            static_cast<T*>(dinp), static_cast<const T*>(dout), keep, n, static_cast<T>(1.0 - rate));
        CKERAS_CUDA_LAUNCHED("dropout_backward");
    });
}

}  // namespace

void register_random_cuda(KernelTable& t) {
    t.random = random_cuda;
    t.dropout = dropout_cuda;
    t.dropout_backward = dropout_backward_cuda;
}

}  // namespace ckeras::cuda
