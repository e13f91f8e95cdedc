// Tests for the kernels TrainPlan added: bias_activation against the add and relu ops it replaces (bitwise),
// dropout_backward against its definition, and the dropout op's backward (now that kernel) against finite
// differences.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "ckeras/kernels.h"
#include "ckeras/ops.h"
#include "test_util.h"

using namespace ckeras;
using namespace ckeras::test;

namespace {

uint32_t bits_of(float x) {
    uint32_t u;
    std::memcpy(&u, &x, 4);
    return u;
}

const KernelTable& cpu() { return kernel_table(DeviceType::CPU); }

// The eager Dense epilogue: add(x, bias) then relu, as ops.
Tensor epilogue_ops(const Tensor& x, const Tensor& bias, bool relu) {
    Tensor z = bias.defined() ? add(x, bias) : x;
    return relu ? unary(UnaryOp::Relu, z) : z;
}

}  // namespace

TEST(BiasActivation, MatchesAddAndReluOpsBitwise) {
    for (DType dt : {DType::Float32, DType::Float64}) {
        for (auto [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {7, 10}, {32, 128}, {3, 1000}}) {
            Tensor x = random_tensor({rows, cols}, 11, -2, 2, dt);
            Tensor b = random_tensor({cols}, 12, -1, 1, dt);
            for (bool relu : {false, true}) {
                for (bool with_bias : {false, true}) {
                    Tensor want = epilogue_ops(x, with_bias ? b : Tensor(), relu);
                    Tensor got = copy(x);
                    cpu().bias_activation(dt, got.data_ptr(), with_bias ? b.data_ptr() : nullptr, rows, cols, relu);
                    EXPECT_EQ(got.to_vector(), want.to_vector())
                        << dtype_name(dt) << " " << rows << "x" << cols << " relu=" << relu << " bias=" << with_bias;
                }
            }
        }
    }
}

TEST(BiasActivation, SpecialValues) {
    // relu(-0) stays -0 as in the relu kernel (x < 0 is false); NaN passes through.
    const float nan = std::nanf("");
    Tensor x = make({-0.0, 1.0, -3.0, nan}, {1, 4}, DType::Float32);
    Tensor b = make({0.0, -2.0, 3.0, 1.0}, {4}, DType::Float32);
    Tensor want = epilogue_ops(x, b, true);
    Tensor got = copy(x);
    cpu().bias_activation(DType::Float32, got.data_ptr(), b.data_ptr(), 1, 4, true);
    std::vector<double> g = got.to_vector(), w = want.to_vector();
    for (size_t i = 0; i < g.size(); ++i) {
        if (std::isnan(w[i])) EXPECT_TRUE(std::isnan(g[i])) << i;
        else EXPECT_EQ(std::signbit(g[i]), std::signbit(w[i])) << i;
    }
    EXPECT_EQ(g[1], 0.0);
    EXPECT_EQ(g[2], 0.0);
}

TEST(DropoutBackward, KeepsAndScalesLikeTheForward) {
    for (double rate : {0.0, 0.2, 0.5, 1.0}) {
        const int64_t n = 1001;
        Tensor g = random_tensor({n}, 3, -1, 1, DType::Float32);
        Tensor keep = Tensor::empty({n}, DType::Bool);
        for (int64_t i = 0; i < n; ++i) keep.data<bool>()[i] = (i * 7919) % 5 != 0;
        // Specials, kept and dropped (i = 0 and 5 are dropped): a dropped inf or NaN gives +0, not NaN.
        const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
        for (int64_t i : {0, 1}) g.data<float>()[i] = inf;
        for (int64_t i : {5, 6}) g.data<float>()[i] = nan;
        for (int64_t i : {10, 11}) g.data<float>()[i] = -0.f;
        ASSERT_FALSE(keep.data<bool>()[0] || keep.data<bool>()[5] || keep.data<bool>()[10]);
        ASSERT_TRUE(keep.data<bool>()[1] && keep.data<bool>()[6] && keep.data<bool>()[11]);
        Tensor dx = Tensor::empty({n}, DType::Float32);
        cpu().dropout_backward(DType::Float32, dx.data_ptr(), g.data_ptr(), keep.data<bool>(), n, rate);
        const float kp = static_cast<float>(1.0 - rate);
        for (int64_t i = 0; i < n; ++i) {
            const float want = keep.data<bool>()[i] ? g.data<float>()[i] / kp : 0.f;
            if (std::isnan(want)) EXPECT_TRUE(std::isnan(dx.data<float>()[i])) << "rate " << rate << " at " << i;
            else EXPECT_EQ(bits_of(dx.data<float>()[i]), bits_of(want)) << "rate " << rate << " at " << i;
        }
        // In place (dinp aliasing dout) gives the same.
        Tensor inplace = copy(g);
        cpu().dropout_backward(DType::Float32, inplace.data_ptr(), inplace.data_ptr(), keep.data<bool>(), n, rate);
        for (int64_t i = 0; i < n; ++i)
            if (!std::isnan(dx.data<float>()[i])) EXPECT_EQ(inplace.data<float>()[i], dx.data<float>()[i]);
    }
}

TEST(DropoutBackward, OpGradientMatchesFiniteDifferences) {
    Tensor x = random_tensor({6, 5}, 21, -1, 1);
    check_gradients([](const std::vector<Tensor>& in) { return dropout(in[0], 0.3, 77, 5); }, {x},
                    "dropout backward");
}
