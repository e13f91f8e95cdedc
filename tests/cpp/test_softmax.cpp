// Tests for the CPU softmax / log-softmax kernels over (outer, n, inner): forward and backward against naive
// double loops on odd shapes, backward against central finite differences in float64, and the extremal
// inputs of ERRORS.md rows 1 and 2 (NaN, +-inf and huge logits).
#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include "cpu/cpu_common.h"

using ckeras::DType;
using ckeras::KernelTable;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

template <class T> DType dtype_of() { return std::is_same_v<T, float> ? DType::Float32 : DType::Float64; }

const KernelTable& table() {
    static KernelTable t = [] { KernelTable k; ckeras::cpu::register_softmax_cpu(k); return k; }();
    return t;
}

template <class T>
std::vector<T> vec(std::initializer_list<double> v) { return std::vector<T>(v.begin(), v.end()); }

template <class T>
std::vector<T> forward(const std::vector<T>& x, int64_t outer, int64_t n, int64_t inner, bool log) {
    std::vector<T> y(x.size(), T(-7));
    table().softmax(dtype_of<T>(), y.data(), x.data(), outer, n, inner, log);
    return y;
}

template <class T>
std::vector<T> backward(const std::vector<T>& dy, const std::vector<T>& y, int64_t outer, int64_t n,
                        int64_t inner, bool log) {
    std::vector<T> dx(y.size(), T(-7));
    table().softmax_backward(dtype_of<T>(), dx.data(), dy.data(), y.data(), outer, n, inner, log);
    return dx;
}

template <class T>
std::vector<T> uniform(int64_t count, double lo, double hi, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(lo, hi);
    std::vector<T> v(static_cast<size_t>(count));
    for (auto& e : v) e = static_cast<T>(u(rng));
    return v;
}

// Naive double softmax of x (any T) in the (outer, n, inner) layout.
template <class T>
std::vector<double> naive_forward(const std::vector<T>& x, int64_t outer, int64_t n, int64_t inner, bool log) {
    std::vector<double> y(x.size());
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < inner; ++j) {
            auto at = [&](int64_t k) { return (o * n + k) * inner + j; };
            double m = -kInf, s = 0;
            for (int64_t k = 0; k < n; ++k) m = std::max(m, double(x[at(k)]));
            for (int64_t k = 0; k < n; ++k) s += std::exp(double(x[at(k)]) - m);
            for (int64_t k = 0; k < n; ++k)
                y[at(k)] = log ? double(x[at(k)]) - m - std::log(s) : std::exp(double(x[at(k)]) - m) / s;
        }
    return y;
}

template <class T>
std::vector<double> naive_backward(const std::vector<T>& dy, const std::vector<T>& y, int64_t outer, int64_t n,
                                   int64_t inner, bool log) {
    std::vector<double> dx(y.size());
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < inner; ++j) {
            auto at = [&](int64_t k) { return (o * n + k) * inner + j; };
            double s = 0;
            for (int64_t k = 0; k < n; ++k) s += log ? double(dy[at(k)]) : double(dy[at(k)]) * double(y[at(k)]);
            for (int64_t k = 0; k < n; ++k)
                dx[at(k)] = log ? double(dy[at(k)]) - std::exp(double(y[at(k)])) * s
                                : double(y[at(k)]) * (double(dy[at(k)]) - s);
        }
    return dx;
}

const int64_t kSizes[] = {0, 1, 7, 33, 127, 1025};

template <class T>
void check_against_naive() {
    const double eps = std::is_same_v<T, float> ? 2e-6 : 1e-12;
    uint64_t seed = 1;
    for (bool log : {false, true})
        for (int64_t outer : kSizes)
            for (int64_t n : kSizes)
                for (int64_t inner : kSizes) {
                    int64_t count = outer * n * inner;
                    if (count > 100000) continue;
                    SCOPED_TRACE(testing::Message() << (log ? "log_softmax" : "softmax") << " " << dtype_of<T>()
                                                    << " (" << outer << ", " << n << ", " << inner << ")");
                    auto x = uniform<T>(count, -5, 5, seed++);
                    auto y = forward(x, outer, n, inner, log);
                    auto ref = naive_forward(x, outer, n, inner, log);
                    for (int64_t i = 0; i < count; ++i)
                        ASSERT_LE(std::abs(double(y[i]) - ref[i]), eps * std::max(1.0, std::abs(ref[i]))) << i;
                    auto dy = uniform<T>(count, -1, 1, seed++);
                    auto dx = backward(dy, y, outer, n, inner, log);
                    auto dref = naive_backward(dy, y, outer, n, inner, log);
                    for (int64_t i = 0; i < count; ++i)
                        ASSERT_LE(std::abs(double(dx[i]) - dref[i]), eps * std::max(1.0, std::abs(dref[i]))) << i;
                }
}

}  // namespace

