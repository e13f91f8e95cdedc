// Tests for the CPU loss kernels: categorical (dense and sparse), binary cross-entropy and regression
// losses against naive double loops, every backward against central finite differences in float64, the
// clipping/extremal rules of KERAS.md 3.6 and ERRORS.md row 2, and bad sparse labels (ERRORS.md row 25).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "cpu/cpu_common.h"

using ckeras::DType;
using ckeras::KernelTable;
using Vec = std::vector<double>;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();
const double kEps = 1e-7;

template <class T> DType dtype_of() { return std::is_same_v<T, float> ? DType::Float32 : DType::Float64; }

const KernelTable& table() {
    static KernelTable t = [] { KernelTable k; ckeras::cpu::register_loss_cpu(k); return k; }();
    return t;
}

template <class T>
std::vector<T> cast(const Vec& v) { return std::vector<T>(v.begin(), v.end()); }

Vec uniform(int64_t n, double lo, double hi, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(lo, hi);
    Vec v(static_cast<size_t>(n));
    for (auto& e : v) e = u(rng);
    return v;
}

// ---- kernel wrappers: double in, double out, computed in T ----------------------------------------

enum class Kind { Dense, Sparse, Binary, Regression };

struct Case {
    Case(Kind k, int64_t b, int64_t c, bool f, double e = kEps) : kind(k), B(b), C(c), flag(f), eps(e) {}
    Kind kind;
    int64_t B, C;   // Binary: n = B * C elements
    bool flag;      // from_logits, or abs for Regression
    double eps;
    std::vector<int64_t> labels;  // Sparse
};

template <class T>
Vec loss_of(const Case& c, const Vec& pred, const Vec& target) {
    auto p = cast<T>(pred), y = cast<T>(target);
    std::vector<T> l(c.kind == Kind::Binary ? c.B * c.C : c.B, T(-7));
    const auto& k = table();
    switch (c.kind) {
        case Kind::Dense: k.cross_entropy(dtype_of<T>(), l.data(), p.data(), y.data(), c.B, c.C, c.flag, c.eps); break;
        case Kind::Sparse:
            EXPECT_EQ(k.sparse_cross_entropy(dtype_of<T>(), l.data(), p.data(), c.labels.data(), c.B, c.C, c.flag, c.eps), -1);
            break;
        case Kind::Binary: k.binary_cross_entropy(dtype_of<T>(), l.data(), p.data(), y.data(), c.B * c.C, c.flag, c.eps); break;
        case Kind::Regression: k.regression_loss(dtype_of<T>(), l.data(), p.data(), y.data(), c.B, c.C, c.flag); break;
    }
    return Vec(l.begin(), l.end());
}

template <class T>
Vec grad_of(const Case& c, const Vec& dloss, const Vec& pred, const Vec& target) {
    auto dl = cast<T>(dloss), p = cast<T>(pred), y = cast<T>(target);
    std::vector<T> dp(pred.size(), T(-7));
    const auto& k = table();
    switch (c.kind) {
        case Kind::Dense:
            k.cross_entropy_backward(dtype_of<T>(), dp.data(), dl.data(), p.data(), y.data(), c.B, c.C, c.flag, c.eps);
            break;
        case Kind::Sparse:
            k.sparse_cross_entropy_backward(dtype_of<T>(), dp.data(), dl.data(), p.data(), c.labels.data(), c.B, c.C,
                                            c.flag, c.eps);
            break;
        case Kind::Binary:
            k.binary_cross_entropy_backward(dtype_of<T>(), dp.data(), dl.data(), p.data(), y.data(), c.B * c.C, c.flag,
                                            c.eps);
            break;
        case Kind::Regression:
            k.regression_loss_backward(dtype_of<T>(), dp.data(), dl.data(), p.data(), y.data(), c.B, c.C, c.flag);
            break;
    }
    return Vec(dp.begin(), dp.end());
}

// ---- naive references in double (clip bounds rounded to T, as the compute dtype holds them) ------------

