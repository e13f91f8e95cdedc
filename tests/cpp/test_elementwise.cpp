// The CPU elementwise kernels of kernel_table(DeviceType::CPU) against naive loops: unary (forward and
// backward), binary and where over contiguous, broadcast, strided and reversed operands, and the strided
// copy/fill/arange kernels. Sizes 1, 7, 33, 127, 1025 and one past the parallel grain; zero-size shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "test_util.h"

namespace ckeras {
namespace {

const KernelTable& cpu() { return kernel_table(DeviceType::CPU); }
const int64_t kSizes[] = {1, 7, 33, 127, 1025, 70001};

// The spec, written independently of cpu/elementwise_cpu.cpp. NaN in gives NaN out for every op.
double ref_unary(UnaryOp op, double x, double a, double b) {
    if (std::isnan(x)) return x;
    const double kAlpha = 1.6732632423543772, kScale = 1.0507009873554805;
    switch (op) {
        case UnaryOp::Neg: return -x;
        case UnaryOp::Abs: return std::fabs(x);
        case UnaryOp::Square: return x * x;
        case UnaryOp::Sqrt: return std::sqrt(x);
        case UnaryOp::Rsqrt: return 1 / std::sqrt(x);
        case UnaryOp::Exp: return std::exp(x);
        case UnaryOp::Log: return std::log(x);
        case UnaryOp::Log1p: return std::log1p(x);
        case UnaryOp::Sign: return x > 0 ? 1 : x < 0 ? -1 : 0;
        case UnaryOp::Reciprocal: return 1 / x;
        case UnaryOp::Relu: return x > 0 ? x : 0;
        case UnaryOp::Relu6: return x < 0 ? 0 : x > 6 ? 6 : x;
        case UnaryOp::LeakyRelu: return x >= 0 ? x : a * x;
        case UnaryOp::Elu: return x > 0 ? x : a * std::expm1(x);
        case UnaryOp::Selu: return kScale * (x > 0 ? x : kAlpha * std::expm1(x));
        case UnaryOp::GeluExact: return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
        case UnaryOp::GeluTanh: return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
        case UnaryOp::Silu: return x / (1 + std::exp(-x));
        case UnaryOp::Sigmoid: return 1 / (1 + std::exp(-x));
        case UnaryOp::HardSigmoid: return std::min(1.0, std::max(0.0, x / 6 + 0.5));
        case UnaryOp::Tanh: return std::tanh(x);
        case UnaryOp::Softplus: return std::log1p(std::exp(x));
        case UnaryOp::Softsign: return x / (1 + std::fabs(x));
        case UnaryOp::Clip: return x < a ? a : x > b ? b : x;
        case UnaryOp::PowScalar: return std::pow(x, a);
        case UnaryOp::kCount: break;
    }
    return NAN;
}

// Input range for an op (inside its domain) and its parameters.
struct UnaryCase { double lo, hi, a, b; };
UnaryCase unary_case(UnaryOp op) {
    switch (op) {
        case UnaryOp::Sqrt: case UnaryOp::Rsqrt: case UnaryOp::Log: return {0.05, 4, 0, 0};
        case UnaryOp::Log1p: return {-0.9, 4, 0, 0};
        case UnaryOp::Reciprocal: return {0.25, 4, 0, 0};
        case UnaryOp::Relu6: return {-3, 9, 0, 0};
        case UnaryOp::HardSigmoid: return {-5, 5, 0, 0};
        case UnaryOp::LeakyRelu: return {-3, 3, 0.2, 0};
        case UnaryOp::Elu: return {-3, 3, 0.7, 0};
        case UnaryOp::Clip: return {-3, 3, -0.5, 1.25};
        case UnaryOp::PowScalar: return {0.1, 3, 2.5, 0};
        default: return {-3, 3, 0, 0};
    }
}

// Points where an op has a kink: finite differences are skipped next to them.
bool near_kink(double x, const UnaryCase& c) {
    for (double k : {0.0, 6.0, -3.0, 3.0, c.a, c.b})
        if (std::fabs(x - k) < 1e-4) return true;
    return false;
}

class UnaryKernel : public ::testing::TestWithParam<int> {};

TEST_P(UnaryKernel, ForwardMatchesReference) {
    auto op = static_cast<UnaryOp>(GetParam());
    UnaryCase c = unary_case(op);
    for (int64_t n : kSizes) {
        std::vector<double> x = test::uniform(n, c.lo, c.hi, static_cast<uint32_t>(n));
        x[n / 2] = NAN;
        std::vector<double> want(n), got(n);
        for (int64_t i = 0; i < n; ++i) want[i] = ref_unary(op, x[i], c.a, c.b);
        cpu().unary(op, DType::Float64, got.data(), x.data(), n, c.a, c.b);
        test::expect_close(got, want, 1e-14, 1e-15, std::string(unary_op_name(op)) + " float64");
        std::vector<float> xf(x.begin(), x.end()), yf(n);
        cpu().unary(op, DType::Float32, yf.data(), xf.data(), n, c.a, c.b);
        for (int64_t i = 0; i < n; ++i) want[i] = ref_unary(op, xf[i], c.a, c.b);
        test::expect_close(std::vector<double>(yf.begin(), yf.end()), want, 2e-6, 1e-7,
                           std::string(unary_op_name(op)) + " float32");
    }
}

TEST_P(UnaryKernel, BackwardMatchesFiniteDifferences) {
    auto op = static_cast<UnaryOp>(GetParam());
    UnaryCase c = unary_case(op);
    const int64_t n = 127;
    std::vector<double> x = test::uniform(n, c.lo, c.hi, 7), y(n), dy = test::uniform(n, -1, 1, 8), dx(n);
    cpu().unary(op, DType::Float64, y.data(), x.data(), n, c.a, c.b);
    cpu().unary_backward(op, DType::Float64, dx.data(), dy.data(), x.data(), y.data(), n, c.a, c.b);
    const double h = 1e-6;
    for (int64_t i = 0; i < n; ++i) {
        if (near_kink(x[i], c)) continue;
        double fd = (ref_unary(op, x[i] + h, c.a, c.b) - ref_unary(op, x[i] - h, c.a, c.b)) / (2 * h);
        EXPECT_NEAR(dx[i], dy[i] * fd, 1e-6 + 1e-6 * std::fabs(dy[i] * fd)) << unary_op_name(op) << " at x=" << x[i];
    }
}

INSTANTIATE_TEST_SUITE_P(AllOps, UnaryKernel, ::testing::Range(0, static_cast<int>(UnaryOp::kCount)),
                         [](const auto& info) {
                             std::string s = unary_op_name(static_cast<UnaryOp>(info.param));
                             return s + "_" + std::to_string(info.param);
                         });

TEST(UnaryKernel, IntegersSupportTheClosedOps) {
    std::vector<int32_t> x = {-7, 0, 3, 9}, y(4);
    cpu().unary(UnaryOp::Abs, DType::Int32, y.data(), x.data(), 4, 0, 0);
    EXPECT_EQ(y, (std::vector<int32_t>{7, 0, 3, 9}));
    cpu().unary(UnaryOp::Sign, DType::Int32, y.data(), x.data(), 4, 0, 0);
    EXPECT_EQ(y, (std::vector<int32_t>{-1, 0, 1, 1}));
    cpu().unary(UnaryOp::Clip, DType::Int32, y.data(), x.data(), 4, -1, 5);
    EXPECT_EQ(y, (std::vector<int32_t>{-1, 0, 3, 5}));
    std::vector<int64_t> xl = {-2, 5}, yl(2);
    cpu().unary(UnaryOp::Square, DType::Int64, yl.data(), xl.data(), 2, 0, 0);
    EXPECT_EQ(yl, (std::vector<int64_t>{4, 25}));
    test::expect_error([&] { cpu().unary(UnaryOp::Exp, DType::Int32, y.data(), x.data(), 4, 0, 0); },
                       ErrorKind::Type, {"integer"});
}

// Walks every multi-index of `shape`; fn(linear index, offset into a, offset into b, offset into c).
template <class Fn>
void for_each_index(const Shape& shape, const Shape& sa, const Shape& sb, const Shape& sc, Fn fn) {
    int64_t n = test::numel_of(shape);
    Shape idx(shape.size(), 0);
    for (int64_t lin = 0; lin < n; ++lin) {
        int64_t oa = 0, ob = 0, oc = 0;
        for (size_t d = 0; d < shape.size(); ++d) { oa += idx[d] * sa[d]; ob += idx[d] * sb[d]; oc += idx[d] * sc[d]; }
        fn(lin, oa, ob, oc);
        for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
            if (++idx[d] < shape[d]) break;
            idx[d] = 0;
        }
    }
}

double ref_binary(BinaryOp op, double x, double y) {
    switch (op) {
        case BinaryOp::Add: return x + y;
        case BinaryOp::Sub: return x - y;
        case BinaryOp::Mul: return x * y;
        case BinaryOp::Div: return x / y;
        case BinaryOp::Pow: return std::pow(x, y);
        case BinaryOp::Maximum: return std::isnan(x) || std::isnan(y) ? NAN : std::max(x, y);
        case BinaryOp::Minimum: return std::isnan(x) || std::isnan(y) ? NAN : std::min(x, y);
        case BinaryOp::Eq: return x == y;
        case BinaryOp::Ne: return x != y;
        case BinaryOp::Lt: return x < y;
        case BinaryOp::Le: return x <= y;
        case BinaryOp::Gt: return x > y;
        case BinaryOp::Ge: return x >= y;
        case BinaryOp::LogicalAnd: return x != 0 && y != 0;
        case BinaryOp::LogicalOr: return x != 0 || y != 0;
        case BinaryOp::kCount: break;
    }
    return NAN;
}

// One operand layout: a (shape, a strides, b strides) over buffers laid out by the test.
struct Layout { const char* name; Shape shape, sa, sb; int64_t a_begin, b_begin, a_len, b_len; };

std::vector<Layout> layouts(int64_t n) {
    return {
        {"contiguous", {n}, {1}, {1}, 0, 0, n, n},
        {"broadcast_rows_cols", {3, n}, {1, 0}, {0, 1}, 0, 0, 3, n},   // (3, 1) op (1, n)
        {"scalar_b", {2, n}, {n, 1}, {0, 0}, 0, 0, 2 * n, 1},
        {"stride2_and_reversed", {n}, {2}, {-1}, 0, n - 1, 2 * n, n},  // a[::2] op b[::-1]
        {"transposed", {n, 2}, {1, n}, {2, 1}, 0, 0, 2 * n, 2 * n},
        {"zero_size", {0, n}, {n, 1}, {n, 1}, 0, 0, 1, 1},
    };
}

template <class T>
void check_binary(BinaryOp op, DType dt) {
    for (int64_t n : kSizes) {
        for (const Layout& L : layouts(n)) {
            std::vector<double> av = test::uniform(L.a_len, -4, 4, 1), bv = test::uniform(L.b_len, -4, 4, 2);
            if (op == BinaryOp::Pow) for (double& v : av) v = std::fabs(v) + 0.5;
            if (op == BinaryOp::Div) for (double& v : bv) v = v < 0 ? v - 0.5 : v + 0.5;
            if (std::is_integral_v<T>) { for (double& v : av) v = std::round(v); for (double& v : bv) v = std::round(v); }
            std::vector<T> a(av.begin(), av.end()), b(bv.begin(), bv.end());
            if (n > 2 && !std::is_integral_v<T>) { a[1] = T(NAN); b[2] = b[0]; }
            bool pred = binary_op_is_predicate(op);
            int64_t total = test::numel_of(L.shape);
            std::vector<T> out(total + 1, T(-77));
            std::vector<uint8_t> outb(total + 1, 7);
            void* o = pred ? static_cast<void*>(outb.data()) : static_cast<void*>(out.data());
            cpu().binary(op, dt, o, a.data() + L.a_begin, L.sa.data(), b.data() + L.b_begin, L.sb.data(),
                         L.shape.data(), static_cast<int>(L.shape.size()));
            Shape none(L.shape.size(), 0);
            for_each_index(L.shape, L.sa, L.sb, none, [&](int64_t i, int64_t oa, int64_t ob, int64_t) {
                double want = ref_binary(op, a[L.a_begin + oa], b[L.b_begin + ob]);
                if (!pred && std::is_integral_v<T>) want = static_cast<double>(static_cast<T>(want));
                double got = pred ? outb[i] : static_cast<double>(out[i]);
                double tol = std::is_same_v<T, float> ? 1e-6 * std::fabs(want) : 0;
                if (std::isnan(want)) EXPECT_TRUE(std::isnan(got)) << binary_op_name(op) << " " << L.name;
                else EXPECT_NEAR(got, want, tol) << binary_op_name(op) << " " << L.name << " n=" << n << " i=" << i;
            });
            EXPECT_EQ(pred ? double(outb[total]) : double(out[total]), pred ? 7.0 : -77.0) << "wrote past the end";
        }
    }
}

TEST(BinaryKernel, FloatOpsMatchNaiveLoops) {
    for (int i = 0; i < static_cast<int>(BinaryOp::kCount); ++i) {
        check_binary<float>(static_cast<BinaryOp>(i), DType::Float32);
        check_binary<double>(static_cast<BinaryOp>(i), DType::Float64);
    }
}

TEST(BinaryKernel, IntegerOpsMatchNaiveLoops) {
    for (int i = 0; i < static_cast<int>(BinaryOp::kCount); ++i) {
        auto op = static_cast<BinaryOp>(i);
        if (op == BinaryOp::Div || op == BinaryOp::Pow) continue;  // the op layer computes these in float
        check_binary<int32_t>(op, DType::Int32);
        check_binary<int64_t>(op, DType::Int64);
    }
}

TEST(WhereKernel, BroadcastAndStridedOperands) {
    for (int64_t n : kSizes) {
        // cond (3, 1), a (1, n) read reversed, b scalar.
        std::vector<uint8_t> cond = {1, 0, 1};
        std::vector<double> a = test::uniform(n, -1, 1, 3), b = {42.0}, out(3 * n);
        Shape shape = {3, n}, sc = {1, 0}, sa = {0, -1}, sb = {0, 0};
        cpu().where(DType::Float64, out.data(), cond.data(), sc.data(), a.data() + n - 1, sa.data(), b.data(),
                    sb.data(), shape.data(), 2);
        for (int64_t r = 0; r < 3; ++r)
            for (int64_t j = 0; j < n; ++j) EXPECT_EQ(out[r * n + j], cond[r] ? a[n - 1 - j] : 42.0);
    }
}

TEST(CopyKernel, StridedCopiesWithDtypeConversion) {
    for (int64_t n : kSizes) {
        std::vector<double> src = test::uniform(2 * n, -5, 5, 4);
        src[0] = 0;
        // (2, n) read transposed from a (n, 2) buffer, written contiguous as float32, int32 and bool.
        Shape shape = {2, n}, in_st = {1, 2}, out_st = {n, 1};
        std::vector<float> f(2 * n);
        std::vector<int32_t> i32(2 * n);
        std::vector<uint8_t> bl(2 * n);
        cpu().copy_strided(DType::Float32, f.data(), out_st.data(), DType::Float64, src.data(), in_st.data(),
                           shape.data(), 2);
        cpu().copy_strided(DType::Int32, i32.data(), out_st.data(), DType::Float64, src.data(), in_st.data(),
                           shape.data(), 2);
        cpu().copy_strided(DType::Bool, bl.data(), out_st.data(), DType::Float64, src.data(), in_st.data(),
                           shape.data(), 2);
        for (int64_t r = 0; r < 2; ++r)
            for (int64_t j = 0; j < n; ++j) {
                double v = src[j * 2 + r];
                EXPECT_EQ(f[r * n + j], static_cast<float>(v));
                EXPECT_EQ(i32[r * n + j], static_cast<int32_t>(v));  // truncation toward zero
                EXPECT_EQ(bl[r * n + j], v != 0 ? 1 : 0);
            }
        // Scatter through a reversed output view: out[::-1] = in.
        std::vector<double> rev(n);
        Shape s1 = {n}, o1 = {-1}, i1 = {1};
        cpu().copy_strided(DType::Float64, rev.data() + n - 1, o1.data(), DType::Float64, src.data(), i1.data(),
                           s1.data(), 1);
        for (int64_t j = 0; j < n; ++j) EXPECT_EQ(rev[n - 1 - j], src[j]);
    }
}

TEST(ElementwiseKernels, ZeroSizeWritesNothing) {
    std::vector<double> in = {1, 2}, out = {-7, -7};
    std::vector<uint8_t> cond = {1};
    Shape shape = {3, 0}, st = {0, 1};
    cpu().unary(UnaryOp::Exp, DType::Float64, out.data(), in.data(), 0, 0, 0);
    cpu().unary_backward(UnaryOp::Tanh, DType::Float64, out.data(), in.data(), in.data(), in.data(), 0, 0, 0);
    cpu().binary(BinaryOp::Add, DType::Float64, out.data(), in.data(), st.data(), in.data(), st.data(), shape.data(), 2);
    cpu().where(DType::Float64, out.data(), cond.data(), st.data(), in.data(), st.data(), in.data(), st.data(),
                shape.data(), 2);
    cpu().copy_strided(DType::Float64, out.data(), st.data(), DType::Float64, in.data(), st.data(), shape.data(), 2);
    cpu().fill(DType::Float64, out.data(), 0, 3.0);
    EXPECT_EQ(out, (std::vector<double>{-7, -7}));
}

TEST(CopyKernel, FillAndArange) {
    std::vector<float> f(1025, -1);
    cpu().fill(DType::Float32, f.data(), 1024, 2.5);
    EXPECT_EQ(f[0], 2.5f);
    EXPECT_EQ(f[1023], 2.5f);
    EXPECT_EQ(f[1024], -1.f);
    std::vector<int64_t> r(5);
    cpu().arange(DType::Int64, r.data(), 5, 3, -2);
    EXPECT_EQ(r, (std::vector<int64_t>{3, 1, -1, -3, -5}));
    std::vector<double> d(4);
    cpu().arange(DType::Float64, d.data(), 4, 0.5, 0.25);
    EXPECT_EQ(d, (std::vector<double>{0.5, 0.75, 1.0, 1.25}));
}

}  // namespace
}  // namespace ckeras
