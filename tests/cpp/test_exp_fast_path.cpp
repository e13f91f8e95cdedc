// The short exp of vec_math.h (vexp_normal: 2^k added to the exponent field) and the block split of
// the unary kernels (unary_vec_impl.h: map1_split runs it where every input of a block is in range,
// the full vexp elsewhere). Both paths must give the same bits wherever both apply, so a value's
// result never depends on its neighbours; and specials anywhere in an array must come out as the
// full formula gives them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "ckeras/kernels.h"
#include "cpu/gemm_cpu.h"
#include "cpu/unary_vec.h"
#include "cpu/vec_math.h"

namespace ckeras::cpu {
namespace {

using Lim = std::numeric_limits<float>;

uint32_t bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
float from_bits(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
bool same(float a, float b) { return (std::isnan(a) && std::isnan(b)) || bits(a) == bits(b); }

// Every float in [-limit, limit] with a stride, plus the limits and their neighbours.
std::vector<float> in_range() {
    std::vector<float> v;
    for (uint32_t u = 0; u < 0x42ac0001u; u += 97) {  // 0x42ac0000 = 86.0f
        v.push_back(from_bits(u));
        v.push_back(-from_bits(u));
    }
    for (float x : {kExpNormalLimit, -kExpNormalLimit, std::nextafter(kExpNormalLimit, 0.f)}) v.push_back(x);
    return v;
}

TEST(ExpFastPath, NormalExpGivesVexpBits) {
    for (float x : in_range()) {
        ASSERT_EQ(exp_normal_ok(x), 1) << x;
        ASSERT_TRUE(same(vexp_normal(x), vexp(x))) << std::hexfloat << x;
        ASSERT_TRUE(same(vsigmoid_normal(x), vsigmoid(x))) << std::hexfloat << x;
    }
}

TEST(ExpFastPath, OutOfRangeIsRefused) {
    for (float x : {std::nextafter(kExpNormalLimit, Lim::infinity()), 87.4f, -87.4f, 88.8f, -104.f, 1e30f,
                    Lim::infinity(), -Lim::infinity(), Lim::quiet_NaN(), -Lim::quiet_NaN()})
        EXPECT_EQ(exp_normal_ok(x), 0) << x;
}

using Kernel = bool (*)(UnaryOp, float*, const float*, int64_t, float, float);

std::vector<std::pair<const char*, Kernel>> kernels() {
    std::vector<std::pair<const char*, Kernel>> k = {{"generic", generic::unary_f32}};
    if (cpu_has_avx2_fma()) k.push_back({"avx2", avx2::unary_f32});
    if (cpu_has_avx512()) k.push_back({"avx512", avx512::unary_f32});
    return k;
}

// A whole array (blocks mixing in-range values with specials) against each element computed alone
// (its own block: the fast path where it is in range), and against double references.
TEST(ExpFastPath, MixedBlocksMatchElementwise) {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> uni(-95.f, 95.f);
    std::vector<float> x(12000);  // specials in the first 5000 only: later blocks take the fast path
    for (auto& v : x) v = uni(rng) * (rng() % 4 == 0 ? 1.f : 0.1f);
    const float specials[] = {Lim::quiet_NaN(), Lim::infinity(), -Lim::infinity(), -100.f, 89.f, -87.5f, 0.f, -0.f};
    for (size_t i = 0; i < std::size(specials); ++i) x[300 + 611 * i] = specials[i];
    for (auto [name, kernel] : kernels()) {
        for (UnaryOp op : {UnaryOp::Exp, UnaryOp::Sigmoid}) {
            std::vector<float> all(x.size()), one(1);
            ASSERT_TRUE(kernel(op, all.data(), x.data(), int64_t(x.size()), 0.f, 0.f));
            for (size_t i = 0; i < x.size(); ++i) {
                kernel(op, one.data(), &x[i], 1, 0.f, 0.f);
                ASSERT_TRUE(same(all[i], one[0])) << name << " " << unary_op_name(op) << " at x = " << x[i];
                const double xd = x[i];
                const double ref = op == UnaryOp::Exp ? std::exp(xd) : 1 / (1 + std::exp(-xd));
                if (std::isnan(xd)) {
                    EXPECT_TRUE(std::isnan(all[i]));
                } else if (!std::isfinite(float(ref))) {
                    EXPECT_EQ(all[i], float(ref)) << name << " " << unary_op_name(op) << " at x = " << x[i];
                } else {  // within 4 ulp, or 2 denormal steps where the result underflows
                    const double tol = std::max(4 * 0x1p-24 * ref, 2 * double(Lim::denorm_min()));
                    EXPECT_NEAR(all[i], ref, tol) << name << " " << unary_op_name(op) << " at x = " << x[i];
                }
            }
            // In place (out aliases x): the range check reads x before the block is overwritten.
            std::vector<float> inplace = x;
            kernel(op, inplace.data(), inplace.data(), int64_t(inplace.size()), 0.f, 0.f);
            for (size_t i = 0; i < x.size(); ++i) ASSERT_TRUE(same(inplace[i], all[i])) << name << " at " << i;
        }
    }
}

}  // namespace
}  // namespace ckeras::cpu
