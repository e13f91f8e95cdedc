// Tests for the CPU reduce kernel: every op and dtype against a naive double (or wrapping-integer) loop over
// odd (outer, r, inner) shapes, empty axes, NaN/Inf semantics, float32 accuracy and thread-count determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu/cpu_common.h"

using ckeras::DType;
using ckeras::KernelTable;
using ckeras::ReduceOp;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

template <class T> DType dtype_of();
template <> DType dtype_of<float>() { return DType::Float32; }
template <> DType dtype_of<double>() { return DType::Float64; }
template <> DType dtype_of<int32_t>() { return DType::Int32; }
template <> DType dtype_of<int64_t>() { return DType::Int64; }

const KernelTable& table() {
    static KernelTable t = [] { KernelTable k; ckeras::cpu::register_reduce_cpu(k); return k; }();
    return t;
}

// A vector of T from double literals (NaN and Inf included).
template <class T>
std::vector<T> vec(std::initializer_list<double> v) { return std::vector<T>(v.begin(), v.end()); }

bool is_arg(ReduceOp op) { return op == ReduceOp::ArgMax || op == ReduceOp::ArgMin; }

// Runs the kernel; `out` starts filled with a sentinel (to see what was written).
template <class O, class T>
std::vector<O> run(ReduceOp op, const std::vector<T>& x, int64_t outer, int64_t r, int64_t inner,
                   O sentinel = O(-7)) {
    std::vector<O> out(static_cast<size_t>(outer * inner), sentinel);
    table().reduce(op, dtype_of<T>(), out.data(), x.data(), outer, r, inner);
    return out;
}

// Naive reference for one output element (o, j); floats in double, integers wrapping in uint64.
template <class T>
double naive_float(ReduceOp op, const std::vector<T>& x, int64_t o, int64_t r, int64_t inner, int64_t j) {
    double acc = op == ReduceOp::Sum ? 0.0 : op == ReduceOp::Prod || r == 0 ? 1.0 : double(x[o * r * inner + j]);
    for (int64_t k = 0; k < r; ++k) {
        double v = x[(o * r + k) * inner + j];
        if (op == ReduceOp::Sum) acc += v;
        else if (op == ReduceOp::Prod) acc *= v;
        else if (std::isnan(v) || std::isnan(acc)) acc = kNaN;
        else if (op == ReduceOp::Max) acc = v > acc ? v : acc;
        else acc = v < acc ? v : acc;
    }
    return acc;
}

template <class T>
T naive_int(ReduceOp op, const std::vector<T>& x, int64_t o, int64_t r, int64_t inner, int64_t j) {
    uint64_t acc = op == ReduceOp::Sum ? 0 : 1;
    T m = r > 0 ? x[o * r * inner + j] : T(0);
    for (int64_t k = 0; k < r; ++k) {
        T v = x[(o * r + k) * inner + j];
        acc = op == ReduceOp::Sum ? acc + uint64_t(v) : acc * uint64_t(v);
        m = op == ReduceOp::Max ? (v > m ? v : m) : (v < m ? v : m);
    }
    return (op == ReduceOp::Sum || op == ReduceOp::Prod) ? static_cast<T>(acc) : m;
}

template <class T>
int64_t naive_arg(bool is_max, const std::vector<T>& x, int64_t o, int64_t r, int64_t inner, int64_t j) {
    int64_t best = 0;
    for (int64_t k = 0; k < r; ++k) {
        double v = double(x[(o * r + k) * inner + j]);
        if (std::isnan(v)) return k;
        double b = double(x[(o * r + best) * inner + j]);
        if (is_max ? v > b : v < b) best = k;
    }
    return best;
}

// Random input suited to the op: sums in [-1, 1] (ints in [-100, 100]); products near +-1; arg ops on a
// few distinct values so that ties (first occurrence) are common.
template <class T>
std::vector<T> make_input(ReduceOp op, int64_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    std::vector<T> x(static_cast<size_t>(n));
    for (auto& v : x) {
        double d = u(rng);
        if (op == ReduceOp::Prod)
            d = std::is_integral_v<T> ? (d < -0.6 ? -1 : d < 0.6 ? 1 : d < 0.8 ? 3 : 2) : (d < 0 ? -1 : 1) * (0.9 + 0.2 * std::abs(d));
        else if (is_arg(op) || op == ReduceOp::Max || op == ReduceOp::Min)
            d = std::floor(d * 4);
        else if (std::is_integral_v<T>)
            d = std::floor(d * 100);
        v = static_cast<T>(d);
    }
    return x;
}

const int64_t kSizes[] = {0, 1, 7, 33, 127, 1025};

