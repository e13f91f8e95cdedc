// Fused loss CPU kernels, forward and backward: categorical cross-entropy (dense and sparse targets, from
// probabilities or logits), binary cross-entropy, and mean squared / absolute error. float32 and float64;
// everything is computed in double and rounded once on store. Each backward is the exact derivative of
// the forward as written here (0 where a clip is active), so finite differences of the forward match it.
//
// Layouts: pred, target, dpred: (B, C) row-major; labels: (B,) int64; loss, dloss: (B,). Binary CE is
// elementwise over (n,).
#include <cmath>

#include "cpu/cpu_common.h"

namespace ckeras::cpu {
namespace {

constexpr int64_t kRowGrain = 1 << 13;  // elements per thread chunk (exp/log-bound)

// Probability clip to [lo, hi] = [eps, 1 - eps], both held in T as a T-precision framework holds them
// (float32: hi = 0.99999988, so -log(1 - hi) = 15.94). The gradient passes where lo <= q <= hi (clip
// inactive, boundaries included, as torch.clamp and TF do).
struct Clip {
    double lo, hi;
    double operator()(double q) const { return q < lo ? lo : (q > hi ? hi : q); }  // NaN passes through
    bool passes(double q) const { return q >= lo && q <= hi; }
};
// hi is computed as T(1) - lo on purpose: GCC 12.2 at -O2 SLP-vectorises the pair
// {double(float(eps)), double(float(1.0 - eps))} and then folds the float round trip away (wrong code).
template <class T>
Clip make_clip(double eps) {
    T lo = static_cast<T>(eps);
    T hi = T(1) - lo;
    return {double(lo), double(hi)};
}

// Row max, NaN-sticky. C >= 1.
template <class T>
double row_max(const T* z, int64_t C) {
    double m = z[0];
    for (int64_t i = 1; i < C; ++i) m = (m > z[i] || m != m) ? m : double(z[i]);
    return m;
}

// Row max m and log(sum(exp(z - m))): logsumexp(z) = m + ls. C >= 1.
template <class T>
void row_lse(const T* z, int64_t C, double& m, double& ls) {
    m = row_max(z, C);
    double s = 0;
    for (int64_t i = 0; i < C; ++i) s += std::exp(double(z[i]) - m);
    ls = std::log(s);
}

// emit(i, softmax(z)_i) for each i, in double. Up to kKeptExps classes the exponentials are kept and
// divided by their sum: one exp per element (the backward's cost was two, and a log); wider rows take
// exp(z_i - m - ls). NaN, ±inf logits give what both formulas give: NaN wherever z - m is NaN.
constexpr int64_t kKeptExps = 256;
template <class T, class Emit>
void row_softmax(const T* z, int64_t C, Emit&& emit) {
    if (C > kKeptExps) {
        double m, ls;
        row_lse(z, C, m, ls);
        for (int64_t i = 0; i < C; ++i) emit(i, std::exp(double(z[i]) - m - ls));
        return;
    }
    const double m = row_max(z, C);
    double e[kKeptExps], s = 0;
    for (int64_t i = 0; i < C; ++i) s += (e[i] = std::exp(double(z[i]) - m));
    for (int64_t i = 0; i < C; ++i) emit(i, e[i] / s);
}

template <class T>
double row_sum(const T* p, int64_t C) {
    double s = 0;
    for (int64_t i = 0; i < C; ++i) s += p[i];
    return s;
}

// ---- categorical cross-entropy, dense targets; one row: pred, target, dpred (C,) ------------------------

// logits: sum_i y_i * (logsumexp(z) - z_i) = logsumexp(z) * sum(y) - sum(y * z). Every term is taken, as in
//         that formula and TF: a -inf logit gives 0 * inf = NaN even where its target is 0. C == 0 gives 0.
// probs:  q = p / sum(p), c = clip(q), loss = -sum_i y_i * log(c_i); an all-zero row gives 0/0 = NaN.
template <class T>
double ce_forward_row(const T* p, const T* y, int64_t C, bool from_logits, Clip clip) {
    if (C == 0) return 0.0;
    double loss = 0;
    if (from_logits) {
        double m, ls;
        row_lse(p, C, m, ls);
        for (int64_t i = 0; i < C; ++i) loss += double(y[i]) * ((m - double(p[i])) + ls);
    } else {
        double S = row_sum(p, C);
        for (int64_t i = 0; i < C; ++i) loss -= double(y[i]) * std::log(clip(double(p[i]) / S));
    }
    return loss;
}

// logits: dz_j = dl * (softmax_j * sum(y) - y_j).
// probs:  g_i = -y_i / c_i where the clip passes (else 0); dp_j = dl * (g_j - sum_i g_i q_i) / S.
template <class T>
void ce_backward_row(T* dp, double dl, const T* p, const T* y, int64_t C, bool from_logits, Clip clip) {
    if (C == 0) return;
    if (from_logits) {
        const double sum_y = row_sum(y, C);
        row_softmax(p, C, [&](int64_t i, double q) { dp[i] = static_cast<T>(dl * (q * sum_y - double(y[i]))); });
        return;
    }
    double S = row_sum(p, C), G = 0;
    for (int64_t i = 0; i < C; ++i) {
        double q = double(p[i]) / S;
        G += clip.passes(q) ? -double(y[i]) / clip(q) * q : 0.0;
    }
    for (int64_t i = 0; i < C; ++i) {
        double q = double(p[i]) / S;
        double g = clip.passes(q) ? -double(y[i]) / clip(q) : 0.0;
        dp[i] = static_cast<T>(dl * (g - G) / S);
    }
}

// ---- sparse targets: label k in [0, C) stands for the one-hot row; only its term enters the loss --------

// logits: logsumexp(z) - z_k.  probs: -log(clip(p_k / sum(p))).
template <class T>
double sparse_forward_row(const T* p, int64_t k, int64_t C, bool from_logits, Clip clip) {
    if (from_logits) {
        double m, ls;
        row_lse(p, C, m, ls);
        return (m - double(p[k])) + ls;
    }
    return -std::log(clip(double(p[k]) / row_sum(p, C)));
}

// logits: dz_j = dl * (softmax_j - [j == k]).  probs: g = -1 / c_k if the clip passes (else 0);
// dp_j = dl * g * ([j == k] - q_k) / S.
template <class T>
void sparse_backward_row(T* dp, double dl, const T* p, int64_t k, int64_t C, bool from_logits, Clip clip) {
    if (from_logits) {
        row_softmax(p, C, [&](int64_t i, double q) { dp[i] = static_cast<T>(dl * (q - (i == k ? 1.0 : 0.0))); });
        return;
    }
    double S = row_sum(p, C), q = double(p[k]) / S;
    double g = clip.passes(q) ? -1.0 / clip(q) : 0.0;
    for (int64_t i = 0; i < C; ++i) dp[i] = static_cast<T>(dl * g * ((i == k ? 1.0 : 0.0) - q) / S);
}

// First b with labels[b] outside [0, C), or -1.
int64_t first_bad_label(const int64_t* labels, int64_t B, int64_t C) {
    for (int64_t b = 0; b < B; ++b)
        if (labels[b] < 0 || labels[b] >= C) return b;
    return -1;
}

// ---- binary cross-entropy, one element ---------------------------------------------------------------

// logits: max(z, 0) - z * y + log1p(exp(-|z|)).  probs: c = clip(p), -(y log c + (1 - y) log(1 - c)).
inline double bce_forward(double p, double y, bool from_logits, Clip clip) {
    if (from_logits) return (p > 0 ? p : 0.0) - p * y + std::log1p(std::exp(-std::abs(p)));
    double c = clip(p);
    return -(y * std::log(c) + (1 - y) * std::log(1 - c));
}

// logits: sigmoid(z) - y (the pieces of the stable form sum to it on both sides of 0).
// probs: -y / c + (1 - y) / (1 - c) where the clip passes, else 0.
inline double bce_backward(double p, double y, bool from_logits, Clip clip) {
    if (from_logits) {
        double e = std::exp(-std::abs(p));
        return (p >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e)) - y;
    }
    return clip.passes(p) ? -y / p + (1 - y) / (1 - p) : 0.0;
}

// ---- the slots -----------------------------------------------------------------------------------

void cross_entropy_cpu(DType dtype, void* loss, const void* pred, const void* target, int64_t B, int64_t C,
                       bool from_logits, double eps) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        T* l = static_cast<T*>(loss);
        const T* p = static_cast<const T*>(pred);
        const T* y = static_cast<const T*>(target);
        Clip clip = make_clip<T>(eps);
        parallel_for(B, kRowGrain / (C + 1) + 1, [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b)
                l[b] = static_cast<T>(ce_forward_row(p + b * C, y + b * C, C, from_logits, clip));
        });
    });
}

