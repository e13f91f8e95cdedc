// Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11) and
// the per-element samplers every ckeras random kernel shares. Header-only, host and device (CKERAS_HD).
//
// Mapping (the contract the CPU and CUDA kernels both follow): element i of a draw with (seed, offset)
// uses index = offset + i (mod 2^64) and
//     key     = {lo32(seed), hi32(seed)}
//     counter = {lo32(index), hi32(index), attempt, 0}     (attempt = 0 except for truncated-normal redraws)
// Words of the 4-word output are used in order: float32 uniform = word 0, float64 uniform = words 0-1;
// Box-Muller takes its second uniform from the next word(s). Dropout alone shares a draw between four
// consecutive elements (philox_dropout_unit). The Philox words and the [0, 1) uniforms are
// bit-exact on every device; values that go through log/cos/sin match to the libm's accuracy only.
// Namespace `ckeras` (not `ckeras::cpu`) because CUDA kernels include this header too.
#pragma once
#include <cmath>
#include <cstdint>

#ifndef CKERAS_HD
#if defined(__CUDACC__)
#define CKERAS_HD __host__ __device__
#else
#define CKERAS_HD
#endif
#endif

namespace ckeras {

struct Philox4x32 {
    uint32_t v[4];
};

// Philox4x32's round multipliers and Weyl key increments (also used by the vectorised CPU dropout,
// cpu/dropout_vec_impl.h).
constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;

// The generator itself: 10 rounds of the Philox S-P network over a 128-bit counter, 64-bit key.
CKERAS_HD inline Philox4x32 philox4x32_10(Philox4x32 ctr, uint32_t k0, uint32_t k1) {
    uint32_t* c = ctr.v;
    for (int round = 0; round < 10; ++round) {
        if (round > 0) { k0 += kPhiloxW0; k1 += kPhiloxW1; }
        const uint64_t p0 = static_cast<uint64_t>(kPhiloxM0) * c[0];
        const uint64_t p1 = static_cast<uint64_t>(kPhiloxM1) * c[2];
        const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
        const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
        const uint32_t n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0; c[1] = lo1; c[2] = n2; c[3] = lo0;
    }
    return ctr;
}

// The four words for element `index` of stream `seed` (see the mapping above).
CKERAS_HD inline Philox4x32 philox_draw(uint64_t seed, uint64_t index, uint32_t attempt = 0) {
    Philox4x32 ctr = {{static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), attempt, 0u}};
    return philox4x32_10(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// [0, 1) from the top 24 bits of one word (float32) or the top 53 bits of (hi:lo) (float64). Exact.
CKERAS_HD inline float philox_unit_f32(uint32_t w) {
    return static_cast<float>(w >> 8) * (1.0f / 16777216.0f);
}
CKERAS_HD inline double philox_unit_f64(uint32_t lo, uint32_t hi) {
    const uint64_t bits = ((static_cast<uint64_t>(hi) << 32) | lo) >> 11;
    return static_cast<double>(bits) * (1.0 / 9007199254740992.0);
}
// Uniform number `k` (0 or 1) of a draw: float32 uses word k, float64 words 2k and 2k + 1.
template <class T> CKERAS_HD inline T philox_unit(const Philox4x32& r, int k);
template <> CKERAS_HD inline float philox_unit<float>(const Philox4x32& r, int k) {
    return philox_unit_f32(r.v[k]);
}
template <> CKERAS_HD inline double philox_unit<double>(const Philox4x32& r, int k) {
    return philox_unit_f64(r.v[2 * k], r.v[2 * k + 1]);
}

namespace philox_detail {
// a + s * u with one rounding per operation on every device (nvcc would otherwise fuse it into an fma).
CKERAS_HD inline float affine(float a, float s, float u) {
#if defined(__CUDA_ARCH__)
    return __fadd_rn(a, __fmul_rn(s, u));
#else
    return a + s * u;
#endif
}
CKERAS_HD inline double affine(double a, double s, double u) {
#if defined(__CUDA_ARCH__)
    return __dadd_rn(a, __dmul_rn(s, u));
#else
    return a + s * u;
#endif
}
CKERAS_HD inline float next_toward(float x, float y) { return ::nextafterf(x, y); }
CKERAS_HD inline double next_toward(double x, double y) { return ::nextafter(x, y); }
CKERAS_HD inline float log_(float x) { return ::logf(x); }
CKERAS_HD inline double log_(double x) { return ::log(x); }
CKERAS_HD inline float sqrt_(float x) { return ::sqrtf(x); }
CKERAS_HD inline double sqrt_(double x) { return ::sqrt(x); }
CKERAS_HD inline float cos_(float x) { return ::cosf(x); }
CKERAS_HD inline double cos_(double x) { return ::cos(x); }
CKERAS_HD inline float sin_(float x) { return ::sinf(x); }
CKERAS_HD inline double sin_(double x) { return ::sin(x); }
}  // namespace philox_detail

// Uniform on [a, b): a + (b - a) * u, pulled below b when rounding lands on it.
template <class T>
CKERAS_HD inline T philox_uniform(uint64_t seed, uint64_t index, T a, T b) {
    const T x = philox_detail::affine(a, b - a, philox_unit<T>(philox_draw(seed, index), 0));
    return (x >= b && b > a) ? philox_detail::next_toward(b, a) : x;
}

// Box-Muller on the two uniforms of one draw: z0 = r cos(2 pi u2), z1 = r sin(2 pi u2) with
// r = sqrt(-2 log(1 - u1)); 1 - u1 is in (0, 1], so r is finite (at most 5.8 in float32, 8.6 in float64).
template <class T>
CKERAS_HD inline void philox_box_muller(const Philox4x32& r, T& z0, T& z1) {
    using namespace philox_detail;
    const T u1 = philox_unit<T>(r, 0), u2 = philox_unit<T>(r, 1);
    const T rad = sqrt_(T(-2) * log_(T(1) - u1));
    const T theta = T(6.283185307179586) * u2;
    z0 = rad * cos_(theta);
    z1 = rad * sin_(theta);
}

// Normal(mean, stddev): the cosine branch of Box-Muller on the element's own draw.
template <class T>
CKERAS_HD inline T philox_normal(uint64_t seed, uint64_t index, T mean, T stddev) {
    T z0, z1;
    philox_box_muller<T>(philox_draw(seed, index), z0, z1);
    return philox_detail::affine(mean, stddev, z0);
}

// Normal(mean, stddev) redrawn while |z| > 2 (i.e. |x - mean| > 2 stddev). Attempt k uses counter word 2
// = k and tries z0, then z1; attempt 0 is the Normal draw of the same element. After kMaxAttempts (odds
// about 1e-86) it returns `mean`, so every element terminates deterministically.
template <class T>
CKERAS_HD inline T philox_truncated_normal(uint64_t seed, uint64_t index, T mean, T stddev) {
    constexpr uint32_t kMaxAttempts = 32;
    for (uint32_t k = 0; k < kMaxAttempts; ++k) {
        T z0, z1;
        philox_box_muller<T>(philox_draw(seed, index, k), z0, z1);
        if (z0 >= T(-2) && z0 <= T(2)) return philox_detail::affine(mean, stddev, z0);
        if (z1 >= T(-2) && z1 <= T(2)) return philox_detail::affine(mean, stddev, z1);
    }
    return mean;
}

// The dropout coin for element `index`: the float32 uniform of word index % 4 of draw index / 4 (one draw serves
// four consecutive elements, a quarter of the work of a draw each), for every dtype, so the same seed drops the
// same units in float32 and float64. keep = philox_dropout_unit(...) >= rate.
CKERAS_HD inline float philox_dropout_unit(uint64_t seed, uint64_t index) {
    return philox_unit_f32(philox_draw(seed, index >> 2).v[index & 3]);
}

}  // namespace ckeras
