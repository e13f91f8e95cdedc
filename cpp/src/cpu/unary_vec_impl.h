// The vectorised float32 unary kernels, one tight loop per op: the single source of unary_avx2.cpp
// (-mavx2 -mfma) and unary_generic.cpp (baseline), which each include it once, inside their own
// namespace, after <cstdint>, "ckeras/kernels.h" and "cpu/vec_math.h". Hence no include guard.
// Formulas are those of unary_fn / unary_grad in elementwise_cpu.cpp; where the reference rounds badly
// (1 - y*y, 1 + tanh(u) for u << 0, gelu tails) these use a rearrangement that is exact in the same
// special cases (NaN, ±inf, ±0) and within the ulp budget elsewhere. Single-threaded: the caller splits
// the range with parallel_for. Sqrt and Rsqrt (and pow with exponent 0.5) need sqrt, which GCC only
// vectorises without errno, so they are handled only when compiled with -fno-math-errno.

#ifndef CKERAS_VEC_LOOP
#if defined(_OPENMP)
#define CKERAS_VEC_LOOP _Pragma("omp simd")  // also forces vectorisation at -O2's very-cheap cost model
#else
#define CKERAS_VEC_LOOP _Pragma("GCC ivdep")
#endif
#endif

namespace {

// out[i] = f(x[i]), n elements; out may alias x (same index).
template <class F>
inline void map1(float* out, const float* x, int64_t n, F f) {
    CKERAS_VEC_LOOP
    for (int64_t i = 0; i < n; ++i) out[i] = f(x[i]);
}
// out[i] = f(a[i], b[i]).
template <class F>
inline void map2(float* out, const float* a, const float* b, int64_t n, F f) {
    CKERAS_VEC_LOOP
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
}

// out[i] = f(a[i], b[i], c[i]).
template <class F>
inline void map3(float* out, const float* a, const float* b, const float* c, int64_t n, F f) {
    CKERAS_VEC_LOOP
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i], c[i]);
}

// out[i] = fast(x[i]) block by block where every |x| of the block is at most `limit`, else exact for
// the whole block: the common case runs the short formula, rare inputs (huge, inf, NaN) the full one.
// The range check is exp_normal_ok's, abs_bits(x) <= f2u(limit), taken as a maximum over the block.
// Where out and x do not overlap it runs in the same pass as fast, and a failing block is computed
// again from x; where they overlap, it is a read-only pass before the block is written.
template <class Fast, class Exact>
inline void map1_split(float* out, const float* x, int64_t n, float limit, Fast fast, Exact exact) {
    constexpr int64_t kBlock = 1024;  // 4 KiB in and out: still in L1 when a block is redone
    const uint32_t lim = f2u(limit);
    const auto o = reinterpret_cast<uintptr_t>(out), i0 = reinterpret_cast<uintptr_t>(x);
    const uintptr_t bytes = static_cast<uintptr_t>(n) * sizeof(float);
    const bool apart = o + bytes <= i0 || i0 + bytes <= o;
    for (int64_t s = 0; s < n; s += kBlock) {
        const int64_t len = n - s < kBlock ? n - s : kBlock;
        const float* xs = x + s;
        float* os = out + s;
        uint32_t top = 0;
        if (apart) {
#if defined(_OPENMP)
#pragma omp simd reduction(max : top)
#endif
            for (int64_t i = 0; i < len; ++i) {
                const float v = xs[i];
                const uint32_t m = abs_bits(v);
                top = top > m ? top : m;
                os[i] = fast(v);
            }
            if (top > lim) map1(os, xs, len, exact);
            continue;
        }
#if defined(_OPENMP)
#pragma omp simd reduction(max : top)
#endif
        for (int64_t i = 0; i < len; ++i) {
            const uint32_t m = abs_bits(xs[i]);
            top = top > m ? top : m;
        }
        if (top > lim)
            map1(os, xs, len, exact);
        else
            map1(os, xs, len, fast);
    }
}

// std::pow(x, a) for the exponents handled here (0, ±1, 2, 3, 0.5); false otherwise.
inline bool pow_scalar(float* out, const float* x, int64_t n, float a) {
    if (a == 0.f) { map1(out, x, n, [](float) { return 1.f; }); return true; }
    if (a == 1.f) { map1(out, x, n, [](float v) { return v; }); return true; }
    if (a == 2.f) { map1(out, x, n, [](float v) { return v * v; }); return true; }
    if (a == 3.f) { map1(out, x, n, [](float v) { return (v * v) * v; }); return true; }
    if (a == -1.f) { map1(out, x, n, [](float v) { return 1.f / v; }); return true; }
#if defined(__NO_MATH_ERRNO__)
    if (a == 0.5f) {  // pow(-0, .5) = +0 and pow(-inf, .5) = +inf, unlike sqrt
        map1(out, x, n, [](float v) { return sel(v == -kInf, kInf, __builtin_sqrtf(v) + 0.f); });
        return true;
    }
#endif
    return false;
}

}  // namespace

