// Tests for cpu/philox.h and the CPU `random` and `dropout` kernels: Random123 known answers, the
// element-to-counter mapping, moments, stream continuation by offset, and thread-count independence.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "cpu/cpu_common.h"
#include "cpu/gemm_cpu.h"
#include "cpu/philox.h"

using namespace ckeras;

namespace {

KernelTable random_table() {
    KernelTable t;
    cpu::register_random_cpu(t);
    return t;
}

template <class T>
std::vector<T> draw(RandomDist dist, int64_t n, uint64_t seed, uint64_t offset, double a, double b) {
    static const KernelTable t = random_table();
    std::vector<T> out(static_cast<size_t>(n));
    t.random(dist, sizeof(T) == 4 ? DType::Float32 : DType::Float64, out.data(), n, seed, offset, a, b);
    return out;
}

template <class T>
bool bitwise_equal(const std::vector<T>& x, const std::vector<T>& y) {
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(T)) == 0;
}

struct Moments {
    double mean = 0, var = 0, min = 1e300, max = -1e300;
};
template <class T>
Moments moments(const std::vector<T>& x) {
    Moments m;
    for (T v : x) { m.mean += v; m.min = std::min(m.min, double(v)); m.max = std::max(m.max, double(v)); }
    m.mean /= double(x.size());
    for (T v : x) m.var += (v - m.mean) * (v - m.mean);
    m.var /= double(x.size());
    return m;
}

// Sets the OpenMP thread count; returns the previous one so a test can restore it.
int set_threads(int n) {
#ifdef _OPENMP
    const int old = omp_get_max_threads();
    omp_set_num_threads(n);
    return old;
#else
    return n;
#endif
}

const RandomDist kDists[] = {RandomDist::Uniform, RandomDist::Normal, RandomDist::TruncatedNormal};

}  // namespace

// Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter[4], key[2] -> output[4].
TEST(Philox, KnownAnswer) {
    struct Kat { uint32_t ctr[4], key[2], out[4]; };
    const Kat kats[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (const Kat& k : kats) {
        Philox4x32 c = {{k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3]}};
        Philox4x32 r = philox4x32_10(c, k.key[0], k.key[1]);
        for (int w = 0; w < 4; ++w) EXPECT_EQ(r.v[w], k.out[w]) << "word " << w;
    }
}

// philox_draw: seed -> key {lo, hi}; index -> counter words 0-1; attempt -> word 2.
TEST(Philox, DrawMapping) {
    const uint64_t seed = 0x0123456789abcdefull, index = 0xfedcba9876543210ull;
    Philox4x32 c = {{0x76543210u, 0xfedcba98u, 5u, 0u}};
    Philox4x32 want = philox4x32_10(c, 0x89abcdefu, 0x01234567u);
    Philox4x32 got = philox_draw(seed, index, 5);
    for (int w = 0; w < 4; ++w) EXPECT_EQ(got.v[w], want.v[w]);
}

TEST(Random, MatchesPhiloxMapping) {
    // Uniform [0, 1) is exactly the unit value of the element's words: the contract the CUDA twin follows.
    const uint64_t seed = 42, offset = (1ull << 32) - 3;  // crosses into counter word 1
    auto f = draw<float>(RandomDist::Uniform, 8, seed, offset, 0.0, 1.0);
    auto d = draw<double>(RandomDist::Uniform, 8, seed, offset, 0.0, 1.0);
    for (int i = 0; i < 8; ++i) {
        Philox4x32 r = philox_draw(seed, offset + i);
        EXPECT_EQ(f[i], float(r.v[0] >> 8) / 16777216.0f);
        uint64_t bits = ((uint64_t(r.v[1]) << 32) | r.v[0]) >> 11;
        EXPECT_EQ(d[i], double(bits) / 9007199254740992.0);
    }
}

TEST(Random, UniformMoments) {
    const int64_t n = 1 << 20;
    for (int dt = 0; dt < 2; ++dt) {
        Moments m = dt ? moments(draw<double>(RandomDist::Uniform, n, 7, 0, -2.0, 3.0))
                       : moments(draw<float>(RandomDist::Uniform, n, 7, 0, -2.0, 3.0));
        EXPECT_NEAR(m.mean, 0.5, 0.01);
        EXPECT_NEAR(m.var, 25.0 / 12.0, 0.01);
        EXPECT_GE(m.min, -2.0);
        EXPECT_LT(m.max, 3.0);
        EXPECT_LT(m.min, -1.99);
        EXPECT_GT(m.max, 2.99);
    }
    // Unit interval: [0, 1), never 1.
    auto u = draw<float>(RandomDist::Uniform, n, 8, 0, 0.0, 1.0);
    for (float v : u) ASSERT_TRUE(v >= 0.f && v < 1.f) << v;
}

