// The CUDA loss kernels against their CPU twins (cpu/loss_cpu.cpp) on the same inputs: categorical
// cross-entropy with dense and sparse targets, binary cross-entropy and the regression losses, forward and
// backward, float32 and float64, from probabilities (clips active, rows not normalised) and from logits,
// sizes from empty rows to over a million elements (warp-per-row and block-per-row paths), NaN and
// infinities, and the sparse label check (lowest bad row, nothing written). Skipped without a CUDA device.
//
// Tolerance. Both devices compute in double and round once to T; they differ only in the summation order
// of a row (the CPU adds left to right, the GPU by lanes then a tree), in fused multiply-adds and in the
// libm's exp/log/log1p (1 ulp in double on both). So a float32 result is at most 1 ulp off (when the double
// values straddle a rounding boundary), and a float64 one about C * 2^-52 relative. Where the result is a
// difference of larger terms (the backward's softmax * sum(y) - y), the double error is relative to the
// terms: hence an absolute part of 1e-12 times the largest magnitude in the output. Bounds used:
// float32 rtol = 2 ulp, float64 rtol = 1e-12; atol = 1e-12 * max|cpu|. The regression backward is the
// CPU's exact operations elementwise and is compared by bits.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cuda_twin.h"
#include "test_util.h"

using namespace ckeras;
using namespace ckeras::test;

namespace {

constexpr double kEps = 1e-7;  // Keras's backend epsilon

struct Size {
    int64_t B, C;
};
// Odd sizes, the empty cases, rows long enough for a block per row (C >= 2048), and two over a million
// elements (many blocks on either path).
const Size kSizes[] = {{1, 1},    {7, 3},    {33, 10},     {127, 33},  {5, 1025}, {3, 2048},
                       {4, 4099}, {1025, 7}, {0, 5},       {4, 0},     {(1 << 17) + 3, 8},
                       {37, 32768}};

template <class T>
double rtol() { return sizeof(T) == 4 ? 2 * ulp1<float>() : 1e-12; }

template <class T>
void expect_loss_close(const std::vector<T>& gpu, const std::vector<T>& cpu, const std::string& what) {
    expect_close_to(gpu, cpu, rtol<T>(), 1e-12 * max_abs(as_double(cpu)), what);
}

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
    return std::vector<T>(v.begin(), v.end());
}

// Predictions: logits in [-8, 8], or probabilities in [0, 1) with about 1 in 16 exactly 0 (clip at eps).
std::vector<double> make_pred(int64_t n, bool from_logits, uint32_t seed) {
    std::vector<double> p = uniform(n, from_logits ? -8 : 0, from_logits ? 8 : 1, seed);
    if (!from_logits)
        for (size_t i = 0; i < p.size(); i += 16) p[i] = 0;
    return p;
}

// Targets: one-hot rows, or soft labels in [0, 1) with about a third exactly 0.
std::vector<double> make_target(int64_t B, int64_t C, bool one_hot, uint32_t seed) {
    std::vector<double> y = uniform(B * C, 0, 1, seed);
    std::mt19937 gen(seed + 1);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t i = 0; i < C; ++i) {
            double& v = y[size_t(b * C + i)];
            if (one_hot) v = i == int64_t(gen() % uint32_t(C)) ? 1 : 0;
            else if (gen() % 3 == 0) v = 0;
        }
    return y;
}

std::string label(const char* op, int64_t B, int64_t C, bool from_logits, DType dt) {
    return std::string(op) + " B=" + std::to_string(B) + " C=" + std::to_string(C) +
           (from_logits ? " logits " : " probs ") + dtype_name(dt);
}

// Dense cross-entropy, forward and backward, on both devices.
template <class T>
void check_cross_entropy(const std::vector<double>& pred_d, const std::vector<double>& target_d, int64_t B,
                         int64_t C, bool from_logits, const std::string& what) {
    const DType dt = dtype_of<T>();
    const std::vector<T> pred = cast<T>(pred_d), target = cast<T>(target_d);
    const std::vector<T> dloss = cast<T>(uniform(B, -2, 2, 7));
    std::vector<T> loss(static_cast<size_t>(B)), dpred(static_cast<size_t>(B * C));
    cpu_table().cross_entropy(dt, loss.data(), pred.data(), target.data(), B, C, from_logits, kEps);
    cpu_table().cross_entropy_backward(dt, dpred.data(), dloss.data(), pred.data(), target.data(), B, C,
                                       from_logits, kEps);
    Tensor p = to_cuda(pred), y = to_cuda(target), dl = to_cuda(dloss);
    Tensor l = cuda_empty<T>(B), dp = cuda_empty<T>(B * C);
    cuda_table().cross_entropy(dt, l.data_ptr(), p.data_ptr(), y.data_ptr(), B, C, from_logits, kEps);
    cuda_table().cross_entropy_backward(dt, dp.data_ptr(), dl.data_ptr(), p.data_ptr(), y.data_ptr(), B, C,
                                        from_logits, kEps);
    expect_loss_close(from_cuda<T>(l), loss, what + " forward");
    expect_loss_close(from_cuda<T>(dp), dpred, what + " backward");
}