template <class T>
void check_all_shapes(ReduceOp op) {
    uint64_t seed = 1;
    for (int64_t outer : kSizes)
        for (int64_t r : kSizes)
            for (int64_t inner : kSizes) {
                int64_t n = outer * r * inner;
                if (n > 150000 || (r == 0 && !(op == ReduceOp::Sum || op == ReduceOp::Prod))) continue;
                SCOPED_TRACE(testing::Message() << "dtype " << dtype_of<T>() << " op " << int(op) << " shape ("
                                                << outer << ", " << r << ", " << inner << ")");
                std::vector<T> x = make_input<T>(op, n, seed++);
                if (is_arg(op)) {
                    auto out = run<int64_t>(op, x, outer, r, inner);
                    for (int64_t o = 0; o < outer; ++o)
                        for (int64_t j = 0; j < inner; ++j)
                            ASSERT_EQ(out[o * inner + j], naive_arg(op == ReduceOp::ArgMax, x, o, r, inner, j));
                    continue;
                }
                auto out = run<T>(op, x, outer, r, inner);
                for (int64_t o = 0; o < outer; ++o)
                    for (int64_t j = 0; j < inner; ++j) {
                        T got = out[o * inner + j];
                        if constexpr (std::is_integral_v<T>) {
                            ASSERT_EQ(got, naive_int(op, x, o, r, inner, j));
                        } else {
                            double ref = naive_float(op, x, o, r, inner, j);
                            double scale = 0;  // sum |x| bounds the rounding error of any summation order
                            for (int64_t k = 0; k < r; ++k) scale += std::abs(double(x[(o * r + k) * inner + j]));
                            double eps = std::is_same_v<T, float> ? 2e-6 : 1e-13;
                            double tol = op == ReduceOp::Sum ? eps * scale : op == ReduceOp::Prod ? eps * std::abs(ref) : 0.0;
                            ASSERT_LE(std::abs(double(got) - ref), tol) << "at (" << o << ", " << j << ")";
                        }
                    }
            }
}

template <class T>
void check_every_op() {
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min, ReduceOp::ArgMax,
                        ReduceOp::ArgMin})
        check_all_shapes<T>(op);
}

}  // namespace

TEST(Reduce, Float32MatchesNaive) { check_every_op<float>(); }
TEST(Reduce, Float64MatchesNaive) { check_every_op<double>(); }
TEST(Reduce, Int32MatchesNaive) { check_every_op<int32_t>(); }
TEST(Reduce, Int64MatchesNaive) { check_every_op<int64_t>(); }

TEST(Reduce, SumMatchesNaiveOnLongRows) {
    // Rows longer than one chunk (1 << 16) go through the chunked path, in both layouts.
    for (int64_t inner : {1, 3}) {
        int64_t outer = 2, r = 150001;
        auto x = make_input<float>(ReduceOp::Sum, outer * r * inner, 42);
        auto out = run<float>(ReduceOp::Sum, x, outer, r, inner);
        for (int64_t o = 0; o < outer; ++o)
            for (int64_t j = 0; j < inner; ++j)
                EXPECT_NEAR(out[o * inner + j], naive_float(ReduceOp::Sum, x, o, r, inner, j), 1e-6 * r);
    }
}

TEST(Reduce, Float32SumIsAccurate) {
    // A naive float loop over 1e7 copies of 0.1f drifts by ~10%; NumPy-level accuracy stays within 1e-6.
    const int64_t n = 10000000;
    std::vector<float> x(n, 0.1f);
    double ref = double(0.1f) * n;
    EXPECT_NEAR(run<float>(ReduceOp::Sum, x, 1, n, 1)[0], ref, 1e-6 * ref);
    auto cols = run<float>(ReduceOp::Sum, x, 1, n / 5, 5);
    for (float c : cols) EXPECT_NEAR(c, ref / 5, 1e-6 * ref / 5);
}

TEST(Reduce, ResultIndependentOfThreadCount) {
#ifdef _OPENMP
    const int64_t n = 1000003;
    auto x = make_input<float>(ReduceOp::Sum, n, 7);
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    float one = run<float>(ReduceOp::Sum, x, 1, n, 1)[0];
    auto one_cols = run<float>(ReduceOp::Sum, x, 1, n / 7, 7);
    omp_set_num_threads(4);
    float many = run<float>(ReduceOp::Sum, x, 1, n, 1)[0];
    auto many_cols = run<float>(ReduceOp::Sum, x, 1, n / 7, 7);
    omp_set_num_threads(saved);
    EXPECT_EQ(one, many);
    EXPECT_EQ(one_cols, many_cols);
#else
    GTEST_SKIP() << "built without OpenMP";
#endif
}