template <class T>
double clip(double q, double eps) {
    double lo = double(T(eps)), hi = double(T(1 - eps));
    return q < lo ? lo : q > hi ? hi : q;
}

template <class T>
Vec naive_loss(const Case& c, const Vec& p, const Vec& y) {
    Vec out;
    if (c.kind == Kind::Binary) {
        for (size_t i = 0; i < p.size(); ++i) {
            double z = p[i], q = clip<T>(p[i], c.eps);
            out.push_back(c.flag ? std::max(z, 0.0) - z * y[i] + std::log(1 + std::exp(-std::abs(z)))
                                 : -(y[i] * std::log(q) + (1 - y[i]) * std::log(1 - q)));
        }
        return out;
    }
    for (int64_t b = 0; b < c.B; ++b) {
        const double* z = p.data() + b * c.C;
        Vec t(c.C, 0.0);  // the target row (one-hot for sparse)
        for (int64_t i = 0; i < c.C; ++i) t[i] = c.kind == Kind::Sparse ? (i == c.labels[b]) : y[b * c.C + i];
        double acc = 0;
        if (c.kind == Kind::Regression) {
            for (int64_t i = 0; i < c.C; ++i) acc += c.flag ? std::abs(z[i] - t[i]) : (z[i] - t[i]) * (z[i] - t[i]);
            out.push_back(acc / c.C);
        } else if (c.flag) {  // logsumexp(z) * sum(y) - sum(y * z)
            double m = -kInf, s = 0, sy = 0, yz = 0;
            for (int64_t i = 0; i < c.C; ++i) m = std::max(m, z[i]);
            for (int64_t i = 0; i < c.C; ++i) { s += std::exp(z[i] - m); sy += t[i]; yz += t[i] * z[i]; }
            out.push_back((m + std::log(s)) * sy - yz);
        } else {
            double S = 0;
            for (int64_t i = 0; i < c.C; ++i) S += z[i];
            for (int64_t i = 0; i < c.C; ++i) acc -= t[i] * std::log(clip<T>(z[i] / S, c.eps));
            out.push_back(acc);
        }
    }
    return out;
}

// Central differences of f = sum(dloss * loss(pred)) with respect to each pred element, in float64:
// f(x + h) - f(x - h) is summed as dloss_b * (loss_b(x + h) - loss_b(x - h)) so that rows the element
// does not touch cancel exactly instead of adding rounding noise.
Vec finite_diff(const Case& c, const Vec& dloss, const Vec& pred, const Vec& target, double h = 1e-6) {
    Vec g(pred.size());
    for (size_t i = 0; i < pred.size(); ++i) {
        Vec pp = pred, pm = pred;
        pp[i] += h;
        pm[i] -= h;
        Vec lp = loss_of<double>(c, pp, target), lm = loss_of<double>(c, pm, target);
        double acc = 0;
        for (size_t b = 0; b < lp.size(); ++b) acc += dloss[b] * (lp[b] - lm[b]);
        g[i] = acc / (2 * h);
    }
    return g;
}

void expect_close(const Vec& got, const Vec& ref, double rtol, double atol, const std::string& what) {
    ASSERT_EQ(got.size(), ref.size()) << what;
    for (size_t i = 0; i < got.size(); ++i) {
        if (std::isnan(got[i]) && std::isnan(ref[i])) continue;  // NaN where the reference is NaN (0/0) is right
        ASSERT_NEAR(got[i], ref[i], rtol * std::abs(ref[i]) + atol) << what << " element " << i;
    }
}