// Sparse cross-entropy (valid labels), forward and backward, on both devices.
template <class T>
void check_sparse(const std::vector<double>& pred_d, const std::vector<int64_t>& labels, int64_t B, int64_t C,
                  bool from_logits, const std::string& what) {
    const DType dt = dtype_of<T>();
    const std::vector<T> pred = cast<T>(pred_d), dloss = cast<T>(uniform(B, -2, 2, 8));
    std::vector<T> loss(static_cast<size_t>(B)), dpred(static_cast<size_t>(B * C));
    ASSERT_EQ(cpu_table().sparse_cross_entropy(dt, loss.data(), pred.data(), labels.data(), B, C, from_logits, kEps),
              -1);
    cpu_table().sparse_cross_entropy_backward(dt, dpred.data(), dloss.data(), pred.data(), labels.data(), B, C,
                                              from_logits, kEps);
    Tensor p = to_cuda(pred), k = to_cuda(labels), dl = to_cuda(dloss);
    Tensor l = cuda_empty<T>(B), dp = cuda_empty<T>(B * C);
    const auto* kp = static_cast<const int64_t*>(k.data_ptr());
    EXPECT_EQ(cuda_table().sparse_cross_entropy(dt, l.data_ptr(), p.data_ptr(), kp, B, C, from_logits, kEps), -1)
        << what;
    cuda_table().sparse_cross_entropy_backward(dt, dp.data_ptr(), dl.data_ptr(), p.data_ptr(), kp, B, C,
                                               from_logits, kEps);
    expect_loss_close(from_cuda<T>(l), loss, what + " forward");
    expect_loss_close(from_cuda<T>(dp), dpred, what + " backward");
}

template <class T>
void cross_entropy_sizes() {
    for (const Size& s : kSizes)
        for (bool from_logits : {false, true})
            for (bool one_hot : {false, true}) {
                const std::vector<double> pred = make_pred(s.B * s.C, from_logits, 11);
                const std::vector<double> target = make_target(s.B, s.C, one_hot, 12);
                check_cross_entropy<T>(pred, target, s.B, s.C, from_logits,
                                       label(one_hot ? "ce one-hot" : "ce soft", s.B, s.C, from_logits,
                                             dtype_of<T>()));
            }
}

template <class T>
void sparse_sizes() {
    std::mt19937 gen(5);
    for (const Size& s : kSizes) {
        if (s.C == 0) continue;  // no valid label exists (see SparseCrossEntropyBadLabels)
        std::vector<int64_t> labels(static_cast<size_t>(s.B));
        for (int64_t& k : labels) k = int64_t(gen() % uint32_t(s.C));
        for (bool from_logits : {false, true})
            check_sparse<T>(make_pred(s.B * s.C, from_logits, 13), labels, s.B, s.C, from_logits,
                            label("sparse", s.B, s.C, from_logits, dtype_of<T>()));
    }
}

TEST(CudaLoss, CrossEntropyMatchesCpu) {
    CKERAS_SKIP_WITHOUT_CUDA();
    cross_entropy_sizes<float>();
    cross_entropy_sizes<double>();
}

TEST(CudaLoss, SparseCrossEntropyMatchesCpu) {
    CKERAS_SKIP_WITHOUT_CUDA();
    sparse_sizes<float>();
    sparse_sizes<double>();
}