TEST(Reduce, EmptyAxis) {
    // r == 0: sum -> 0, prod -> 1; max/min/arg write nothing (the op raises before calling).
    std::vector<float> none;
    EXPECT_EQ(run<float>(ReduceOp::Sum, none, 3, 0, 5), std::vector<float>(15, 0.f));
    EXPECT_EQ(run<float>(ReduceOp::Prod, none, 3, 0, 5), std::vector<float>(15, 1.f));
    EXPECT_EQ(run<int32_t>(ReduceOp::Sum, std::vector<int32_t>{}, 2, 0, 1), std::vector<int32_t>(2, 0));
    EXPECT_EQ(run<int64_t>(ReduceOp::Prod, std::vector<int64_t>{}, 2, 0, 1), std::vector<int64_t>(2, 1));
    EXPECT_EQ(run<double>(ReduceOp::Max, std::vector<double>{}, 3, 0, 1), std::vector<double>(3, -7.0));
    EXPECT_EQ(run<float>(ReduceOp::Min, none, 3, 0, 2), std::vector<float>(6, -7.f));
    EXPECT_EQ(run<int64_t>(ReduceOp::ArgMax, none, 3, 0, 2), std::vector<int64_t>(6, -7));
    EXPECT_EQ(run<int64_t>(ReduceOp::ArgMin, none, 1, 0, 1), std::vector<int64_t>(1, -7));
}

TEST(Reduce, EmptyOuterOrInnerWritesNothing) {
    std::vector<float> x(10, 1.f);
    std::vector<float> out(4, -7.f);
    table().reduce(ReduceOp::Sum, DType::Float32, out.data(), x.data(), 0, 10, 1);
    table().reduce(ReduceOp::ArgMax, DType::Float32, out.data(), x.data(), 10, 1, 0);
    EXPECT_EQ(out, std::vector<float>(4, -7.f));
}

TEST(Reduce, NanPropagatesToExactlyTheAffectedOutputs) {
    // (outer=3, r=41, inner=1) and (outer=2, r=41, inner=3): NaN planted in one row/column, at positions
    // inside the lanes, in the tail and first.
    for (int64_t pos : {0, 17, 40}) {
        std::vector<double> x(3 * 41, 0.5);
        x[1 * 41 + pos] = kNaN;
        for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min}) {
            auto out = run<double>(op, x, 3, 41, 1);
            EXPECT_FALSE(std::isnan(out[0]));
            EXPECT_TRUE(std::isnan(out[1])) << "op " << int(op) << " pos " << pos;
            EXPECT_FALSE(std::isnan(out[2]));
            std::vector<float> xf(x.begin(), x.end());
            EXPECT_TRUE(std::isnan(run<float>(op, xf, 3, 41, 1)[1]));
        }
        std::vector<float> c(2 * 41 * 3, 0.5f);
        c[(1 * 41 + pos) * 3 + 2] = float(kNaN);
        for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min}) {
            auto out = run<float>(op, c, 2, 41, 3);
            for (int i = 0; i < 6; ++i) EXPECT_EQ(std::isnan(out[i]), i == 5) << "op " << int(op) << " i " << i;
        }
    }
}

TEST(Reduce, ArgReturnsFirstNan) {
    std::vector<double> x = {1, 5, kNaN, 9, kNaN, -3, 9};
    EXPECT_EQ(run<int64_t>(ReduceOp::ArgMax, x, 1, 7, 1)[0], 2);
    EXPECT_EQ(run<int64_t>(ReduceOp::ArgMin, x, 1, 7, 1)[0], 2);
    auto xf = vec<float>({kNaN, 1, kNaN});  // NaN first
    EXPECT_EQ(run<int64_t>(ReduceOp::ArgMax, xf, 1, 3, 1)[0], 0);
    // Columns: (1, 4, 2); column 0 has NaN at k=3, column 1 at k=1.
    auto c = vec<float>({1, 2, 7, kNaN, 3, 4, kNaN, kNaN});
    EXPECT_EQ(run<int64_t>(ReduceOp::ArgMax, c, 1, 4, 2), (std::vector<int64_t>{3, 1}));
    EXPECT_EQ(run<int64_t>(ReduceOp::ArgMin, c, 1, 4, 2), (std::vector<int64_t>{3, 1}));
    // A long row (chunked max pass) with the NaN deep inside.
    std::vector<float> big(200000, 1.f);
    big[150000] = float(kNaN);
    big[160000] = float(kNaN);
    EXPECT_EQ(run<int64_t>(ReduceOp::ArgMax, big, 1, 200000, 1)[0], 150000);
    EXPECT_TRUE(std::isnan(run<float>(ReduceOp::Max, big, 1, 200000, 1)[0]));
}