TEST(Random, UniformNeverReachesUpperBound) {
    // 1 + (2 - 1) * u rounds to 2 for u = 1 - 2^-24 in float32; the kernel must stay below b.
    for (uint64_t seed = 0; seed < 4; ++seed) {
        auto x = draw<float>(RandomDist::Uniform, 1 << 16, seed, 0, 1.0, 2.0);
        for (float v : x) ASSERT_TRUE(v >= 1.f && v < 2.f) << v;
    }
    // Coarse grid: [2^24, 2^24 + 2) in float32 holds only 2^24; unguarded, half the draws would round to b.
    auto g = draw<float>(RandomDist::Uniform, 1000, 5, 0, 16777216.0, 16777218.0);
    for (float v : g) ASSERT_EQ(v, 16777216.f);
    EXPECT_EQ(draw<float>(RandomDist::Uniform, 3, 1, 0, 4.0, 4.0), std::vector<float>(3, 4.f));
}

TEST(Random, NormalMoments) {
    const int64_t n = 1 << 20;
    for (int dt = 0; dt < 2; ++dt) {
        auto x = dt ? draw<double>(RandomDist::Normal, n, 11, 0, 1.5, 2.0)
                    : [&] { auto f = draw<float>(RandomDist::Normal, n, 11, 0, 1.5, 2.0);
                            return std::vector<double>(f.begin(), f.end()); }();
        Moments m = moments(x);
        EXPECT_NEAR(m.mean, 1.5, 0.01);
        EXPECT_NEAR(std::sqrt(m.var), 2.0, 0.01);
        double skew = 0, kurt = 0;
        for (double v : x) {
            double z = (v - m.mean) / std::sqrt(m.var);
            skew += z * z * z;
            kurt += z * z * z * z;
        }
        EXPECT_NEAR(skew / n, 0.0, 0.02);
        EXPECT_NEAR(kurt / n, 3.0, 0.05);
        // Tail mass beyond 2 sigma: 4.55%.
        int64_t tail = 0;
        for (double v : x) tail += std::fabs(v - 1.5) > 4.0;
        EXPECT_NEAR(double(tail) / n, 0.0455, 0.002);
    }
}

TEST(Random, TruncatedNormalInRange) {
    const int64_t n = 1 << 20;
    auto f = draw<float>(RandomDist::TruncatedNormal, n, 3, 0, 0.0, 0.05);
    for (float v : f) ASSERT_LE(std::fabs(v), 2 * 0.05f) << v;
    auto d = draw<double>(RandomDist::TruncatedNormal, n, 3, 0, -1.0, 3.0);
    for (double v : d) ASSERT_LE(std::fabs(v + 1.0), 6.0) << v;
    // Variance of N(0, 1) truncated to [-2, 2]: 1 - 4 phi(2) / (Phi(2) - Phi(-2)) = 0.77374.
    Moments m = moments(d);
    EXPECT_NEAR(m.mean, -1.0, 0.01);
    EXPECT_NEAR(m.var / 9.0, 0.77374, 0.005);
    EXPECT_LT(m.min, -1.0 - 5.9);  // the bounds are reached, not cut short
    // Attempt 0 is the Normal draw: elements accepted first time agree with `Normal`.
    auto nrm = draw<double>(RandomDist::Normal, 1000, 3, 0, -1.0, 3.0);
    int same = 0;
    for (int i = 0; i < 1000; ++i) same += nrm[i] == d[i];
    EXPECT_GT(same, 900);
}

TEST(Random, SameSeedSameNumbers) {
    for (RandomDist dist : kDists) {
        EXPECT_TRUE(bitwise_equal(draw<float>(dist, 1001, 5, 9, 0.0, 1.0),
                                  draw<float>(dist, 1001, 5, 9, 0.0, 1.0)));
        EXPECT_TRUE(bitwise_equal(draw<double>(dist, 1001, 5, 9, 0.0, 1.0),
                                  draw<double>(dist, 1001, 5, 9, 0.0, 1.0)));
        auto a = draw<float>(dist, 1001, 5, 0, 0.0, 1.0), b = draw<float>(dist, 1001, 6, 0, 0.0, 1.0);
        int same = 0;
        for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
        EXPECT_LT(same, 5) << "seeds 5 and 6 give nearly the same stream";
        // Seeds differing only in the high 32 bits are different streams too.
        auto c = draw<float>(dist, 1001, 5 + (1ull << 32), 0, 0.0, 1.0);
        same = 0;
        for (size_t i = 0; i < a.size(); ++i) same += a[i] == c[i];
        EXPECT_LT(same, 5);
    }
}