bool unary_f32(UnaryOp op, float* out, const float* inp, int64_t n, float alpha, float beta) {
    const float a = alpha, b = beta;
    switch (op) {
        case UnaryOp::Neg: map1(out, inp, n, [](float x) { return -x; }); return true;
        case UnaryOp::Abs: map1(out, inp, n, [](float x) { return vabs(x); }); return true;
        case UnaryOp::Square: map1(out, inp, n, [](float x) { return x * x; }); return true;
#if defined(__NO_MATH_ERRNO__)
        case UnaryOp::Sqrt: map1(out, inp, n, [](float x) { return __builtin_sqrtf(x); }); return true;
        case UnaryOp::Rsqrt: map1(out, inp, n, [](float x) { return 1.f / __builtin_sqrtf(x); }); return true;
#else
        case UnaryOp::Sqrt: case UnaryOp::Rsqrt: return false;
#endif
        case UnaryOp::Exp:
            map1_split(out, inp, n, kExpNormalLimit, [](float x) { return vexp_normal(x); },
                       [](float x) { return vexp(x); });
            return true;
        case UnaryOp::Log: map1(out, inp, n, [](float x) { return vlog(x); }); return true;
        case UnaryOp::Log1p: map1(out, inp, n, [](float x) { return vlog1p(x); }); return true;
        case UnaryOp::Sign:
            map1(out, inp, n, [](float x) { return sel(x != x, x, sel(x > 0.f, 1.f, sel(x < 0.f, -1.f, 0.f))); });
            return true;
        case UnaryOp::Reciprocal: map1(out, inp, n, [](float x) { return 1.f / x; }); return true;
        case UnaryOp::Relu: map1(out, inp, n, [](float x) { return sel(x < 0.f, 0.f, x); }); return true;
        case UnaryOp::Relu6:
            map1(out, inp, n, [](float x) { return sel(x < 0.f, 0.f, sel(x > 6.f, 6.f, x)); });
            return true;
        case UnaryOp::LeakyRelu: map1(out, inp, n, [a](float x) { return sel(x < 0.f, a * x, x); }); return true;
        case UnaryOp::Elu: map1(out, inp, n, [a](float x) { return velu(x, a); }); return true;
        case UnaryOp::Selu: map1(out, inp, n, [](float x) { return vselu(x); }); return true;
        case UnaryOp::GeluExact: map1(out, inp, n, [](float x) { return vgelu_exact(x); }); return true;
        case UnaryOp::GeluTanh: map1(out, inp, n, [](float x) { return vgelu_tanh(x); }); return true;
        case UnaryOp::Silu: map1(out, inp, n, [](float x) { return vsilu(x); }); return true;
        case UnaryOp::Sigmoid:
            map1_split(out, inp, n, kExpNormalLimit, [](float x) { return vsigmoid_normal(x); },
                       [](float x) { return vsigmoid(x); });
            return true;
        case UnaryOp::HardSigmoid: map1(out, inp, n, [](float x) { return vhard_sigmoid(x); }); return true;
        case UnaryOp::Tanh: map1(out, inp, n, [](float x) { return vtanh(x); }); return true;
        case UnaryOp::Softplus: map1(out, inp, n, [](float x) { return vsoftplus(x); }); return true;
        case UnaryOp::Softsign: map1(out, inp, n, [](float x) { return vsoftsign(x); }); return true;
        case UnaryOp::Clip:
            map1(out, inp, n, [a, b](float x) { return sel(x < a, a, sel(x > b, b, x)); });
            return true;
        case UnaryOp::PowScalar: return pow_scalar(out, inp, n, a);
        case UnaryOp::kCount: break;
    }
    return false;
}