void cross_entropy_backward_cpu(DType dtype, void* dpred, const void* dloss, const void* pred, const void* target,
                                int64_t B, int64_t C, bool from_logits, double eps) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        T* dp = static_cast<T*>(dpred);
        const T* dl = static_cast<const T*>(dloss);
        const T* p = static_cast<const T*>(pred);
        const T* y = static_cast<const T*>(target);
        Clip clip = make_clip<T>(eps);
        parallel_for(B, kRowGrain / (C + 1) + 1, [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b)
                ce_backward_row(dp + b * C, double(dl[b]), p + b * C, y + b * C, C, from_logits, clip);
        });
    });
}

// Validates every label before touching memory: on a bad label, returns its row and writes nothing.
int64_t sparse_cross_entropy_cpu(DType dtype, void* loss, const void* pred, const int64_t* labels, int64_t B,
                                 int64_t C, bool from_logits, double eps) {
    int64_t bad = first_bad_label(labels, B, C);
    if (bad >= 0) return bad;
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        T* l = static_cast<T*>(loss);
        const T* p = static_cast<const T*>(pred);
        Clip clip = make_clip<T>(eps);
        parallel_for(B, kRowGrain / (C + 1) + 1, [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b)
                l[b] = static_cast<T>(sparse_forward_row(p + b * C, labels[b], C, from_logits, clip));
        });
    });
    return -1;
}