TEST(Random, OffsetContinuesStream) {
    const int64_t n = 3000;
    for (RandomDist dist : kDists) {
        for (int64_t k : {1, 17, 2999}) {
            auto full = draw<float>(dist, n, 77, 0, 0.5, 2.0);
            auto tail = draw<float>(dist, n - k, 77, uint64_t(k), 0.5, 2.0);
            EXPECT_TRUE(bitwise_equal(std::vector<float>(full.begin() + k, full.end()), tail));
            auto fulld = draw<double>(dist, n, 77, 1000, 0.5, 2.0);
            auto taild = draw<double>(dist, n - k, 77, 1000 + uint64_t(k), 0.5, 2.0);
            EXPECT_TRUE(bitwise_equal(std::vector<double>(fulld.begin() + k, fulld.end()), taild));
        }
    }
}

TEST(Random, IndependentOfThreadCount) {
    const int64_t n = 100003;  // above the parallel grain, odd
    const int saved = set_threads(1);
    for (RandomDist dist : kDists) {
        set_threads(1);
        auto f1 = draw<float>(dist, n, 123, 456, 0.0, 1.0);
        auto d1 = draw<double>(dist, n, 123, 456, 0.0, 1.0);
        set_threads(4);
        auto f4 = draw<float>(dist, n, 123, 456, 0.0, 1.0);
        auto d4 = draw<double>(dist, n, 123, 456, 0.0, 1.0);
        set_threads(3);
        auto f3 = draw<float>(dist, n, 123, 456, 0.0, 1.0);
        EXPECT_TRUE(bitwise_equal(f1, f4));
        EXPECT_TRUE(bitwise_equal(f1, f3));
        EXPECT_TRUE(bitwise_equal(d1, d4));
    }
    set_threads(saved);
}

TEST(Random, RejectsNonFloatDtype) {
    KernelTable t = random_table();
    std::vector<int32_t> out(4);
    EXPECT_THROW(t.random(RandomDist::Uniform, DType::Int32, out.data(), 4, 0, 0, 0, 1), Error);
}

// ---- dropout ----------------------------------------------------------------------------------

namespace {
template <class T>
void run_dropout(std::vector<T>& out, std::vector<char>& keep, const std::vector<T>& inp, double rate,
                 uint64_t seed, uint64_t offset) {
    static const KernelTable t = random_table();
    out.assign(inp.size(), T(-123));
    keep.assign(inp.size(), 2);  // neither true nor false: every entry must be written
    bool* k = reinterpret_cast<bool*>(keep.data());
    t.dropout(sizeof(T) == 4 ? DType::Float32 : DType::Float64, out.data(), k, inp.data(),
              int64_t(inp.size()), rate, seed, offset);
}
template <class T>
std::vector<T> ramp(int64_t n) {
    std::vector<T> x(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) x[i] = T(0.25) + T(i % 97) * T(0.125) - T(3);
    return x;
}
}  // namespace

TEST(Dropout, KeepsFractionAndScales) {
    const int64_t n = 200001;
    const double rate = 0.3;
    auto inp = ramp<float>(n);
    std::vector<float> out;
    std::vector<char> keep;
    run_dropout(out, keep, inp, rate, 99, 5);
    int64_t kept = 0;
    const float kp = float(1.0 - rate);
    for (int64_t i = 0; i < n; ++i) {
        ASSERT_TRUE(keep[i] == 0 || keep[i] == 1);
        const bool want = philox_dropout_unit(99, 5 + uint64_t(i)) >= rate;
        ASSERT_EQ(bool(keep[i]), want) << i;
        ASSERT_EQ(out[i], want ? inp[i] / kp : 0.f) << i;
        kept += keep[i];
    }
    EXPECT_NEAR(double(kept) / n, 0.7, 0.005);
}

TEST(Dropout, RateZeroCopiesRateOneZeroes) {
    auto inp = ramp<double>(1025);
    std::vector<double> out;
    std::vector<char> keep;
    run_dropout(out, keep, inp, 0.0, 1, 0);
    EXPECT_EQ(out, inp);
    for (char k : keep) ASSERT_EQ(k, 1);
    run_dropout(out, keep, inp, 1.0, 1, 0);
    for (double v : out) ASSERT_EQ(v, 0.0);
    for (char k : keep) ASSERT_EQ(k, 0);
    auto inpf = ramp<float>(7);
    std::vector<float> outf;
    run_dropout(outf, keep, inpf, 1.0, 1, 0);
    for (float v : outf) ASSERT_EQ(v, 0.f);
}

