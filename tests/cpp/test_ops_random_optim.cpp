// Tests for the op layer over the random, dropout and optimizer kernels (ops/random.cpp, ops/optimizer.cpp):
// the op-to-Philox mapping, argument errors, dropout's backward against finite differences, and
// optimizer_apply's clipping scales, slot layout and validation against values computed by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "ckeras/autograd.h"
#include "ckeras/ops.h"
#include "ckeras/optim.h"
#include "cpu/philox.h"

using namespace ckeras;

namespace {

Tensor f32(const std::vector<float>& v, const Shape& shape) {
    Tensor t = Tensor::empty(shape, DType::Float32);
    for (size_t i = 0; i < v.size(); ++i) t.data<float>()[i] = v[i];
    return t;
}

Tensor f64(const std::vector<double>& v, const Shape& shape) {
    Tensor t = Tensor::empty(shape, DType::Float64);
    for (size_t i = 0; i < v.size(); ++i) t.data<double>()[i] = v[i];
    return t;
}

std::vector<float> values(const Tensor& t) {
    Tensor c = contiguous(t);
    return std::vector<float>(c.data<float>(), c.data<float>() + c.numel());
}

void expect_kind(ErrorKind kind, const std::function<void()>& fn) {
    try {
        fn();
        ADD_FAILURE() << "no error thrown";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), kind) << e.what();
    }
}

// ---- random ops ------------------------------------------------------------------------------------

TEST(RandomOps, FollowThePhiloxMapping) {
    Tensor u = random_uniform({3, 5}, -2.0, 3.0, DType::Float32, 1234, 77);
    ASSERT_EQ(u.shape(), (Shape{3, 5}));
    for (int64_t i = 0; i < 15; ++i)
        EXPECT_EQ(u.data<float>()[i], philox_uniform<float>(1234, 77 + i, -2.f, 3.f)) << i;
    Tensor n = random_normal({4}, 1.0, 2.0, DType::Float64, 9, 0);
    for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(n.data<double>()[i], philox_normal<double>(9, i, 1.0, 2.0));
    Tensor t = truncated_normal({2, 2}, 0.0, 1.0, DType::Float32, 5, 3);
    for (int64_t i = 0; i < 4; ++i)
        EXPECT_EQ(t.data<float>()[i], philox_truncated_normal<float>(5, 3 + i, 0.f, 1.f));
}

TEST(RandomOps, OffsetContinuesAStream) {
    std::vector<float> whole = values(random_normal({10}, 0.0, 1.0, DType::Float32, 42, 0));
    std::vector<float> tail = values(random_normal({4}, 0.0, 1.0, DType::Float32, 42, 6));
    for (int i = 0; i < 4; ++i) EXPECT_EQ(whole[6 + i], tail[i]);
}

TEST(RandomOps, EmptyAndScalarShapes) {
    EXPECT_EQ(random_uniform({0, 3}, 0, 1, DType::Float32, 1, 0).numel(), 0);
    Tensor s = random_uniform({}, 0, 1, DType::Float32, 1, 0);
    EXPECT_EQ(s.dim(), 0);
    EXPECT_EQ(s.data<float>()[0], philox_uniform<float>(1, 0, 0.f, 1.f));
}

TEST(RandomOps, RejectBadArguments) {
    expect_kind(ErrorKind::Value, [] { random_uniform({2}, 0, 1, DType::Int32, 1, 0); });
    expect_kind(ErrorKind::Value, [] { random_normal({-1, 2}, 0, 1, DType::Float32, 1, 0); });
    expect_kind(ErrorKind::Value, [] { random_normal({2}, 0, -1, DType::Float32, 1, 0); });
    expect_kind(ErrorKind::Value, [] { truncated_normal({2}, NAN, 1, DType::Float32, 1, 0); });
    expect_kind(ErrorKind::Value, [] { random_uniform({2}, 0, INFINITY, DType::Float32, 1, 0); });
    expect_kind(ErrorKind::Value, [] { random_uniform({int64_t(1) << 40, int64_t(1) << 40}, 0, 1,
                                                      DType::Float32, 1, 0); });
}

// ---- dropout ----------------------------------------------------------------------------------------