// Inputs for a case: logits in [-4, 4]; probabilities in [0, 1] with a few exact zeros (clipped);
// soft dense targets with zeros; labels in [0, C); binary targets in [0, 1]; regression values in [-2, 2].
void make_inputs(Case& c, std::mt19937_64& rng, Vec& pred, Vec& target) {
    int64_t n = c.B * c.C;
    bool probs = (c.kind == Kind::Dense || c.kind == Kind::Sparse || c.kind == Kind::Binary) && !c.flag;
    pred = c.kind == Kind::Regression ? uniform(n, -2, 2, rng) : probs ? uniform(n, 0, 1, rng) : uniform(n, -4, 4, rng);
    if (probs)
        for (size_t i = 0; i < pred.size(); i += 5) pred[i] = 0.0;
    target = c.kind == Kind::Regression ? uniform(n, -2, 2, rng) : uniform(n, 0, 1, rng);
    if (c.kind == Kind::Dense)
        for (size_t i = 1; i < target.size(); i += 3) target[i] = 0.0;
    c.labels.assign(static_cast<size_t>(c.B), 0);
    for (auto& l : c.labels) l = static_cast<int64_t>(rng() % static_cast<uint64_t>(c.C > 0 ? c.C : 1));
}

template <class T>
void check_forward_against_naive(Kind kind) {
    std::mt19937_64 rng(7);
    const double rtol = std::is_same_v<T, float> ? 2e-6 : 1e-12;
    for (bool flag : {false, true})
        for (int64_t B : {0, 1, 7, 33, 127})
            for (int64_t C : {1, 7, 33, 127, 1025}) {
                Case c{kind, B, C, flag};
                Vec pred, target;
                make_inputs(c, rng, pred, target);
                // Round the inputs to T first so that the reference sees what the kernel sees.
                auto pt = cast<T>(pred), yt = cast<T>(target);
                pred.assign(pt.begin(), pt.end());
                target.assign(yt.begin(), yt.end());
                std::string what = "B " + std::to_string(B) + " C " + std::to_string(C) + " flag " + std::to_string(flag);
                expect_close(loss_of<T>(c, pred, target), naive_loss<T>(c, pred, target), rtol, rtol, what);
                if (B * C > 4000 || C > 33 || std::is_same_v<T, float>) continue;
                // Backward against finite differences on the smaller float64 cases (for wide rows the rounding
                // noise of a loss ~ sum(y) * logsumexp, divided by 2h, nears the tolerance), away from the clip kink
                // at 0 (a zero probability is clipped; p + h would not be) and from p ~ 1 in binary CE, where
                // the O(h^2 / (1 - p)^2) truncation error of central differences exceeds the tolerance.
                if (!flag && kind != Kind::Regression)
                    for (auto& v : pred) v = (v < 1e-2 || v > 0.99) ? 0.5 : v;
                Vec dloss = uniform(kind == Kind::Binary ? B * C : B, -1, 1, rng);
                expect_close(grad_of<double>(c, dloss, pred, target), finite_diff(c, dloss, pred, target), 1e-6, 1e-7,
                             "grad " + what);
            }
}

}  // namespace

TEST(Loss, CrossEntropyMatchesNaive) {
    check_forward_against_naive<float>(Kind::Dense);
    check_forward_against_naive<double>(Kind::Dense);
}
TEST(Loss, SparseCrossEntropyMatchesNaive) {
    check_forward_against_naive<float>(Kind::Sparse);
    check_forward_against_naive<double>(Kind::Sparse);
}
TEST(Loss, BinaryCrossEntropyMatchesNaive) {
    check_forward_against_naive<float>(Kind::Binary);
    check_forward_against_naive<double>(Kind::Binary);
}
TEST(Loss, RegressionLossMatchesNaive) {
    check_forward_against_naive<float>(Kind::Regression);
    check_forward_against_naive<double>(Kind::Regression);
}

