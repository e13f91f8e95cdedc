// The CUDA reduce kernel against its CPU twin (cpu/reduce_cpu.cpp): every ReduceOp on float32, float64,
// int32 and int64 over (outer, r, inner) shapes that take each path (a block per row; rows split into
// chunks when there are few; 32-column tiles; tiles split along r), empty axes, NaN/inf rows, ties, and
// bool input (TypeError on both).
//
// Tolerances. max/min, argmax/argmin and integer sum/prod (wrapping) are exact. Float sums: both devices
// add in double (the CPU in float runs of at most 16 first, for float32) but in different orders; any
// order of m additions is within (m - 1) u sum|x| of the exact sum (u: the unit roundoff), so
// |cuda - cpu| <= 16 u_f sum|x| (float32's float runs) + 2 r u_d sum|x| + 1 ulp (the final rounding to T).
// Float products (in double on both): each of the r multiplications errs by at most u_d relative, so
// |cuda - cpu| <= 2 r u_d |p| + 1 ulp.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cuda_parity.h"

namespace ckeras::cuda_test {
namespace {

struct Shape3 {
    int64_t outer, r, inner;
};

// Shapes for every path: rows with one block per row, few long rows (split), many short ones, column
// tiles (inner > 1) with and without the split along r, empty dims.
const Shape3 kShapes[] = {{1, 1, 1},     {3, 7, 1},       {5, 33, 1},       {1, 1025, 1},  {1, (1 << 20) + 3, 1},
                          {3, 50001, 1}, {4099, 17, 1},   {2, 127, 3},      {7, 1025, 33}, {64, 37, 129},
                          {1, 100003, 2}, {2, 5000, 40},  {3, 300, 1000},   {4, 0, 3},     {4, 0, 1},
                          {0, 5, 3},     {2, 3, 0}};

bool is_arg(ReduceOp op) { return op == ReduceOp::ArgMax || op == ReduceOp::ArgMin; }

// Values per op: products near 1 (no overflow over a million factors), others uniform in [-10, 10);
// with `specials`, NaN, +-inf, ties and signed zeros go into the first rows.
template <class T>
std::vector<T> reduce_inputs(ReduceOp op, const Shape3& s, uint32_t seed, bool specials) {
    const int64_t n = s.outer * s.r * s.inner;
    std::vector<T> v = op == ReduceOp::Prod && std::is_floating_point_v<T> ? random_values<T>(n, 0.99, 1.01, seed)
                       : op == ReduceOp::Prod ? random_values<T>(n, -3, 4, seed)
                       : std::is_integral_v<T> ? random_values<T>(n, -100000, 100000, seed)
                                               : random_values<T>(n, -10, 10, seed);
    if (std::is_integral_v<T> && op == ReduceOp::Sum && !v.empty()) v[0] = std::numeric_limits<T>::max();  // wraps
    if (!specials || n < 4) return v;
    if constexpr (std::is_floating_point_v<T>) {
        const double sp[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, 10, 10, -10, -10, NAN};
        for (size_t i = 0; i < std::size(sp) && i < size_t(n); ++i) v[i * 7 % n] = static_cast<T>(sp[i]);
    }
    // Ties: the row's extreme value repeated far apart (the argmax must be the first).
    v[n / 3] = v[n / 2] = v[n - 1] = static_cast<T>(1e4);
    v[n / 4] = v[n - 2] = static_cast<T>(-1e4);
    return v;
}

template <class T>
void check_reduce(ReduceOp op, const Shape3& s, bool specials) {
    const std::string what = std::string("op ") + std::to_string(int(op)) + " " + dtype_name(dtype_of<T>()) + " (" +
                             std::to_string(s.outer) + ", " + std::to_string(s.r) + ", " + std::to_string(s.inner) +
                             ")" + (specials ? " specials" : "");
    const std::vector<T> x = reduce_inputs<T>(op, s, 60, specials);
    const size_t m = static_cast<size_t>(s.outer * s.inner);
    DeviceBuffer d_x(x);
    if (is_arg(op)) {
        std::vector<int64_t> want(m, -7);
        DeviceBuffer d_out(want);
        cpu().reduce(op, dtype_of<T>(), want.data(), x.data(), s.outer, s.r, s.inner);
        gpu().reduce(op, dtype_of<T>(), d_out.get(), d_x.get(), s.outer, s.r, s.inner);
        expect_bitwise(d_out.read<int64_t>(m), want, what);
        return;
    }
    std::vector<T> want(m, T(-7));
    DeviceBuffer d_out(want);
    cpu().reduce(op, dtype_of<T>(), want.data(), x.data(), s.outer, s.r, s.inner);
    gpu().reduce(op, dtype_of<T>(), d_out.get(), d_x.get(), s.outer, s.r, s.inner);
    const std::vector<T> got = d_out.read<T>(m);
    if (std::is_integral_v<T> || op == ReduceOp::Max || op == ReduceOp::Min || s.r == 0) {
        expect_bitwise(got, want, what, /*zero_sign=*/false);  // the sign of a max over {+0, -0} is unspecified
        return;
    }
    // Per output (o, j): sum |x| (sums) or |product| (products) for the bound above.
    std::vector<double> mag(m, op == ReduceOp::Sum ? 0.0 : 1.0);
    for (int64_t o = 0; o < s.outer; ++o)
        for (int64_t k = 0; k < s.r; ++k)
            for (int64_t j = 0; j < s.inner; ++j) {
                const double v = std::fabs(double(x[(o * s.r + k) * s.inner + j]));
                mag[o * s.inner + j] = op == ReduceOp::Sum ? mag[o * s.inner + j] + v : mag[o * s.inner + j] * v;
            }
    const double u_f = std::numeric_limits<float>::epsilon() / 2, u_d = std::numeric_limits<double>::epsilon() / 2;
    const double lanes = std::is_same_v<T, float> && op == ReduceOp::Sum ? 16 * u_f : 0.0;
    expect_close_ulps(got, want, 1.0, [&](size_t i) { return (lanes + 2 * double(s.r) * u_d) * mag[i]; }, what);
}

TEST(CudaReduce, EveryOpAndDtypeMatchesCpu) {
    CKERAS_REQUIRE_CUDA();
    for (const Shape3& s : kShapes)
        for (int o = 0; o < static_cast<int>(ReduceOp::kCount); ++o)
            for (bool specials : {false, true}) {
                const ReduceOp op = static_cast<ReduceOp>(o);
                check_reduce<float>(op, s, specials);
                check_reduce<double>(op, s, specials);
                check_reduce<int32_t>(op, s, specials);
                check_reduce<int64_t>(op, s, specials);
            }
}

// Rows of one repeated value, rows of -inf, rows that are NaN only after the first chunk, and
// all-equal integer rows: the first index must win in every block and chunk arrangement.
TEST(CudaReduce, ArgTiesAndNaNPositions) {
    CKERAS_REQUIRE_CUDA();
    for (const Shape3& s : {Shape3{3, 50001, 1}, Shape3{2, 5000, 40}, Shape3{5, 33, 1}, Shape3{1, 100003, 2}}) {
        const int64_t n = s.outer * s.r * s.inner;
        std::vector<std::vector<float>> cases = {std::vector<float>(n, 2.5f), std::vector<float>(n, -INFINITY)};
        std::vector<float> late_nan = random_values<float>(n, -1, 1, 61);
        for (int64_t o = 0; o < s.outer; ++o) {
            late_nan[(o * s.r + s.r - 1) * s.inner] = NAN;
            late_nan[(o * s.r + s.r / 2) * s.inner] = NAN;
        }
        cases.push_back(late_nan);
        for (const std::vector<float>& x : cases)
            for (ReduceOp op : {ReduceOp::ArgMax, ReduceOp::ArgMin, ReduceOp::Max, ReduceOp::Min}) {
                const size_t m = static_cast<size_t>(s.outer * s.inner);
                std::vector<int64_t> want(m, -7);
                std::vector<float> wantf(m, -7.f);
                DeviceBuffer d_x(x), d_out(want);
                void* host_out = is_arg(op) ? static_cast<void*>(want.data()) : static_cast<void*>(wantf.data());
                cpu().reduce(op, DType::Float32, host_out, x.data(), s.outer, s.r, s.inner);
                gpu().reduce(op, DType::Float32, d_out.get(), d_x.get(), s.outer, s.r, s.inner);
                const std::string what = "op " + std::to_string(int(op)) + " r=" + std::to_string(s.r);
                if (is_arg(op)) expect_bitwise(d_out.read<int64_t>(m), want, what);
                else expect_bitwise(d_out.read<float>(m), wantf, what);
            }
        std::vector<int32_t> same(n, 4);
        std::vector<int64_t> want(static_cast<size_t>(s.outer * s.inner), -7);
        DeviceBuffer d_x(same), d_out(want);
        cpu().reduce(ReduceOp::ArgMax, DType::Int32, want.data(), same.data(), s.outer, s.r, s.inner);
        gpu().reduce(ReduceOp::ArgMax, DType::Int32, d_out.get(), d_x.get(), s.outer, s.r, s.inner);
        expect_bitwise(d_out.read<int64_t>(want.size()), want, "int32 all equal");
    }
}

TEST(CudaReduce, BoolInputRaisesOnBoth) {
    CKERAS_REQUIRE_CUDA();
    std::vector<uint8_t> x(6, 1);
    std::vector<int64_t> out(2);
    DeviceBuffer d_x(x), d_out(out);
    EXPECT_EQ(error_kind_of([&] { cpu().reduce(ReduceOp::Sum, DType::Bool, out.data(), x.data(), 2, 3, 1); }),
              static_cast<int>(ErrorKind::Type));
    EXPECT_EQ(error_kind_of([&] { gpu().reduce(ReduceOp::Sum, DType::Bool, d_out.get(), d_x.get(), 2, 3, 1); }),
              static_cast<int>(ErrorKind::Type));
}

}  // namespace
}  // namespace ckeras::cuda_test
