// The CUDA random and dropout kernels against their CPU twins (cpu/random_cpu.cpp): both follow the
// element-to-counter mapping of cpu/philox.h, so uniforms (float32 and float64, including the pull below
// b), dropout masks and dropout outputs must agree to the bit, for odd sizes, over a million elements,
// offsets that carry into the high counter word or wrap 2^64, and seeds with both key words set.
//
// Normal and truncated normal values go through log, sqrt, cos and sin, which CUDA's libm computes to
// within 1 ulp (log) and 2 ulp (cos, sin) and glibc to within 1 ulp, on bit-identical inputs; sqrt and
// the products are correctly rounded on both. So z = sqrt(-2 log(1 - u1)) cos(2 pi u2) differs by at most
// about 1 + 1 (log, halved by sqrt, plus rounding) + 3 (cos, both sides) + 1 (product) = 6 ulp of z; the
// bound used is 8 ulp of |stddev * z| plus 2 ulp of the result (the final a + s * z rounds twice). A
// truncated-normal element may differ entirely where a candidate z lies within that error of the cut at
// |z| = 2 (the two devices then accept different candidates); such elements are recognised by recomputing
// the candidates on the host and are allowed (odds about 1e-6 each). Skipped without a CUDA device.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/philox.h"
#include "cuda_twin.h"

using namespace ckeras;
using namespace ckeras::test;

