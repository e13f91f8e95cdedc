// The AVX2 micro-kernels (packed sgemm_micro_avx2, in place sgemm_micro_avx2_direct and _direct_t) take a
// strip of any mr >= 1 rows, run as 6-row tiles from the top: the same bits as one call per tile, and the
// reference's values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/gemm_cpu.h"

namespace ckeras::cpu {
namespace {

using DirectFn = void (*)(int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t, int, int, float,
                          float);

struct Strip {
    int64_t mr, nr, kc;
    float alpha, beta;
};

// The strip's C against one call per tile (bit for bit) and against the reference (the nr valid columns;
// the rest of each row as it was).
void expect_strip(const std::vector<float>& strip, const std::vector<float>& tiles, const std::vector<float>& ref,
                  const std::vector<float>& c0, int64_t mr, int64_t nr, int64_t ldc, int64_t kc) {
    ASSERT_EQ(0, std::memcmp(strip.data(), tiles.data(), sizeof(float) * strip.size()));
    for (int64_t i = 0; i < mr; ++i)
        for (int64_t j = 0; j < ldc; ++j) {
            const size_t at = size_t(i * ldc + j);
            if (j >= nr) ASSERT_EQ(strip[at], c0[at]) << "column " << j << " past nr was written";
            else ASSERT_NEAR(strip[at], ref[at], 1e-4f * (1.f + float(kc))) << "C(" << i << ", " << j << ")";
        }
}

// op(A) is (mr, kc): stored (mr, lda) row-major, or (kc, lda) when transposed; B is (kc, 16) with row stride
// bs = 20; C is (mr, ldc) with ldc = 23, so that a row written past nr would show.
void check_strip(DirectFn fn, bool ta, const Strip& s) {
    const int64_t lda = (ta ? s.mr : s.kc) + 3, bs = 20, ldc = 23;
    std::mt19937 rng(static_cast<unsigned>(s.mr * 131 + s.kc));
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> a((ta ? s.kc : s.mr) * lda), b(s.kc * bs), c0(s.mr * ldc);
    for (float& v : a) v = u(rng);
    for (float& v : b) v = u(rng);
    for (float& v : c0) v = u(rng);
    std::vector<float> strip = c0, tiles = c0;
    fn(s.kc, a.data(), lda, b.data(), bs, strip.data(), ldc, int(s.mr), int(s.nr), s.alpha, s.beta);
    for (int64_t r = 0; r < s.mr; r += kAvx2MR) {  // one call per tile, as the driver made them before
        const float* ar = ta ? a.data() + r : a.data() + r * lda;
        fn(s.kc, ar, lda, b.data(), bs, tiles.data() + r * ldc, ldc, int(std::min<int64_t>(kAvx2MR, s.mr - r)),
           int(s.nr), s.alpha, s.beta);
    }
    std::vector<float> ref = c0;
    gemm_reference_cpu(DType::Float32, ta, false, s.mr, s.nr, s.kc, s.alpha, a.data(), lda, b.data(), bs, s.beta,
                       ref.data(), ldc);
    expect_strip(strip, tiles, ref, c0, s.mr, s.nr, ldc, s.kc);
}

// The packed kernel's strip: A as consecutive (kc, 6) micro-panels, the last one zero-padded.
TEST(GemmStrip, PackedKernelTakesAnyRowCount) {
    if (!cpu_has_avx2_fma()) GTEST_SKIP() << "CPU has no AVX2+FMA";
    for (const int64_t mr : {1, 6, 7, 13, 24, 131}) {
        for (const int64_t kc : {1, 32, 129}) {
            SCOPED_TRACE(testing::Message() << "mr=" << mr << " kc=" << kc);
            const int64_t panels = (mr + kAvx2MR - 1) / kAvx2MR, bs = kAvx2NR, ldc = 19, nr = mr % 2 ? 16 : 11;
            std::mt19937 rng(static_cast<unsigned>(mr * 7 + kc));
            std::uniform_real_distribution<float> u(-1.f, 1.f);
            std::vector<float> dense(mr * kc), packed(panels * kAvx2MR * kc, 0.f), b(kc * bs), c0(mr * ldc);
            for (float& v : dense) v = u(rng);
            for (float& v : b) v = u(rng);
            for (float& v : c0) v = u(rng);
            for (int64_t i = 0; i < mr; ++i)
                for (int64_t k = 0; k < kc; ++k)
                    packed[size_t((i / kAvx2MR) * kAvx2MR * kc + k * kAvx2MR + i % kAvx2MR)] = dense[size_t(i * kc + k)];
            std::vector<float> strip = c0, tiles = c0, ref = c0;
            sgemm_micro_avx2(kc, packed.data(), b.data(), bs, strip.data(), ldc, int(mr), int(nr), 1.f, 0.5f);
            for (int64_t r = 0; r < mr; r += kAvx2MR)
                sgemm_micro_avx2(kc, packed.data() + r * kc, b.data(), bs, tiles.data() + r * ldc, ldc,
                                 int(std::min<int64_t>(kAvx2MR, mr - r)), int(nr), 1.f, 0.5f);
            gemm_reference_cpu(DType::Float32, false, false, mr, nr, kc, 1.0, dense.data(), kc, b.data(), bs, 0.5,
                               ref.data(), ldc);
            expect_strip(strip, tiles, ref, c0, mr, nr, ldc, kc);
        }
    }
}

TEST(GemmStrip, InPlaceKernelsTakeAnyRowCount) {
    if (!cpu_has_avx2_fma()) GTEST_SKIP() << "CPU has no AVX2+FMA";
    const Strip strips[] = {{1, 16, 32, 1.f, 0.f},  {6, 16, 32, 1.f, 0.f},  {7, 16, 32, 1.f, 0.f},
                            {13, 16, 1, 1.f, 0.f},  {19, 9, 33, -0.5f, 2.f}, {132, 16, 32, 1.f, 1.f},
                            {17, 16, 7, 2.f, 0.f}};
    for (bool ta : {false, true})
        for (const Strip& s : strips) {
            SCOPED_TRACE(testing::Message() << "ta=" << ta << " mr=" << s.mr << " nr=" << s.nr << " kc=" << s.kc);
            check_strip(ta ? sgemm_micro_avx2_direct_t : sgemm_micro_avx2_direct, ta, s);
        }
}

}  // namespace
}  // namespace ckeras::cpu
