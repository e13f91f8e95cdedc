// CUDA elementwise kernels against their CPU twins (cpu/elementwise_cpu.cpp, cpu/bias_activation_cpu.cpp):
// unary and unary_backward for every op on float32/float64 (special values included) and the integer
// ops on int32/int64, binary for every op and dtype on contiguous, broadcast, transposed, scalar and
// empty layouts, where, and the Dense epilogue bias_activation. Unsupported op/dtype pairs must raise
// the same error kind on both devices.
//
// Tolerances. Bitwise: integer ops, comparisons, moves and selects, and the float ops that are one
// correctly rounded IEEE operation or a chain of them written the same way on both sides. Transcendental
// float32 ops: 10 ulp = the CPU vector kernels' <= 4 ulp (tests/cpp/test_vec_math.cpp) + CUDA's float
// libm <= 2 ulp (expf, expm1f, logf, log1pf, tanhf; CUDA Math API accuracy tables) + up to two roundings
// in the composed formula on each side; their gradients also get 4 eps |dy| absolute, because near the
// roots of gelu' and silu' the CPU's float formulas lose relative (not absolute) accuracy, while the
// CUDA kernels evaluate those in double. float64: 16 ulp + 16 eps (1 + |x|) (|dy| for gradients), as
// formulas such as 1 + erf(x / sqrt 2) or 1 - y^2 cancel, turning the libm's (and FMA contraction's)
// last-bit differences into absolute errors of eps times the size of the terms. pow: 2 ulp (float32,
// glibc powf and the CUDA kernel's double pow are both rounded almost correctly), 4 ulp (float64).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cuda_parity.h"