TEST(Reduce, InfinitiesAndTies) {
    std::vector<double> x = {-kInf, -kInf};
    EXPECT_EQ(run<double>(ReduceOp::Max, x, 1, 2, 1)[0], -kInf);
    EXPECT_EQ(run<int64_t>(ReduceOp::ArgMax, x, 1, 2, 1)[0], 0);
    auto y = vec<float>({1, kInf, 3, kInf, -kInf});
    EXPECT_EQ(run<int64_t>(ReduceOp::ArgMax, y, 1, 5, 1)[0], 1);
    EXPECT_EQ(run<int64_t>(ReduceOp::ArgMin, y, 1, 5, 1)[0], 4);
    EXPECT_TRUE(std::isnan(run<float>(ReduceOp::Sum, y, 1, 5, 1)[0]));  // inf + -inf
    std::vector<float> z = {-0.f, 0.f};
    EXPECT_EQ(run<int64_t>(ReduceOp::ArgMax, z, 1, 2, 1)[0], 0);  // -0 == 0: first wins
    std::vector<int32_t> ties(100, 5);
    ties[37] = 9; ties[80] = 9; ties[90] = -2; ties[99] = -2;
    EXPECT_EQ(run<int64_t>(ReduceOp::ArgMax, ties, 1, 100, 1)[0], 37);
    EXPECT_EQ(run<int64_t>(ReduceOp::ArgMin, ties, 1, 100, 1)[0], 90);
}

TEST(Reduce, IntegersAreExactAndWrap) {
    const int64_t big = (int64_t(1) << 53) + 1;  // not representable in double
    std::vector<int64_t> x = {big, big, 1};
    EXPECT_EQ(run<int64_t>(ReduceOp::Sum, x, 1, 3, 1)[0], 2 * big + 1);
    std::vector<int32_t> y = {std::numeric_limits<int32_t>::max(), 1};
    EXPECT_EQ(run<int32_t>(ReduceOp::Sum, y, 1, 2, 1)[0], std::numeric_limits<int32_t>::min());
    std::vector<int32_t> mn = {std::numeric_limits<int32_t>::min(), 0};
    EXPECT_EQ(run<int32_t>(ReduceOp::Min, mn, 1, 2, 1)[0], std::numeric_limits<int32_t>::min());
}

TEST(Reduce, BoolInputIsRejected) {
    bool x[3] = {true, false, true};
    bool out[1] = {false};
    try {
        table().reduce(ReduceOp::Sum, DType::Bool, out, x, 1, 3, 1);
        FAIL() << "expected a TypeError";
    } catch (const ckeras::Error& e) {
        EXPECT_EQ(e.kind(), ckeras::ErrorKind::Type);
    }
}

// Few (outer, column tile) items but many rows: the kernel reduces fixed row chunks over the full width
// and combines them in order. Check it against the naive loop, with NaN in one column, and that the
// thread count does not change a bit.
TEST(Reduce, TallColumnReductionsMatchNaive) {
    const int64_t outer = 2, r = 1000, inner = 300;
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min, ReduceOp::Prod}) {
        std::vector<float> x = make_input<float>(op, outer * r * inner, 11);
        x[(1 * r + 517) * inner + 42] = static_cast<float>(kNaN);
        std::vector<float> out = run<float>(op, x, outer, r, inner);
        for (int64_t o = 0; o < outer; ++o)
            for (int64_t j = 0; j < inner; ++j) {
                double ref = naive_float(op, x, o, r, inner, j);
                double got = out[o * inner + j];
                if (std::isnan(ref)) {
                    EXPECT_TRUE(std::isnan(got)) << "op " << int(op) << " o " << o << " j " << j;
                } else {
                    EXPECT_NEAR(got, ref, 1e-5 * (1 + std::abs(ref))) << "op " << int(op) << " o " << o << " j " << j;
                }
            }
#ifdef _OPENMP
        int saved = omp_get_max_threads();
        omp_set_num_threads(1);
        std::vector<float> one = run<float>(op, x, outer, r, inner);
        omp_set_num_threads(3);
        std::vector<float> three = run<float>(op, x, outer, r, inner);
        omp_set_num_threads(saved);
        EXPECT_EQ(0, std::memcmp(one.data(), three.data(), one.size() * sizeof(float)));
        EXPECT_EQ(0, std::memcmp(one.data(), out.data(), one.size() * sizeof(float)));
#endif
    }
}
