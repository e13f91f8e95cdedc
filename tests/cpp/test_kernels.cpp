// The CPU reduce, softmax, gemm and gather kernels against naive loops, over odd sizes, rows longer than
// the kernels' chunk and tile sizes, empty reduction axes and NaN rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "ckeras/device.h"
#include "test_util.h"

namespace ckeras {
namespace {

const KernelTable& cpu() { return kernel_table(DeviceType::CPU); }

struct Dims { int64_t outer, r, inner; };
const Dims kReduceDims[] = {{1, 1, 1}, {3, 7, 1}, {2, 33, 5}, {1, 1025, 1}, {4, 127, 3}, {2, 70001, 1},
                            {1, 140001, 1}, {2, 3, 1031}, {3, 17, 1024}, {5, 1, 7}};

template <class T, bool = std::is_integral_v<T>> struct RefAcc { using type = double; };
template <class T> struct RefAcc<T, true> { using type = std::make_unsigned_t<T>; };

// Naive reduction of column (o, j) of an (outer, r, inner) buffer, in double (unsigned for integer
// sum/prod, which wrap modulo 2^bits).
template <class T>
double ref_reduce(ReduceOp op, const std::vector<T>& x, const Dims& d, int64_t o, int64_t j) {
    using U = typename RefAcc<T>::type;
    U acc = op == ReduceOp::Prod ? U(1) : U(0);
    double best = 0;
    int64_t arg = 0;
    for (int64_t k = 0; k < d.r; ++k) {
        T v = x[(o * d.r + k) * d.inner + j];
        if (op == ReduceOp::Sum) acc = U(acc + U(v));
        if (op == ReduceOp::Prod) acc = U(acc * U(v));
        bool nan_v = std::isnan(double(v)), nan_b = std::isnan(best);
        bool better = op == ReduceOp::Max || op == ReduceOp::ArgMax ? double(v) > best : double(v) < best;
        if (k == 0 || (!nan_b && (nan_v || better))) { best = double(v); arg = k; }
    }
    if (op == ReduceOp::ArgMax || op == ReduceOp::ArgMin) return double(arg);
    if (op == ReduceOp::Max || op == ReduceOp::Min) return best;
    return std::is_integral_v<T> ? double(static_cast<T>(acc)) : double(acc);
}

template <class T>
void check_reduce(DType dt) {
    for (const Dims& d : kReduceDims) {
        int64_t n = d.outer * d.r * d.inner;
        for (int i = 0; i < static_cast<int>(ReduceOp::kCount); ++i) {
            auto op = static_cast<ReduceOp>(i);
            bool prod = op == ReduceOp::Prod;
            std::vector<double> v = test::uniform(n, prod ? 0.999 : -50, prod ? 1.001 : 50, 11);
            std::vector<T> x(n);
            for (int64_t k = 0; k < n; ++k) {
                double p = k % 5 == 0 ? 2 : (k % 2 ? -1 : 1);  // integer products overflow and wrap
                x[k] = std::is_integral_v<T> ? T(prod ? p : std::round(v[k])) : T(v[k]);
            }
            if constexpr (!std::is_integral_v<T>) {
                if (d.r > 2) x[1 * d.inner + (1 % d.inner)] = T(NAN);  // element (0, 1, 1 % inner)
            }
            bool arg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
            std::vector<T> out(d.outer * d.inner);
            std::vector<int64_t> idx(d.outer * d.inner);
            cpu().reduce(op, dt, arg ? static_cast<void*>(idx.data()) : out.data(), x.data(), d.outer, d.r, d.inner);
            for (int64_t o = 0; o < d.outer; ++o)
                for (int64_t j = 0; j < d.inner; ++j) {
                    double abs_sum = 0;
                    for (int64_t k = 0; k < d.r; ++k) abs_sum += std::fabs(double(x[(o * d.r + k) * d.inner + j]));
                    double want = ref_reduce(op, x, d, o, j);
                    double got = arg ? double(idx[o * d.inner + j]) : double(out[o * d.inner + j]);
                    double tol = arg ? 0 : std::is_same_v<T, float> ? (op == ReduceOp::Sum ? 1e-6 * abs_sum : 1e-6 * std::fabs(want))
                               : std::is_same_v<T, double> ? 1e-12 * (abs_sum + 1) : 0;
                    if (std::isnan(want)) EXPECT_TRUE(std::isnan(got)) << i << " (" << d.outer << "," << d.r << "," << d.inner << ")";
                    else EXPECT_NEAR(got, want, tol) << "op " << i << " (" << d.outer << "," << d.r << "," << d.inner
                                                     << ") at " << o << "," << j;
                }
        }
    }
}

TEST(ReduceKernel, Float32MatchesNaiveLoops) { check_reduce<float>(DType::Float32); }
TEST(ReduceKernel, Float64MatchesNaiveLoops) { check_reduce<double>(DType::Float64); }
TEST(ReduceKernel, Int32MatchesNaiveLoops) { check_reduce<int32_t>(DType::Int32); }
TEST(ReduceKernel, Int64MatchesNaiveLoops) { check_reduce<int64_t>(DType::Int64); }

TEST(ReduceKernel, EmptyAxisGivesTheIdentity) {
    std::vector<float> out(6, -1.f);
    float dummy = 0;
    cpu().reduce(ReduceOp::Sum, DType::Float32, out.data(), &dummy, 2, 0, 3);
    EXPECT_EQ(out, std::vector<float>(6, 0.f));
    cpu().reduce(ReduceOp::Prod, DType::Float32, out.data(), &dummy, 2, 0, 3);
    EXPECT_EQ(out, std::vector<float>(6, 1.f));
}

TEST(ReduceKernel, ResultsDoNotDependOnTheThreadCount) {
    std::vector<double> v = test::uniform(300001, -1, 1, 5);
    std::vector<float> x(v.begin(), v.end());
    float a = 0, b = 0;
    int threads = cpu_num_threads();
    set_cpu_num_threads(1);
    cpu().reduce(ReduceOp::Sum, DType::Float32, &a, x.data(), 1, 300001, 1);
    set_cpu_num_threads(std::max(2, threads));
    cpu().reduce(ReduceOp::Sum, DType::Float32, &b, x.data(), 1, 300001, 1);
    set_cpu_num_threads(threads);
    EXPECT_EQ(a, b);
}

// Naive (log-)softmax of an (outer, n, inner) buffer, in double.
std::vector<double> ref_softmax(const std::vector<double>& x, const Dims& d, bool log) {
    std::vector<double> y(x.size());
    for (int64_t o = 0; o < d.outer; ++o)
        for (int64_t j = 0; j < d.inner; ++j) {
            auto at = [&](int64_t k) { return (o * d.r + k) * d.inner + j; };
            double m = -INFINITY, s = 0;
            for (int64_t k = 0; k < d.r; ++k) m = std::max(m, x[at(k)]);
            for (int64_t k = 0; k < d.r; ++k) s += std::exp(x[at(k)] - m);
            for (int64_t k = 0; k < d.r; ++k) y[at(k)] = log ? x[at(k)] - m - std::log(s) : std::exp(x[at(k)] - m) / s;
        }
    return y;
}

TEST(SoftmaxKernel, ForwardAndBackwardMatchNaiveLoops) {
    const Dims dims[] = {{1, 1, 1}, {3, 7, 1}, {2, 33, 5}, {1, 1025, 1}, {2, 5, 300}, {1, 4, 257}};
    for (const Dims& d : dims)
        for (bool log : {false, true}) {
            int64_t n = d.outer * d.r * d.inner;
            std::vector<double> x = test::uniform(n, -5, 5, 21), y(n), dy = test::uniform(n, -1, 1, 22), dx(n);
            cpu().softmax(DType::Float64, y.data(), x.data(), d.outer, d.r, d.inner, log);
            test::expect_close(y, ref_softmax(x, d, log), 1e-12, 1e-14, log ? "log_softmax" : "softmax");
            std::vector<float> xf(x.begin(), x.end()), yf(n);
            cpu().softmax(DType::Float32, yf.data(), xf.data(), d.outer, d.r, d.inner, log);
            test::expect_close(std::vector<double>(yf.begin(), yf.end()), ref_softmax(x, d, log), 1e-5, 1e-6);
            if (d.r > 33 || d.inner > 5) continue;  // finite differences on the small cases only
            cpu().softmax_backward(DType::Float64, dx.data(), dy.data(), y.data(), d.outer, d.r, d.inner, log);
            const double h = 1e-6;
            for (int64_t i = 0; i < n; ++i) {
                std::vector<double> xp = x, xm = x;
                xp[i] += h;
                xm[i] -= h;
                std::vector<double> yp = ref_softmax(xp, d, log), ym = ref_softmax(xm, d, log);
                double fd = 0;
                for (int64_t k = 0; k < n; ++k) fd += dy[k] * (yp[k] - ym[k]) / (2 * h);
                EXPECT_NEAR(dx[i], fd, 1e-7 + 1e-6 * std::fabs(fd)) << (log ? "log_softmax" : "softmax") << " i=" << i;
            }
        }
}

TEST(SoftmaxKernel, LargeAndInfiniteLogits) {
    std::vector<float> x = {1e30f, 0, INFINITY, 0, -INFINITY, 0, NAN, 1}, y(8);
    cpu().softmax(DType::Float32, y.data(), x.data(), 4, 2, 1, false);
    EXPECT_EQ(y[0], 1.f);
    EXPECT_EQ(y[1], 0.f);
    EXPECT_TRUE(std::isnan(y[2]) && std::isnan(y[3]));  // a row holding +inf is NaN, as in NumPy
    EXPECT_EQ(y[4], 0.f);
    EXPECT_EQ(y[5], 1.f);
    EXPECT_TRUE(std::isnan(y[6]) && std::isnan(y[7]));
}

template <class T>
void check_gemm(DType dt, double tol) {
    const int64_t shapes[][3] = {{1, 1, 1}, {7, 33, 5}, {33, 7, 127}, {127, 1, 33}, {6, 16, 3}, {64, 65, 66}, {3, 4, 0}};
    for (auto& s : shapes)
        for (int t = 0; t < 4; ++t)
            for (double beta : {0.0, 0.5}) {
                int64_t M = s[0], N = s[1], K = s[2];
                bool ta = t & 1, tb = t & 2;
                int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 1;  // padded rows
                std::vector<double> av = test::uniform((ta ? K : M) * lda, -1, 1, 31), bv = test::uniform((tb ? N : K) * ldb, -1, 1, 32);
                std::vector<T> A(av.begin(), av.end()), B(bv.begin(), bv.end()), C(M * ldc, T(0.25));
                std::vector<T> C0 = C;
                cpu().gemm(dt, ta, tb, M, N, K, 1.5, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
                for (int64_t i = 0; i < M; ++i) {
                    for (int64_t j = 0; j < N; ++j) {
                        double acc = 0;
                        for (int64_t k = 0; k < K; ++k)
                            acc += double(ta ? A[k * lda + i] : A[i * lda + k]) * double(tb ? B[j * ldb + k] : B[k * ldb + j]);
                        double want = 1.5 * acc + beta * double(C0[i * ldc + j]);
                        EXPECT_NEAR(double(C[i * ldc + j]), want, tol * (1 + K)) << M << "x" << N << "x" << K << " t=" << t;
                    }
                    EXPECT_EQ(C[i * ldc + N], T(0.25)) << "gemm wrote into the row padding";
                }
            }
}

TEST(GemmKernel, Float32MatchesNaiveLoops) { check_gemm<float>(DType::Float32, 1e-6); }
TEST(GemmKernel, Float64MatchesNaiveLoops) { check_gemm<double>(DType::Float64, 1e-14); }

TEST(GatherKernel, ForwardBackwardAndBadIndices) {
    const int64_t outer = 2, axis = 5, inner = 3;
    std::vector<double> x = test::uniform(outer * axis * inner, -1, 1, 41);
    std::vector<int64_t> idx = {4, -1, 0, 2, 0};
    std::vector<double> out(outer * idx.size() * inner);
    EXPECT_EQ(cpu().gather(DType::Float64, out.data(), x.data(), outer, axis, inner, idx.data(), 5), -1);
    std::vector<double> dx(x.size(), 0), dy = test::uniform(out.size(), -1, 1, 42), want(x.size(), 0);
    cpu().gather_backward(DType::Float64, dx.data(), dy.data(), outer, axis, inner, idx.data(), 5);
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < 5; ++j)
            for (int64_t c = 0; c < inner; ++c) {
                int64_t k = idx[j] < 0 ? idx[j] + axis : idx[j];
                EXPECT_EQ(out[(o * 5 + j) * inner + c], x[(o * axis + k) * inner + c]);
                want[(o * axis + k) * inner + c] += dy[(o * 5 + j) * inner + c];  // repeats accumulate
            }
    test::expect_close(dx, want, 0, 1e-15, "gather_backward");
    std::vector<int64_t> bad = {1, 5, -6};
    EXPECT_EQ(cpu().gather(DType::Float64, out.data(), x.data(), outer, axis, inner, bad.data(), 3), 1);
}

}  // namespace
}  // namespace ckeras
