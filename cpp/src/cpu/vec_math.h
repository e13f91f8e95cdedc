// Branch-free float32 math for auto-vectorised loops: exp, expm1, log, log1p, tanh, sigmoid, erf,
// softplus and the activations built on them (gelu exact/tanh, silu, selu, elu), forward and backward.
// Plain C++ on scalars: no intrinsics and no library calls, so a loop calling these vectorises for
// whatever ISA the including file is compiled for (SSE2 baseline, or AVX2+FMA in *_avx2.cpp).
//
// Rules that keep GCC vectorising: every choice is a bit-mask select (`sel`), never `?:` on floats,
// because with -ftrapping-math (the default) GCC will not if-convert chains of float compares; and no
// double: float math stays in float. Everything has internal linkage (anonymous namespace), so the
// AVX2 and baseline translation units never share an out-of-line copy.
//
// Accuracy (vs double, measured by tests/cpp/test_vec_math.cpp): exp, log ≤ 2 ulp over the whole
// float range; the rest ≤ 4 ulp. Special cases follow IEEE and std::: NaN in gives NaN out; exp
// overflows to +inf above ~88.72 and underflows gradually through the denormals to +0 below ~-103.97;
// log(±0) = -inf, log(x < 0) = NaN; tanh(±inf) = ±1, sigmoid(+inf) = 1, sigmoid(-inf) = 0; no
// intermediate overflows into NaN (sigmoid(-100), softplus(100), gelu(±50) are finite).
#pragma once
#include <cstdint>
#include <cstring>