// The forward has validated the labels; a bad one here still raises ValueError before any write.
void sparse_cross_entropy_backward_cpu(DType dtype, void* dpred, const void* dloss, const void* pred,
                                       const int64_t* labels, int64_t B, int64_t C, bool from_logits, double eps) {
    int64_t bad = first_bad_label(labels, B, C);
    CKERAS_CHECK(bad < 0, "Received a label value of ", bad < 0 ? 0 : labels[bad],
                 " which is outside the valid range of [0, ", C, ")");
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        T* dp = static_cast<T*>(dpred);
        const T* dl = static_cast<const T*>(dloss);
        const T* p = static_cast<const T*>(pred);
        Clip clip = make_clip<T>(eps);
        parallel_for(B, kRowGrain / (C + 1) + 1, [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b)
                sparse_backward_row(dp + b * C, double(dl[b]), p + b * C, labels[b], C, from_logits, clip);
        });
    });
}

void binary_cross_entropy_cpu(DType dtype, void* loss, const void* pred, const void* target, int64_t n,
                              bool from_logits, double eps) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        T* l = static_cast<T*>(loss);
        const T* p = static_cast<const T*>(pred);
        const T* y = static_cast<const T*>(target);
        Clip clip = make_clip<T>(eps);
        parallel_for(n, kRowGrain, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i)
                l[i] = static_cast<T>(bce_forward(double(p[i]), double(y[i]), from_logits, clip));
        });
    });
}

void binary_cross_entropy_backward_cpu(DType dtype, void* dpred, const void* dloss, const void* pred,
                                       const void* target, int64_t n, bool from_logits, double eps) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        T* dp = static_cast<T*>(dpred);
        const T* dl = static_cast<const T*>(dloss);
        const T* p = static_cast<const T*>(pred);
        const T* y = static_cast<const T*>(target);
        Clip clip = make_clip<T>(eps);
        parallel_for(n, kRowGrain, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i)
                dp[i] = static_cast<T>(double(dl[i]) * bce_backward(double(p[i]), double(y[i]), from_logits, clip));
        });
    });
}

// Mean over C of (p - t)^2 (abs = false) or |p - t| (abs = true); C == 0 gives NaN (mean of nothing).
void regression_loss_cpu(DType dtype, void* loss, const void* pred, const void* target, int64_t B, int64_t C,
                         bool abs) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        T* l = static_cast<T*>(loss);
        const T* p = static_cast<const T*>(pred);
        const T* t = static_cast<const T*>(target);
        parallel_for(B, kElementwiseGrain / (C + 1) + 1, [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b) {
                double s = 0;
                for (int64_t i = b * C; i < (b + 1) * C; ++i) {
                    double d = double(p[i]) - double(t[i]);
                    s += abs ? std::abs(d) : d * d;
                }
                l[b] = static_cast<T>(s / double(C));
            }
        });
    });
}

// dp = dl * 2 (p - t) / C, or dl * sign(p - t) / C with sign(0) = 0 (NaN stays NaN).
void regression_loss_backward_cpu(DType dtype, void* dpred, const void* dloss, const void* pred,
                                  const void* target, int64_t B, int64_t C, bool abs) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        T* dp = static_cast<T*>(dpred);
        const T* dl = static_cast<const T*>(dloss);
        const T* p = static_cast<const T*>(pred);
        const T* t = static_cast<const T*>(target);
        parallel_for(B, kElementwiseGrain / (C + 1) + 1, [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b) {
                double scale = double(dl[b]) / double(C);
                for (int64_t i = b * C; i < (b + 1) * C; ++i) {
                    double d = double(p[i]) - double(t[i]);
                    double g = abs ? (d > 0 ? 1.0 : d < 0 ? -1.0 : d) : 2 * d;  // d == 0 -> 0, NaN -> NaN
                    dp[i] = static_cast<T>(scale * g);
                }
            }
        });
    });
}

}  // namespace

void register_loss_cpu(KernelTable& t) {
    t.cross_entropy = cross_entropy_cpu;
    t.cross_entropy_backward = cross_entropy_backward_cpu;
    t.sparse_cross_entropy = sparse_cross_entropy_cpu;
    t.sparse_cross_entropy_backward = sparse_cross_entropy_backward_cpu;
    t.binary_cross_entropy = binary_cross_entropy_cpu;
    t.binary_cross_entropy_backward = binary_cross_entropy_backward_cpu;
    t.regression_loss = regression_loss_cpu;
    t.regression_loss_backward = regression_loss_backward_cpu;
}

}  // namespace ckeras::cpu