TEST(Softmax, Float32MatchesNaive) { check_against_naive<float>(); }
TEST(Softmax, Float64MatchesNaive) { check_against_naive<double>(); }

TEST(Softmax, BackwardMatchesFiniteDifferences) {
    // f(x) = sum(dy * softmax(x)); df/dx from central differences (h = 1e-6) against the analytic backward.
    struct Shape { int64_t outer, n, inner; };
    const double h = 1e-6;
    uint64_t seed = 100;
    for (bool log : {false, true})
        for (Shape s : {Shape{3, 7, 1}, Shape{1, 33, 1}, Shape{2, 5, 3}, Shape{1, 1, 4}, Shape{2, 3, 257}}) {
            SCOPED_TRACE(testing::Message() << (log ? "log " : "") << "(" << s.outer << ", " << s.n << ", " << s.inner << ")");
            int64_t count = s.outer * s.n * s.inner;
            auto x = uniform<double>(count, -3, 3, seed++);
            auto dy = uniform<double>(count, -1, 1, seed++);
            auto f = [&](const std::vector<double>& xv) {
                auto y = forward(xv, s.outer, s.n, s.inner, log);
                double acc = 0;
                for (int64_t i = 0; i < count; ++i) acc += dy[i] * y[i];
                return acc;
            };
            auto dx = backward(dy, forward(x, s.outer, s.n, s.inner, log), s.outer, s.n, s.inner, log);
            for (int64_t i = 0; i < count; ++i) {
                auto xp = x, xm = x;
                xp[i] += h;
                xm[i] -= h;
                double fd = (f(xp) - f(xm)) / (2 * h);
                ASSERT_NEAR(dx[i], fd, 1e-6 * std::abs(fd) + 1e-8) << "element " << i;
            }
        }
}

TEST(Softmax, LargeLogitsAreStable) {
    // Rows: (2, 2, 1); and the same values down columns: (1, 2, 2).
    auto x = vec<float>({1e30, 0, -1e30, 0});
    EXPECT_EQ(forward(x, 2, 2, 1, false), vec<float>({1, 0, 0, 1}));
    EXPECT_EQ(forward(x, 2, 2, 1, true), vec<float>({0, -1e30, -1e30, 0}));
    auto c = vec<double>({1e30, -1e30, 0, 0});
    EXPECT_EQ(forward(c, 1, 2, 2, false), vec<double>({1, 0, 0, 1}));
    EXPECT_EQ(forward(c, 1, 2, 2, true), vec<double>({0, -1e30, -1e30, 0}));
    auto big = vec<float>({88, 89, 90});  // exp(90) overflows float32 without the shift
    auto y = forward(big, 1, 3, 1, false);
    EXPECT_NEAR(y[2], 0.66524096, 1e-6);
}

TEST(Softmax, NonFiniteRowsGiveNanOnlyThere) {
    // Rows of (4, 3, 1): +inf; NaN; all -inf; finite. Softmax and log-softmax are NaN on the first three
    // rows (NumPy/torch), and exact on the last.
    auto x = vec<float>({kInf, 0, 1, 2, kNaN, 3, -kInf, -kInf, -kInf, 1, 2, 3});
    for (bool log : {false, true}) {
        auto y = forward(x, 4, 3, 1, log);
        for (int i = 0; i < 9; ++i) EXPECT_TRUE(std::isnan(y[i])) << "log " << log << " i " << i;
        for (int i = 9; i < 12; ++i) EXPECT_FALSE(std::isnan(y[i])) << "log " << log << " i " << i;
        // The same rows laid down the columns: (1, 3, 4).
        std::vector<float> c(12);
        for (int r = 0; r < 4; ++r)
            for (int k = 0; k < 3; ++k) c[k * 4 + r] = x[r * 3 + k];
        auto yc = forward(c, 1, 3, 4, log);
        for (int k = 0; k < 3; ++k)
            for (int r = 0; r < 4; ++r) EXPECT_EQ(std::isnan(yc[k * 4 + r]), r < 3) << "k " << k << " r " << r;
    }
    // A -inf entry in a finite row is fine: probability 0, log-probability -inf.
    auto z = forward(vec<double>({-kInf, 0}), 1, 2, 1, false);
    EXPECT_EQ(z, vec<double>({0, 1}));
    EXPECT_EQ(forward(vec<double>({-kInf, 0}), 1, 2, 1, true), vec<double>({-kInf, 0}));
}