TEST(DropoutOp, ForwardMatchesTheCoin) {
    const double rate = 0.3;
    Tensor x = f32({1, 2, 3, 4, 5, 6, 7, 8}, {2, 4});
    Tensor y = dropout(x, rate, 11, 100);
    for (int64_t i = 0; i < 8; ++i) {
        const bool keep = philox_dropout_unit(11, 100 + i) >= rate;
        EXPECT_EQ(y.data<float>()[i], keep ? float(i + 1) / float(1.0 - rate) : 0.f) << i;
    }
}

TEST(DropoutOp, RejectsBadRateAndIntegerInput) {
    Tensor x = f32({1, 2}, {2});
    expect_kind(ErrorKind::Value, [&] { dropout(x, -0.1, 1, 0); });
    expect_kind(ErrorKind::Value, [&] { dropout(x, 1.5, 1, 0); });
    expect_kind(ErrorKind::Value, [&] { dropout(x, NAN, 1, 0); });
    expect_kind(ErrorKind::Value, [] { dropout(Tensor::zeros({2}, DType::Int32), 0.5, 1, 0); });
}

// loss = sum(w * dropout(x)) on a transposed (strided) float64 input; the mask is fixed by (seed, offset),
// so central differences are exact up to rounding.
TEST(DropoutOp, BackwardMatchesFiniteDifferences) {
    GradModeGuard grad_on(true);
    const double rate = 0.4;
    const int rows = 3, cols = 5;
    std::vector<double> xv(rows * cols), wv(rows * cols);
    for (int i = 0; i < rows * cols; ++i) { xv[i] = 0.3 * i - 1.7; wv[i] = std::cos(1.0 + i); }
    Tensor base = f64(xv, {rows, cols});
    base.set_requires_grad(true);
    Tensor w = f64(wv, {cols, rows});
    auto loss_of = [&](const Tensor& b) { return sum(mul(dropout(transpose(b), rate, 3, 17), w)); };
    loss_of(base).backward();
    Tensor grad = contiguous(base.grad());
    ASSERT_EQ(grad.shape(), (Shape{rows, cols}));
    const double h = 1e-3;
    int zeros = 0;
    for (int i = 0; i < rows * cols; ++i) {
        std::vector<double> plus = xv, minus = xv;
        plus[i] += h;
        minus[i] -= h;
        const double up = loss_of(f64(plus, {rows, cols})).item();
        const double down = loss_of(f64(minus, {rows, cols})).item();
        const double fd = (up - down) / (2 * h);
        EXPECT_NEAR(grad.data<double>()[i], fd, 1e-9) << i;
        zeros += fd == 0.0;
    }
    EXPECT_GT(zeros, 0);  // some units were dropped...
    EXPECT_LT(zeros, rows * cols);  // ...and some kept, so both branches were checked
}

TEST(DropoutOp, RateOneGivesZerosAndZeroGradient) {
    GradModeGuard grad_on(true);
    Tensor x = f32({1, -2, 3}, {3});
    x.set_requires_grad(true);
    Tensor y = dropout(x, 1.0, 5, 0);
    EXPECT_EQ(values(y), (std::vector<float>{0, 0, 0}));
    sum(y).backward();
    EXPECT_EQ(values(x.grad()), (std::vector<float>{0, 0, 0}));
}

// ---- optimizer_apply --------------------------------------------------------------------------------

OptimizerStep sgd(double lr) {
    OptimizerStep s;
    s.kind = OptimizerKind::SGD;
    s.learning_rate = lr;
    return s;
}

TEST(OptimizerApply, ClipnormScalesEachTensorOnItsOwn) {
    // g1 = (3, 4): norm 5 > 1, scaled by 1/5. g2 = (0.3, 0.4): norm 0.5 <= 1, unchanged. SGD, lr 1.
    Tensor p1 = f32({1, 1}, {2}), p2 = f32({1, 1}, {1, 2});
    ClipOptions clip;
    clip.clipnorm = 1.0;
    optimizer_apply(sgd(1.0), clip, {p1, p2}, {f32({3, 4}, {2}), f32({0.3f, 0.4f}, {1, 2})}, {{}, {}}, {});
    std::vector<float> a = values(p1), b = values(p2);
    EXPECT_NEAR(a[0], 1 - 0.6, 1e-6);
    EXPECT_NEAR(a[1], 1 - 0.8, 1e-6);
    EXPECT_FLOAT_EQ(b[0], 1 - 0.3f);
    EXPECT_FLOAT_EQ(b[1], 1 - 0.4f);
}

