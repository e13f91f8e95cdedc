// CPU kernels for the counter-based random slots: `random` (uniform, normal, truncated normal),
// `dropout` and its backward. Each element is a pure function of (seed, offset + i) through philox.h, so the output does
// not depend on the thread count and a draw can be continued or split by moving `offset`.
#include <cmath>
#include <cstring>
#include <type_traits>

#include "ckeras/device.h"
#include "cpu/cpu_common.h"
#include "cpu/dropout_vec.h"
#include "cpu/philox.h"

namespace ckeras::cpu {
namespace generic {
#include "cpu/dropout_vec_impl.h"
}  // namespace generic
namespace {

// Philox costs ~10x a memory-bound op per element, so threads pay off at smaller sizes.
constexpr int64_t kRandomGrain = 1 << 13;

// out: (n,). out[i] = Sample(seed, offset + i, a, b).
template <class T, class Sample>
void fill_random(T* out, int64_t n, uint64_t seed, uint64_t offset, T a, T b, Sample sample) {
    parallel_for(n, kRandomGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) out[i] = sample(seed, offset + static_cast<uint64_t>(i), a, b);
    });
}

template <class T>
void random_typed(RandomDist dist, T* out, int64_t n, uint64_t seed, uint64_t offset, T a, T b) {
    // Lambdas (not function pointers) so the sampler inlines into the loop.
    switch (dist) {
        case RandomDist::Uniform:
            fill_random(out, n, seed, offset, a, b,
                        [](uint64_t s, uint64_t i, T lo, T hi) { return philox_uniform<T>(s, i, lo, hi); });
            return;
        case RandomDist::Normal:
            fill_random(out, n, seed, offset, a, b,
                        [](uint64_t s, uint64_t i, T m, T sd) { return philox_normal<T>(s, i, m, sd); });
            return;
        case RandomDist::TruncatedNormal:
            fill_random(out, n, seed, offset, a, b, [](uint64_t s, uint64_t i, T m, T sd) {
                return philox_truncated_normal<T>(s, i, m, sd);
            });
            return;
    }
    throw_error(ErrorKind::Value, "random: unknown distribution ", static_cast<int>(dist));
}

void random_cpu(RandomDist dist, DType dtype, void* out, int64_t n, uint64_t seed, uint64_t offset,
                double a, double b) {
    CKERAS_DISPATCH_FLOAT(dtype, T,
                          random_typed<T>(dist, static_cast<T*>(out), n, seed, offset, static_cast<T>(a),
                                          static_cast<T>(b)));
}

// out, inp: (n,); keep: (n,) or null. keep[i] = unit(seed, offset + i) >= rate (philox_dropout_unit, the
// float32 uniform for both dtypes); out[i] = keep[i] ? inp[i] / T(1 - rate) : 0.
// rate <= 0 copies with every keep true; rate >= 1 zeroes with every keep false.
template <class T>
void dropout_typed(T* out, bool* keep, const T* inp, int64_t n, double rate, uint64_t seed,
                   uint64_t offset) {
    if (rate <= 0.0 || rate >= 1.0) {
        const bool all = rate <= 0.0;
        parallel_for(n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) {
                out[i] = all ? inp[i] : T(0);
                if (keep) keep[i] = all;
            }
        });
        return;
    }
    const T keep_prob = static_cast<T>(1.0 - rate);
    if constexpr (std::is_same_v<T, float>) {  // the vectorised loop: the same words, so the same masks
        // unit >= rate with unit = (word >> 8) / 2^24 exactly, i.e. (word >> 8) >= ceil(rate 2^24).
        const auto threshold = static_cast<uint32_t>(std::ceil(rate * 16777216.0));
        const bool avx2 = std::strcmp(cpu_simd_level(), "generic") != 0;
        parallel_for(n, kRandomGrain, [&](int64_t begin, int64_t end) {
            bool* k = keep ? keep + begin : nullptr;
            const uint64_t at = offset + static_cast<uint64_t>(begin);
            if (avx2)
                avx2::dropout_f32_avx2(out + begin, k, inp + begin, end - begin, threshold, keep_prob, seed, at);
            else
                generic::dropout_f32(out + begin, k, inp + begin, end - begin, threshold, keep_prob, seed, at);
        });
        return;
    }
    parallel_for(n, kRandomGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            const bool k = philox_dropout_unit(seed, offset + static_cast<uint64_t>(i)) >= rate;
            out[i] = k ? inp[i] / keep_prob : T(0);
            if (keep) keep[i] = k;
        }
    });
}

void dropout_cpu(DType dtype, void* out, bool* keep, const void* inp, int64_t n, double rate, uint64_t seed,
                 uint64_t offset) {
    CKERAS_DISPATCH_FLOAT(dtype, T,
                          dropout_typed<T>(static_cast<T*>(out), keep, static_cast<const T*>(inp), n, rate,
                                           seed, offset));
}

// dinp, dout: (n,); keep: (n,). dinp[i] = keep[i] ? dout[i] / T(1 - rate) : 0 (dinp may alias dout).
template <class T>
void dropout_backward_typed(T* dinp, const T* dout, const bool* keep, int64_t n, double rate) {
    const T keep_prob = static_cast<T>(1.0 - rate);
    // Branch-free (the mask is random, so a branch mispredicts on every few elements): the quotient's bits
    // and-ed with an all-ones or all-zeros mask, which gives +0 where dropped, as the select did.
    using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
    parallel_for(n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
#pragma omp simd
        for (int64_t i = begin; i < end; ++i) {
            const T q = dout[i] / keep_prob;
            Bits bits;
            std::memcpy(&bits, &q, sizeof(T));
            bits &= Bits(0) - static_cast<Bits>(keep[i]);
            std::memcpy(&dinp[i], &bits, sizeof(T));
        }
    });
}

void dropout_backward_cpu(DType dtype, void* dinp, const void* dout, const bool* keep, int64_t n, double rate) {
    CKERAS_DISPATCH_FLOAT(dtype, T,
                          dropout_backward_typed<T>(static_cast<T*>(dinp), static_cast<const T*>(dout), keep, n,
                                                    rate));
}

}  // namespace

void register_random_cpu(KernelTable& t) {
    t.random = random_cpu;
    t.dropout = dropout_cpu;
    t.dropout_backward = dropout_backward_cpu;
}

}  // namespace ckeras::cpu