namespace ckeras::cuda_test {
namespace {

struct UnaryCase {
    UnaryOp op;
    double alpha = 0, beta = 0;
};

std::vector<UnaryCase> unary_cases() {
    std::vector<UnaryCase> cs;
    for (int i = 0; i < static_cast<int>(UnaryOp::kCount); ++i) cs.push_back({static_cast<UnaryOp>(i)});
    for (UnaryCase& c : cs) {
        if (c.op == UnaryOp::LeakyRelu) c.alpha = 0.2;
        if (c.op == UnaryOp::Elu) c.alpha = 1.3;
        if (c.op == UnaryOp::Clip) { c.alpha = -1.5; c.beta = 2; }
        if (c.op == UnaryOp::PowScalar) c.alpha = 1.7;
    }
    for (double p : {0.0, 1.0, 2.0, 3.0, -1.0, 0.5, -2.5}) cs.push_back({UnaryOp::PowScalar, p});
    return cs;
}

// Ops computed by the same correctly rounded IEEE operations on both devices (forward, backward).
bool unary_exact(UnaryOp op, bool backward) {
    switch (op) {
        case UnaryOp::Neg: case UnaryOp::Abs: case UnaryOp::Sign: case UnaryOp::Relu: case UnaryOp::Relu6:
        case UnaryOp::LeakyRelu: case UnaryOp::Clip: case UnaryOp::HardSigmoid:
            return true;
        case UnaryOp::Square: case UnaryOp::Sqrt: case UnaryOp::Rsqrt: case UnaryOp::Reciprocal: case UnaryOp::Softsign:
            return !backward;
        default: return false;
    }
}

// Special values, then uniform draws from [-8, 8) and [-120, 120).
template <class T>
std::vector<T> unary_inputs(int64_t n, uint32_t seed) {
    const double specials[] = {0.0, -0.0, 1, -1, 0.5, -0.5, 2, -2, 3, -3, 6, -6, 1e-3, -1e-3, 12.5, -12.5, 20, -20,
                               88, -88, 90, -90, 127, -127, 1e30, -1e30, 1e-30, -1e-40, -0.75, -1.2784645,
                               INFINITY, -INFINITY, NAN};
    std::vector<T> v = random_values<T>(n, -8, 8, seed);
    std::vector<T> wide = random_values<T>(n, -120, 120, seed + 1);
    for (int64_t i = 0; i < n; ++i) {
        if (i < int64_t(std::size(specials))) v[i] = static_cast<T>(specials[i]);
        else if (i % 3 == 0) v[i] = wide[i];
    }
    return v;
}

template <class T>
void check_unary(const UnaryCase& c, int64_t n) {
    const std::string what = std::string(unary_op_name(c.op)) + " " + dtype_name(dtype_of<T>()) + " alpha " +
                             std::to_string(c.alpha) + " n=" + std::to_string(n);
    const std::vector<T> x = unary_inputs<T>(n, 20), dy = random_values<T>(n, -2, 2, 21);
    std::vector<T> y(x.size()), dx(x.size());
    DeviceBuffer d_x(x), d_dy(dy), d_y(y), d_dx(dx);
    cpu().unary(c.op, dtype_of<T>(), y.data(), x.data(), n, c.alpha, c.beta);
    gpu().unary(c.op, dtype_of<T>(), d_y.get(), d_x.get(), n, c.alpha, c.beta);
    const std::vector<T> y_gpu = d_y.read<T>(y.size());
    // The backward takes the CPU's forward output on both devices, so only the gradient is compared.
    DeviceBuffer d_ycpu(y);
    cpu().unary_backward(c.op, dtype_of<T>(), dx.data(), dy.data(), x.data(), y.data(), n, c.alpha, c.beta);
    gpu().unary_backward(c.op, dtype_of<T>(), d_dx.get(), d_dy.get(), d_x.get(), d_ycpu.get(), n, c.alpha, c.beta);
    const std::vector<T> dx_gpu = d_dx.read<T>(dx.size());

    constexpr bool kF32 = std::is_same_v<T, float>;
    const double eps = std::numeric_limits<T>::epsilon();
    const bool pow = c.op == UnaryOp::PowScalar;
    const double ulps = pow ? (kF32 ? 2 : 4) : (kF32 ? 10 : 16);
    auto fwd_atol = [&](size_t i) { return kF32 || pow ? 0.0 : 16 * eps * (1 + std::fabs(double(x[i]))); };
    auto bwd_atol = [&](size_t i) {
        const double g = std::fabs(double(dy[i]));
        return kF32 ? 4 * eps * g : 16 * eps * (1 + std::fabs(double(x[i]))) * g;
    };
    if (unary_exact(c.op, false)) expect_bitwise(y_gpu, y, what + " forward");
    else expect_close_ulps(y_gpu, y, ulps, fwd_atol, what + " forward");
    if (unary_exact(c.op, true)) expect_bitwise(dx_gpu, dx, what + " backward", /*zero_sign=*/false);
    else expect_close_ulps(dx_gpu, dx, pow ? ulps + 2 : ulps, bwd_atol, what + " backward");
}

TEST(CudaUnary, FloatOpsMatchCpu) {
    CKERAS_REQUIRE_CUDA();
    for (const UnaryCase& c : unary_cases())
        for (int64_t n : kSizes) {
            check_unary<float>(c, n);
            check_unary<double>(c, n);
        }
}

TEST(CudaUnary, IntegerOpsMatchCpuAndTheRestRaise) {
    CKERAS_REQUIRE_CUDA();
    for (const UnaryCase& c : unary_cases())
        for (DType dt : {DType::Int32, DType::Int64, DType::Bool}) {
            CKERAS_TEST_DTYPE(dt, T, {
                const int64_t n = 1025;
                const std::vector<T> x = random_values<T>(n, -1000, 1000, 22);
                std::vector<T> y(x.size(), T(9));
                DeviceBuffer d_x(x), d_y(y);
                const double a = c.op == UnaryOp::Clip ? -100.7 : c.alpha, b = c.op == UnaryOp::Clip ? 300.2 : c.beta;
                const int kc = error_kind_of([&] { cpu().unary(c.op, dt, y.data(), x.data(), n, a, b); });
                const int kg = error_kind_of([&] { gpu().unary(c.op, dt, d_y.get(), d_x.get(), n, a, b); });
                const std::string what = std::string(unary_op_name(c.op)) + " " + dtype_name(dt);
                EXPECT_EQ(kg, kc) << what;
                if (kc < 0) expect_bitwise(d_y.read<T>(y.size()), y, what);
                // No gradient kernel for non-float dtypes.
                const int bc = error_kind_of([&] {
                    cpu().unary_backward(c.op, dt, y.data(), x.data(), x.data(), x.data(), n, a, b);
                });
                const int bg = error_kind_of([&] {
                    gpu().unary_backward(c.op, dt, d_y.get(), d_x.get(), d_x.get(), d_x.get(), n, a, b);
                });
                EXPECT_EQ(bc, static_cast<int>(ErrorKind::Type)) << what;
                EXPECT_EQ(bg, bc) << what;
            });
        }
}

// ---- binary and where ----------------------------------------------------------------------------------

// A layout: out shape, operand strides and the operand buffers' lengths.
struct Layout {
    std::string name;
    Shape shape, as, bs;
    int64_t a_len, b_len;
};

std::vector<Layout> binary_layouts() {
    std::vector<Layout> ls;
    for (int64_t n : kSizes) ls.push_back({"contiguous n=" + std::to_string(n), {n}, {1}, {1}, n, n});
    ls.push_back({"(3,1,5) op (1,4,5)", {3, 4, 5}, {5, 0, 1}, {0, 5, 1}, 15, 20});
    ls.push_back({"column op row", {1025, 1023}, {1, 0}, {0, 1}, 1025, 1023});
    ls.push_back({"scalar op vector", {127}, {0}, {1}, 1, 127});
    ls.push_back({"transposed op contiguous", {33, 65}, {1, 33}, {65, 1}, 33 * 65, 33 * 65});
    ls.push_back({"empty", {3, 0}, {0, 1}, {0, 1}, 1, 1});
    ls.push_back({"rank 0", {}, {}, {}, 1, 1});
    return ls;
}

// Values for binary ops: for floats every pair of the specials appears (a cycles fast, b slow), then
// uniform draws from [-3, 3); integers in [-50, 50) (no overflow in +, -, *); bool 0/1.
template <class T>
std::vector<T> binary_inputs(int64_t n, bool first, uint32_t seed) {
    std::vector<T> v = random_values<T>(n, -3, 3, seed);
    if constexpr (std::is_floating_point_v<T>) {
        const double s[] = {0.0, -0.0, 1, -1, 2, 0.5, -2.5, INFINITY, -INFINITY, NAN};
        constexpr int64_t k = 10;
        for (int64_t i = 0; i < n && i < k * k; ++i) v[i] = static_cast<T>(first ? s[i % k] : s[i / k]);
    } else if constexpr (!std::is_same_v<T, uint8_t>) {
        v = random_values<T>(n, -50, 50, seed);
    }
    return v;
}

TEST(CudaBinary, EveryOpAndDtypeMatchesCpu) {
    CKERAS_REQUIRE_CUDA();
    for (const Layout& L : binary_layouts())
        for (DType dt : kAllDtypes)
            for (int o = 0; o < static_cast<int>(BinaryOp::kCount); ++o) {
                const BinaryOp op = static_cast<BinaryOp>(o);
                const std::string what = std::string(binary_op_name(op)) + " " + dtype_name(dt) + " " + L.name;
                CKERAS_TEST_DTYPE(dt, T, {
                    const std::vector<T> a = binary_inputs<T>(L.a_len, true, 30), b = binary_inputs<T>(L.b_len, false, 31);
                    int64_t n = 1;
                    for (int64_t d : L.shape) n *= d;
                    const int nd = static_cast<int>(L.shape.size());
                    DeviceBuffer d_a(a), d_b(b), d_out(std::max<int64_t>(n, 1) * 8);
                    if (binary_op_is_predicate(op)) {
                        std::vector<uint8_t> want(static_cast<size_t>(n));
                        const int kc = error_kind_of([&] {
                            cpu().binary(op, dt, want.data(), a.data(), L.as.data(), b.data(), L.bs.data(), L.shape.data(), nd);
                        });
                        const int kg = error_kind_of([&] {
                            gpu().binary(op, dt, d_out.get(), d_a.get(), L.as.data(), d_b.get(), L.bs.data(), L.shape.data(), nd);
                        });
                        EXPECT_EQ(kg, kc) << what;
                        if (kc < 0) expect_bitwise(d_out.read<uint8_t>(want.size()), want, what);
                    } else {
                        std::vector<T> want(static_cast<size_t>(n));
                        const int kc = error_kind_of([&] {
                            cpu().binary(op, dt, want.data(), a.data(), L.as.data(), b.data(), L.bs.data(), L.shape.data(), nd);
                        });
                        const int kg = error_kind_of([&] {
                            gpu().binary(op, dt, d_out.get(), d_a.get(), L.as.data(), d_b.get(), L.bs.data(), L.shape.data(), nd);
                        });
                        EXPECT_EQ(kg, kc) << what;
                        if (kc >= 0) continue;
                        const std::vector<T> got = d_out.read<T>(want.size());
                        if constexpr (std::is_floating_point_v<T>) {
                            if (op == BinaryOp::Pow) {
                                expect_close_ulps(got, want, std::is_same_v<T, float> ? 2 : 4, what);
                                continue;
                            }
                        }
                        expect_bitwise(got, want, what);
                    }
                });
            }
}

TEST(CudaWhere, EveryDtypeMatchesCpu) {
    CKERAS_REQUIRE_CUDA();
    struct WhereLayout { std::string name; Shape shape, cs, as, bs; int64_t c_len, a_len, b_len; };
    std::vector<WhereLayout> ls;
    for (int64_t n : kSizes) ls.push_back({"contiguous n=" + std::to_string(n), {n}, {1}, {1}, {1}, n, n, n});
    ls.push_back({"broadcast", {4, 3, 5}, {5, 0, 1}, {0, 5, 1}, {0, 0, 0}, 20, 15, 1});
    ls.push_back({"large broadcast", {1025, 1023}, {1, 0}, {0, 1}, {1023, 1}, 1025, 1023, 1025 * 1023});
    ls.push_back({"empty", {0, 4}, {4, 1}, {4, 1}, {4, 1}, 1, 1, 1});
    for (const WhereLayout& L : ls)
        for (DType dt : kAllDtypes) {
            CKERAS_TEST_DTYPE(dt, T, {
                const std::vector<uint8_t> c = random_values<uint8_t>(L.c_len, 0, 1, 40);
                const std::vector<T> a = random_values<T>(L.a_len, -9, 9, 41), b = random_values<T>(L.b_len, -9, 9, 42);
                int64_t n = 1;
                for (int64_t d : L.shape) n *= d;
                const int nd = static_cast<int>(L.shape.size());
                std::vector<T> want(static_cast<size_t>(n));
                DeviceBuffer d_c(c), d_a(a), d_b(b), d_out(want);
                cpu().where(dt, want.data(), c.data(), L.cs.data(), a.data(), L.as.data(), b.data(), L.bs.data(),
                            L.shape.data(), nd);
                gpu().where(dt, d_out.get(), d_c.get(), L.cs.data(), d_a.get(), L.as.data(), d_b.get(), L.bs.data(),
                            L.shape.data(), nd);
                expect_bitwise(d_out.read<T>(want.size()), want, std::string("where ") + dtype_name(dt) + " " + L.name);
            });
        }
}

// ---- bias_activation -----------------------------------------------------------------------------------

template <class T>
void check_bias_activation(int64_t rows, int64_t cols, bool with_bias, bool relu) {
    std::vector<T> x = random_values<T>(rows * cols, -2, 2, 50);
    const double specials[] = {NAN, -0.0, 0.0, INFINITY, -INFINITY};
    for (size_t i = 0; i < x.size() && i < 5; ++i) x[i] = static_cast<T>(specials[i]);
    const std::vector<T> bias = random_values<T>(cols, -1, 1, 51);
    DeviceBuffer d_x(x), d_bias(bias);
    cpu().bias_activation(dtype_of<T>(), x.data(), with_bias ? bias.data() : nullptr, rows, cols, relu);
    gpu().bias_activation(dtype_of<T>(), d_x.get(), with_bias ? d_bias.get() : nullptr, rows, cols, relu);
    expect_bitwise(d_x.read<T>(x.size()), x,
                   std::string("bias_activation ") + dtype_name(dtype_of<T>()) + " " + std::to_string(rows) + "x" +
                       std::to_string(cols) + (with_bias ? " bias" : "") + (relu ? " relu" : ""));
}

TEST(CudaBiasActivation, MatchesCpuBitwise) {
    CKERAS_REQUIRE_CUDA();
    const int64_t shapes[][2] = {{1, 1}, {7, 33}, {1025, 127}, {3, 349525}, {0, 5}};
    for (const auto& s : shapes)
        for (bool with_bias : {false, true})
            for (bool relu : {false, true}) {
                check_bias_activation<float>(s[0], s[1], with_bias, relu);
                check_bias_activation<double>(s[0], s[1], with_bias, relu);
            }
    std::vector<int32_t> x(4, 1);
    DeviceBuffer d(x);
    EXPECT_EQ(error_kind_of([&] { cpu().bias_activation(DType::Int32, x.data(), nullptr, 2, 2, true); }),
              static_cast<int>(ErrorKind::Type));
    EXPECT_EQ(error_kind_of([&] { gpu().bias_activation(DType::Int32, d.get(), nullptr, 2, 2, true); }),
              static_cast<int>(ErrorKind::Type));
}

}  // namespace
}  // namespace ckeras::cuda_test
