// Tests for cpu/vec_math.h and the vectorised float32 unary kernels (unary_avx2.cpp, unary_generic.cpp).
// vec_math: ulp sweeps against double-precision std:: references over every 4099th bit pattern (all
// exponents, both signs, NaNs), a dense grid where the function bends, random values and the edges.
// Kernels (both builds): forward and backward against independent double references of the formulas
// in elementwise_cpu.cpp, on odd sizes, in place, and on the IEEE special values, whose class (NaN,
// ±inf, finite, sign of a zero output) must match the float64 reference kernel's exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "ckeras/kernels.h"
#include "cpu/cpu_common.h"
#include "cpu/gemm_cpu.h"
#include "cpu/unary_vec.h"
#include "cpu/vec_math.h"

namespace ckeras::cpu {
namespace {

using Lim = std::numeric_limits<float>;
constexpr float kFInf = Lim::infinity();

float from_bits(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
uint32_t to_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

// |got - ref| in units of the float spacing at ref (2^-149 among denormals). NaN must meet NaN, and a
// ref that rounds to ±inf must be met by that infinity.
double ulp_of(double ref) {
    int e = -200;
    if (ref != 0) std::frexp(ref, &e);
    return std::ldexp(1.0, std::max(e - 24, -149));
}
double ulp_error(float got, double ref) {
    if (std::isnan(ref)) return std::isnan(got) ? 0 : INFINITY;
    const float rf = static_cast<float>(ref);
    if (std::isinf(rf)) return got == rf ? 0 : INFINITY;
    if (!std::isfinite(got)) return INFINITY;
    return std::abs(double(got) - ref) / ulp_of(ref);
}
bool same_bits(float a, float b) { return (std::isnan(a) && std::isnan(b)) || to_bits(a) == to_bits(b); }

// Special and threshold values, each with its neighbours.
std::vector<float> edge_values() {
    const float base[] = {0.f, Lim::denorm_min(), 1e-40f, Lim::min(), 1e-20f, 1e-8f, 0.5f, 1.f, 1.41421354f, 2.f,
                          6.f, 3.f, 10.f, 12.f, 15.f, 16.f, 20.f, 50.f, 80.f, 87.3365479f, 88.7228394f, 89.f,
                          100.f, 103.972076f, 104.f, 110.f, 126.f, 130.f, 1e10f, 1e20f, 1e30f, Lim::max()};
    std::vector<float> v = {kFInf, -kFInf, Lim::quiet_NaN(), -Lim::quiet_NaN()};
    for (float b : base) {
        for (float s : {b, -b}) {
            v.push_back(s);
            v.push_back(std::nextafter(s, kFInf));
            v.push_back(std::nextafter(s, -kFInf));
        }
    }
    return v;
}

// The sweep: strided and random bit patterns (every exponent, both signs, NaNs), the edges, and
// random values plus a dense grid on [lo, hi], where the function bends.
std::vector<float> sweep_inputs(float lo, float hi) {
    static const std::vector<float> base = [] {
        std::vector<float> v = edge_values();
        for (uint64_t u = 0; u < (uint64_t(1) << 32); u += 4099) v.push_back(from_bits(uint32_t(u)));
        std::mt19937 rng(7);
        for (int i = 0; i < 300000; ++i) v.push_back(from_bits(rng()));
        return v;
    }();
    std::vector<float> v = base;
    std::mt19937 rng(lo < 0 ? 9 : 8);
    std::uniform_real_distribution<float> uni(lo, hi);
    for (int i = 0; i < 300000; ++i) v.push_back(uni(rng));
    for (int i = 0; i <= 400000; ++i) v.push_back(lo + (hi - lo) * (float(i) / 400000.f));
    return v;
}

template <class F, class R>
void expect_ulp(const char* name, F f, R ref, double bound, float lo, float hi) {
    double worst = 0;
    float at = 0;
    for (float x : sweep_inputs(lo, hi)) {
        const double e = ulp_error(f(x), ref(double(x)));
        if (!(e <= worst)) { worst = e; at = x; }
    }
    std::printf("[   ulp    ] %-14s max %.3f ulp at %a\n", name, worst, at);
    EXPECT_LE(worst, bound) << name << " at x = " << std::hexfloat << at << ": got " << f(at) << ", want "
                            << ref(double(at));
}

// ---- double references --------------------------------------------------------------------------
constexpr double kPi = 3.14159265358979323846;
double sig(double x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }
double ncdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double npdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * kPi); }
double gelu_v(double x) { return 2 * std::sqrt(2 / kPi) * (x + 0.044715 * x * x * x); }  // 1 + tanh(v/2) = 2 sig(v)
double softplus(double x) { return std::log1p(std::exp(-std::abs(x))) + (x > 0 ? x : 0); }

TEST(VecMath, ExpWithin2Ulp) { expect_ulp("exp", vexp, [](double x) { return std::exp(x); }, 2, -104.f, 89.f); }
TEST(VecMath, LogWithin2Ulp) { expect_ulp("log", vlog, [](double x) { return std::log(x); }, 2, 0.f, 4.f); }
TEST(VecMath, Expm1Within4Ulp) {
    expect_ulp("expm1", vexpm1, [](double x) { return std::expm1(x); }, 4, -20.f, 20.f);
}
TEST(VecMath, Log1pWithin4Ulp) {
    expect_ulp("log1p", vlog1p, [](double x) { return std::log1p(x); }, 4, -1.f, 4.f);
}
TEST(VecMath, TanhWithin4Ulp) { expect_ulp("tanh", vtanh, [](double x) { return std::tanh(x); }, 4, -10.f, 10.f); }
TEST(VecMath, SigmoidWithin4Ulp) { expect_ulp("sigmoid", vsigmoid, sig, 4, -110.f, 20.f); }
TEST(VecMath, ErfWithin4Ulp) { expect_ulp("erf", verf, [](double x) { return std::erf(x); }, 4, -5.f, 5.f); }
TEST(VecMath, SoftplusWithin4Ulp) { expect_ulp("softplus", vsoftplus, softplus, 4, -110.f, 30.f); }
TEST(VecMath, GeluExactWithin4Ulp) {
    expect_ulp("gelu", vgelu_exact, [](double x) { return x * ncdf(x); }, 4, -15.f, 5.f);
}
TEST(VecMath, GeluTanhWithin4Ulp) {
    expect_ulp("gelu_tanh", vgelu_tanh, [](double x) { return x * sig(gelu_v(x)); }, 4, -12.f, 5.f);
}
TEST(VecMath, SiluWithin4Ulp) { expect_ulp("silu", vsilu, [](double x) { return x * sig(x); }, 4, -110.f, 20.f); }

TEST(VecMath, SpecialCases) {
    const float nan = Lim::quiet_NaN();
    for (auto f : {vexp, vexpm1, vlog, vlog1p, vtanh, vsigmoid, verf, vsoftplus, vgelu_exact, vgelu_tanh, vsilu})
        EXPECT_TRUE(std::isnan(f(nan)));
    EXPECT_EQ(vexp(kFInf), kFInf);
    EXPECT_EQ(to_bits(vexp(-kFInf)), 0u);
    EXPECT_EQ(vexp(88.8f), kFInf);                             // overflow
    EXPECT_EQ(vexp(-100.f), float(std::exp(-100.0)));          // gradual underflow: a denormal
    EXPECT_EQ(to_bits(vexp(-104.f)), 0u);                      // below ~-103.97: +0
    EXPECT_EQ(vlog(0.f), -kFInf);
    EXPECT_EQ(vlog(-0.f), -kFInf);
    EXPECT_TRUE(std::isnan(vlog(-1.f)));
    EXPECT_TRUE(std::isnan(vlog(-kFInf)));
    EXPECT_EQ(vlog(kFInf), kFInf);
    EXPECT_EQ(vlog1p(-1.f), -kFInf);
    EXPECT_EQ(to_bits(vlog1p(-0.f)), to_bits(-0.f));
    EXPECT_EQ(to_bits(vexpm1(-0.f)), to_bits(-0.f));
    EXPECT_EQ(vexpm1(-kFInf), -1.f);
    EXPECT_EQ(vtanh(kFInf), 1.f);
    EXPECT_EQ(vtanh(-kFInf), -1.f);
    EXPECT_EQ(vsigmoid(kFInf), 1.f);
    EXPECT_EQ(vsigmoid(-kFInf), 0.f);
    EXPECT_GT(vsigmoid(-100.f), 0.f);                          // e^-100, not NaN from inf/inf
    EXPECT_EQ(vsoftplus(100.f), 100.f);
    EXPECT_EQ(vsoftplus(-kFInf), 0.f);
    EXPECT_EQ(verf(kFInf), 1.f);
    EXPECT_EQ(verf(-kFInf), -1.f);
    EXPECT_EQ(vgelu_exact(50.f), 50.f);
    EXPECT_EQ(to_bits(vgelu_exact(-50.f)), to_bits(-0.f));
    EXPECT_EQ(vgelu_tanh(50.f), 50.f);
    EXPECT_EQ(to_bits(vgelu_tanh(-50.f)), to_bits(-0.f));
    EXPECT_TRUE(std::isnan(vgelu_exact(-kFInf)));               // -inf * 0, as the reference gives
    EXPECT_EQ(vgelu_tanh(kFInf), kFInf);
}

// ---- kernels --------------------------------------------------------------------------------------
constexpr double kSeluAlphaD = 1.6732632423543772, kSeluScaleD = 1.0507009873554805;

double ref_forward(UnaryOp op, double x, double a, double b) {
    switch (op) {
        case UnaryOp::Neg: return -x;
        case UnaryOp::Abs: return std::abs(x);
        case UnaryOp::Square: return x * x;
        case UnaryOp::Sqrt: return std::sqrt(x);
        case UnaryOp::Rsqrt: return 1 / std::sqrt(x);
        case UnaryOp::Exp: return std::exp(x);
        case UnaryOp::Log: return std::log(x);
        case UnaryOp::Log1p: return std::log1p(x);
        case UnaryOp::Sign: return x != x ? x : double((x > 0) - (x < 0));
        case UnaryOp::Reciprocal: return 1 / x;
        case UnaryOp::Relu: return x < 0 ? 0 : x;
        case UnaryOp::Relu6: return x < 0 ? 0 : (x > 6 ? 6 : x);
        case UnaryOp::LeakyRelu: return x < 0 ? a * x : x;
        case UnaryOp::Elu: return x > 0 ? x : a * std::expm1(x);
        case UnaryOp::Selu: return kSeluScaleD * (x > 0 ? x : kSeluAlphaD * std::expm1(x));
        case UnaryOp::GeluExact: return x * ncdf(x);
        case UnaryOp::GeluTanh: return x * sig(gelu_v(x));
        case UnaryOp::Silu: return x * sig(x);
        case UnaryOp::Sigmoid: return sig(x);
        case UnaryOp::HardSigmoid: { double y = x / 6 + 0.5; return y < 0 ? 0 : (y > 1 ? 1 : y); }
        case UnaryOp::Tanh: return std::tanh(x);
        case UnaryOp::Softplus: return softplus(x);
        case UnaryOp::Softsign: return x / (1 + std::abs(x));
        case UnaryOp::Clip: return x < a ? a : (x > b ? b : x);
        case UnaryOp::PowScalar: return std::pow(x, a);
        case UnaryOp::kCount: break;
    }
    return 0;
}

// dinp for one element; *scale gets sum |terms| of f' where they can cancel (0 where none do): near a
// root of f' no float formula is accurate relative to the result, so errors are judged per unit of
// the cancellation factor sum |terms| / |f'|.
double ref_backward(UnaryOp op, double dy, double x, double y, double a, double b, double* scale) {
    *scale = 0;
    switch (op) {
        case UnaryOp::Relu: return x > 0 ? dy : 0;
        case UnaryOp::GeluExact:
            *scale = std::abs(ncdf(x)) + std::abs(x * npdf(x));
            return dy * (ncdf(x) + x * npdf(x));
        case UnaryOp::GeluTanh: {
            const double s = sig(gelu_v(x)), oms = sig(-gelu_v(x));
            const double t = x * s * oms * 2 * std::sqrt(2 / kPi) * (1 + 3 * 0.044715 * x * x);
            *scale = s + std::abs(t);
            return dy * (s + t);
        }
        case UnaryOp::Silu:
            *scale = sig(x) + std::abs(x * sig(x) * sig(-x));
            return dy * (sig(x) + x * sig(x) * sig(-x));
        default: break;
    }
    double g = 0;
    switch (op) {
        case UnaryOp::Neg: g = -1; break;
        case UnaryOp::Abs: g = x != x ? x : double((x > 0) - (x < 0)); break;
        case UnaryOp::Square: g = 2 * x; break;
        case UnaryOp::Sqrt: g = 0.5 / y; break;
        case UnaryOp::Rsqrt: g = -0.5 * y * y * y; break;
        case UnaryOp::Exp: g = y; break;
        case UnaryOp::Log: g = 1 / x; break;
        case UnaryOp::Log1p: g = 1 / (1 + x); break;
        case UnaryOp::Reciprocal: g = -y * y; break;
        case UnaryOp::Relu6: g = (x > 0 && x < 6) ? 1 : 0; break;
        case UnaryOp::LeakyRelu: g = x < 0 ? a : 1; break;
        case UnaryOp::Elu: g = x > 0 ? 1 : y + a; break;
        case UnaryOp::Selu: g = x > 0 ? kSeluScaleD : kSeluScaleD * kSeluAlphaD * std::exp(x); break;
        case UnaryOp::Sigmoid: g = y * (1 - y); break;
        case UnaryOp::HardSigmoid: g = (x > -3 && x < 3) ? 1.0 / 6 : 0; break;
        case UnaryOp::Tanh: g = 1 - y * y; break;
        case UnaryOp::Softplus: g = sig(x); break;
        case UnaryOp::Softsign: g = 1 / ((1 + std::abs(x)) * (1 + std::abs(x))); break;
        case UnaryOp::Clip: g = (x >= a && x <= b) ? 1 : 0; break;
        case UnaryOp::PowScalar: g = a * std::pow(x, a - 1); break;
        default: break;  // Sign: 0
    }
    return dy * g;
}

// The activation gradients of vec_math (dout = 1), per unit of the cancellation factor as above.
TEST(VecMath, ActivationGradientsWithin4Ulp) {
    struct Grad {
        const char* name;
        UnaryOp op;
        float (*f)(float, float);
    };
    const Grad grads[] = {{"gelu'", UnaryOp::GeluExact, vgelu_exact_backward},
                          {"gelu_tanh'", UnaryOp::GeluTanh, vgelu_tanh_backward},
                          {"silu'", UnaryOp::Silu, vsilu_backward},
                          {"selu'", UnaryOp::Selu, vselu_backward},
                          {"softplus'", UnaryOp::Softplus, [](float x, float dy) { return sigmoid_times(x, dy); }}};
    for (const Grad& g : grads) {
        double worst = 0;
        float at = 0;
        for (float x : sweep_inputs(-15.f, 15.f)) {
            double scale;
            const double want = ref_backward(g.op, 1.0, x, 0.0, 0.0, 0.0, &scale);
            const double kappa = scale > 0 && want != 0 ? std::max(1.0, scale / std::abs(want)) : 1.0;
            const double e = ulp_error(g.f(x, 1.f), want) / kappa;
            if (!(e <= worst)) { worst = e; at = x; }
        }
        std::printf("[   ulp    ] %-14s max %.3f ulp at %a\n", g.name, worst, at);
        EXPECT_LE(worst, 4.0) << g.name << " at x = " << std::hexfloat << at;
    }
}

struct Case {
    UnaryOp op;
    float a = 0, b = 0;
    double ulps = 4;  // forward bound; backward: 4 per unit of the cancellation factor
};
const Case kCases[] = {
    {UnaryOp::Neg, 0, 0, 0.5}, {UnaryOp::Abs, 0, 0, 0.5}, {UnaryOp::Square, 0, 0, 0.5}, {UnaryOp::Sqrt, 0, 0, 0.5},
    {UnaryOp::Rsqrt, 0, 0, 1.5}, {UnaryOp::Exp, 0, 0, 2}, {UnaryOp::Log, 0, 0, 2}, {UnaryOp::Log1p},
    {UnaryOp::Sign, 0, 0, 0}, {UnaryOp::Reciprocal, 0, 0, 0.5}, {UnaryOp::Relu, 0, 0, 0}, {UnaryOp::Relu6, 0, 0, 0},
    {UnaryOp::LeakyRelu, 0.2f, 0, 0.5}, {UnaryOp::Elu, 1.f}, {UnaryOp::Elu, 0.3f}, {UnaryOp::Selu},
    {UnaryOp::GeluExact}, {UnaryOp::GeluTanh}, {UnaryOp::Silu}, {UnaryOp::Sigmoid}, {UnaryOp::HardSigmoid, 0, 0, 1},
    {UnaryOp::Tanh}, {UnaryOp::Softplus}, {UnaryOp::Softsign, 0, 0, 1.5}, {UnaryOp::Clip, -1.f, 2.5f, 0},
    {UnaryOp::PowScalar, 0.f, 0, 0}, {UnaryOp::PowScalar, 1.f, 0, 0}, {UnaryOp::PowScalar, 2.f, 0, 0.5},
    {UnaryOp::PowScalar, 3.f, 0, 1.5}, {UnaryOp::PowScalar, -1.f, 0, 1}, {UnaryOp::PowScalar, 0.5f, 0, 1},
};

using FwdFn = bool (*)(UnaryOp, float*, const float*, int64_t, float, float);
using BwdFn = bool (*)(UnaryOp, float*, const float*, const float*, const float*, int64_t, float, float);
struct Build {
    const char* name;
    FwdFn fwd;
    BwdFn bwd;
};
const Build kGeneric{"generic", generic::unary_f32, generic::unary_backward_f32};
const Build kAvx2{"avx2", avx2::unary_f32, avx2::unary_backward_f32};
const Build kAvx512{"avx512", avx512::unary_f32, avx512::unary_backward_f32};

// Mixed inputs: a dense grid on [-20, 20], normals, random bit patterns and the edges, shuffled so
// that specials land in vector bodies and tails alike.
std::vector<float> kernel_inputs() {
    std::vector<float> v = edge_values();
    std::mt19937 rng(11);
    std::normal_distribution<float> nrm(0.f, 4.f);
    for (int i = 0; i <= 40000; ++i) v.push_back(-20.f + 40.f * (float(i) / 40000.f));
    for (int i = 0; i < 40000; ++i) v.push_back(nrm(rng));
    for (int i = 0; i < 20000; ++i) v.push_back(from_bits(rng()));
    std::shuffle(v.begin(), v.end(), rng);
    return v;
}

bool same_class(float got, double want, bool zero_sign) {
    const float w = static_cast<float>(want);
    if (std::isnan(w) || std::isnan(got)) return std::isnan(w) && std::isnan(got);
    if (std::isinf(w) || std::isinf(got)) return got == w;
    if (zero_sign && w == 0 && got == 0) return std::signbit(w) == std::signbit(got);
    return true;
}

// Runs every case through one build: accuracy against ref_forward/ref_backward, and the class of each
// result against the float64 reference kernel (the formulas of elementwise_cpu.cpp run in double).
void check_build(const Build& build) {
    KernelTable table;
    register_elementwise_cpu(table);
    const std::vector<float> x = kernel_inputs();
    const int64_t n = static_cast<int64_t>(x.size());
    std::vector<float> y(n), dy(n), dx(n);
    std::vector<double> xd(x.begin(), x.end()), yd(n), dyd(n), dxd(n);
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> uni(-2.f, 2.f);
    for (auto& g : dy) g = uni(rng);
    dy[0] = Lim::quiet_NaN();
    dy[1] = 0.f;
    for (const Case& c : kCases) {
        const char* name = unary_op_name(c.op);
        if (!build.fwd(c.op, y.data(), x.data(), n, c.a, c.b)) {
            EXPECT_TRUE(c.op == UnaryOp::Sqrt || c.op == UnaryOp::Rsqrt || (c.op == UnaryOp::PowScalar && c.a == 0.5f))
                << build.name << " does not handle " << name;
            continue;
        }
        table.unary(c.op, DType::Float64, yd.data(), xd.data(), n, c.a, c.b);
        double worst = 0, worst_b = 0;
        int64_t at = 0, at_b = 0;
        for (int64_t i = 0; i < n; ++i) {
            const double e = ulp_error(y[i], ref_forward(c.op, x[i], c.a, c.b));
            if (!(e <= worst)) { worst = e; at = i; }
            ASSERT_TRUE(same_class(y[i], yd[i], true)) << build.name << " " << name << "(" << x[i] << ") = " << y[i]
                                                       << ", reference " << yd[i];
        }
        EXPECT_LE(worst, c.ulps) << build.name << " " << name << "(a=" << c.a << ") at x = " << std::hexfloat << x[at]
                                 << ": got " << y[at];
        ASSERT_TRUE(build.bwd(c.op, dx.data(), dy.data(), x.data(), y.data(), n, c.a, c.b)) << name;
        std::vector<double> ydd(y.begin(), y.end());
        for (int64_t i = 0; i < n; ++i) dyd[i] = dy[i];
        table.unary_backward(c.op, DType::Float64, dxd.data(), dyd.data(), xd.data(), ydd.data(), n, c.a, c.b);
        for (int64_t i = 0; i < n; ++i) {
            double scale;
            const double want = ref_backward(c.op, dy[i], x[i], y[i], c.a, c.b, &scale);
            // ulps per unit of the cancellation factor kappa = sum |terms| / |f'| (1 where nothing cancels)
            const double kappa = scale > 0 && want != 0 ? std::max(1.0, std::abs(dy[i]) * scale / std::abs(want)) : 1.0;
            const double e = ulp_error(dx[i], want) / kappa;
            if (!(e <= worst_b)) { worst_b = e; at_b = i; }
            ASSERT_TRUE(same_class(dx[i], dxd[i], false)) << build.name << " " << name << "'(" << x[i] << ") * "
                                                          << dy[i] << " = " << dx[i] << ", reference " << dxd[i];
        }
        EXPECT_LE(worst_b, 4.0) << build.name << " " << name << " backward at x = " << std::hexfloat << x[at_b]
                                << ", dy = " << dy[at_b] << ": got " << dx[at_b];
        std::printf("[   ulp    ] %-7s %-12s a=%-4g forward %.3f  backward %.3f\n", build.name, name, c.a, worst,
                    worst_b);
    }
}

TEST(UnaryVec, GenericMatchesReference) { check_build(kGeneric); }
TEST(UnaryVec, Avx2MatchesReference) {
    if (!cpu_has_avx2_fma()) GTEST_SKIP() << "no AVX2+FMA on this CPU";
    check_build(kAvx2);
}
TEST(UnaryVec, Avx512MatchesReference) {
    if (!cpu_has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
    check_build(kAvx512);
}

// Sizes that leave every kind of tail; results must not depend on where an element falls, nothing
// past n may be written, and out == inp must work.
TEST(UnaryVec, OddSizesAndInPlace) {
    const std::vector<float> all = kernel_inputs();
    std::vector<Build> builds = {kGeneric};
    if (cpu_has_avx2_fma()) builds.push_back(kAvx2);
    if (cpu_has_avx512()) builds.push_back(kAvx512);
    for (const Build& build : builds) {
        for (const Case& c : kCases) {
            std::vector<float> full(all.size()), dfull(all.size());
            if (!build.fwd(c.op, full.data(), all.data(), int64_t(all.size()), c.a, c.b)) continue;
            build.bwd(c.op, dfull.data(), all.data(), all.data(), full.data(), int64_t(all.size()), c.a, c.b);
            for (int64_t n : {1, 7, 33, 127, 1025}) {
                for (int64_t off : {int64_t(0), int64_t(5000) + n}) {
                    std::vector<float> out(n + 9, 42.f), dout(n + 9, 42.f);
                    std::vector<float> io(all.begin() + off, all.begin() + off + n);
                    build.fwd(c.op, out.data(), all.data() + off, n, c.a, c.b);
                    build.bwd(c.op, dout.data(), all.data() + off, all.data() + off, full.data() + off, n, c.a, c.b);
                    build.fwd(c.op, io.data(), io.data(), n, c.a, c.b);
                    for (int64_t i = 0; i < n; ++i) {
                        ASSERT_TRUE(same_bits(out[i], full[off + i]))
                            << build.name << " " << unary_op_name(c.op) << " n=" << n;
                        ASSERT_TRUE(same_bits(io[i], full[off + i])) << build.name << " in place";
                        ASSERT_TRUE(same_bits(dout[i], dfull[off + i])) << build.name << " backward n=" << n;
                    }
                    for (int64_t i = n; i < n + 9; ++i) ASSERT_EQ(out[i], 42.f) << "wrote past n";
                    for (int64_t i = n; i < n + 9; ++i) ASSERT_EQ(dout[i], 42.f) << "backward wrote past n";
                }
            }
        }
    }
}

TEST(UnaryVec, HandledOpsAgreeBetweenBuilds) {
    for (int k = 0; k < int(UnaryOp::kCount); ++k) {
        const UnaryOp op = static_cast<UnaryOp>(k);
        for (float a : {0.f, 1.f, 2.f, 0.5f, 1.7f}) {
            const bool g = generic::unary_f32(op, nullptr, nullptr, 0, a, 1.f);  // n = 0 probes
            const bool gb = generic::unary_backward_f32(op, nullptr, nullptr, nullptr, nullptr, 0, a, 1.f);
            if (op != UnaryOp::Sqrt && op != UnaryOp::Rsqrt) {  // their gradients need no sqrt
                EXPECT_EQ(g, gb) << unary_op_name(op);
            }
            if (cpu_has_avx2_fma()) {
                EXPECT_EQ(g, avx2::unary_f32(op, nullptr, nullptr, 0, a, 1.f)) << unary_op_name(op);
            }
            if (cpu_has_avx512()) {
                EXPECT_EQ(g, avx512::unary_f32(op, nullptr, nullptr, 0, a, 1.f)) << unary_op_name(op);
            }
            const bool maybe_unhandled =
                op == UnaryOp::Sqrt || op == UnaryOp::Rsqrt || (op == UnaryOp::PowScalar && (a == 0.5f || a == 1.7f));
            if (!maybe_unhandled) {
                EXPECT_TRUE(g) << unary_op_name(op);
            }
        }
    }
    EXPECT_FALSE(generic::unary_f32(UnaryOp::PowScalar, nullptr, nullptr, 0, 1.7f, 0.f));
}

TEST(UnaryVec, LevelFollowsEnvironment) {
    const char* old = std::getenv("CKERAS_CPU_SIMD");
    setenv("CKERAS_CPU_SIMD", "generic", 1);
    EXPECT_EQ(unary_vec_level(), UnaryVecLevel::Generic);
    unsetenv("CKERAS_CPU_SIMD");
    const UnaryVecLevel best = cpu_has_avx512()     ? UnaryVecLevel::Avx512
                               : cpu_has_avx2_fma() ? UnaryVecLevel::Avx2
                                                    : UnaryVecLevel::Generic;
    EXPECT_EQ(unary_vec_level(), best);
    setenv("CKERAS_CPU_SIMD", "avx2", 1);  // a cap: AVX-512 machines take the AVX2 build
    EXPECT_EQ(unary_vec_level(), cpu_has_avx2_fma() ? UnaryVecLevel::Avx2 : UnaryVecLevel::Generic);
    unsetenv("CKERAS_CPU_SIMD");
    if (old) setenv("CKERAS_CPU_SIMD", old, 1);
}

}  // namespace
}  // namespace ckeras::cpu