TEST(Softmax, Float32RowsAtTheExpBlockEdges) {
    // float32 rows (inner == 1) take their exps in blocks of 2048 elements: whole rows per block up to n = 2048,
    // a longer row in chunks. Rows either side of both edges, and rows that split a block unevenly.
    uint64_t seed = 500;
    for (bool log : {false, true})
        for (auto [outer, n] : {std::pair<int64_t, int64_t>{3, 2047}, {3, 2048}, {2, 2049}, {2, 5000}, {301, 10},
                                {7, 683}}) {
            SCOPED_TRACE(testing::Message() << (log ? "log " : "") << "(" << outer << ", " << n << ")");
            auto x = uniform<float>(outer * n, -30, 30, seed++);
            auto y = forward(x, outer, n, 1, log);
            auto ref = naive_forward(x, outer, n, 1, log);
            for (int64_t i = 0; i < outer * n; ++i)
                ASSERT_LE(std::abs(double(y[i]) - ref[i]), 2e-6 * std::max(1.0, std::abs(ref[i]))) << i;
        }
}

TEST(Softmax, Float32InPlaceEqualsOutOfPlace) {
    // y may be x (the op writes a fresh tensor, but the kernel slot allows it): every x[i] is read first.
    for (bool log : {false, true})
        for (auto [outer, n] : {std::pair<int64_t, int64_t>{50, 10}, {2, 3000}}) {
            auto x = uniform<float>(outer * n, -8, 8, 900 + n);
            auto expected = forward(x, outer, n, 1, log);
            table().softmax(DType::Float32, x.data(), x.data(), outer, n, 1, log);
            EXPECT_EQ(x, expected) << (log ? "log " : "") << n;
        }
}

TEST(Softmax, NonFiniteAnywhereInALongRow) {
    // A NaN or +inf at each position of a 9-wide row (the max runs four lanes, then a tail): that row is NaN,
    // its neighbours exact.
    const int64_t n = 9;
    for (double special : {kNaN, kInf})
        for (bool log : {false, true}) {
            std::vector<float> x = uniform<float>(3 * n * n, -2, 2, 77);
            for (int64_t p = 0; p < n; ++p) x[(3 * p + 1) * n + p] = static_cast<float>(special);
            auto y = forward(x, 3 * n, n, 1, log);
            for (int64_t r = 0; r < 3 * n; ++r)
                for (int64_t i = 0; i < n; ++i)
                    ASSERT_EQ(std::isnan(y[r * n + i]), r % 3 == 1) << special << " log " << log << " row " << r;
        }
}

TEST(Softmax, EmptyShapesWriteNothing) {
    std::vector<float> x(6, 1.f), y(6, -7.f);
    table().softmax(DType::Float32, y.data(), x.data(), 0, 3, 2, false);
    table().softmax(DType::Float32, y.data(), x.data(), 3, 0, 2, true);
    table().softmax_backward(DType::Float32, y.data(), x.data(), x.data(), 2, 3, 0, false);
    EXPECT_EQ(y, std::vector<float>(6, -7.f));
}

TEST(Softmax, IntegerDtypeIsRejected) {
    int32_t x[2] = {1, 2}, y[2] = {0, 0};
    try {
        table().softmax(DType::Int32, y, x, 1, 2, 1, false);
        FAIL() << "expected a TypeError";
    } catch (const ckeras::Error& e) {
        EXPECT_EQ(e.kind(), ckeras::ErrorKind::Type);
    }
}