namespace {

const int64_t kSizes[] = {1, 7, 33, 127, 1025, (1 << 20) + 3};

struct Stream {
    uint64_t seed, offset;
};
// Plain, a seed with both key words set, an offset whose low counter word carries, one that wraps 2^64.
// Offsets of every phase mod 4 (dropout: an element's word within its draw), the draw counter's low word
// wrapping ((1 << 34) - 1, phase 3), and the element index wrapping past 2^64.
const Stream kStreams[] = {{42, 0},          {0x9E3779B97F4A7C15ull, 12345}, {7, 0xFFFFFFF0ull},
                           {3, ~uint64_t(0) - 5}, {11, (uint64_t(1) << 34) - 1}};

std::string label(const char* what, int64_t n, const Stream& s, DType dt) {
    return std::string(what) + " n=" + std::to_string(n) + " seed=" + std::to_string(s.seed) +
           " offset=" + std::to_string(s.offset) + " " + dtype_name(dt);
}

template <class T>
std::vector<T> draw_cpu(RandomDist dist, int64_t n, const Stream& s, double a, double b) {
    std::vector<T> out(static_cast<size_t>(n));
    cpu_table().random(dist, dtype_of<T>(), out.data(), n, s.seed, s.offset, a, b);
    return out;
}

template <class T>
std::vector<T> draw_cuda(RandomDist dist, int64_t n, const Stream& s, double a, double b) {
    Tensor out = cuda_empty<T>(n);
    cuda_table().random(dist, dtype_of<T>(), out.data_ptr(), n, s.seed, s.offset, a, b);
    return from_cuda<T>(out);
}

template <class T>
void uniform_bits() {
    struct Range {
        double a, b;
    };
    // [0, 1) shows the raw uniforms; [1, 1 + 2^-23) rounds onto b for about half the draws in float32,
    // exercising the pull below b (nextafter) on both devices.
    const Range ranges[] = {{0, 1}, {-1.5, 2.5}, {1, 1 + 1.1920928955078125e-07}};
    for (int64_t n : kSizes)
        for (const Stream& s : kStreams)
            for (const Range& r : ranges)
                expect_bits_equal(draw_cuda<T>(RandomDist::Uniform, n, s, r.a, r.b),
                                  draw_cpu<T>(RandomDist::Uniform, n, s, r.a, r.b),
                                  label("uniform", n, s, dtype_of<T>()) + " [" + std::to_string(r.a) + ", " +
                                      std::to_string(r.b) + ")");
}

TEST(CudaRandom, UniformIsBitIdenticalToCpu) {
    CKERAS_SKIP_WITHOUT_CUDA();
    uniform_bits<float>();
    uniform_bits<double>();
}

// True when a candidate z of element `index`'s truncated-normal draw, up to the one the CPU accepted,
// lies within `margin` of the cut |z| = 2 (computed with the host's libm).
template <class T>
bool near_truncation_cut(uint64_t seed, uint64_t index, double margin) {
    for (uint32_t k = 0; k < 32; ++k) {
        T z0, z1;
        philox_box_muller<T>(philox_draw(seed, index, k), z0, z1);
        for (T z : {z0, z1}) {
            if (std::fabs(std::fabs(double(z)) - 2.0) < margin) return true;
            if (z >= T(-2) && z <= T(2)) return false;  // the CPU stopped here
        }
    }
    return false;
}

template <class T>
void normal_close(RandomDist dist) {
    const double ulp = ulp1<T>();
    struct Params {
        double mean, stddev;
    };
    const Params params[] = {{0, 1}, {0.5, 2}, {-3, 0.01}};
    for (int64_t n : kSizes)
        for (const Stream& s : kStreams)
            for (const Params& p : params) {
                const std::vector<T> gpu = draw_cuda<T>(dist, n, s, p.mean, p.stddev);
                const std::vector<T> cpu = draw_cpu<T>(dist, n, s, p.mean, p.stddev);
                const std::string what = label(dist == RandomDist::Normal ? "normal" : "truncated_normal", n, s,
                                               dtype_of<T>()) + " mean=" + std::to_string(p.mean);
                int64_t bad = 0, at_cut = 0, outside = 0;
                for (int64_t i = 0; i < n; ++i) {
                    const double a = gpu[size_t(i)], b = cpu[size_t(i)];
                    if (dist == RandomDist::TruncatedNormal &&
                        std::fabs(a - p.mean) > 2 * p.stddev * (1 + 8 * ulp) + 2 * ulp * std::fabs(a) && outside++ < 5)
                        ADD_FAILURE() << what << ": element " << i << " = " << a << " is outside the truncation";
                    const double tol = 8 * ulp * std::fabs(b - p.mean) + 2 * ulp * std::fabs(b);
                    if (std::fabs(a - b) <= tol) continue;
                    if (dist == RandomDist::TruncatedNormal &&
                        near_truncation_cut<T>(s.seed, s.offset + uint64_t(i), 64 * ulp)) {
                        ++at_cut;
                        continue;
                    }
                    if (bad++ < 5)
                        ADD_FAILURE() << what << ": element " << i << ": cuda " << a << ", cpu " << b << ", diff "
                                      << std::fabs(a - b) << " > " << tol;
                }
                EXPECT_EQ(bad, 0) << what;
                EXPECT_EQ(outside, 0) << what;
                EXPECT_LE(at_cut, 2 + n / 100000) << what << ": too many elements differ at the truncation cut";
            }
}

TEST(CudaRandom, NormalMatchesCpuWithinLibmAccuracy) {
    CKERAS_SKIP_WITHOUT_CUDA();
    normal_close<float>(RandomDist::Normal);
    normal_close<double>(RandomDist::Normal);
}

TEST(CudaRandom, TruncatedNormalMatchesCpuWithinLibmAccuracy) {
    CKERAS_SKIP_WITHOUT_CUDA();
    normal_close<float>(RandomDist::TruncatedNormal);
    normal_close<double>(RandomDist::TruncatedNormal);
}

TEST(CudaRandom, EmptyDrawAndIntegerDtype) {
    CKERAS_SKIP_WITHOUT_CUDA();
    for (RandomDist dist : {RandomDist::Uniform, RandomDist::Normal, RandomDist::TruncatedNormal})
        cuda_table().random(dist, DType::Float32, nullptr, 0, 1, 0, 0, 1);
    EXPECT_THROW(cuda_table().random(RandomDist::Uniform, DType::Int32, nullptr, 4, 1, 0, 0, 1), Error);
    EXPECT_THROW(cuda_table().dropout(DType::Int64, nullptr, nullptr, nullptr, 4, 0.5, 1, 0), Error);
}

// Dropout forward: the keep mask (also with no mask buffer), and the outputs, by bits; rates 0 and 1 (copy
// and zero), a tiny and a large rate; inputs with a NaN (dropped NaNs become 0 on both devices).
template <class T>
void dropout_bits() {
    const DType dt = dtype_of<T>();
    for (int64_t n : kSizes)
        for (const Stream& s : kStreams)
            for (double rate : {0.0, 1e-6, 0.1, 0.5, 0.999, 1.0}) {
                std::vector<T> inp(static_cast<size_t>(n));
                for (int64_t i = 0; i < n; ++i) inp[size_t(i)] = T(std::sin(double(i)) * 3);
                if (n > 3) inp[3] = T(std::nan(""));
                std::vector<T> out(inp.size());
                std::vector<uint8_t> keep(inp.size());
                cpu_table().dropout(dt, out.data(), reinterpret_cast<bool*>(keep.data()), inp.data(), n, rate, s.seed,
                                    s.offset);
                Tensor x = to_cuda(inp), y = cuda_empty<T>(n), k = cuda_empty<uint8_t>(n), y2 = cuda_empty<T>(n);
                cuda_table().dropout(dt, y.data_ptr(), static_cast<bool*>(k.data_ptr()), x.data_ptr(), n, rate, s.seed,
                                     s.offset);
                cuda_table().dropout(dt, y2.data_ptr(), nullptr, x.data_ptr(), n, rate, s.seed, s.offset);
                const std::string what = label("dropout", n, s, dt) + " rate=" + std::to_string(rate);
                expect_bits_equal(from_cuda<uint8_t>(k), keep, what + " mask");
                expect_bits_equal(from_cuda<T>(y), out, what + " output");
                expect_bits_equal(from_cuda<T>(y2), out, what + " output without a mask");
            }
}

TEST(CudaRandom, DropoutMaskAndOutputAreBitIdenticalToCpu) {
    CKERAS_SKIP_WITHOUT_CUDA();
    dropout_bits<float>();
    dropout_bits<double>();
}

// The same seed drops the same units in float32 and float64 on the GPU too.
TEST(CudaRandom, DropoutMaskIsTheSameForBothDtypes) {
    CKERAS_SKIP_WITHOUT_CUDA();
    const int64_t n = 4099;
    Tensor x32 = to_cuda(std::vector<float>(n, 1.f)), x64 = to_cuda(std::vector<double>(n, 1.0));
    Tensor y32 = cuda_empty<float>(n), y64 = cuda_empty<double>(n);
    Tensor k32 = cuda_empty<uint8_t>(n), k64 = cuda_empty<uint8_t>(n);
    cuda_table().dropout(DType::Float32, y32.data_ptr(), static_cast<bool*>(k32.data_ptr()), x32.data_ptr(), n, 0.3,
                         99, 17);
    cuda_table().dropout(DType::Float64, y64.data_ptr(), static_cast<bool*>(k64.data_ptr()), x64.data_ptr(), n, 0.3,
                         99, 17);
    expect_bits_equal(from_cuda<uint8_t>(k32), from_cuda<uint8_t>(k64), "float32 vs float64 mask");
}

// Dropout backward by bits, out of place and in place (dinp aliasing dout).
template <class T>
void dropout_backward_bits() {
    const DType dt = dtype_of<T>();
    for (int64_t n : kSizes)
        for (double rate : {0.0, 0.1, 0.5, 0.999}) {
            std::vector<T> dout(static_cast<size_t>(n));
            std::vector<uint8_t> keep(dout.size());
            for (int64_t i = 0; i < n; ++i) {
                dout[size_t(i)] = T(std::cos(double(i)) * 5);
                keep[size_t(i)] = uint8_t((i * 7 + i / 3) % 5 != 0);
            }
            if (n > 4) dout[4] = T(std::nan(""));
            std::vector<T> dinp(dout.size());
            cpu_table().dropout_backward(dt, dinp.data(), dout.data(), reinterpret_cast<const bool*>(keep.data()), n,
                                         rate);
            Tensor g = to_cuda(dout), k = to_cuda(keep), d = cuda_empty<T>(n);
            const bool* kp = static_cast<const bool*>(k.data_ptr());
            cuda_table().dropout_backward(dt, d.data_ptr(), g.data_ptr(), kp, n, rate);
            cuda_table().dropout_backward(dt, g.data_ptr(), g.data_ptr(), kp, n, rate);  // in place
            const std::string what = "dropout_backward n=" + std::to_string(n) + " rate=" + std::to_string(rate) +
                                     " " + dtype_name(dt);
            expect_bits_equal(from_cuda<T>(d), dinp, what);
            expect_bits_equal(from_cuda<T>(g), dinp, what + " in place");
        }
}

TEST(CudaRandom, DropoutBackwardIsBitIdenticalToCpu) {
    CKERAS_SKIP_WITHOUT_CUDA();
    dropout_backward_bits<float>();
    dropout_backward_bits<double>();
}

}  // namespace
