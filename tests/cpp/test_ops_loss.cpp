// Tests for the loss ops of ops/loss.cpp (the layer above the kernels): output shapes, the class axis
// moved last, target squeezing and rank fixes, error kinds and messages, and one central finite-difference
// check per loss of the gradients with respect to output and target through ckeras::grad, in float64.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ckeras/autograd.h"
#include "ckeras/ops.h"

using ckeras::DType;
using ckeras::Error;
using ckeras::ErrorKind;
using ckeras::Shape;
using ckeras::Tensor;
using Vec = std::vector<double>;

namespace {

Tensor make(const Vec& v, const Shape& shape, DType dt = DType::Float64) {
    Tensor t = Tensor::empty(shape, dt);
    EXPECT_EQ(t.numel(), static_cast<int64_t>(v.size()));
    for (size_t i = 0; i < v.size(); ++i) {
        if (dt == DType::Float64) t.data<double>()[i] = v[i];
        else if (dt == DType::Float32) t.data<float>()[i] = static_cast<float>(v[i]);
        else if (dt == DType::Int64) t.data<int64_t>()[i] = static_cast<int64_t>(v[i]);
        else t.data<int32_t>()[i] = static_cast<int32_t>(v[i]);
    }
    return t;
}

Vec uniform(size_t n, double lo, double hi, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(lo, hi);
    Vec v(n);
    for (auto& e : v) e = u(rng);
    return v;
}

void expect_near(const Vec& got, const Vec& want, double tol) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

// Runs f and returns the thrown Error (fails when nothing is thrown).
Error error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "no ckeras::Error thrown";
    return Error(ErrorKind::Runtime, "");
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Loss of (target, output); the result is per sample.
using LossFn = std::function<Tensor(const Tensor&, const Tensor&)>;

// Compares ckeras::grad of sum(w * loss) with central differences of the forward, for output and (when
// with_target) target. Inputs: float64 values of the given shapes.
void check_grad(const LossFn& fn, const Vec& target, const Shape& tshape, const Vec& output, const Shape& oshape,
                bool with_target, DType tdtype = DType::Float64) {
    Tensor t = make(target, tshape, tdtype), o = make(output, oshape);
    if (with_target) t.set_requires_grad(true);
    o.set_requires_grad(true);
    Tensor loss = fn(t, o);
    Vec w = uniform(static_cast<size_t>(loss.numel()), 0.5, 1.5, 7);
    Tensor wt = make(w, loss.shape());
    std::vector<Tensor> inputs{o};
    if (with_target) inputs.push_back(t);
    std::vector<Tensor> g = ckeras::grad({loss}, inputs, {wt});
    ckeras::GradModeGuard off(false);
    auto objective = [&](const Vec& tv, const Vec& ov) {
        Vec l = fn(make(tv, tshape, tdtype), make(ov, oshape)).to_vector();
        double s = 0;
        for (size_t i = 0; i < l.size(); ++i) s += w[i] * l[i];
        return s;
    };
    const double h = 1e-6;
    for (int which = 0; which < (with_target ? 2 : 1); ++which) {
        const Vec& base = which == 0 ? output : target;
        ASSERT_TRUE(g[which].defined());
        Vec got = g[which].to_vector(), fd(base.size());
        for (size_t i = 0; i < base.size(); ++i) {
            Vec plus = base, minus = base;
            plus[i] += h;
            minus[i] -= h;
            double fp = which == 0 ? objective(target, plus) : objective(plus, output);
            double fm = which == 0 ? objective(target, minus) : objective(minus, output);
            fd[i] = (fp - fm) / (2 * h);
        }
        SCOPED_TRACE(which == 0 ? "d/doutput" : "d/dtarget");
        expect_near(got, fd, 1e-6);
    }
}

TEST(LossOps, CategoricalAxisIsMovedLast) {
    // output (2, 4, 3) with classes on axis 1 equals the same data transposed to (2, 3, 4), axis -1.
    Vec o = uniform(24, 0.1, 1.0, 1), t = uniform(24, 0.0, 1.0, 2);
    Tensor o1 = make(o, {2, 4, 3}), t1 = make(t, {2, 4, 3});
    for (bool logits : {false, true}) {
        Tensor a = ckeras::categorical_crossentropy(t1, o1, logits, 1);
        Tensor b = ckeras::categorical_crossentropy(ckeras::swapaxes(t1, 1, 2), ckeras::swapaxes(o1, 1, 2), logits);
        EXPECT_EQ(a.shape(), (Shape{2, 3}));
        expect_near(a.to_vector(), b.to_vector(), 1e-12);
        Tensor c = ckeras::categorical_crossentropy(t1, o1, logits, -2);
        expect_near(c.to_vector(), a.to_vector(), 0.0);
    }
    EXPECT_EQ(error_of([&] { ckeras::categorical_crossentropy(t1, o1, false, 3); }).kind(), ErrorKind::Index);
}

TEST(LossOps, CategoricalHandValues) {
    // Rows of Keras's docstring example: -log(0.9), -log(0.8), -log(0.5); the second row sums to 2 and is
    // renormalised first.
    Tensor t = make({1, 0, 0, 0, 1, 0, 0, 0, 1}, {3, 3});
    Tensor o = make({0.9, 0.05, 0.05, 0.2, 1.6, 0.2, 0.2, 0.3, 0.5}, {3, 3});
    expect_near(ckeras::categorical_crossentropy(t, o, false).to_vector(),
                {-std::log(0.9), -std::log(0.8), -std::log(0.5)}, 1e-12);
    // logits [1e30, 0]: finite (ERRORS.md row 2).
    Tensor z = make({1e30, 0.0}, {1, 2});
    expect_near(ckeras::categorical_crossentropy(make({0, 1}, {1, 2}), z, true).to_vector(), {1e30}, 1e16);
    expect_near(ckeras::categorical_crossentropy(make({1, 0}, {1, 2}), z, true).to_vector(), {0.0}, 0.0);
}

TEST(LossOps, SparseShapesAndLabels) {
    Vec o = uniform(12, 0.1, 1.0, 3);
    Tensor out = make(o, {4, 3});
    Tensor a = ckeras::sparse_categorical_crossentropy(make({0, 2, 1, 2}, {4}, DType::Int64), out, false);
    Tensor b = ckeras::sparse_categorical_crossentropy(make({0, 2, 1, 2}, {4, 1}, DType::Int32), out, false);
    Tensor c = ckeras::sparse_categorical_crossentropy(make({0, 2, 1, 2}, {4, 1}), out, false);  // whole floats
    Tensor d = ckeras::categorical_crossentropy(make({1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1}, {4, 3}), out, false);
    EXPECT_EQ(a.shape(), (Shape{4}));
    EXPECT_EQ(b.shape(), (Shape{4}));
    expect_near(a.to_vector(), d.to_vector(), 1e-12);
    expect_near(b.to_vector(), d.to_vector(), 0.0);
    expect_near(c.to_vector(), d.to_vector(), 0.0);
    // Class axis 1 of (2, 3, 2): labels (2, 2).
    Tensor out3 = make(o, {2, 3, 2});
    Tensor s = ckeras::sparse_categorical_crossentropy(make({0, 2, 1, 1}, {2, 2}, DType::Int64), out3, true, 1);
    Tensor ref = ckeras::sparse_categorical_crossentropy(make({0, 2, 1, 1}, {2, 2}, DType::Int64),
                                                         ckeras::swapaxes(out3, 1, 2), true);
    EXPECT_EQ(s.shape(), (Shape{2, 2}));
    expect_near(s.to_vector(), ref.to_vector(), 1e-12);

    Error e = error_of([&] { ckeras::sparse_categorical_crossentropy(make({0, 3, 1, 2}, {4}, DType::Int64), out, false); });
    EXPECT_EQ(e.kind(), ErrorKind::Value);
    EXPECT_TRUE(contains(e.what(), "Received a label value of 3 which is outside the valid range of [0, 3)")) << e.what();
    e = error_of([&] { ckeras::sparse_categorical_crossentropy(make({0, 1.5, 1, 2}, {4}), out, false); });
    EXPECT_TRUE(contains(e.what(), "non-integer value 1.5")) << e.what();
    e = error_of([&] { ckeras::sparse_categorical_crossentropy(make({0, 1, 2}, {3}, DType::Int64), out, false); });
    EXPECT_TRUE(contains(e.what(), "expected target.shape=(4,)")) << e.what();
}

TEST(LossOps, DenseShapeMismatchHintsAtSparse) {
    Tensor out = make(Vec(20, 0.1), {2, 10});
    Error e = error_of([&] { ckeras::categorical_crossentropy(make({3, 7}, {2}, DType::Int64), out, false); });
    EXPECT_EQ(e.kind(), ErrorKind::Value);
    for (const char* part : {"must have the same shape", "(2,)", "(2, 10)",
                             "use sparse_categorical_crossentropy for integer labels"})
        EXPECT_TRUE(contains(e.what(), part)) << e.what();
    e = error_of([&] { ckeras::categorical_crossentropy(make(Vec(6, 0.0), {2, 3}), out, false); });
    EXPECT_TRUE(contains(e.what(), "must have the same shape")) << e.what();
    EXPECT_FALSE(contains(e.what(), "sparse")) << e.what();
}

TEST(LossOps, BinaryAndRegressionShapes) {
    Vec o = uniform(24, 0.05, 0.95, 4), t = uniform(24, 0.0, 1.0, 5);
    Tensor bce = ckeras::binary_crossentropy(make(t, {2, 3, 4}), make(o, {2, 3, 4}), false);
    EXPECT_EQ(bce.shape(), (Shape{2, 3}));
    double row0 = 0;
    for (int i = 0; i < 4; ++i) row0 -= (t[i] * std::log(o[i]) + (1 - t[i]) * std::log(1 - o[i])) / 4;
    EXPECT_NEAR(bce.to_vector()[0], row0, 1e-12);
    EXPECT_EQ(ckeras::binary_crossentropy(make({1}, {}), make({0.5}, {}), false).shape(), Shape{});
    // (4,) against (4, 1): the rank-1 side is expanded, one loss per row.
    Tensor mse = ckeras::mean_squared_error(make({1, 2, 3, 4}, {4}), make({1, 1, 1, 1}, {4, 1}));
    EXPECT_EQ(mse.shape(), (Shape{4}));
    expect_near(mse.to_vector(), {0, 1, 4, 9}, 0.0);
    // (2, 3, 1) against (2, 3): the trailing 1 is squeezed, mean over the 3.
    Tensor mae = ckeras::mean_absolute_error(make({1, 2, 3, 4, 5, 6}, {2, 3, 1}), make(Vec(6, 0.0), {2, 3}));
    EXPECT_EQ(mae.shape(), (Shape{2}));
    expect_near(mae.to_vector(), {2, 5}, 1e-15);
    // Integer output is computed in float32.
    EXPECT_EQ(ckeras::mean_squared_error(make({1, 2}, {1, 2}), make({0, 0}, {1, 2}, DType::Int32)).dtype(),
              DType::Float32);
    Error e = error_of([&] { ckeras::mean_squared_error(make(Vec(6, 0.0), {2, 3}), make(Vec(4, 0.0), {2, 2})); });
    EXPECT_TRUE(contains(e.what(), "broadcastable")) << e.what();
    // Empty batch: shape (0,), no error.
    EXPECT_EQ(ckeras::categorical_crossentropy(make({}, {0, 5}), make({}, {0, 5}), true).shape(), (Shape{0}));
}

TEST(LossOps, CategoricalGradients) {
    // Unnormalised probabilities well inside the clip; soft targets; classes on axis 1.
    Vec o = uniform(18, 0.2, 1.0, 11), t = uniform(18, 0.0, 1.0, 12);
    for (bool logits : {false, true}) {
        SCOPED_TRACE(logits ? "logits" : "probabilities");
        check_grad([&](const Tensor& y, const Tensor& p) { return ckeras::categorical_crossentropy(y, p, logits, 1); },
                   t, {2, 3, 3}, o, {2, 3, 3}, true);
    }
}

TEST(LossOps, SparseGradients) {
    Vec o = uniform(12, 0.2, 1.0, 13);
    for (bool logits : {false, true}) {
        SCOPED_TRACE(logits ? "logits" : "probabilities");
        check_grad([&](const Tensor& y, const Tensor& p) {
            return ckeras::sparse_categorical_crossentropy(y, p, logits);
        }, {2, 0, 1, 2}, {4, 1}, o, {4, 3}, false, DType::Int64);
    }
}

TEST(LossOps, BinaryGradients) {
    Vec o = uniform(12, 0.05, 0.95, 14), z = uniform(12, -3, 3, 15), t = uniform(12, 0.0, 1.0, 16);
    check_grad([](const Tensor& y, const Tensor& p) { return ckeras::binary_crossentropy(y, p, false); },
               t, {3, 4}, o, {3, 4}, true);
    check_grad([](const Tensor& y, const Tensor& p) { return ckeras::binary_crossentropy(y, p, true); },
               t, {3, 4}, z, {3, 4}, true);
}

TEST(LossOps, RegressionGradients) {
    Vec o = uniform(12, -2, 2, 17), t = uniform(12, -2, 2, 18);  // no ties: |p - t| is smooth there
    check_grad([](const Tensor& y, const Tensor& p) { return ckeras::mean_squared_error(y, p); },
               t, {3, 4}, o, {3, 4}, true);
    check_grad([](const Tensor& y, const Tensor& p) { return ckeras::mean_absolute_error(y, p); },
               t, {3, 4}, o, {3, 4}, true);
    // Broadcast target (3, 1) against (3, 4): its gradient sums over the broadcast axis.
    check_grad([](const Tensor& y, const Tensor& p) { return ckeras::mean_squared_error(y, p); },
               {0.5, -1, 2}, {3, 1}, o, {3, 4}, true);
}

}  // namespace
