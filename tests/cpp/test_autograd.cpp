// Autograd: every differentiable elementwise, reduction and softmax op of ops.h against central finite
// differences in float64, and the engine's rules (accumulation across backward() calls, no recording
// without inputs that require grad, grad() for non-leaf inputs, freed graphs). Shape ops and matmul are
// in test_autograd_shape.cpp.
#include <gtest/gtest.h>

#include "test_util.h"

namespace ckeras {
namespace {

using test::check_gradients;
using test::random_tensor;

TEST(Autograd, UnaryOpsMatchFiniteDifferences) {
    for (int i = 0; i < static_cast<int>(UnaryOp::kCount); ++i) {
        auto op = static_cast<UnaryOp>(i);
        double lo = -3, hi = 3, a = 0, b = 0;
        switch (op) {
            case UnaryOp::Sqrt: case UnaryOp::Rsqrt: case UnaryOp::Log: case UnaryOp::Reciprocal: lo = 0.2; break;
            case UnaryOp::Log1p: lo = -0.8; break;
            case UnaryOp::LeakyRelu: a = 0.3; break;
            case UnaryOp::Elu: a = 1.5; break;
            case UnaryOp::Clip: a = -1; b = 0.5; break;
            case UnaryOp::PowScalar: lo = 0.2; a = 3.5; break;
            default: break;
        }
        Tensor x = random_tensor({2, 7}, 100 + i, lo, hi);
        check_gradients([=](const std::vector<Tensor>& v) { return unary(op, v[0], a, b); }, {x}, unary_op_name(op));
    }
}

TEST(Autograd, BinaryOpsWithBroadcastingMatchFiniteDifferences) {
    const std::pair<Shape, Shape> pairs[] = {{{3, 1}, {1, 4}}, {{5}, {2, 5}}, {{}, {3}}, {{2, 3}, {}}, {{4}, {4}},
                                             {{2, 1, 3}, {4, 1}}};
    for (int i = 0; i <= static_cast<int>(BinaryOp::Minimum); ++i) {
        auto op = static_cast<BinaryOp>(i);
        for (auto& [sa, sb] : pairs) {
            Tensor a = random_tensor(sa, 1, op == BinaryOp::Pow ? 0.5 : -2, 2);
            Tensor b = random_tensor(sb, 2, op == BinaryOp::Div ? 0.5 : -2, 2);
            check_gradients([=](const std::vector<Tensor>& v) { return binary(op, v[0], v[1]); }, {a, b},
                            std::string(binary_op_name(op)) + " " + shape_str(sa) + " " + shape_str(sb));
        }
    }
}

TEST(Autograd, MixedDtypeOperandsGetGradientsInTheirOwnDtype) {
    Tensor a = random_tensor({3}, 3, -1, 1, DType::Float32), b = random_tensor({3}, 4);
    a.set_requires_grad(true);
    b.set_requires_grad(true);
    GradModeGuard on(true);
    Tensor y = mul(a, b);  // computed in float64
    EXPECT_EQ(y.dtype(), DType::Float64);
    std::vector<Tensor> g = grad({sum(y)}, {a, b});
    EXPECT_EQ(g[0].dtype(), DType::Float32);
    test::expect_close(g[0].to_vector(), b.to_vector(), 1e-7, 0);
    test::expect_close(g[1].to_vector(), cast(a, DType::Float64).to_vector(), 0, 0);
    Tensor i = Tensor::full({3}, 2, DType::Int32);
    std::vector<Tensor> gi = grad({sum(mul(b, i))}, {b});
    test::expect_close(gi[0].to_vector(), {2, 2, 2}, 0, 0);
}

TEST(Autograd, WhereMatchesFiniteDifferences) {
    Tensor cond = test::make({1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1}, {3, 4}, DType::Bool);
    check_gradients([=](const std::vector<Tensor>& v) { return where(cond, v[0], v[1]); },
                    {random_tensor({3, 1}, 5), random_tensor({4}, 6)}, "where");
}

TEST(Autograd, ReductionsMatchFiniteDifferences) {
    using Fn = Tensor (*)(const Tensor&, std::optional<Axes>, bool);
    const std::pair<const char*, Fn> fns[] = {{"sum", sum}, {"mean", mean}, {"max", max}, {"min", min},
                                             {"prod", prod}, {"var", var}, {"std", stddev}, {"logsumexp", logsumexp}};
    const std::optional<Axes> axes[] = {std::nullopt, Axes{0}, Axes{-1}, Axes{0, 2}, Axes{1, 2}, Axes{}};
    Tensor x = random_tensor({3, 4, 5}, 7, 0.5, 1.5);
    for (auto& [name, fn] : fns)
        for (const auto& ax : axes)
            for (bool keep : {false, true}) {
                if (std::string(name) == "std" && ax && ax->empty()) continue;  // std of one value: sqrt'(0)
                check_gradients([fn = fn, ax, keep](const std::vector<Tensor>& v) { return fn(v[0], ax, keep); }, {x},
                                std::string(name) + (keep ? " keepdims" : ""));
            }
}

TEST(Autograd, ProdGradientAtZeros) {
    // One zero in a row: only that entry gets the product of the others. Two zeros: no gradient.
    Tensor x = test::make({2, 0, 3, 0, 4, 0, 1.5, -2, 0.5}, {3, 3});
    check_gradients([](const std::vector<Tensor>& v) { return prod(v[0], Axes{1}); }, {x}, "prod with zeros");
    GradModeGuard on(true);
    Tensor leaf = copy(x);
    leaf.set_requires_grad(true);
    std::vector<Tensor> g = grad({sum(prod(leaf, Axes{1}))}, {leaf});
    test::expect_close(g[0].to_vector(), {0, 6, 0, 0, 0, 0, -1, 0.75, -3}, 1e-15, 0);
}

TEST(Autograd, MaxSplitsTheGradientAmongTies) {
    GradModeGuard on(true);
    Tensor x = test::make({1, 3, 3, 2, 0, 1}, {2, 3});
    x.set_requires_grad(true);
    std::vector<Tensor> g = grad({sum(max(x, Axes{1}))}, {x});
    test::expect_close(g[0].to_vector(), {0, 0.5, 0.5, 1, 0, 0}, 0, 0);
}

TEST(Autograd, SoftmaxAndLogSoftmaxMatchFiniteDifferences) {
    Tensor x = random_tensor({2, 3, 4}, 8);
    for (int64_t axis : {-1, 0, 1}) {
        check_gradients([axis](const std::vector<Tensor>& v) { return softmax(v[0], axis); }, {x}, "softmax");
        check_gradients([axis](const std::vector<Tensor>& v) { return log_softmax(v[0], axis); }, {x}, "log_softmax");
    }
}

TEST(Autograd, GradientsAccumulateAcrossBackwardCalls) {
    GradModeGuard on(true);
    Tensor x = test::make({1, 2, 3}, {3});
    x.set_requires_grad(true);
    Tensor y = sum(mul(x, x));
    y.backward(Tensor(), /*retain_graph=*/true);
    test::expect_close(x.grad().to_vector(), {2, 4, 6}, 0, 0);
    y.backward();
    test::expect_close(x.grad().to_vector(), {4, 8, 12}, 0, 0);
    sum(x).backward();  // a new graph adds to the same .grad
    test::expect_close(x.grad().to_vector(), {5, 9, 13}, 0, 0);
    // A freed graph cannot be run again.
    test::expect_error([&] { y.backward(); }, ErrorKind::Runtime, {"second time"});
}

TEST(Autograd, ReusedInputsSumTheirGradients) {
    GradModeGuard on(true);
    Tensor x = test::make({0.5, -1}, {2});
    x.set_requires_grad(true);
    Tensor y = add(mul(x, x), unary(UnaryOp::Exp, x));  // x used three times
    std::vector<Tensor> g = grad({sum(mul(y, x))}, {x});
    std::vector<double> want;
    for (double v : {0.5, -1.0}) want.push_back(3 * v * v + std::exp(v) * (1 + v));
    test::expect_close(g[0].to_vector(), want, 1e-14, 0);
}

TEST(Autograd, NoRecordingWithoutInputsThatRequireGrad) {
    GradModeGuard on(true);
    Tensor a = random_tensor({2, 3}, 9), b = random_tensor({3}, 10);
    for (const Tensor& t : {add(a, b), sum(a), matmul(a, b), softmax(a), reshape(a, {6}), transpose(a),
                            concatenate({a, a}, 0), unary(UnaryOp::Exp, a), where(binary(BinaryOp::Gt, a, b), a, b)}) {
        EXPECT_FALSE(t.requires_grad());
        EXPECT_EQ(t.grad_fn(), nullptr);
    }
    a.set_requires_grad(true);
    {
        GradModeGuard off(false);
        Tensor t = mul(a, b);
        EXPECT_FALSE(t.requires_grad());
        EXPECT_EQ(t.grad_fn(), nullptr);
    }
    EXPECT_NE(mul(a, b).grad_fn(), nullptr);
    EXPECT_EQ(binary(BinaryOp::Lt, a, b).grad_fn(), nullptr);  // predicates are not differentiable
    EXPECT_EQ(argmax(a, 1).grad_fn(), nullptr);
}

TEST(Autograd, GradForNonLeafInputs) {
    GradModeGuard on(true);
    Tensor x = test::make({1, 2}, {2});
    x.set_requires_grad(true);
    Tensor h = mul(x, test::make({3}, {}));
    Tensor y = sum(mul(h, h));
    std::vector<Tensor> g = grad({y}, {h, x, y}, {}, /*retain_graph=*/true);
    test::expect_close(g[0].to_vector(), {6, 12}, 0, 0);
    test::expect_close(g[1].to_vector(), {18, 36}, 0, 0);
    test::expect_close(g[2].to_vector(), {1}, 0, 0);
    EXPECT_FALSE(x.grad().defined());  // grad() does not touch .grad
    // An input the outputs do not depend on has no gradient.
    Tensor other = test::make({1}, {1});
    other.set_requires_grad(true);
    EXPECT_FALSE(grad({y}, {other})[0].defined());
    // Seeds must have the output's shape.
    test::expect_error([&] { grad({h}, {x}, {test::make({1, 1, 1}, {3})}); }, ErrorKind::Value, {"(3,)", "(2,)"});
}

}  // namespace
}  // namespace ckeras