namespace ckeras::cpu {
namespace {

// ---- bits and selects -------------------------------------------------------------------------
inline uint32_t f2u(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline float u2f(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
// c ? a : b, as and/andnot/or (blendv on AVX2).
inline float sel(bool c, float a, float b) {
    const uint32_t m = 0u - static_cast<uint32_t>(c);
    return u2f((f2u(a) & m) | (f2u(b) & ~m));
}
// The bits of |x|: ordered as |x| is, with every NaN above +inf (so `abs_bits(x) <= f2u(limit)` is false
// for NaN as well as for |x| > limit).
inline uint32_t abs_bits(float x) { return f2u(x) & 0x7fffffffu; }
inline float vabs(float x) { return u2f(abs_bits(x)); }
// |a| with the sign of s.
inline float with_sign(float a, float s) { return u2f(abs_bits(a) | (f2u(s) & 0x80000000u)); }

constexpr float kInf = __builtin_inff();
constexpr float kNaN = __builtin_nanf("");

// ---- error-free transformations (for the arguments of exp that must not lose bits) -------------
// s + e == a + b exactly (Knuth; no multiplications, so immune to FMA contraction).
inline void two_sum(float a, float b, float& s, float& e) {
    s = a + b;
    const float bb = s - a;
    e = (a - (s - bb)) + (b - bb);
}
// p + e == a * b exactly (barring under/overflow).
inline void two_prod(float a, float b, float& p, float& e) {
    p = a * b;
#if defined(__FP_FAST_FMAF)
    e = __builtin_fmaf(a, b, -p);
#else
    // Dekker with a split by masking: each half has <= 12 significant bits, so every partial
    // product is exact and contraction (should the compiler fuse) cannot change the result.
    const float ah = u2f(f2u(a) & 0xfffff000u), al = a - ah;
    const float bh = u2f(f2u(b) & 0xfffff000u), bl = b - bh;
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
#endif
}

// ---- exp --------------------------------------------------------------------------------------
// exp(hi + lo) = (1 + em1) * s1 * s2 with |em1| < 0.42 and s1, s2 powers of two, so callers can fold
// a factor m in before the scale: (m + m em1) s1 s2 is rounded once even when the result is denormal.
// hi is clamped to [-126, 89] (NaN passes through).
struct ExpParts {
    float em1, s1, s2;
};
constexpr float kLog2e = 1.44269502e+00f;
constexpr float kLn2Hi = 0x1.62e4p-1f;           // 15 significant bits: n * kLn2Hi is exact for |n| < 512
constexpr float kLn2Lo = 1.428606765330187e-06f;  // ln 2 - kLn2Hi
constexpr float kRound = 0x1.8p23f;               // adding it rounds to an integer in the low mantissa bits

// expm1(r) for |r| <= ln2/2 as r + r^2 Q(r), Q of degree 4: a minimax fit of the error relative to
// exp(r), 3e-9 before rounding to float (degree 3 would leave 1e-7, two ulp). Q runs in Estrin's
// scheme, not Horner's: three dependent steps instead of four. Exp-heavy loops are bound by their FMA
// count on 128-bit FMA units (Zen 1), and degree 4 instead of 5 measured 12% faster for exp alone.
inline float expm1_poly(float r) {
    const float r2 = r * r;
    const float q01 = 0x1.555492p-3f * r + 0x1.fffffcp-2f;
    const float q23 = 0x1.1239e4p-7f * r + 0x1.5558f2p-5f;
    const float q = (0x1.6a2424p-10f * r2 + q23) * r2 + q01;
    return r + r2 * q;
}

// n = round(x / ln2) as float, and r = x - n ln2 (Cephes-style split ln2: x - n*kLn2Hi is exact).
inline float exp_reduce(float x, float& n, uint32_t& kbits) {
    const float kf = x * kLog2e + kRound;
    kbits = f2u(kf) - f2u(kRound);  // n as a two's-complement integer
    n = kf - kRound;
    const float r = x - n * kLn2Hi;
    return r - n * kLn2Lo;
}

// kClamp = false leaves out the clamp: for hi outside [-126, 89] the parts are then garbage (bit
// arithmetic only, no UB), for callers that replace those results anyway.
template <bool kHasLo, bool kClamp = true>
inline ExpParts exp_parts_impl(float hi, float lo) {
    if (kClamp) {
        const bool below = hi < -126.f, above = hi > 89.f;  // both compares on the input: a shorter chain
        hi = sel(above, 89.f, sel(below, -126.f, hi));
    }
    float n;
    uint32_t kbits;
    float r = exp_reduce(hi, n, kbits);
    if (kHasLo) r = r + lo;  // (r + 0 is not free: IEEE turns -0 into +0, so it is left out when lo is 0)
    const int32_t k = static_cast<int32_t>(kbits);
    const int32_t k1 = k >> 1, k2 = k - k1;  // 2^k = 2^k1 * 2^k2, each a normal float for k in [-182, 128]
    return {expm1_poly(r), u2f(static_cast<uint32_t>(k1 + 127) << 23), u2f(static_cast<uint32_t>(k2 + 127) << 23)};
}
inline ExpParts exp_parts(float hi, float lo) { return exp_parts_impl<true>(hi, lo); }
inline ExpParts exp_parts(float hi) { return exp_parts_impl<false>(hi, 0.f); }
inline float exp_value(const ExpParts& e) { return ((1.f + e.em1) * e.s1) * e.s2; }
// m * exp: the sign is m's also when the product underflows (m + m em1 would turn -0 into +0).
inline float exp_times(const ExpParts& e, float m) { return with_sign(((m + m * e.em1) * e.s1) * e.s2, m); }

// exp without the input clamp on the critical path: out-of-range inputs compute garbage parts that the
// final selects replace, in parallel with the core. Same results as exp_value(exp_parts(x)): above 89
// that gives +inf, below -126 +0, and NaN stays NaN.
inline float vexp(float x) {
    const float y = exp_value(exp_parts_impl<false, false>(x, 0.f));
    return sel(x > 89.f, kInf, sel(x < -126.f, 0.f, y));
}

// exp for |x| <= kExpNormalLimit, where the result is a normal float: 2^k goes straight into the
// exponent field of 1 + expm1(r) (in [0.7, 1.42], so k in [-124, 124] keeps it normal). The same bits
// as vexp there, in about half the instructions; callers check the range and fall back to vexp.
constexpr float kExpNormalLimit = 86.f;
inline float vexp_normal(float x) {
    float n;
    uint32_t kbits;
    const float p = 1.f + expm1_poly(exp_reduce(x, n, kbits));
    return u2f(f2u(p) + (kbits << 23));
}
// 1 when vexp_normal(x) is exact-equivalent to vexp(x); 0 for |x| > the limit, ±inf and NaN.
inline int exp_normal_ok(float x) { return static_cast<int>(abs_bits(x) <= f2u(kExpNormalLimit)); }

inline float vexpm1(float x) {
    // expm1(x) = 2^k (expm1(r) + 1) - 1 = 2 (2^(k-1) expm1(r) + (2^(k-1) - 1/2)); 2^(k-1) stays a
    // normal float for x in [-80, 89], and below -80 expm1 is -1 in float anyway.
    float xc = sel(x < -80.f, -80.f, x);
    xc = sel(xc > 89.f, 89.f, xc);
    float n;
    uint32_t kbits;
    const float em1 = expm1_poly(exp_reduce(xc, n, kbits));
    const float h = u2f((kbits + 126u) << 23);  // 2^(k-1)
    const float y = sel(n == 0.f, em1, 2.f * (h * em1 + (h - 0.5f)));  // k = 0: exact, keeps denormals
    return sel(x == 0.f, x, y);                                        // and the sign of zero
}

// ---- log --------------------------------------------------------------------------------------
// log1p(f) - (f - f^2/2) = f^3 P(f) for f in [sqrt(1/2) - 1, sqrt(2) - 1], relative error 5.9e-9.
inline float log1p_tail(float f) {
    float p = -7.636439055e-02f;
    p = p * f + 1.276221722e-01f;
    p = p * f - 1.315961033e-01f;
    p = p * f + 1.420157999e-01f;
    p = p * f - 1.662340909e-01f;
    p = p * f + 2.000124156e-01f;
    p = p * f - 2.500081956e-01f;
    p = p * f + 3.333333135e-01f;
    return (f * f) * f * p;
}

// u = 2^e * m with m in [sqrt(1/2), sqrt(2)) for a positive normal u; returns f = m - 1 (exact).
inline float log_split(float u, float& e) {
    const uint32_t ix = f2u(u) - 0x3f3504f3u;  // bits of sqrt(1/2): the exponent field ticks over there
    e = static_cast<float>(static_cast<int32_t>(ix) >> 23);
    return u2f((ix & 0x007fffffu) + 0x3f3504f3u) - 1.f;
}

// e*ln2 + log1p(f) + c, where c is a small correction (|c| < 2^-23 |f| or so).
inline float log_assemble(float e, float f, float c) {
    const float y = log1p_tail(f) + (e * kLn2Lo + c) - 0.5f * (f * f);
    return (f + y) + e * kLn2Hi;
}

inline float vlog(float x) {
    const bool denorm = x < 0x1p-126f;
    float e;
    const float f = log_split(sel(denorm, x * 0x1p23f, x), e);
    float y = log_assemble(e - sel(denorm, 23.f, 0.f), f, 0.f);
    y = sel(x == kInf, kInf, y);
    y = sel(x == 0.f, -kInf, y);
    y = sel(x < 0.f, kNaN, y);
    return sel(x != x, x, y);
}

inline float vlog1p(float x) {
    // u = 1 + x rounds; log1p(x) = log(u) + log(1 + d/u) ~ log(u) + d/u with d = (1 + x) - u exact.
    float u, d;
    two_sum(1.f, x, u, d);
    float e;
    const float f = log_split(u, e);  // u >= 2^-24 whenever x > -1, so never denormal
    float y = log_assemble(e, f, d / u);
    y = sel(x == kInf, kInf, y);
    y = sel(x == -1.f, -kInf, y);
    y = sel(x < -1.f, kNaN, y);
    y = sel(x == 0.f, x, y);  // log1p(-0) = -0
    return sel(x != x, x, y);
}

// ---- tanh, sigmoid, softplus -------------------------------------------------------------------
inline float vtanh(float x) {
    // |x| < 0.55: x + x^3 P(x^2) (relative error 1e-9); above: (1 - e)/(1 + e) with e = exp(-2|x|),
    // no cancellation since e < 1/3. |x| >= 10 gives 1 in float, so the clamp keeps exp normal.
    const float a = vabs(x), s = x * x;
    float p = -6.242848933e-03f;
    p = p * s + 2.105071396e-02f;
    p = p * s - 5.384754762e-02f;
    p = p * s + 1.333254427e-01f;
    p = p * s - 3.333331645e-01f;
    const float small = a + (a * s) * p;
    const float e = vexp_normal(-2.f * sel(a > 10.f, 10.f, a));
    // NaN fails a >= 0.55 and takes small (NaN), as the clamp above does not pass it through.
    return with_sign(sel(a >= 0.55f, (1.f - e) / (1.f + e), small), x);  // with_sign also keeps -0
}

// m / (1 + e) for e in [0, 1]. 1 + e = d + dl exactly (Fast2Sum, as 1 >= e), and the quotient takes
// dl into account, so the rounding of 1 + e (up to an ulp of a result just below 1) does not show;
// 1/d is needed only roughly there: 1.457 - d/2 is within 9% on [1, 2].
inline float div_one_plus(float m, float e) {
    const float d = 1.f + e, dl = e - (d - 1.f);
    const float q = m / d, c = dl * (1.457f - 0.5f * d);
    return sel(c == 0.f, q, q - q * c);  // the select keeps q = ±inf
}

// 1/(1 + e) for e in [0, 1]: 1 - e/(1 + e) while e is small (the result just below 1 then has one
// rounding), the corrected quotient above.
inline float inv_one_plus(float e) {
    const float q = 1.f / (1.f + e);
    return sel(e < 0.25f, 1.f - e * q, div_one_plus(1.f, e));
}

// m * sigmoid(x), with the exponent scale applied last so that x * sigmoid(x) stays accurate where
// sigmoid(x) is denormal. sigmoid(x) = 1/(1 + e) for x >= 0, e/(1 + e) below, with e = exp(-|x|).
inline float sigmoid_times(float x, float m) {
    const ExpParts ep = exp_parts(-vabs(x));
    const float q = div_one_plus(m, exp_value(ep));
    const float y = sel(x >= 0.f, q, exp_times(ep, q));
    return sel(x < -126.f, m * 0.f, y);  // sigmoid underflowed to 0 (keeps -inf * 0 = NaN)
}
// sigmoid(x) = num/(1 + e), num = 1 for x >= 0 and e below, e = exp(-|x|): one division, no
// compensation (the rounding of 1 + e costs at most half an ulp of the result, within budget). Where e
// is denormal the quotient is e itself, already rounded once.
inline float sigmoid_from_exp(float x, float e) { return sel(x >= 0.f, 1.f, e) / (1.f + e); }
inline float vsigmoid(float x) { return sigmoid_from_exp(x, vexp(-vabs(x))); }
// vsigmoid for |x| <= kExpNormalLimit (exp_normal_ok), the same bits.
inline float vsigmoid_normal(float x) { return sigmoid_from_exp(x, vexp_normal(-vabs(x))); }

// log1p(exp(-|x|)) + max(x, 0), as the reference writes it.
inline float vsoftplus(float x) { return vlog1p(vexp(-vabs(x))) + sel(x > 0.f, x, 0.f); }

// ---- erf and the normal cdf ------------------------------------------------------------------
// 0.5 erf(a / sqrt 2) = a Q(a^2) for |a| <= sqrt 2, relative error 1.2e-9.
inline float half_erf_scaled(float a) {
    const float s = a * a;
    float q = 4.338702979e-07f;
    q = q * s - 8.850108316e-06f;
    q = q * s + 1.146469585e-04f;
    q = q * s - 1.186782029e-03f;
    q = q * s + 9.973374195e-03f;
    q = q * s - 6.649035960e-02f;
    q = q * s + 3.989422917e-01f;
    return a * q;
}

// Phi(-a) = 0.5 erfc(a / sqrt 2) for a >= 0.75 (a <= 16 after clamping), as R(t)/(1 + a) exp(-a^2/2)
// with t = 1/(1 + a) and R a degree-11 minimax fit in u = t - 5/16 (relative error 4e-9; R(5/16) is
// carried as hi + lo). 1 + a = d + dl exactly; R takes dl as a relative correction in its last step,
// so R/d carries one rounding, and t (rounded) only feeds R's argument, where its error is damped
// fivefold. -a^2/2 goes to exp exactly, as a hi/lo pair. Returns R/(1 + a) and the parts:
// Phi(-a) = exp_times(ep, result).
inline float phi_tail(float a, ExpParts& ep) {
    a = sel(a > 16.f, 16.f, a);
    float d, dl;
    two_sum(1.f, a, d, dl);
    const float t = 1.f / d;
    const float u = t - 0.3125f;
    float r = -3.275415421e+01f;
    r = r * u + 1.072040844e+01f;
    r = r * u + 8.315326691e+00f;
    r = r * u - 6.701050282e+00f;
    r = r * u + 1.865166664e+00f;
    r = r * u + 7.030698061e-01f;
    r = r * u - 1.235022783e+00f;
    r = r * u + 6.402278543e-01f;
    r = r * u + 1.231179237e-01f;
    r = r * u - 4.551067948e-01f;
    r = r * u + 1.997960210e-01f;
    const float ur = r * u + 1.963432616e-08f;
    r = 5.003398657e-01f + (ur - (5.003398657e-01f + ur) * (t * dl));
    float qh, ql;
    two_prod(a, a, qh, ql);
    ep = exp_parts(-0.5f * qh, -0.5f * ql);
    return r / d;
}

// erf(z) = z P(z^2) for |z| < 1 (relative error 1.3e-9, P(0) = 2/sqrt(pi) as hi + lo), else
// sign(z) (1 - 2 Phi(-|z| sqrt 2)).
inline float verf(float z) {
    const float s = z * z;
    float p = 7.853153511e-05f;
    p = p * s - 8.010162855e-04f;
    p = p * s + 5.188347772e-03f;
    p = p * s - 2.685383707e-02f;
    p = p * s + 1.128358617e-01f;
    p = p * s - 3.761262596e-01f;
    p = p * s + 5.920588109e-08f;
    const float a = vabs(z);
    const float small = a * 1.128379107e+00f + a * p;
    ExpParts ep;
    const float g = phi_tail(a * 1.414213538e+00f, ep);
    return with_sign(sel(a < 1.f, small, 1.f - 2.f * exp_times(ep, g)), z);
}

// ---- activations --------------------------------------------------------------------------------
constexpr float kSeluAlpha = 1.67326319e+00f;  // float(1.6732632423543772), as the reference rounds it
constexpr float kSeluScale = 1.05070102e+00f;  // float(1.0507009873554805)
constexpr float kSeluScaleAlpha = 1.75809932e+00f;
constexpr float kInvSqrt2Pi = 3.989422917e-01f;

inline float velu(float x, float alpha) { return sel(x > 0.f, x, alpha * vexpm1(x)); }
inline float vselu(float x) { return kSeluScale * sel(x > 0.f, x, kSeluAlpha * vexpm1(x)); }
inline float vsilu(float x) { return sigmoid_times(x, x); }
inline float vsoftsign(float x) { return x / (1.f + vabs(x)); }
inline float vhard_sigmoid(float x) {
    const float y = (x + 3.f) / 6.f;  // = x/6 + 1/2 without its cancellation near x = -3
    return sel(y < 0.f, 0.f, sel(y > 1.f, 1.f, y));
}

// Beyond |x| = limit gelu is x or -0 in float; x * 0 keeps the reference's NaN at -inf.
inline float gelu_far(float x) { return sel(x > 0.f, x, x * 0.f); }
// ... and gelu' is 1 or 0 (NaN at ±inf, as the reference gives).
inline float gelu_far_grad(float x) { return sel(x > 0.f, 1.f, 0.f) + x * 0.f; }

// x Phi(x): for |x| < 0.75 from the erf series (0.5 - 0.5 erf cancels little there), else from the
// tail, with x Phi(-|x|) scaled last for x < 0.
inline float vgelu_exact(float x) {
    const float a = vabs(x);
    const float small = x * (0.5f + half_erf_scaled(x));
    ExpParts ep;
    const float tr = phi_tail(a, ep);
    const float large = sel(x > 0.f, x * (1.f - exp_times(ep, tr)), exp_times(ep, x * tr));
    return sel(a > 15.f, gelu_far(x), sel(a < 0.75f, small, large));
}

// dout * (Phi(x) + x phi(x)), phi(x) = exp(-x^2/2) / sqrt(2 pi).
inline float vgelu_exact_backward(float x, float dy) {
    const float a = vabs(x);
    ExpParts ep;
    const float tr = phi_tail(a, ep);
    const float small = dy * ((0.5f + half_erf_scaled(x)) + x * exp_times(ep, kInvSqrt2Pi));
    const float w = tr - a * kInvSqrt2Pi;  // (Phi(-a) - a phi(a)) / exp(-a^2/2)
    const float large = sel(x > 0.f, dy * (1.f - exp_times(ep, w)), exp_times(ep, dy * w));
    return sel(a > 15.f, dy * gelu_far_grad(x), sel(a < 0.75f, small, large));
}

// A + B x^2 as wh + wl to ~2^-40 relative, given x^2 = qh + ql exactly and A, B as hi + lo pairs.
inline void quad_even(float ah, float al, float bh, float bl, float qh, float ql, float& wh, float& wl) {
    float ph, pl;
    two_prod(bh, qh, ph, pl);
    two_sum(ah, ph, wh, wl);
    wl = wl + (pl + (bh * ql + (bl * qh + al)));
}
constexpr float kGeluAh = 1.595769167e+00f, kGeluAl = -4.534068054e-08f;  // A = 2 sqrt(2/pi)
constexpr float kGeluBh = 7.135481387e-02f, kGeluBl = 2.398832466e-09f;   // B = 0.044715 A

// v = 2 sqrt(2/pi) (x + 0.044715 x^3) = x (A + B x^2) as vh + vl, to ~2^-40 relative: for x < 0
// gelu is x e^v/(1 + e^v), and a float v would cost |v| ulps there. Also returns x^2 = qh + ql.
inline void gelu_tanh_arg(float x, float& vh, float& vl, float& qh, float& ql) {
    float wh, wl, ve;
    two_prod(x, x, qh, ql);
    quad_even(kGeluAh, kGeluAl, kGeluBh, kGeluBl, qh, ql, wh, wl);
    two_prod(x, wh, vh, ve);
    vl = ve + x * wl;
}

// x sigmoid(v) = 0.5 x (1 + tanh(v / 2)).
inline float vgelu_tanh(float x) {
    const float xc = sel(vabs(x) > 12.f, 12.f, x);  // keeps x^3 finite; the result there is gelu_far
    float vh, vl, qh, ql;
    gelu_tanh_arg(xc, vh, vl, qh, ql);
    const ExpParts ep = exp_parts(-vabs(vh), sel(vh < 0.f, vl, -vl));  // e = exp(-|v|)
    const float q = div_one_plus(x, exp_value(ep));
    return sel(vabs(x) > 12.f, gelu_far(x), sel(x >= 0.f, q, exp_times(ep, q)));
}

// dout * s (1 + x D (1 - s)), s = sigmoid(v), D = dv/dx = A + 3 B x^2. With r = 1/(1 + e) and
// er = e r: x >= 0: s = r, 1 - s = er; x < 0: s = er, 1 - s = r, and 1 + x D r = (1 + x D) - x D er
// with 1 + x D carried exactly (D compensated like v), so the sum is rounded once.
inline float vgelu_tanh_backward(float x, float dy) {
    const float xc = sel(vabs(x) > 12.f, 12.f, x);
    float vh, vl, qh, ql, dh, dl, ph, pl, h, hl;
    gelu_tanh_arg(xc, vh, vl, qh, ql);
    quad_even(kGeluAh, kGeluAl, 2.140644491e-01f, -2.540834210e-10f, qh, ql, dh, dl);
    two_prod(xc, dh, ph, pl);  // x D = ph + pl + x dl
    two_sum(1.f, ph, h, hl);
    const ExpParts ep = exp_parts(-vabs(vh), sel(vh < 0.f, vl, -vl));
    const float e = exp_value(ep), r = inv_one_plus(e), er = e * r;
    const float inner_neg = h + ((hl + (pl + xc * dl)) - ph * er);
    const float g = r * sel(x >= 0.f, 1.f + ph * er, inner_neg);
    return sel(vabs(x) > 12.f, dy * gelu_far_grad(x), sel(x >= 0.f, dy * g, exp_times(ep, dy * g)));
}

// dout * s (1 + x (1 - s)), s = sigmoid(x), in the same form as above: 1 + x r = (1 + x) - x er.
inline float vsilu_backward(float x, float dy) {
    const ExpParts ep = exp_parts(-vabs(x));
    const float e = exp_value(ep), r = inv_one_plus(e), er = e * r;
    float h, hl;
    two_sum(1.f, x, h, hl);
    const float g = r * sel(x >= 0.f, 1.f + x * er, h + (hl - x * er));
    const float y = sel(x >= 0.f, dy * g, exp_times(ep, dy * g));
    return sel(x < -126.f, dy * (x * 0.f), y);
}

// dout * selu'(x): scale for x > 0, scale * alpha * exp(x) otherwise.
inline float vselu_backward(float x, float dy) {
    const float y = sel(x > 0.f, dy * kSeluScale, exp_times(exp_parts(x), dy * kSeluScaleAlpha));
    return sel(x < -126.f, dy * 0.f, y);
}

}  // namespace
}  // namespace ckeras::cpu