TEST(OptimizerApply, GlobalClipnormScalesAllTogether) {
    // Global norm sqrt(9 + 16 + 144) = 13; clip 6.5 halves every gradient. SGD, lr 0.1.
    Tensor p1 = f32({0, 0}, {2}), p2 = f32({0}, {1});
    ClipOptions clip;
    clip.global_clipnorm = 6.5;
    optimizer_apply(sgd(0.1), clip, {p1, p2}, {f32({3, 4}, {2}), f32({12}, {1})}, {{}, {}}, {});
    EXPECT_NEAR(values(p1)[0], -0.15, 1e-7);
    EXPECT_NEAR(values(p1)[1], -0.2, 1e-7);
    EXPECT_NEAR(values(p2)[0], -0.6, 1e-7);
    // Below the threshold (and for an all-zero gradient) nothing is scaled.
    Tensor q = f32({1, 2}, {2});
    clip.global_clipnorm = 100;
    optimizer_apply(sgd(1.0), clip, {q}, {f32({0, 0}, {2})}, {{}}, {});
    EXPECT_EQ(values(q), (std::vector<float>{1, 2}));
}

TEST(OptimizerApply, NonFiniteGlobalNormPoisonsEveryUpdate) {
    // As Keras: scale = c * min(1/norm, 1/c) + (norm - norm) is NaN when the norm is inf or NaN.
    Tensor p1 = f32({1, 1}, {2}), p2 = f32({1}, {1});
    ClipOptions clip;
    clip.global_clipnorm = 1.0;
    optimizer_apply(sgd(1.0), clip, {p1, p2}, {f32({INFINITY, 0}, {2}), f32({1}, {1})}, {{}, {}}, {});
    EXPECT_TRUE(std::isnan(values(p1)[1]));
    EXPECT_TRUE(std::isnan(values(p2)[0]));
}

TEST(OptimizerApply, ClipvalueAndDecayFlags) {
    // w <- w - w * wd * lr for decayed params, then w -= lr * clip(g, -0.5, 0.5). lr 0.1, wd 0.5.
    OptimizerStep s = sgd(0.1);
    s.weight_decay = 0.5;
    ClipOptions clip;
    clip.clipvalue = 0.5;
    Tensor p1 = f32({2, 2}, {2}), p2 = f32({2}, {1});
    optimizer_apply(s, clip, {p1, p2}, {f32({3, -0.25f}, {2}), f32({-7}, {1})}, {{}, {}}, {true, false});
    EXPECT_NEAR(values(p1)[0], 2 - 2 * 0.05 - 0.05, 1e-6);
    EXPECT_NEAR(values(p1)[1], 2 - 2 * 0.05 + 0.025, 1e-6);
    EXPECT_NEAR(values(p2)[0], 2 + 0.05, 1e-6);
}

TEST(OptimizerApply, RMSpropSlotsSkipUnusedPositions) {
    // momentum 0, centered: slots are {velocity, average_gradient}; one step from zeros with rho 0.9.
    OptimizerStep s;
    s.kind = OptimizerKind::RMSprop;
    s.learning_rate = 0.01;
    s.rho = 0.9;
    s.centered = true;
    ASSERT_EQ(optimizer_slot_count(s), 2);
    Tensor p = f32({1, 1}, {2}), vel = Tensor::zeros({2}), avg = Tensor::zeros({2});
    const uint64_t v0 = p.impl()->storage->version, a0 = avg.impl()->storage->version;
    optimizer_apply(s, {}, {p}, {f32({2, -1}, {2})}, {{vel, avg}}, {});
    EXPECT_NEAR(values(vel)[0], 0.1 * 4, 1e-6);
    EXPECT_NEAR(values(avg)[1], 0.1 * -1, 1e-6);
    const double d0 = 0.4 - 0.2 * 0.2 + 1e-7;
    EXPECT_NEAR(values(p)[0], 1 - 0.01 * 2 / std::sqrt(d0), 1e-6);
    EXPECT_GT(p.impl()->storage->version, v0);
    EXPECT_GT(avg.impl()->storage->version, a0);
}