TEST(Dropout, SameMaskForBothDtypesAndNullKeep) {
    const int64_t n = 33;
    auto f = ramp<float>(n);
    auto d = ramp<double>(n);
    std::vector<float> of;
    std::vector<double> od;
    std::vector<char> kf, kd;
    run_dropout(of, kf, f, 0.5, 2024, 10);
    run_dropout(od, kd, d, 0.5, 2024, 10);
    EXPECT_EQ(kf, kd);
    for (int64_t i = 0; i < n; ++i) EXPECT_EQ(od[i], kd[i] ? d[i] / 0.5 : 0.0);
    // keep may be null: same output.
    static const KernelTable t = random_table();
    std::vector<float> out2(n);
    t.dropout(DType::Float32, out2.data(), nullptr, f.data(), n, 0.5, 2024, 10);
    EXPECT_TRUE(bitwise_equal(out2, of));
}

TEST(Dropout, OffsetContinuesAndThreadIndependent) {
    const int64_t n = 70001, k = 1234;
    auto inp = ramp<float>(n);
    std::vector<float> full, tail;
    std::vector<char> kfull, ktail;
    const int saved = set_threads(1);
    run_dropout(full, kfull, inp, 0.2, 8, 0);
    std::vector<float> inp_tail(inp.begin() + k, inp.end());
    run_dropout(tail, ktail, inp_tail, 0.2, 8, uint64_t(k));
    EXPECT_TRUE(bitwise_equal(std::vector<float>(full.begin() + k, full.end()), tail));
    EXPECT_EQ(std::vector<char>(kfull.begin() + k, kfull.end()), ktail);
    set_threads(4);
    std::vector<float> full4;
    std::vector<char> kfull4;
    run_dropout(full4, kfull4, inp, 0.2, 8, 0);
    EXPECT_TRUE(bitwise_equal(full, full4));
    EXPECT_EQ(kfull, kfull4);
    set_threads(saved);
}

// The float32 kernel's vectorised Philox (dropout_vec_impl.h), in its AVX2 and baseline builds, against the scalar
// mapping element by element: a draw counter whose low word wraps inside a block, an element index wrapping past
// 2^64 (as the CUDA twin test draws it), a seed with both words set, odd
// lengths, and rates whose threshold lands next to the float units.
TEST(Dropout, VectorisedPhiloxMatchesTheScalarMappingOnEveryPath) {
    const char* const paths[] = {"generic", "avx2"};
    const uint64_t seed = 0x0123456789ABCDEFull;
    const uint64_t offsets[] = {0, 3, (uint64_t(1) << 34) - 301, (uint64_t(7) << 32) + 5, ~uint64_t(0) - 700};
    const double rates[] = {0.5, 1e-9, 1.0 - 0x1p-24, 0x1p-24 * 3.5};
    for (const char* path : paths) {
        if (std::strcmp(path, "avx2") == 0 && !cpu::cpu_has_avx2_fma()) continue;
        cpu::set_gemm_simd_override(path);
        for (uint64_t offset : offsets) {
            // Rates equal to element 17's unit (kept: unit >= rate) and just above it (dropped).
            const double u17 = philox_dropout_unit(seed, offset + 17);
            std::vector<double> all(std::begin(rates), std::end(rates));
            all.push_back(u17);
            all.push_back(std::nextafter(u17, 2.0));
            for (double rate : all) {
                SCOPED_TRACE(testing::Message() << path << " offset " << offset << " rate " << rate);
                auto inp = ramp<float>(1031);
                std::vector<float> out;
                std::vector<char> keep;
                run_dropout(out, keep, inp, rate, seed, offset);
                const float kp = float(1.0 - rate);
                for (size_t i = 0; i < inp.size(); ++i) {
                    const bool want = philox_dropout_unit(seed, offset + i) >= rate;
                    ASSERT_EQ(bool(keep[i]), want) << i;
                    ASSERT_EQ(out[i], want ? inp[i] / kp : 0.f) << i;
                }
                if (rate == u17) EXPECT_TRUE(keep[17]);
                if (rate > u17 && rate < u17 + 1e-9) EXPECT_FALSE(keep[17]);
            }
        }
    }
    cpu::set_gemm_simd_override(nullptr);
}
