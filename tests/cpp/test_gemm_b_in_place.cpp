// The GEMM reads a small row-major B in place or packs it, by CPU and size (gemm_b_in_place_max_span): both
// ways run the same sums in the same order, so they must give the same bits, and the reference's values, on
// every SIMD path, whichever way this machine's CPU would choose.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "ckeras/error.h"
#include "ckeras/kernels.h"
#include "cpu/gemm_cpu.h"

namespace ckeras::cpu {
namespace {

// Sets the override for the guard's lifetime, then gives the choice back to the CPU.
struct BInPlace {
    explicit BInPlace(int mode) { set_gemm_b_in_place_override(mode); }
    ~BInPlace() { set_gemm_b_in_place_override(-1); }
};

// Forces one SIMD path for the guard's lifetime (also when an assertion returns early).
struct SimdPath {
    explicit SimdPath(const char* level) { set_gemm_simd_override(level); }
    ~SimdPath() { set_gemm_simd_override(nullptr); }
};

struct Shape {
    bool ta;
    int64_t M, N, K;
    float alpha, beta;
};

std::vector<float> run(const Shape& s, const std::vector<float>& a, int64_t lda, const std::vector<float>& b,
                       int64_t ldb, const std::vector<float>& c0, int64_t ldc) {
    std::vector<float> c = c0;
    kernel_table(DeviceType::CPU)
        .gemm(DType::Float32, s.ta, false, s.M, s.N, s.K, s.alpha, a.data(), lda, b.data(), ldb, s.beta, c.data(), ldc);
    return c;
}

TEST(GemmBInPlace, PackedAndInPlaceGiveTheSameBits) {
    // Dense-layer shapes (B a (784, 128) or (784, 64) weight), edge panels (N not a multiple of 16), a K that
    // takes two KC blocks, a transposed A, alpha and beta other than 1 and 0, and row strides past the width.
    const Shape shapes[] = {{false, 256, 128, 784, 1.f, 0.f}, {false, 1024, 64, 784, 1.f, 0.f},
                            {false, 32, 128, 784, 1.f, 0.f},  {false, 37, 61, 901, -0.5f, 2.f},
                            {true, 131, 45, 200, 1.f, 1.f},   {false, 7, 16, 3, 2.f, 0.f}};
    for (const char* level : {"generic", "avx2"}) {
        if (std::strcmp(level, "avx2") == 0 && !cpu_has_avx2_fma()) continue;
        SimdPath path(level);
        for (const Shape& s : shapes) {
            SCOPED_TRACE(testing::Message() << level << " ta=" << s.ta << " M=" << s.M << " N=" << s.N << " K=" << s.K);
            const int64_t lda = (s.ta ? s.M : s.K) + 3, ldb = s.N + 5, ldc = s.N + 2;
            std::mt19937 rng(static_cast<unsigned>(s.M * 31 + s.N * 7 + s.K));
            std::uniform_real_distribution<float> u(-1.f, 1.f);
            std::vector<float> a((s.ta ? s.K : s.M) * lda), b(s.K * ldb), c0(s.M * ldc);
            for (float& v : a) v = u(rng);
            for (float& v : b) v = u(rng);
            for (float& v : c0) v = u(rng);
            std::vector<float> packed, in_place;
            {
                BInPlace mode(0);
                packed = run(s, a, lda, b, ldb, c0, ldc);
            }
            {
                BInPlace mode(1);
                in_place = run(s, a, lda, b, ldb, c0, ldc);
            }
            ASSERT_EQ(0, std::memcmp(packed.data(), in_place.data(), sizeof(float) * packed.size()));
            std::vector<float> ref = c0;
            gemm_reference_cpu(DType::Float32, s.ta, false, s.M, s.N, s.K, s.alpha, a.data(), lda, b.data(), ldb,
                               s.beta, ref.data(), ldc);
            for (size_t i = 0; i < ref.size(); ++i)
                ASSERT_NEAR(packed[i], ref[i], 2e-5f * float(s.K) * (1.f + std::fabs(ref[i]))) << "at " << i;
        }
    }
}

TEST(GemmBInPlace, OverrideDecidesAndBadModesAreRefused) {
    {
        BInPlace mode(1);
        EXPECT_EQ(kGemmBInPlaceMaxSpan, gemm_b_in_place_max_span());
    }
    {
        BInPlace mode(0);
        EXPECT_EQ(0, gemm_b_in_place_max_span());
    }
    const int64_t chosen = gemm_b_in_place_max_span();  // the CPU's own choice again
    EXPECT_TRUE(chosen == kGemmBInPlaceL1Span || chosen == kGemmBInPlaceMaxSpan) << chosen;
    EXPECT_THROW(set_gemm_b_in_place_override(2), Error);
    EXPECT_THROW(set_gemm_b_in_place_override(-2), Error);
    EXPECT_EQ(chosen, gemm_b_in_place_max_span());  // a refused mode changes nothing
}

}  // namespace
}  // namespace ckeras::cpu