// dinp = dout * f'(inp); `out` is the forward output (read only by ops whose gradient uses it).
bool unary_backward_f32(UnaryOp op, float* dinp, const float* dout, const float* inp, const float* out,
                        int64_t n, float alpha, float beta) {
    const float a = alpha, b = beta;
    float* dx = dinp;
    const float *dy = dout, *x = inp, *y = out;
    switch (op) {
        case UnaryOp::Neg: map1(dx, dy, n, [](float g) { return g * -1.f; }); return true;
        case UnaryOp::Abs:
            map2(dx, dy, x, n, [](float g, float v) {
                return g * sel(v != v, v, sel(v > 0.f, 1.f, sel(v < 0.f, -1.f, 0.f)));
            });
            return true;
        case UnaryOp::Square:  // (2 dy) x: exact scaling, so no overflow of 2x where dy 2x is finite
            map2(dx, dy, x, n, [](float g, float v) { return (2.f * g) * v; });
            return true;
        case UnaryOp::Sqrt: map2(dx, dy, y, n, [](float g, float w) { return g * (0.5f / w); }); return true;
        case UnaryOp::Rsqrt:  // dy first, so that y^3 cannot overflow where dy y^3 is finite
            map2(dx, dy, y, n, [](float g, float w) { return (((-0.5f * g) * w) * w) * w; });
            return true;
        case UnaryOp::Exp: map2(dx, dy, y, n, [](float g, float w) { return g * w; }); return true;
        case UnaryOp::Log:  // dy/x, not dy * (1/x): 1/x overflows for denormal x
            map2(dx, dy, x, n, [](float g, float v) { return g / v; });
            return true;
        case UnaryOp::Log1p: map2(dx, dy, x, n, [](float g, float v) { return g / (1.f + v); }); return true;
        case UnaryOp::Sign: map1(dx, dy, n, [](float g) { return g * 0.f; }); return true;
        case UnaryOp::Reciprocal: map2(dx, dy, y, n, [](float g, float w) { return (-g * w) * w; }); return true;
        case UnaryOp::Relu: map2(dx, dy, x, n, [](float g, float v) { return sel(v > 0.f, g, 0.f); }); return true;
        case UnaryOp::Relu6:
            map2(dx, dy, x, n, [](float g, float v) { return g * sel((v > 0.f) & (v < 6.f), 1.f, 0.f); });
            return true;
        case UnaryOp::LeakyRelu:
            map2(dx, dy, x, n, [a](float g, float v) { return g * sel(v < 0.f, a, 1.f); });
            return true;
        case UnaryOp::Elu:
            map3(dx, dy, x, y, n, [a](float g, float v, float w) { return g * sel(v > 0.f, 1.f, w + a); });
            return true;
        case UnaryOp::Selu: map2(dx, dy, x, n, [](float g, float v) { return vselu_backward(v, g); }); return true;
        case UnaryOp::GeluExact:
            map2(dx, dy, x, n, [](float g, float v) { return vgelu_exact_backward(v, g); });
            return true;
        case UnaryOp::GeluTanh:
            map2(dx, dy, x, n, [](float g, float v) { return vgelu_tanh_backward(v, g); });
            return true;
        case UnaryOp::Silu: map2(dx, dy, x, n, [](float g, float v) { return vsilu_backward(v, g); }); return true;
        case UnaryOp::Sigmoid: map2(dx, dy, y, n, [](float g, float w) { return g * (w * (1.f - w)); }); return true;
        case UnaryOp::HardSigmoid:
            map2(dx, dy, x, n, [](float g, float v) { return g * sel((v > -3.f) & (v < 3.f), 1.f / 6.f, 0.f); });
            return true;
        case UnaryOp::Tanh:  // 1 - y^2 as (1 - y)(1 + y): exact-ish near |y| = 1 without FMA
            map2(dx, dy, y, n, [](float g, float w) { return g * ((1.f - w) * (1.f + w)); });
            return true;
        case UnaryOp::Softplus: map2(dx, dy, x, n, [](float g, float v) { return sigmoid_times(v, g); }); return true;
        case UnaryOp::Softsign:  // dy/d^2 as (dy/d)/d: no overflow of d^2 for |x| > 1.8e19
            map2(dx, dy, x, n, [](float g, float v) { const float d = 1.f + vabs(v); return (g / d) / d; });
            return true;
        case UnaryOp::Clip:
            map2(dx, dy, x, n, [a, b](float g, float v) { return g * sel((v >= a) & (v <= b), 1.f, 0.f); });
            return true;
        case UnaryOp::PowScalar: {  // a * pow(x, a - 1)
            if (a == 0.f) {  // 0 * pow(x, -1): NaN at x = 0 and for NaN x, else 0 (1/x may not overflow)
                map2(dx, dy, x, n, [](float g, float v) { return g * sel(v == 0.f, kNaN, sel(v != v, v, 0.f)); });
                return true;
            }
            if (a == 1.f) { map1(dx, dy, n, [](float g) { return g * 1.f; }); return true; }
            if (a == 2.f) { map2(dx, dy, x, n, [](float g, float v) { return (2.f * g) * v; }); return true; }
            if (a == 3.f) { map2(dx, dy, x, n, [](float g, float v) { return ((3.f * g) * v) * v; }); return true; }
            if (a == -1.f) {
                map2(dx, dy, x, n, [](float g, float v) { const float r = 1.f / v; return (-g * r) * r; });
                return true;
            }
#if defined(__NO_MATH_ERRNO__)
            if (a == 0.5f) {  // pow(x, -0.5): +inf at ±0, +0 at -inf
                map2(dx, dy, x, n, [](float g, float v) {
                    const float r = sel(v == 0.f, kInf, sel(v == -kInf, 0.f, 1.f / __builtin_sqrtf(v)));
                    return g * (0.5f * r);
                });
                return true;
            }
#endif
            return false;
        }
        case UnaryOp::kCount: break;
    }
    return false;
}