TEST(Loss, BackwardMatchesFiniteDifferencesWithActiveClips) {
    // eps = 0.05 puts clip boundaries where finite differences can see both sides without crossing them:
    // entries with q < 0.04 or q > 0.96 are clipped (zero gradient), others lie in [0.06, 0.94].
    std::mt19937_64 rng(11);
    const double eps = 0.05;
    auto far_from_bounds = [&](double q) { return std::abs(q - eps) > 0.01 && std::abs(q - (1 - eps)) > 0.01; };
    for (Kind kind : {Kind::Dense, Kind::Sparse, Kind::Binary}) {
        Case c{kind, 9, 5, false, eps};
        Vec pred, target;
        make_inputs(c, rng, pred, target);
        for (int64_t b = 0; b < c.B; ++b) {
            bool ok;
            do {  // resample the row until no normalised entry sits within 0.01 of a boundary
                for (int64_t i = 0; i < c.C; ++i) pred[b * c.C + i] = uniform(1, 0.001, 1, rng)[0];
                if (b == 0) pred[0] = 200;  // one row dominated by a single entry: q > 0.98, clipped high
                double S = 0;
                for (int64_t i = 0; i < c.C; ++i) S += pred[b * c.C + i];
                ok = true;
                for (int64_t i = 0; i < c.C; ++i)
                    ok = ok && far_from_bounds(kind == Kind::Binary ? pred[b * c.C + i] : pred[b * c.C + i] / S);
            } while (!ok && kind != Kind::Binary);
            if (kind == Kind::Binary)
                for (int64_t i = 0; i < c.C; ++i)
                    if (!far_from_bounds(pred[b * c.C + i])) pred[b * c.C + i] = (i % 2) ? 0.02 : 0.5;
        }
        if (kind == Kind::Binary) { pred[0] = 0.99; pred[1] = 0.01; }
        Vec dloss = uniform(kind == Kind::Binary ? c.B * c.C : c.B, -1, 1, rng);
        Vec g = grad_of<double>(c, dloss, pred, target);
        expect_close(g, finite_diff(c, dloss, pred, target), 1e-6, 1e-7, "kind " + std::to_string(int(kind)));
        if (kind == Kind::Binary) { EXPECT_EQ(g[0], 0.0); EXPECT_EQ(g[1], 0.0); }
        else for (int64_t i = 0; i < c.C; ++i) EXPECT_EQ(g[i], 0.0) << "row 0 is clipped everywhere";
    }
}

TEST(Loss, RenormalisationTermInGradient) {
    // Unclipped: d/dp_j of -sum_i y_i log(p_i / S) = -y_j / p_j + sum(y) / S.
    Vec p = {0.2, 0.6, 0.6}, y = {0.5, 0.0, 1.0};  // S = 1.4
    Case c{Kind::Dense, 1, 3, false};
    Vec g = grad_of<double>(c, {1.0}, p, y);
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(g[j], -y[j] / p[j] + 1.5 / 1.4, 1e-14);
}

TEST(Loss, CrossEntropyExtremes) {
    // Probabilities: an exact 0 is clipped to float32(1e-7): loss -log(1e-7) ~ 16.118 (Keras's value).
    Case dense{Kind::Dense, 1, 2, false};
    EXPECT_NEAR(loss_of<float>(dense, {0, 1}, {1, 0})[0], -std::log(double(float(1e-7))), 1e-5);
    EXPECT_NEAR(loss_of<double>(dense, {0, 1}, {1, 0})[0], -std::log(1e-7), 1e-9);
    // Logits: [1e30, 0] is finite and exact; a +inf logit gives NaN in its row only.
    Case logits{Kind::Dense, 3, 2, true};
    Vec l = loss_of<float>(logits, {1e30, 0, 1e30, 0, kInf, 0}, {1, 0, 0, 1, 1, 0});
    EXPECT_EQ(l[0], 0.f);
    EXPECT_EQ(l[1], 1e30f);
    EXPECT_TRUE(std::isnan(l[2]));
    Vec g = grad_of<double>(logits, {1, 1, 1}, {1e30, 0, 1e30, 0, kInf, 0}, {1, 0, 0, 1, 1, 0});
    EXPECT_EQ(g[0], 0.0);
    EXPECT_EQ(g[1], 0.0);
    EXPECT_EQ(g[2], 1.0);
    EXPECT_EQ(g[3], -1.0);
    // Sparse: a -inf logit off the label is harmless.
    Case sparse{Kind::Sparse, 1, 3, true};
    sparse.labels = {1};
    EXPECT_NEAR(loss_of<double>(sparse, {-kInf, 0, 0}, {})[0], std::log(2.0), 1e-15);
    // Binary: huge logits stay finite; probabilities 0 and 1 are clipped.
    Case bin{Kind::Binary, 1, 4, true};
    Vec lb = loss_of<double>(bin, {1e30, -1e30, 800, -800}, {1, 1, 0, 0});
    EXPECT_EQ(lb, (Vec{0, 1e30, 800, 0}));
    Case binp{Kind::Binary, 1, 2, false};
    Vec lp = loss_of<float>(binp, {0, 1}, {1, 0});
    EXPECT_NEAR(lp[0], -std::log(double(float(1e-7))), 1e-5);
    EXPECT_NEAR(lp[1], -std::log(1 - double(float(1 - 1e-7))), 1e-3);
}

