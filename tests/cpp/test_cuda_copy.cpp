// CUDA copy-family kernels against their CPU twins (cpu/copy_cpu.cpp): copy_strided for every dtype pair
// on contiguous, transposed, reversed, broadcast, scattered-output, scalar, empty and 8-dim layouts (9
// uncollapsible dims raise NotImplemented on CUDA), fill and arange for every dtype, gather for every
// dtype with negative, repeated and out-of-range indices, and gather_backward's scatter-add. All
// bitwise, except scatter-adds into one element, whose order on the GPU is unspecified.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <vector>

#include "cuda_parity.h"

namespace ckeras::cuda_test {
namespace {

// Input values for a copy from `in` to `out`: fractions, negatives and signed zeros; NaN and infinities
// only where the conversion is defined (to a float or to bool). Integers in [-1000, 1000).
template <class T>
std::vector<T> copy_inputs(int64_t n, DType out, uint32_t seed) {
    std::vector<T> v = random_values<T>(n, -1000, 1000, seed);
    if constexpr (std::is_floating_point_v<T>) {
        const double specials[] = {0.0, -0.0, 0.5, -0.5, 1.5, -2.5, 1e-39, NAN, INFINITY, -INFINITY};
        const size_t count = is_floating(out) || out == DType::Bool ? 10 : 6;
        for (size_t i = 0; i < count && i < v.size(); ++i) v[i] = static_cast<T>(specials[i]);
    }
    return v;
}

// Runs copy_strided on both devices: `in` viewed at element offset in_off with in_strides, written
// into a sentinel-filled `out_len`-element buffer at out_off with out_strides; compares whole buffers.
template <class O, class I>
void check_copy(const std::vector<I>& in, int64_t in_off, const Shape& in_strides, int64_t out_len, int64_t out_off,
                const Shape& out_strides, const Shape& shape, const std::string& what) {
    std::vector<O> out_cpu(static_cast<size_t>(out_len), O(7));
    DeviceBuffer d_in(in), d_out(out_cpu);
    const int nd = static_cast<int>(shape.size());
    cpu().copy_strided(dtype_of<O>(), out_cpu.data() + out_off, out_strides.data(), dtype_of<I>(), in.data() + in_off,
                       in_strides.data(), shape.data(), nd);
    gpu().copy_strided(dtype_of<O>(), d_out.as<O>() + out_off, out_strides.data(), dtype_of<I>(), d_in.as<I>() + in_off,
                       in_strides.data(), shape.data(), nd);
    expect_bitwise(d_out.read<O>(out_cpu.size()), out_cpu, what);
}

TEST(CudaCopy, EveryDtypePairContiguous) {
    CKERAS_REQUIRE_CUDA();
    for (DType od : kAllDtypes)
        for (DType id : kAllDtypes)
            for (int64_t n : kSizes) {
                const std::string what = std::string(dtype_name(id)) + "->" + dtype_name(od) + " n=" + std::to_string(n);
                CKERAS_TEST_DTYPE(od, O, CKERAS_TEST_DTYPE(id, I, {
                    check_copy<O, I>(copy_inputs<I>(n, od, 1), 0, {1}, n, 0, {1}, {n}, what);
                }));
            }
}

TEST(CudaCopy, StridedLayouts) {
    CKERAS_REQUIRE_CUDA();
    const std::vector<float> a = copy_inputs<float>(1025 * 1023, DType::Float64, 2);
    // Transposes: (33, 65) read from a (65, 33) buffer, and a large one.
    check_copy<float, float>(a, 0, {1, 33}, 33 * 65, 0, {65, 1}, {33, 65}, "transpose");
    check_copy<double, float>(a, 0, {1, 1023}, 1025 * 1023, 0, {1025, 1}, {1023, 1025}, "large transpose, cast");
    // Every other column, backwards: (17, 20) of a (17, 40) buffer, from its last column.
    check_copy<float, float>(a, 39, {40, -2}, 17 * 20, 0, {20, 1}, {17, 20}, "reversed step -2");
    // Broadcast rows (stride 0), cast to int64 (the values are finite here: offset past the specials).
    check_copy<int64_t, float>(a, 16, {0, 1}, 7 * 1025, 0, {1025, 1}, {7, 1025}, "broadcast");
    // Written through strides into a bigger buffer: the sentinels in between must survive.
    check_copy<float, float>(a, 0, {25, 1}, 20 * 50, 1, {50, 2}, {20, 25}, "scattered output");
    check_copy<uint8_t, float>(a, 3, {}, 4, 2, {}, {}, "rank 0");
    check_copy<float, float>(a, 0, {0, 5, 1}, 10, 0, {0, 5, 1}, {3, 0, 5}, "empty");
    // 8 dims that no merge can shorten: the input's axes reversed.
    Shape shape8(8, 2), rev8(8), c8(8);
    for (int d = 0; d < 8; ++d) { rev8[d] = int64_t(1) << d; c8[d] = int64_t(1) << (7 - d); }
    check_copy<double, float>(a, 0, rev8, 256, 0, c8, shape8, "8 reversed dims");
}

TEST(CudaCopy, NineUncollapsibleDimsAreNotImplemented) {
    CKERAS_REQUIRE_CUDA();
    Shape shape(9, 2), rev(9), c(9);
    for (int d = 0; d < 9; ++d) { rev[d] = int64_t(1) << d; c[d] = int64_t(1) << (8 - d); }
    std::vector<float> in(512, 1.f);
    DeviceBuffer d_in(in), d_out(in);
    const int kind = error_kind_of([&] {
        gpu().copy_strided(DType::Float32, d_out.get(), c.data(), DType::Float32, d_in.get(), rev.data(), shape.data(), 9);
    });
    EXPECT_EQ(kind, static_cast<int>(ErrorKind::NotImplemented));
}

TEST(CudaCopy, FillEveryDtype) {
    CKERAS_REQUIRE_CUDA();
    for (DType dt : kAllDtypes)
        for (double value : {0.0, -0.0, 1.0, 3.7, -2.5, 1e9, std::nan("")}) {
            if (std::isnan(value) && !is_floating(dt) && dt != DType::Bool) continue;  // undefined conversion
            if (value == 1e9 && dt == DType::Int32) continue;
            for (int64_t n : {int64_t(0), int64_t(1), int64_t(1025), int64_t((1 << 20) + 3)}) {
                CKERAS_TEST_DTYPE(dt, T, {
                    std::vector<T> want(static_cast<size_t>(n) + 1, T(5));
                    DeviceBuffer d(want);
                    cpu().fill(dt, want.data(), n, value);
                    gpu().fill(dt, d.get(), n, value);
                    expect_bitwise(d.read<T>(want.size()), want, std::string("fill ") + dtype_name(dt));
                });
            }
        }
}

TEST(CudaCopy, ArangeEveryDtype) {
    CKERAS_REQUIRE_CUDA();
    const double cases[][2] = {{0, 1}, {-5, 0.5}, {0.5, 0.1}, {1e6, -3.25}, {0, 1e-3}, {-0.0, -1.0 / 3}};
    for (DType dt : kAllDtypes)
        for (const auto& c : cases)
            for (int64_t n : kSizes) {
                CKERAS_TEST_DTYPE(dt, T, {
                    std::vector<T> want(static_cast<size_t>(n));
                    DeviceBuffer d(want);
                    cpu().arange(dt, want.data(), n, c[0], c[1]);
                    gpu().arange(dt, d.get(), n, c[0], c[1]);
                    expect_bitwise(d.read<T>(want.size()), want,
                                   std::string("arange ") + dtype_name(dt) + " start " + std::to_string(c[0]));
                });
            }
}

// ---- gather --------------------------------------------------------------------------------------

struct GatherCase {
    int64_t outer, axis, inner;
    std::vector<int64_t> idx;
};

std::vector<GatherCase> gather_cases() {
    std::vector<GatherCase> cs = {{1, 10, 1, {3, -1, 0, 9, -10, 3}}, {2, 1, 5, {0, -1, 0}}};
    auto rnd = [](int64_t n, int64_t axis, uint32_t seed) {
        std::vector<int64_t> v = random_values<int64_t>(n, double(-axis), double(axis), seed);
        return v;
    };
    cs.push_back({4, 7, 33, rnd(50, 7, 3)});
    cs.push_back({3, 1025, 1, rnd(1025, 1025, 4)});
    cs.push_back({2, 5, 100003, rnd(6, 5, 5)});
    cs.push_back({1, 127, 4096, rnd(300, 127, 6)});
    return cs;
}

TEST(CudaGather, EveryDtypeMatchesCpu) {
    CKERAS_REQUIRE_CUDA();
    for (const GatherCase& c : gather_cases())
        for (DType dt : kAllDtypes) {
            CKERAS_TEST_DTYPE(dt, T, {
                const int64_t k = static_cast<int64_t>(c.idx.size());
                std::vector<T> in = random_values<T>(c.outer * c.axis * c.inner, -100, 100, 7);
                std::vector<T> want(static_cast<size_t>(c.outer * k * c.inner), T(3));
                DeviceBuffer d_in(in), d_out(want), d_idx(c.idx);
                const int64_t rc = cpu().gather(dt, want.data(), in.data(), c.outer, c.axis, c.inner, c.idx.data(), k);
                const int64_t rg = gpu().gather(dt, d_out.get(), d_in.get(), c.outer, c.axis, c.inner,
                                                d_idx.as<int64_t>(), k);
                EXPECT_EQ(rc, -1);
                EXPECT_EQ(rg, -1);
                expect_bitwise(d_out.read<T>(want.size()), want, std::string("gather ") + dtype_name(dt));
            });
        }
}

TEST(CudaGather, ReportsTheFirstBadIndex) {
    CKERAS_REQUIRE_CUDA();
    const std::vector<std::vector<int64_t>> idx_sets = {
        {0, 5, 7, -8, 2}, {-8}, {6, 6, 100, -7, 1 << 30}, {0, 1, 2, 3, 4, 5, 6, -9}, {}};
    const std::array<int64_t, 3> shapes[] = {{2, 7, 3}, {0, 7, 3}, {2, 7, 0}};  // (outer, axis, inner)
    for (const auto& idx : idx_sets)
        for (const std::array<int64_t, 3>& shape : shapes) {
            const int64_t k = static_cast<int64_t>(idx.size());
            std::vector<float> in(static_cast<size_t>(shape[0] * 7 * shape[2]), 1.f);
            std::vector<float> out(static_cast<size_t>(shape[0] * k * shape[2]) + 1);
            DeviceBuffer d_in(in), d_out(out), d_idx(idx);
            const int64_t rc = cpu().gather(DType::Float32, out.data(), in.data(), shape[0], 7, shape[2], idx.data(), k);
            const int64_t rg = gpu().gather(DType::Float32, d_out.get(), d_in.get(), shape[0], 7, shape[2],
                                            d_idx.as<int64_t>(), k);
            EXPECT_EQ(rg, rc) << "k=" << k << " outer=" << shape[0] << " inner=" << shape[2];
        }
    // An index among a million valid ones.
    std::vector<int64_t> idx = random_values<int64_t>((1 << 20) + 3, -5, 5, 8);
    idx[777777] = 5;
    idx[900001] = -6;
    std::vector<float> in(5, 0.f), out(idx.size());
    DeviceBuffer d_in(in), d_out(out), d_idx(idx);
    EXPECT_EQ(gpu().gather(DType::Float32, d_out.get(), d_in.get(), 1, 5, 1, d_idx.as<int64_t>(), int64_t(idx.size())),
              777777);
}

// dinp += scatter(dout): exact when every destination gets one add; with repeats the GPU's add order is
// unspecified, so there |cuda - cpu| <= 2 m u (|dinp0| + sum |g|) with m adds to that element (both
// orders are within m u (...) of the exact sum; u the unit roundoff).
template <class T>
void check_gather_backward(int64_t outer, int64_t axis, int64_t inner, const std::vector<int64_t>& idx,
                           const std::string& what) {
    const int64_t k = static_cast<int64_t>(idx.size());
    std::vector<T> dinp = random_values<T>(outer * axis * inner, -1, 1, 9);
    std::vector<T> dout = random_values<T>(outer * k * inner, -1, 1, 10);
    DeviceBuffer d_dinp(dinp), d_dout(dout), d_idx(idx);
    std::vector<double> mag(dinp.size());
    std::vector<int> adds(dinp.size(), 0);
    for (size_t i = 0; i < dinp.size(); ++i) mag[i] = std::fabs(double(dinp[i]));
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < k; ++j)
            for (int64_t c = 0; c < inner; ++c) {
                const int64_t kk = idx[j] < 0 ? idx[j] + axis : idx[j];
                const size_t at = static_cast<size_t>((o * axis + kk) * inner + c);
                mag[at] += std::fabs(double(dout[(o * k + j) * inner + c]));
                ++adds[at];
            }
    cpu().gather_backward(dtype_of<T>(), dinp.data(), dout.data(), outer, axis, inner, idx.data(), k);
    gpu().gather_backward(dtype_of<T>(), d_dinp.get(), d_dout.get(), outer, axis, inner, d_idx.as<int64_t>(), k);
    const double u = std::numeric_limits<T>::epsilon() / 2;
    expect_close_ulps(d_dinp.read<T>(dinp.size()), dinp, 0.0,
                      [&](size_t i) { return adds[i] > 1 ? 2 * adds[i] * u * mag[i] : 0.0; }, what);
}

TEST(CudaGather, BackwardMatchesCpu) {
    CKERAS_REQUIRE_CUDA();
    std::vector<int64_t> perm(1025);
    std::iota(perm.begin(), perm.end(), 0);
    std::reverse(perm.begin(), perm.end());
    std::vector<int64_t> neg = {-1, 2, -7, 0};
    check_gather_backward<float>(3, 1025, 1, perm, "unique, float32");
    check_gather_backward<double>(4, 7, 33, neg, "unique negative, float64");
    check_gather_backward<float>(2, 5, 1000, random_values<int64_t>(40, -5, 5, 11), "repeats, float32");
    check_gather_backward<double>(1, 3, 7, random_values<int64_t>((1 << 20) + 3, -3, 3, 12), "many repeats, float64");
    check_gather_backward<float>(0, 5, 3, {1, 2}, "empty");
    for (DType dt : {DType::Int32, DType::Int64, DType::Bool}) {
        std::vector<int64_t> idx = {0};
        std::vector<int64_t> buf(4, 0);
        DeviceBuffer d(buf), d_idx(idx);
        const int kc = error_kind_of([&] { cpu().gather_backward(dt, buf.data(), buf.data(), 1, 1, 1, idx.data(), 1); });
        const int kg = error_kind_of([&] { gpu().gather_backward(dt, d.get(), d.get(), 1, 1, 1, d_idx.as<int64_t>(), 1); });
        EXPECT_EQ(kc, static_cast<int>(ErrorKind::Type));
        EXPECT_EQ(kg, kc) << dtype_name(dt);
    }
}

}  // namespace
}  // namespace ckeras::cuda_test
