// The CUDA softmax / log-softmax kernels and their backward against the CPU twins (cpu/softmax_cpu.cpp):
// float32 and float64 over (outer, n, inner) shapes for both paths (a block per row; 32-column tiles),
// rows holding +inf, NaN, only -inf, some -inf or huge logits (NaN across exactly those rows, as on the
// CPU), and empty shapes.
//
// Tolerances. Both devices take the row max exactly, exp in T and sums in double; they differ in the
// libm's exp (glibc vs CUDA: <= 1 + 2 ulp in float32, <= 1 + 1 ulp in float64) and in the order of the
// double sums (each order is within n u_d of the exact sum). Hence softmax: |cuda - cpu| <= (3 + 2) ulp
// + 2 n u_d |y| (the exps, the final roundings, the sums); log-softmax y = x - m - log(s): log(s) moves
// by the relative change of s, at most 3 u_T + 2 n u_d, so |cuda - cpu| <= 2 ulp + 3 eps_T + 2 n u_d.
// Backward: the sum s' = sum(dy y) (or sum(dy)) differs by at most 2 n u_d sum|dy y| (sum|dy|); dx = y (dy
// - s') moves by |y| times that, dx = dy - exp(y) s' by exp(y) times that plus exp's 2 u_d |exp(y) s'|;
// plus 2 ulp for the final roundings.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cuda_parity.h"

namespace ckeras::cuda_test {
namespace {

struct Shape3 {
    int64_t outer, n, inner;
};

const Shape3 kShapes[] = {{1, 1, 1},  {3, 7, 1},     {4, 127, 1},   {1, 1025, 1},  {2, 33, 5},   {2, 1025, 3},
                          {5, 10, 129}, {1, (1 << 20) + 3, 1}, {3, 4099, 64}, {0, 3, 1}, {2, 0, 3}, {2, 3, 0}};

// Logits uniform in [-8, 8); with `specials`, the first (up to) five rows along n are: one +inf, one NaN,
// all -inf, some -inf, huge values (1e30 next to 0).
template <class T>
std::vector<T> softmax_inputs(const Shape3& s, bool specials, uint32_t seed) {
    std::vector<T> x = random_values<T>(s.outer * s.n * s.inner, -8, 8, seed);
    if (!specials) return x;
    // Row (o, j) element k is at (o * n + k) * inner + j; the rows used are (0, j) for j < inner, then (1, 0)...
    auto row = [&](int64_t r, int64_t k) -> T& {
        const int64_t o = r / s.inner, j = r % s.inner;
        return x[static_cast<size_t>((o * s.n + k) * s.inner + j)];
    };
    const int64_t rows = s.outer * s.inner;
    if (rows > 0 && s.n > 0) row(0, s.n / 2) = T(INFINITY);
    if (rows > 1 && s.n > 0) row(1, s.n - 1) = T(NAN);
    if (rows > 2) for (int64_t k = 0; k < s.n; ++k) row(2, k) = T(-INFINITY);
    if (rows > 3) for (int64_t k = 0; k < s.n; k += 2) row(3, k) = T(-INFINITY);
    if (rows > 4 && s.n > 1) { row(4, 0) = T(1e30); row(4, 1) = T(0); }
    return x;
}

template <class T>
void check_softmax(const Shape3& s, bool log, bool specials) {
    const std::string what = std::string(log ? "log_softmax " : "softmax ") + dtype_name(dtype_of<T>()) + " (" +
                             std::to_string(s.outer) + ", " + std::to_string(s.n) + ", " + std::to_string(s.inner) +
                             ")" + (specials ? " specials" : "");
    const std::vector<T> x = softmax_inputs<T>(s, specials, 70);
    const std::vector<T> dy = random_values<T>(static_cast<int64_t>(x.size()), -1, 1, 71);
    std::vector<T> y(x.size(), T(-7)), dx(x.size(), T(-7));
    DeviceBuffer d_x(x), d_y(y), d_dy(dy), d_dx(dx);
    cpu().softmax(dtype_of<T>(), y.data(), x.data(), s.outer, s.n, s.inner, log);
    gpu().softmax(dtype_of<T>(), d_y.get(), d_x.get(), s.outer, s.n, s.inner, log);
    const std::vector<T> y_gpu = d_y.read<T>(y.size());
    // Backward from the CPU's forward output on both devices.
    DeviceBuffer d_ycpu(y);
    cpu().softmax_backward(dtype_of<T>(), dx.data(), dy.data(), y.data(), s.outer, s.n, s.inner, log);
    gpu().softmax_backward(dtype_of<T>(), d_dx.get(), d_dy.get(), d_ycpu.get(), s.outer, s.n, s.inner, log);
    const std::vector<T> dx_gpu = d_dx.read<T>(dx.size());

    const double eps = std::numeric_limits<T>::epsilon(), u_d = std::numeric_limits<double>::epsilon() / 2;
    const double sum_err = 2 * double(s.n) * u_d;
    // Per row (o, j): sum |dy y| (softmax) or sum |dy| (log-softmax), for the backward bound.
    std::vector<double> row_mag(static_cast<size_t>(s.outer * s.inner), 0.0);
    auto row_of = [&](size_t i) {
        const int64_t e = static_cast<int64_t>(i), j = e % s.inner, o = e / (s.n * s.inner);
        return static_cast<size_t>(o * s.inner + j);
    };
    for (size_t i = 0; i < x.size(); ++i)
        row_mag[row_of(i)] += log ? std::fabs(double(dy[i])) : std::fabs(double(dy[i]) * double(y[i]));
    if (log)
        expect_close_ulps(y_gpu, y, 2, [&](size_t) { return 3 * eps + sum_err; }, what + " forward");
    else
        expect_close_ulps(y_gpu, y, 5, [&](size_t i) { return sum_err * std::fabs(double(y[i])); }, what + " forward");
    expect_close_ulps(dx_gpu, dx, 2, [&](size_t i) {
        const double m = row_mag[row_of(i)], v = double(y[i]);
        if (!log) return sum_err * m * std::fabs(v);
        const double e = std::exp(v);
        return e * (sum_err * m) + 2 * u_d * e * m;
    }, what + " backward");
}

TEST(CudaSoftmax, ForwardAndBackwardMatchCpu) {
    CKERAS_REQUIRE_CUDA();
    for (const Shape3& s : kShapes)
        for (bool log : {false, true})
            for (bool specials : {false, true}) {
                check_softmax<float>(s, log, specials);
                check_softmax<double>(s, log, specials);
            }
}

TEST(CudaSoftmax, IntegerDtypesRaiseOnBoth) {
    CKERAS_REQUIRE_CUDA();
    std::vector<int32_t> x(6, 1);
    DeviceBuffer d(x);
    for (bool log : {false, true}) {
        EXPECT_EQ(error_kind_of([&] { cpu().softmax(DType::Int32, x.data(), x.data(), 2, 3, 1, log); }),
                  static_cast<int>(ErrorKind::Type));
        EXPECT_EQ(error_kind_of([&] { gpu().softmax(DType::Int32, d.get(), d.get(), 2, 3, 1, log); }),
                  static_cast<int>(ErrorKind::Type));
        EXPECT_EQ(error_kind_of([&] { gpu().softmax_backward(DType::Int64, d.get(), d.get(), d.get(), 1, 3, 1, log); }),
                  static_cast<int>(ErrorKind::Type));
    }
}

}  // namespace
}  // namespace ckeras::cuda_test