// NaN and infinite logits, an all-zero probability row (0 / 0), probabilities of exactly 1 and eps, and
// one-element rows: the same NaNs, infinities and values on both devices, row by row.
template <class T>
void special_rows() {
    const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
    const int64_t C = 4;
    const std::vector<double> logits = {1, nan, 2, 3,   -inf, 1, 2, 3,  inf, 1, 2, 3,  0, 0, 0, 0,
                                        -1e300, 5, 6, 7};
    const std::vector<double> probs = {0, 0, 0, 0,   1, 0, 0, 0,   kEps, 1, 0, 0,  0.25, 0.25, 0.25, 0.25,
                                       nan, 0.5, 0.2, 0.1};
    const std::vector<double> target = {0, 1, 0, 0,  0, 1, 0, 0,  1, 0, 0, 0,  0.5, 0.5, 0, 0,  0, 0, 1, 0};
    const std::vector<int64_t> labels = {1, 0, 0, 3, 2};
    const int64_t B = int64_t(target.size()) / C;
    for (bool from_logits : {false, true}) {
        const std::vector<double>& pred = from_logits ? logits : probs;
        check_cross_entropy<T>(pred, target, B, C, from_logits, label("ce special", B, C, from_logits, dtype_of<T>()));
        check_sparse<T>(pred, labels, B, C, from_logits, label("sparse special", B, C, from_logits, dtype_of<T>()));
        // C = 1: q = 1 is clipped to 1 - eps (zero gradient through the clip).
        check_cross_entropy<T>({0.3, 2, 1e-9}, {1, 0.5, 1}, 3, 1, from_logits,
                               label("ce one column", 3, 1, from_logits, dtype_of<T>()));
    }
}

TEST(CudaLoss, SpecialValuesMatchCpu) {
    CKERAS_SKIP_WITHOUT_CUDA();
    special_rows<float>();
    special_rows<double>();
}

// Bad labels at several rows, across many blocks: both devices return the lowest bad row and write no loss.
TEST(CudaLoss, SparseCrossEntropyBadLabels) {
    CKERAS_SKIP_WITHOUT_CUDA();
    struct Case {
        int64_t B, C;
        std::vector<std::pair<int64_t, int64_t>> bad;  // (row, label)
        int64_t expect;
    };
    const Case cases[] = {
        {9, 3, {{8, 3}, {4, -1}}, 4},
        {(1 << 20) + 3, 3, {{1000003, 7}, {700001, -5}, {1048578, 3}, {700002, 3}}, 700001},
        {(1 << 20) + 3, 3, {{(1 << 20) + 2, 3}}, (1 << 20) + 2},
        {5, 0, {}, 0},  // C = 0: every label is out of range
        {0, 3, {}, -1},
    };
    for (const Case& c : cases) {
        std::vector<int64_t> labels(static_cast<size_t>(c.B), 1);
        if (c.C == 0) labels.assign(size_t(c.B), 0);
        for (auto [row, value] : c.bad) labels[size_t(row)] = value;
        const std::vector<float> pred(static_cast<size_t>(c.B * c.C), 0.25f);
        const std::string what = "B=" + std::to_string(c.B) + " C=" + std::to_string(c.C);
        std::vector<float> loss(static_cast<size_t>(c.B), 7.f);
        EXPECT_EQ(cpu_table().sparse_cross_entropy(DType::Float32, loss.data(), pred.data(), labels.data(), c.B, c.C,
                                                   true, kEps),
                  c.expect)
            << what;
        Tensor p = to_cuda(pred), k = to_cuda(labels), l = to_cuda(loss);
        EXPECT_EQ(cuda_table().sparse_cross_entropy(DType::Float32, l.data_ptr(), p.data_ptr(),
                                                    static_cast<const int64_t*>(k.data_ptr()), c.B, c.C, true, kEps),
                  c.expect)
            << what;
        if (c.expect >= 0) expect_bits_equal(from_cuda<float>(l), loss, what + ": loss left untouched");
    }
}

// Binary cross-entropy over (n,): probabilities including 0, 1 and the clip bounds eps and 1 - eps (in T),
// logits including +-40, +-0 and NaN.
template <class T>
void binary_sizes() {
    const DType dt = dtype_of<T>();
    const T lo = T(kEps), hi = T(1) - lo;
    for (int64_t n : {int64_t(0), int64_t(1), int64_t(7), int64_t(33), int64_t(127), int64_t(1025),
                      int64_t((1 << 20) + 3)}) {
        for (bool from_logits : {false, true}) {
            std::vector<double> pd = uniform(n, from_logits ? -12 : 0, from_logits ? 12 : 1, 21);
            const std::vector<double> specials =
                from_logits ? std::vector<double>{40, -40, 0, -0.0, std::nan(""), 1e-30, -3.5}
                            : std::vector<double>{0, 1, double(lo), double(hi), 0.5, std::nan(""), 1e-30};
            for (size_t i = 0; i < pd.size() && i < specials.size(); ++i) pd[i * 37 % pd.size()] = specials[i];
            std::vector<double> yd = uniform(n, 0, 1, 22);
            for (size_t i = 1; i < yd.size(); i += 5) yd[i] = double(i % 2);
            const std::vector<T> pred = cast<T>(pd), target = cast<T>(yd), dloss = cast<T>(uniform(n, -2, 2, 23));
            std::vector<T> loss(static_cast<size_t>(n)), dpred(static_cast<size_t>(n));
            cpu_table().binary_cross_entropy(dt, loss.data(), pred.data(), target.data(), n, from_logits, kEps);
            cpu_table().binary_cross_entropy_backward(dt, dpred.data(), dloss.data(), pred.data(), target.data(), n,
                                                      from_logits, kEps);
            Tensor p = to_cuda(pred), y = to_cuda(target), dl = to_cuda(dloss);
            Tensor l = cuda_empty<T>(n), dp = cuda_empty<T>(n);
            cuda_table().binary_cross_entropy(dt, l.data_ptr(), p.data_ptr(), y.data_ptr(), n, from_logits, kEps);
            cuda_table().binary_cross_entropy_backward(dt, dp.data_ptr(), dl.data_ptr(), p.data_ptr(), y.data_ptr(), n,
                                                       from_logits, kEps);
            const std::string what = label("bce", n, 1, from_logits, dt);
            expect_loss_close(from_cuda<T>(l), loss, what + " forward");
            expect_loss_close(from_cuda<T>(dp), dpred, what + " backward");
        }
    }
}

