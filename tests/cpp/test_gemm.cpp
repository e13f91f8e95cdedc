// Tests for the CPU GEMM slot (gemm_cpu.cpp + gemm_avx2.cpp + gemm_avx512.cpp): every transpose
// combination, odd and zero sizes, alpha/beta cases, strided views, float64, every SIMD path (AVX-512
// also emulated through SIMDe), thread counts and NaN flow,
// all against the naive gemm_reference_cpu with an error bound that grows with K.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ckeras/device.h"
#include "ckeras/kernels.h"
#include "cpu/cpu_common.h"
#include "cpu/gemm_cpu.h"

namespace ckeras::cpu {
#ifdef CKERAS_HAVE_SIMDE
// gemm_avx512.cpp built against SIMDe's portable intrinsics (test_gemm_avx512_emulated.cpp).
void sgemm_micro_avx512_emulated(int64_t kc, const float* a, const float* b, int64_t bs, float* c, int64_t ldc,
                                 int mr, int nr, float alpha, float beta);
#endif

namespace {

// "avx512-emulated" runs the AVX-512 kernel's source through SIMDe, so that its tiling and edges are
// tested on every machine; float32 GEMMs then go through sgemm_packed_with_micro, not the table.
bool g_emulated = false;

bool path_available(const std::string& level) {
    if (level == "avx2") return cpu_has_avx2_fma();
    if (level == "avx512") return cpu_has_avx512();
#ifdef CKERAS_HAVE_SIMDE
    if (level == "avx512-emulated") return true;
#else
    if (level == "avx512-emulated") return false;
#endif
    return true;
}

// Forces one SIMD path for the lifetime of the guard.
struct SimdPath {
    explicit SimdPath(const char* level) {
        if (std::string(level) == "avx512-emulated") g_emulated = true;
        else set_gemm_simd_override(level);
    }
    ~SimdPath() {
        g_emulated = false;
        set_gemm_simd_override(nullptr);
    }
};

const char* const kPaths[] = {"generic", "avx2", "avx512", "avx512-emulated"};

KernelTable& table() {
    static KernelTable t = [] {
        KernelTable k;
        register_gemm_cpu(k);
        return k;
    }();
    return t;
}

template <class T>
constexpr DType dtype_of() { return std::is_same_v<T, float> ? DType::Float32 : DType::Float64; }

// One GEMM call: stored A is (M, K) or (K, M) when ta, with `pad` extra columns per row (so lda is
// larger than the width); likewise B and C.
struct Case {
    bool ta, tb;
    int64_t M, N, K;
    double alpha = 1, beta = 0;
    int64_t pad = 0;
};

template <class T>
struct Operands {
    int64_t lda, ldb, ldc;
    std::vector<T> A, B, C;
};

template <class T>
Operands<T> make_operands(const Case& c, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(-1, 1);
    Operands<T> o;
    o.lda = (c.ta ? c.M : c.K) + c.pad;
    o.ldb = (c.tb ? c.K : c.N) + c.pad;
    o.ldc = c.N + c.pad;
    o.A.resize(size_t((c.ta ? c.K : c.M) * o.lda));
    o.B.resize(size_t((c.tb ? c.N : c.K) * o.ldb));
    o.C.resize(size_t(c.M * o.ldc));
    for (auto& x : o.A) x = T(u(rng));
    for (auto& x : o.B) x = T(u(rng));
    const T nan = std::numeric_limits<T>::quiet_NaN();
    for (auto& x : o.C) x = c.beta == 0 ? nan : T(u(rng));  // beta == 0 must not read C
    return o;
}

template <class T>
void run_gemm(const Case& c, Operands<T>& o, bool reference) {
#ifdef CKERAS_HAVE_SIMDE
    if constexpr (std::is_same_v<T, float>) {
        if (g_emulated && !reference)
            return sgemm_packed_with_micro(sgemm_micro_avx512_emulated, kAvx512MR, kAvx512NR, c.ta, c.tb, c.M, c.N,
                                           c.K, float(c.alpha), o.A.data(), o.lda, o.B.data(), o.ldb, float(c.beta),
                                           o.C.data(), o.ldc);
    }
#endif
    auto fn = reference ? gemm_reference_cpu : table().gemm;
    fn(dtype_of<T>(), c.ta, c.tb, c.M, c.N, c.K, c.alpha, o.A.data(), o.lda, o.B.data(), o.ldb, c.beta, o.C.data(),
       o.ldc);
}

// Runs the kernel and the reference on the same operands; checks every element of C against
// |err| <= 2 (K + 2) eps (|alpha| sum_k |a||b| + |beta c|), and that C's padding columns are untouched.
template <class T>
void expect_matches_reference(const Case& c, uint32_t seed = 1) {
    SCOPED_TRACE(testing::Message() << "ta=" << c.ta << " tb=" << c.tb << " M=" << c.M << " N=" << c.N << " K="
                                    << c.K << " alpha=" << c.alpha << " beta=" << c.beta << " pad=" << c.pad
                                    << " path=" << (g_emulated ? "avx512-emulated" : cpu_simd_level()));
    Operands<T> fast = make_operands<T>(c, seed), ref = fast, bound = fast;
    for (auto* v : {&bound.A, &bound.B, &bound.C})
        for (auto& x : *v) x = std::isnan(x) ? T(0) : std::abs(x);
    run_gemm(c, fast, false);
    run_gemm(c, ref, true);
    Case abs_case = c;
    abs_case.alpha = std::abs(c.alpha), abs_case.beta = std::abs(c.beta);
    run_gemm(abs_case, bound, true);
    const double eps = std::numeric_limits<T>::epsilon();
    int failures = 0;
    for (int64_t i = 0; i < c.M && failures < 5; ++i) {
        for (int64_t j = 0; j < fast.ldc; ++j) {
            const size_t at = size_t(i * fast.ldc + j);
            if (j >= c.N) {  // padding: never written
                if (!(std::isnan(fast.C[at]) ? std::isnan(ref.C[at]) : fast.C[at] == ref.C[at])) {
                    ADD_FAILURE() << "padding C(" << i << ", " << j << ") was written";
                    ++failures;
                }
                continue;
            }
            const double tol = 2.0 * double(c.K + 2) * eps * double(bound.C[at]) + 1e-30;
            if (!(std::abs(double(fast.C[at]) - double(ref.C[at])) <= tol)) {
                ADD_FAILURE() << "C(" << i << ", " << j << ") = " << fast.C[at] << ", reference " << ref.C[at]
                              << ", tolerance " << tol;
                ++failures;
            }
        }
    }
}

// Sizes that fill no 6x16 tile, cross the KC = 256 / MC = 144 blocks, and mix 1, 7, 33, 127, 1025.
const int64_t kShapes[][3] = {{1, 1, 1},    {7, 33, 1},     {33, 7, 127},  {1, 127, 33},  {127, 1, 7},
                              {7, 1025, 33}, {33, 127, 1025}, {127, 33, 300}, {150, 47, 257}, {6, 16, 8},
                              {12, 32, 8},   {25, 65, 400}};

template <class T>
void check_all_shapes_and_transposes() {
    for (const auto& s : kShapes)
        for (int t = 0; t < 4; ++t) expect_matches_reference<T>({bool(t & 1), bool(t & 2), s[0], s[1], s[2]});
}

bool has_avx2() { return cpu_has_avx2_fma(); }

TEST(Gemm, ReferenceMatchesHandValues) {
    // A = [[1, 2, 3], [4, 5, 6]], B = [[1, 0], [0, 1], [1, 1]] -> A @ B = [[4, 5], [10, 11]].
    const float A[] = {1, 2, 3, 4, 5, 6}, At[] = {1, 4, 2, 5, 3, 6};
    const float B[] = {1, 0, 0, 1, 1, 1}, Bt[] = {1, 0, 1, 0, 1, 1};
    const float want[] = {4, 5, 10, 11};
    for (int t = 0; t < 4; ++t) {
        const bool ta = t & 1, tb = t & 2;
        for (auto fn : {gemm_reference_cpu, table().gemm}) {
            float C[4] = {1, 1, 1, 1};
            fn(DType::Float32, ta, tb, 2, 2, 3, 2.0, ta ? At : A, ta ? 2 : 3, tb ? Bt : B, tb ? 3 : 2, -1.0, C, 2);
            for (int i = 0; i < 4; ++i) EXPECT_EQ(C[i], 2 * want[i] - 1) << "ta=" << ta << " tb=" << tb << " i=" << i;
        }
    }
}

TEST(Gemm, Avx2MatchesReference) {
    if (!has_avx2()) GTEST_SKIP() << "CPU has no AVX2+FMA";
    SimdPath path("avx2");
    check_all_shapes_and_transposes<float>();
}

TEST(Gemm, Avx512MatchesReference) {
    if (!cpu_has_avx512()) GTEST_SKIP() << "CPU has no AVX-512";
    SimdPath path("avx512");
    check_all_shapes_and_transposes<float>();
}

TEST(Gemm, Avx512EmulatedMatchesReference) {
    if (!path_available("avx512-emulated")) GTEST_SKIP() << "built without SIMDe";
    SimdPath path("avx512-emulated");
    check_all_shapes_and_transposes<float>();
}

TEST(Gemm, GenericMatchesReference) {
    SimdPath path("generic");
    check_all_shapes_and_transposes<float>();
}

TEST(Gemm, Float64MatchesReference) { check_all_shapes_and_transposes<double>(); }

TEST(Gemm, AlphaBetaVariants) {
    for (const char* level : kPaths) {
        if (!path_available(level)) continue;
        SimdPath path(level);
        for (double alpha : {1.0, -0.5, 2.0})
            for (double beta : {0.0, 1.0, -2.5})
                for (int t = 0; t < 4; ++t) {
                    expect_matches_reference<float>({bool(t & 1), bool(t & 2), 37, 45, 300, alpha, beta});
                    expect_matches_reference<double>({bool(t & 1), bool(t & 2), 13, 9, 20, alpha, beta});
                }
    }
}

// One and two rows (the AVX2 path's unpacked small-M kernel, and the others' tiles): every column
// tail of its 64/32-wide blocks and 8-wide vectors, K = 1 up to E1's 784, transposes, alpha/beta, padding.
TEST(Gemm, SmallRowCountsMatchReference) {
    for (const char* level : kPaths) {
        if (!path_available(level)) continue;
        SimdPath path(level);
        for (int64_t M : {1, 2, 3})
            for (int64_t N : {1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 128, 130})
                for (int64_t K : {1, 5, 784})
                    for (int t = 0; t < 4; ++t) expect_matches_reference<float>({bool(t & 1), bool(t & 2), M, N, K});
        for (int64_t M : {1, 2})
            for (int t = 0; t < 4; ++t) {
                expect_matches_reference<float>({bool(t & 1), bool(t & 2), M, 45, 300, -0.5, 2.0, 5});
                expect_matches_reference<float>({bool(t & 1), bool(t & 2), M, 70, 33, 2.0, 1.0, 16});
            }
    }
}

TEST(Gemm, StridedViewsLeavePaddingUntouched) {
    for (const char* level : kPaths) {
        if (!path_available(level)) continue;
        SimdPath path(level);
        for (int t = 0; t < 4; ++t)
            for (int64_t pad : {1, 5, 16}) {
                expect_matches_reference<float>({bool(t & 1), bool(t & 2), 33, 41, 65, 1.0, 0.0, pad});
                expect_matches_reference<float>({bool(t & 1), bool(t & 2), 8, 128, 300, 1.5, 0.5, pad});
                expect_matches_reference<double>({bool(t & 1), bool(t & 2), 11, 7, 19, 1.0, 1.0, pad});
            }
    }
}

TEST(Gemm, BetaZeroIgnoresNaNInC) {
    std::vector<float> A(5 * 4, 1.f), B(4 * 3, 1.f), C(5 * 3, std::numeric_limits<float>::quiet_NaN());
    table().gemm(DType::Float32, false, false, 5, 3, 4, 1.0, A.data(), 4, B.data(), 3, 0.0, C.data(), 3);
    for (float x : C) EXPECT_EQ(x, 4.f);
}

TEST(Gemm, KZeroScalesC) {
    for (auto fn : {gemm_reference_cpu, table().gemm}) {
        std::vector<float> C = {1, 2, 3, 4, 5, 6};
        fn(DType::Float32, false, false, 2, 3, 0, 1.0, nullptr, 1, nullptr, 3, 0.5, C.data(), 3);
        EXPECT_EQ(C, (std::vector<float>{0.5f, 1, 1.5f, 2, 2.5f, 3}));
        std::vector<double> D(6, std::nan(""));
        fn(DType::Float64, true, true, 2, 3, 0, 1.0, nullptr, 2, nullptr, 1, 0.0, D.data(), 3);
        EXPECT_EQ(D, std::vector<double>(6, 0.0));
    }
}

TEST(Gemm, ZeroSizeDimsWriteNothing) {
    for (auto fn : {gemm_reference_cpu, table().gemm}) {
        std::vector<float> C(4, 7.f);
        fn(DType::Float32, false, false, 0, 4, 3, 1.0, nullptr, 3, nullptr, 4, 0.0, C.data(), 4);
        fn(DType::Float32, true, false, 4, 0, 3, 1.0, nullptr, 4, nullptr, 1, 0.0, C.data(), 1);
        fn(DType::Float32, false, true, 0, 0, 0, 1.0, nullptr, 1, nullptr, 1, 0.0, nullptr, 1);
        EXPECT_EQ(C, std::vector<float>(4, 7.f));
    }
}

TEST(Gemm, GenericMatchesAvx2) {
    if (!has_avx2()) GTEST_SKIP() << "CPU has no AVX2+FMA";
    const Case c{false, true, 70, 90, 513, 1.0, 0.0};
    Operands<float> g = make_operands<float>(c, 7), v = g;
    {
        SimdPath path("generic");
        run_gemm(c, g, false);
    }
    {
        SimdPath path("avx2");
        run_gemm(c, v, false);
    }
    for (size_t i = 0; i < g.C.size(); ++i) ASSERT_NEAR(g.C[i], v.C[i], 1e-3f) << "at " << i;
}

// A not transposed and N <= 256 reads A in place (sgemm_micro_avx2_direct) instead of packing it: the same sums
// in the same order, so the same bits as the packed kernel, with strided A, edge tiles, alpha and beta.
TEST(Gemm, Avx2InPlaceAMatchesPackedBitForBit) {
    if (!has_avx2()) GTEST_SKIP() << "CPU has no AVX2+FMA";
    SimdPath path("avx2");
    // Untransposed A (read in place for N <= 256), and transposed A (in place for K <= 64: a weight gradient
    // X^T dY), with padded leading dimensions, edge tiles and alpha/beta both 1 and not.
    const Case cases[] = {{false, false, 1024, 128, 784}, {false, false, 37, 64, 300, -0.5, 2.0, 5},
                          {false, true, 29, 256, 401, 1.0, 0.0, 3}, {false, false, 5, 17, 9, 2.0, 1.0},
                          {true, false, 784, 128, 32},        {true, false, 37, 61, 64, -0.5, 2.0, 5},
                          {true, true, 29, 100, 17, 1.0, 1.0, 3}, {true, false, 5, 17, 1, 2.0, 0.0}};
    for (const Case& c : cases) {
        SCOPED_TRACE(testing::Message() << "ta=" << c.ta << " tb=" << c.tb << " M=" << c.M << " N=" << c.N
                                        << " K=" << c.K);
        Operands<float> direct = make_operands<float>(c, 3), packed = direct;
        run_gemm(c, direct, false);
        sgemm_packed_with_micro(sgemm_micro_avx2, kAvx2MR, kAvx2NR, c.ta, c.tb, c.M, c.N, c.K, float(c.alpha),
                                packed.A.data(), packed.lda, packed.B.data(), packed.ldb, float(c.beta),
                                packed.C.data(), packed.ldc);
        ASSERT_EQ(0, std::memcmp(direct.C.data(), packed.C.data(), sizeof(float) * direct.C.size()));
    }
}

// A NaN in op(A)(i0, k0) reaches exactly row i0 of C; a NaN in op(B)(k0, j0) exactly column j0.
TEST(Gemm, NaNPropagatesToExactlyTheAffectedRowAndColumn) {
    const int64_t M = 29, N = 37, K = 300, i0 = 13, j0 = 21, k0 = 257;
    for (const char* level : kPaths) {
        if (!path_available(level)) continue;
        SimdPath path(level);
        for (int t = 0; t < 4; ++t) {
            const Case c{bool(t & 1), bool(t & 2), M, N, K, 1.0, 0.0};
            for (bool in_a : {true, false}) {
                SCOPED_TRACE(testing::Message() << level << " ta=" << c.ta << " tb=" << c.tb << " in_a=" << in_a);
                Operands<float> o = make_operands<float>(c, 3);
                const float nan = std::numeric_limits<float>::quiet_NaN();
                if (in_a) o.A[size_t(c.ta ? k0 * o.lda + i0 : i0 * o.lda + k0)] = nan;
                else o.B[size_t(c.tb ? j0 * o.ldb + k0 : k0 * o.ldb + j0)] = nan;
                run_gemm(c, o, false);
                for (int64_t i = 0; i < M; ++i)
                    for (int64_t j = 0; j < N; ++j)
                        ASSERT_EQ(std::isnan(o.C[size_t(i * o.ldc + j)]), in_a ? i == i0 : j == j0)
                            << "C(" << i << ", " << j << ")";
            }
        }
    }
}

#ifdef _OPENMP
// Each C element sees the same K blocking and FMA order whatever the thread split: results are bitwise equal.
TEST(Gemm, ThreadCountDoesNotChangeResults) {
    const int saved = omp_get_max_threads();
    for (int t = 0; t < 4; ++t) {
        const Case c{bool(t & 1), bool(t & 2), 97, 131, 700, 1.0, 0.0};
        Operands<float> one = make_operands<float>(c, 5), two = one;
        omp_set_num_threads(1);
        run_gemm(c, one, false);
        omp_set_num_threads(2);
        run_gemm(c, two, false);
        EXPECT_EQ(one.C, two.C) << "ta=" << c.ta << " tb=" << c.tb;
    }
    for (int64_t M : {1, 2}) {  // the small-M kernel splits columns between threads
        const Case c{false, false, M, 130, 784, 1.0, 0.0};
        Operands<float> one = make_operands<float>(c, 6), two = one, three = one;
        omp_set_num_threads(1);
        run_gemm(c, one, false);
        omp_set_num_threads(2);
        run_gemm(c, two, false);
        omp_set_num_threads(3);
        run_gemm(c, three, false);
        EXPECT_EQ(one.C, two.C) << "M=" << M;
        EXPECT_EQ(one.C, three.C) << "M=" << M;
    }
    omp_set_num_threads(saved);
}
#endif

TEST(Gemm, SimdLevelFollowsOverrideAndEnv) {
    const char* env = std::getenv("CKERAS_CPU_SIMD");
    const std::string saved_env = env ? env : "";
    unsetenv("CKERAS_CPU_SIMD");
    {
        SimdPath path("generic");
        EXPECT_STREQ(cpu_simd_level(), "generic");
    }
    EXPECT_STREQ(cpu_simd_level(), cpu_has_avx512() ? "avx512" : has_avx2() ? "avx2" : "generic");
    setenv("CKERAS_CPU_SIMD", "generic", 1);
    EXPECT_STREQ(cpu_simd_level(), "generic");
    setenv("CKERAS_CPU_SIMD", "avx2", 1);
    EXPECT_STREQ(cpu_simd_level(), has_avx2() ? "avx2" : "generic");
    unsetenv("CKERAS_CPU_SIMD");
    if (has_avx2()) {
        SimdPath path("avx2");
        EXPECT_STREQ(cpu_simd_level(), "avx2");
    }
    if (cpu_has_avx512()) {
        SimdPath path("avx512");
        EXPECT_STREQ(cpu_simd_level(), "avx512");
    } else {
        EXPECT_THROW(set_gemm_simd_override("avx512"), Error);
    }
    EXPECT_THROW(set_gemm_simd_override("avx1024"), Error);
    if (env != nullptr) setenv("CKERAS_CPU_SIMD", saved_env.c_str(), 1);
}

TEST(Gemm, RejectsIntegerDtype) {
    int32_t a = 1, b = 1, c = 0;
    EXPECT_THROW(table().gemm(DType::Int32, false, false, 1, 1, 1, 1.0, &a, 1, &b, 1, 0.0, &c, 1), Error);
}

}  // namespace
}  // namespace ckeras::cpu