TEST(Loss, NanPropagatesToItsRowOnly) {
    Case c{Kind::Dense, 2, 3, true};
    Vec l = loss_of<double>(c, {kNaN, 1, 2, 0, 1, 2}, {1, 0, 0, 1, 0, 0});
    EXPECT_TRUE(std::isnan(l[0]));
    EXPECT_FALSE(std::isnan(l[1]));
    Case r{Kind::Regression, 2, 2, true};
    Vec lr = loss_of<float>(r, {1, kNaN, 1, 2}, {0, 0, 0, 0});
    EXPECT_TRUE(std::isnan(lr[0]));
    EXPECT_EQ(lr[1], 1.5f);
}

// From logits, the backward is dl * (softmax * sum(y) - y) (dense) and dl * (softmax - onehot) (sparse),
// checked against that formula in long double on rows narrower and wider than the kernel's kept-exps
// buffer (256 classes), where it switches formulas, and in float32 and float64.
template <class T>
void check_logits_backward_against_softmax(Kind kind) {
    std::mt19937_64 rng(11);
    for (int64_t C : {1, 10, 255, 256, 257, 1025}) {
        Case c{kind, 5, C, true};
        Vec pred, target;
        make_inputs(c, rng, pred, target);
        auto pt = cast<T>(pred), yt = cast<T>(target);
        pred.assign(pt.begin(), pt.end());
        target.assign(yt.begin(), yt.end());
        Vec dloss = uniform(c.B, -1, 1, rng);
        auto dlt = cast<T>(dloss);
        dloss.assign(dlt.begin(), dlt.end());
        const Vec got = grad_of<T>(c, dloss, pred, target);
        Vec want(pred.size());
        for (int64_t b = 0; b < c.B; ++b) {
            const double* z = pred.data() + b * C;
            long double m = z[0], s = 0, sum_y = 0;
            for (int64_t i = 1; i < C; ++i) m = z[i] > m ? z[i] : m;
            for (int64_t i = 0; i < C; ++i) s += std::exp((long double)z[i] - m);
            for (int64_t i = 0; i < C; ++i) sum_y += target[b * C + i];
            for (int64_t i = 0; i < C; ++i) {
                const long double q = std::exp((long double)z[i] - m) / s;
                const long double t = kind == Kind::Dense ? q * sum_y - target[b * C + i] : q - (i == c.labels[b]);
                want[b * C + i] = double(dloss[b] * t);
            }
        }
        const double tol = std::is_same_v<T, float> ? 2e-6 : 1e-13;
        expect_close(got, want, tol, tol * 1e-2, "C " + std::to_string(C));
    }
}

TEST(Loss, LogitsBackwardIsTheSoftmaxFormula) {
    for (Kind kind : {Kind::Dense, Kind::Sparse}) {
        check_logits_backward_against_softmax<float>(kind);
        check_logits_backward_against_softmax<double>(kind);
    }
}