TEST(OptimizerApply, SlotCounts) {
    OptimizerStep s;
    s.kind = OptimizerKind::SGD;
    EXPECT_EQ(optimizer_slot_count(s), 0);
    s.momentum = 0.9;
    EXPECT_EQ(optimizer_slot_count(s), 1);
    s.kind = OptimizerKind::Adam;
    EXPECT_EQ(optimizer_slot_count(s), 2);
    s.amsgrad = true;
    EXPECT_EQ(optimizer_slot_count(s), 3);
    s.kind = OptimizerKind::RMSprop;
    s.momentum = 0.5;
    s.centered = false;
    EXPECT_EQ(optimizer_slot_count(s), 2);
    for (OptimizerKind k : {OptimizerKind::Adagrad, OptimizerKind::Lion}) {
        s.kind = k;
        EXPECT_EQ(optimizer_slot_count(s), 1);
    }
    for (OptimizerKind k : {OptimizerKind::Adamax, OptimizerKind::Nadam}) {
        s.kind = k;
        EXPECT_EQ(optimizer_slot_count(s), 2);
    }
}

TEST(OptimizerApply, AcceptsStridedGradients) {
    Tensor p = f32({0, 0, 0, 0, 0, 0}, {3, 2});
    Tensor g = transpose(f32({1, 2, 3, 4, 5, 6}, {2, 3}));  // (3, 2) view, not contiguous
    optimizer_apply(sgd(1.0), {}, {p}, {g}, {{}}, {});
    EXPECT_EQ(values(p), (std::vector<float>{-1, -4, -2, -5, -3, -6}));
}

TEST(OptimizerApply, RejectsBadInputsBeforeWriting) {
    Tensor p = f32({1, 2}, {2});
    Tensor g = f32({1, 1}, {2});
    ClipOptions none;
    auto unchanged = [&] { EXPECT_EQ(values(p), (std::vector<float>{1, 2})); };
    expect_kind(ErrorKind::Value, [&] { optimizer_apply(sgd(1), none, {p}, {f32({1}, {1})}, {{}}, {}); });
    expect_kind(ErrorKind::Value, [&] { optimizer_apply(sgd(1), none, {p}, {g, g}, {{}}, {}); });
    expect_kind(ErrorKind::Value, [&] { optimizer_apply(sgd(1), none, {f64({1, 2}, {2})}, {g}, {{}}, {}); });
    expect_kind(ErrorKind::Value, [&] { optimizer_apply(sgd(1), none, {p}, {f64({1, 2}, {2})}, {{}}, {}); });
    Tensor strided = transpose(f32({1, 2, 3, 4}, {2, 2}));
    expect_kind(ErrorKind::Value, [&] { optimizer_apply(sgd(1), none, {strided}, {strided}, {{}}, {}); });
    OptimizerStep adam;
    adam.kind = OptimizerKind::Adam;
    expect_kind(ErrorKind::Value, [&] { optimizer_apply(adam, none, {p}, {g}, {{Tensor::zeros({2})}}, {}); });
    expect_kind(ErrorKind::Value,
                [&] { optimizer_apply(adam, none, {p}, {g}, {{Tensor::zeros({2}), Tensor::zeros({3})}}, {}); });
    ClipOptions two;
    two.clipnorm = 1;
    two.clipvalue = 1;
    expect_kind(ErrorKind::Value, [&] { optimizer_apply(sgd(1), two, {p}, {g}, {{}}, {}); });
    ClipOptions negative;
    negative.global_clipnorm = -1;
    expect_kind(ErrorKind::Value, [&] { optimizer_apply(sgd(1), negative, {p}, {g}, {{}}, {}); });
    expect_kind(ErrorKind::Value, [&] { optimizer_apply(sgd(1), none, {p, p}, {g, g}, {{}, {}}, {}); });
    expect_kind(ErrorKind::Value, [&] { optimizer_apply(sgd(1), none, {p}, {g}, {{}}, {true, false}); });
    OptimizerStep step0 = sgd(1);
    step0.step = 0;
    expect_kind(ErrorKind::Value, [&] { optimizer_apply(step0, none, {p}, {g}, {{}}, {}); });
    unchanged();
}

}  // namespace
