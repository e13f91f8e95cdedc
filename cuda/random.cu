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

// out, inp: (n,); keep: (n,) or null. keep[i] = philox_dropout_unit(seed, offset + i) >= rate (the float32
// uniform for both dtypes); out[i] = keep[i] ? inp[i] / keep_prob : 0, keep_prob = T(1 - rate).
// A coin flip takes word e & 3 of draw e >> 2 for element index e = offset + i, so one thread computes one draw
// and serves the (up to) four elements that share it: draw j covers i = 4 j - s .. 4 j - s + 3, s = offset & 3.
// The element indices e0 + q (e0 = offset - s + 4 j, a multiple of 4, wrapping mod 2^64 as the CPU's do) never
// carry out of their low two bits, so e0 >> 2 and q are exactly philox_dropout_unit's draw and word.
template <class T>
__global__ void dropout_coin_kernel(T* out, bool* keep, const T* inp, int64_t n, double rate, T keep_prob,
                                    uint64_t seed, uint64_t offset) {
    const int64_t s = static_cast<int64_t>(offset & 3), draws = (n + s + 3) / 4;
    for (int64_t j = global_thread(); j < draws; j += global_threads()) {
        const uint64_t e0 = offset - static_cast<uint64_t>(s) + 4 * static_cast<uint64_t>(j);
        const Philox4x32 r = philox_draw(seed, e0 >> 2);
#pragma unroll
        for (int q = 0; q < 4; ++q) {
            const int64_t i = 4 * j + q - s;
            if (i < 0 || i >= n) continue;
            const bool k = philox_unit_f32(r.v[q]) >= rate;
            out[i] = k ? inp[i] / keep_prob : T(0);
            if (keep) keep[i] = k;
        }
    }
}

// rate <= 0 (keep_all) or >= 1: no coins.
template <class T>
__global__ void dropout_fixed_kernel(T* out, bool* keep, const T* inp, int64_t n, bool keep_all) {
    for (int64_t i = global_thread(); i < n; i += global_threads()) {
        out[i] = keep_all ? inp[i] : T(0);
        if (keep) keep[i] = keep_all;
    }
}

void dropout_cuda(DType dtype, void* out, bool* keep, const void* inp, int64_t n, double rate, uint64_t seed,
                  uint64_t offset) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        if (n <= 0) return;
        T* o = static_cast<T*>(out);
        const T* x = static_cast<const T*>(inp);
        if (rate <= 0.0 || rate >= 1.0)
            dropout_fixed_kernel<T><<<grid_for(n), kBlock, 0, stream()>>>(o, keep, x, n, rate <= 0.0);
        else
            dropout_coin_kernel<T><<<grid_for((n + 6) / 4), kBlock, 0, stream()>>>(o, keep, x, n, rate,
                                                                                 static_cast<T>(1.0 - rate), seed,
                                                                                 offset);
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