TEST(Loss, SparseBadLabelReturnsFirstIndexAndWritesNothing) {
    const int64_t B = 6, C = 10;
    std::vector<float> pred(B * C, 0.1f), loss(B, -7.f);
    for (auto labels : {std::vector<int64_t>{1, 2, 10, 3, -1, 4}, std::vector<int64_t>{1, -1, 2, 3, 10, 4},
                        std::vector<int64_t>{0, 0, 0, 0, 0, int64_t(1) << 40},
                        std::vector<int64_t>{std::numeric_limits<int64_t>::min(), 0, 0, 0, 0, 0}}) {
        int64_t expect = -1;
        for (int64_t b = 0; b < B && expect < 0; ++b)
            if (labels[b] < 0 || labels[b] >= C) expect = b;
        for (bool logits : {false, true}) {
            int64_t got = table().sparse_cross_entropy(DType::Float32, loss.data(), pred.data(), labels.data(), B, C,
                                                       logits, kEps);
            EXPECT_EQ(got, expect);
            EXPECT_EQ(loss, std::vector<float>(B, -7.f));
        }
    }
    std::vector<int64_t> ok = {0, 9, 3, 4, 5, 6};
    EXPECT_EQ(table().sparse_cross_entropy(DType::Float32, loss.data(), pred.data(), ok.data(), B, C, true, kEps), -1);
    for (float l : loss) EXPECT_NEAR(l, std::log(10.0), 1e-6);
    // No classes at all: every label is out of range.
    EXPECT_EQ(table().sparse_cross_entropy(DType::Float32, loss.data(), pred.data(), ok.data(), B, 0, true, kEps), 0);
}

TEST(Loss, SparseBackwardRejectsBadLabel) {
    std::vector<double> pred(20, 0.1), dloss(2, 1.0), dpred(20, -7.0);
    std::vector<int64_t> labels = {3, 10};
    try {
        table().sparse_cross_entropy_backward(DType::Float64, dpred.data(), dloss.data(), pred.data(), labels.data(),
                                              2, 10, true, kEps);
        FAIL() << "expected a ValueError";
    } catch (const ckeras::Error& e) {
        EXPECT_EQ(e.kind(), ckeras::ErrorKind::Value);
        std::string msg = e.what();
        EXPECT_NE(msg.find("label value of 10"), std::string::npos) << msg;
        EXPECT_NE(msg.find("valid range of [0, 10)"), std::string::npos) << msg;
    }
    EXPECT_EQ(dpred, std::vector<double>(20, -7.0));
}

TEST(Loss, RegressionEdgeCases) {
    // MAE gradient is 0 where pred == target; an empty row has a NaN mean and no gradient to write.
    Case mae{Kind::Regression, 1, 3, true};
    EXPECT_EQ(grad_of<double>(mae, {3.0}, {1, 2, 3}, {1, 1, 4}), (Vec{0, 1, -1}));
    Case mse{Kind::Regression, 1, 2, false};
    EXPECT_EQ(grad_of<double>(mse, {1.0}, {1, 2}, {0, 0}), (Vec{1, 2}));
    Case empty{Kind::Regression, 2, 0, false};
    Vec l = loss_of<float>(empty, {}, {});
    EXPECT_TRUE(std::isnan(l[0]) && std::isnan(l[1]));
    Case ce_empty{Kind::Dense, 2, 0, false};
    EXPECT_EQ(loss_of<double>(ce_empty, {}, {}), (Vec{0, 0}));  // a sum over no classes
}

TEST(Loss, IntegerDtypeIsRejected) {
    int32_t p[2] = {0, 1}, y[2] = {0, 1}, l[1] = {0};
    try {
        table().cross_entropy(DType::Int32, l, p, y, 1, 2, true, kEps);
        FAIL() << "expected a TypeError";
    } catch (const ckeras::Error& e) {
        EXPECT_EQ(e.kind(), ckeras::ErrorKind::Type);
    }
}