TEST(CudaLoss, BinaryCrossEntropyMatchesCpu) {
    CKERAS_SKIP_WITHOUT_CUDA();
    binary_sizes<float>();
    binary_sizes<double>();
}

// Mean squared / absolute error: forward within the tolerance (row sums), backward by bits; equal
// prediction and target (sign 0), a NaN, and C = 0 (NaN loss) included.
template <class T>
void regression_sizes() {
    const DType dt = dtype_of<T>();
    for (const Size& s : kSizes) {
        for (bool abs : {false, true}) {
            const int64_t n = s.B * s.C;
            std::vector<double> pd = uniform(n, -3, 3, 31), td = uniform(n, -3, 3, 32);
            for (size_t i = 0; i < pd.size(); i += 9) td[i] = pd[i];
            if (n > 2) pd[2] = std::nan("");
            const std::vector<T> pred = cast<T>(pd), target = cast<T>(td), dloss = cast<T>(uniform(s.B, -2, 2, 33));
            std::vector<T> loss(static_cast<size_t>(s.B)), dpred(static_cast<size_t>(n));
            cpu_table().regression_loss(dt, loss.data(), pred.data(), target.data(), s.B, s.C, abs);
            cpu_table().regression_loss_backward(dt, dpred.data(), dloss.data(), pred.data(), target.data(), s.B,
                                                 s.C, abs);
            Tensor p = to_cuda(pred), t = to_cuda(target), dl = to_cuda(dloss);
            Tensor l = cuda_empty<T>(s.B), dp = cuda_empty<T>(n);
            cuda_table().regression_loss(dt, l.data_ptr(), p.data_ptr(), t.data_ptr(), s.B, s.C, abs);
            cuda_table().regression_loss_backward(dt, dp.data_ptr(), dl.data_ptr(), p.data_ptr(), t.data_ptr(), s.B,
                                                  s.C, abs);
            const std::string what = std::string(abs ? "mae" : "mse") + " B=" + std::to_string(s.B) +
                                     " C=" + std::to_string(s.C) + " " + dtype_name(dt);
            expect_loss_close(from_cuda<T>(l), loss, what + " forward");
            expect_bits_equal(from_cuda<T>(dp), dpred, what + " backward");
        }
    }
}

TEST(CudaLoss, RegressionLossMatchesCpu) {
    CKERAS_SKIP_WITHOUT_CUDA();
    regression_sizes<float>();
    regression_sizes<double>();
}

// Integer dtypes raise TypeError on both devices before anything runs.
TEST(CudaLoss, IntegerDtypeIsRejected) {
    CKERAS_SKIP_WITHOUT_CUDA();
    for (const KernelTable* t : {&cpu_table(), &cuda_table()}) {
        expect_error([&] { t->cross_entropy(DType::Int32, nullptr, nullptr, nullptr, 1, 1, true, kEps); },
                     ErrorKind::Type, {"int32"});
        expect_error([&] { t->sparse_cross_entropy(DType::Int64, nullptr, nullptr, nullptr, 0, 1, true, kEps); },
                     ErrorKind::Type, {"int64"});
        expect_error([&] { t->binary_cross_entropy(DType::Bool, nullptr, nullptr, nullptr, 1, true, kEps); },
                     ErrorKind::Type, {"bool"});
        expect_error([&] { t->regression_loss(DType::Int32, nullptr, nullptr, nullptr, 1, 1, false); },
                     ErrorKind::Type, {"int32"});
    }
}

}  // namespace
