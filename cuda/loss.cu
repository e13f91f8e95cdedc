// CUDA kernels for the fused losses, forward and backward: categorical cross-entropy with dense targets
// and with sparse int64 labels (from probabilities or logits), binary cross-entropy, and the mean squared /
// absolute error; twins of cpp/src/cpu/loss_cpu.cpp (same formulas, double math, one rounding on store).
// A team of threads (a warp, or a block for rows of 2048 and more) owns one row of a row-wise loss.
//
// Layouts: pred, target, dpred: (B, C) row-major; labels: (B,) int64; loss, dloss: (B,). Binary CE is
// elementwise over (n,).
#include <climits>

#include "cpu/cpu_common.h"
#include "team_reduce.cuh"

namespace ckeras::cuda {
namespace {

// ---- shared pieces: the probability clip and per-row reductions ------------------------------------

// Probability clip to [lo, hi] = [eps, 1 - eps], both held in T as the CPU twin holds them (float32:
// hi = 0.99999988). The gradient passes where lo <= q <= hi (boundaries included).
struct Clip {
    double lo, hi;
    __device__ double operator()(double q) const { return q < lo ? lo : (q > hi ? hi : q); }  // NaN passes
    __device__ bool passes(double q) const { return q >= lo && q <= hi; }
};
// hi = T(1) - lo, the CPU's exact form (see make_clip in loss_cpu.cpp for why).
template <class T>
Clip make_clip(double eps) {
    T lo = static_cast<T>(eps);
    T hi = T(1) - lo;
    return {double(lo), double(hi)};
}

// Sum of a row over the team: each lane takes elements lane, lane + W, ...
template <int W, class T>
__device__ double row_sum(const T* p, int64_t C, int lane) {
    double s = 0;
    for (int64_t i = lane; i < C; i += W) s += double(p[i]);
    return team_sum<W>(s);
}

// Row max m (NaN-sticky) and ls = log(sum(exp(z - m))), so logsumexp(z) = m + ls.
template <int W, class T>
__device__ void row_lse(const T* z, int64_t C, int lane, double& m, double& ls) {
    double mx = -INFINITY;
    for (int64_t i = lane; i < C; i += W) mx = NanMaxOp{}(mx, double(z[i]));
    m = team_max<W>(mx);
    double s = 0;
    for (int64_t i = lane; i < C; i += W) s += exp(double(z[i]) - m);
    ls = log(team_sum<W>(s));
}

// ---- dense targets -------------------------------------------------------------------------------

// logits: sum_i y_i * ((m - z_i) + ls), every term taken (a -inf logit gives NaN, as on the CPU).
// probs:  q = p / sum(p), loss = -sum_i y_i * log(clip(q)). C == 0 gives 0.
template <class T>
struct CrossEntropyForward {
    T* loss;
    const T* pred;
    const T* target;
    int64_t C;
    bool from_logits;
    Clip clip;

    template <int W>
    __device__ void row(int64_t b, int lane) const {
        const T* p = pred + b * C;
        const T* y = target + b * C;
        double s = 0, l;
        if (from_logits) {
            double m, ls;
            row_lse<W>(p, C, lane, m, ls);
            for (int64_t i = lane; i < C; i += W) s += double(y[i]) * ((m - double(p[i])) + ls);
            l = team_sum<W>(s);
        } else {
            const double S = row_sum<W>(p, C, lane);
            for (int64_t i = lane; i < C; i += W) s += double(y[i]) * log(clip(double(p[i]) / S));
            l = 0.0 - team_sum<W>(s);
        }
        if (lane == 0) loss[b] = static_cast<T>(l);
    }
};

// logits: dz_j = dl * (softmax_j * sum(y) - y_j).
// probs:  g_i = -y_i / c_i where the clip passes (else 0); dp_j = dl * (g_j - sum_i g_i q_i) / S.
template <class T>
struct CrossEntropyBackward {
    T* dpred;
    const T* dloss;
    const T* pred;
    const T* target;
    int64_t C;
    bool from_logits;
    Clip clip;

    template <int W>
    __device__ void row(int64_t b, int lane) const {
        const T* p = pred + b * C;
        const T* y = target + b * C;
        T* dp = dpred + b * C;
        const double dl = double(dloss[b]);
        if (from_logits) {
            const double sum_y = row_sum<W>(y, C, lane);
            double m, ls;
            row_lse<W>(p, C, lane, m, ls);
            for (int64_t i = lane; i < C; i += W)
                dp[i] = static_cast<T>(dl * (exp(double(p[i]) - m - ls) * sum_y - double(y[i])));
            return;
        }
        const double S = row_sum<W>(p, C, lane);
        double G = 0;
        for (int64_t i = lane; i < C; i += W) {
            const double q = double(p[i]) / S;
            G += clip.passes(q) ? -double(y[i]) / clip(q) * q : 0.0;
        }
        G = team_sum<W>(G);
        for (int64_t i = lane; i < C; i += W) {
            const double q = double(p[i]) / S;
            const double g = clip.passes(q) ? -double(y[i]) / clip(q) : 0.0;
            dp[i] = static_cast<T>(dl * (g - G) / S);
        }
    }
};

// ---- sparse targets: label k in [0, C) stands for the one-hot row ----------------------------------

// logits: (m - z_k) + ls.  probs: -log(clip(p_k / sum(p))). Labels are validated before the launch.
template <class T>
struct SparseForward {
    T* loss;
    const T* pred;
    const int64_t* labels;
    int64_t C;
    bool from_logits;
    Clip clip;

    template <int W>
    __device__ void row(int64_t b, int lane) const {
        const T* p = pred + b * C;
        const int64_t k = labels[b];
        double l;
        if (from_logits) {
            double m, ls;
            row_lse<W>(p, C, lane, m, ls);
            l = (m - double(p[k])) + ls;
        } else {
            const double S = row_sum<W>(p, C, lane);
            l = -log(clip(double(p[k]) / S));
        }
        if (lane == 0) loss[b] = static_cast<T>(l);
    }
};

// logits: dz_j = dl * (softmax_j - [j == k]).  probs: g = -1 / c_k if the clip passes (else 0);
// dp_j = dl * g * ([j == k] - q_k) / S. The CPU twin raises on a label outside [0, C) (the forward has
// already rejected it); here, without a host synchronisation, such a row is filled with NaN instead.
template <class T>
struct SparseBackward {
    T* dpred;
    const T* dloss;
    const T* pred;
    const int64_t* labels;
    int64_t C;
    bool from_logits;
    Clip clip;

    template <int W>
    __device__ void row(int64_t b, int lane) const {
        const T* p = pred + b * C;
        T* dp = dpred + b * C;
        const int64_t k = labels[b];
        if (k < 0 || k >= C) {  // uniform over the team: no reduction is skipped by part of it
            for (int64_t i = lane; i < C; i += W) dp[i] = static_cast<T>(NAN);
            return;
        }
        const double dl = double(dloss[b]);
        if (from_logits) {
            double m, ls;
            row_lse<W>(p, C, lane, m, ls);
            for (int64_t i = lane; i < C; i += W)
                dp[i] = static_cast<T>(dl * (exp(double(p[i]) - m - ls) - (i == k ? 1.0 : 0.0)));
            return;
        }
        const double S = row_sum<W>(p, C, lane), q = double(p[k]) / S;
        const double g = clip.passes(q) ? -1.0 / clip(q) : 0.0;
        for (int64_t i = lane; i < C; i += W) dp[i] = static_cast<T>(dl * g * ((i == k ? 1.0 : 0.0) - q) / S);
    }
};

// *first_bad = min(*first_bad, every b with labels[b] outside [0, C)); *first_bad starts at ULLONG_MAX.
__global__ void first_bad_label_kernel(unsigned long long* first_bad, const int64_t* labels, int64_t B,
                                       int64_t C) {
    unsigned long long mine = ULLONG_MAX;
    for (int64_t b = global_thread(); b < B; b += global_threads()) {
        if (labels[b] < 0 || labels[b] >= C) {
            mine = static_cast<unsigned long long>(b);  // this thread's rows only grow: the first is its least
            break;
        }
    }
    for (int d = 16; d > 0; d >>= 1) {
        const unsigned long long other = __shfl_xor_sync(kFullMask, mine, d);
        mine = other < mine ? other : mine;
    }
    if (threadIdx.x % 32 == 0 && mine != ULLONG_MAX) atomicMin(first_bad, mine);
}

// The lowest b with a label outside [0, C), or -1: one small launch and one read back (a synchronisation).
int64_t first_bad_label(const int64_t* labels, int64_t B, int64_t C) {
    if (B <= 0) return -1;
    std::shared_ptr<void> buf = scratch(sizeof(unsigned long long));
    auto* first_bad = static_cast<unsigned long long*>(buf.get());
    CKERAS_CUDA_CHECK(cudaMemsetAsync(first_bad, 0xff, sizeof(unsigned long long), stream()));
    first_bad_label_kernel<<<grid_for(B), kBlock, 0, stream()>>>(first_bad, labels, B, C);
    CKERAS_CUDA_LAUNCHED("sparse_categorical_crossentropy");
    unsigned long long host = 0;
    copy_to_host(&host, first_bad, sizeof(host));
    return host == ULLONG_MAX ? -1 : static_cast<int64_t>(host);
}

// ---- binary cross-entropy, one element -------------------------------------------------------------

// logits: max(z, 0) - z * y + log1p(exp(-|z|)).  probs: c = clip(p), -(y log c + (1 - y) log(1 - c)).
__device__ inline double bce_forward(double p, double y, bool from_logits, Clip clip) {
    if (from_logits) return (p > 0 ? p : 0.0) - p * y + log1p(exp(-fabs(p)));
    const double c = clip(p);
    return -(y * log(c) + (1 - y) * log(1 - c));
}

// logits: sigmoid(z) - y.  probs: -y / c + (1 - y) / (1 - c) where the clip passes, else 0.
__device__ inline double bce_backward(double p, double y, bool from_logits, Clip clip) {
    if (from_logits) {
        const double e = exp(-fabs(p));
        return (p >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e)) - y;
    }
    return clip.passes(p) ? -y / p + (1 - y) / (1 - p) : 0.0;
}

// loss, pred, target: (n,).
template <class T>
__global__ void binary_cross_entropy_forward_kernel(T* loss, const T* pred, const T* target, int64_t n,
                                                    bool from_logits, Clip clip) {
    for (int64_t i = global_thread(); i < n; i += global_threads())
        loss[i] = static_cast<T>(bce_forward(double(pred[i]), double(target[i]), from_logits, clip));
}

// dpred, dloss, pred, target: (n,).
template <class T>
__global__ void binary_cross_entropy_backward_kernel(T* dpred, const T* dloss, const T* pred, const T* target,
                                                     int64_t n, bool from_logits, Clip clip) {
    for (int64_t i = global_thread(); i < n; i += global_threads())
        dpred[i] = static_cast<T>(double(dloss[i]) *
                                  bce_backward(double(pred[i]), double(target[i]), from_logits, clip));
}

// ---- mean squared / absolute error -------------------------------------------------------------------

// loss[b] = mean over C of (p - t)^2 or |p - t|; C == 0 gives NaN (0 / 0), as on the CPU.
template <class T>
struct RegressionForward {
    T* loss;
    const T* pred;
    const T* target;
    int64_t C;
    bool abs;

    template <int W>
    __device__ void row(int64_t b, int lane) const {
        double s = 0;
        for (int64_t i = b * C + lane; i < (b + 1) * C; i += W) {
            const double d = double(pred[i]) - double(target[i]);
            s += abs ? fabs(d) : d * d;
        }
        s = team_sum<W>(s);
        if (lane == 0) loss[b] = static_cast<T>(s / double(C));
    }
};

// dp = dl * 2 (p - t) / C, or dl * sign(p - t) / C with sign(0) = 0 (NaN stays NaN); the CPU's exact
// operations, so the bits agree. dpred, pred, target: (B, C) viewed flat; dloss: (B,).
template <class T>
__global__ void regression_loss_backward_kernel(T* dpred, const T* dloss, const T* pred, const T* target,
                                                int64_t B, int64_t C, bool abs) {
    const int64_t n = B * C;
    for (int64_t i = global_thread(); i < n; i += global_threads()) {
        const double scale = double(dloss[i / C]) / double(C);
        const double d = double(pred[i]) - double(target[i]);
        const double g = abs ? (d > 0 ? 1.0 : d < 0 ? -1.0 : d) : 2 * d;
        dpred[i] = static_cast<T>(scale * g);
    }
}

// ---- the slots -----------------------------------------------------------------------------------

void cross_entropy_cuda(DType dtype, void* loss, const void* pred, const void* target, int64_t B, int64_t C,
                        bool from_logits, double eps) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        CrossEntropyForward<T> body{static_cast<T*>(loss), static_cast<const T*>(pred),
                                    static_cast<const T*>(target), C, from_logits, make_clip<T>(eps)};
        launch_rows(body, B, C, "categorical_crossentropy");
    });
}

void cross_entropy_backward_cuda(DType dtype, void* dpred, const void* dloss, const void* pred,
                                 const void* target, int64_t B, int64_t C, bool from_logits, double eps) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        CrossEntropyBackward<T> body{static_cast<T*>(dpred), static_cast<const T*>(dloss),
                                     static_cast<const T*>(pred), static_cast<const T*>(target), C,
                                     from_logits, make_clip<T>(eps)};
        launch_rows(body, B, C, "categorical_crossentropy_backward");
    });
}

// Validates every label before touching memory: on a bad label, returns its row and writes nothing.
int64_t sparse_cross_entropy_cuda(DType dtype, void* loss, const void* pred, const int64_t* labels, int64_t B,
                                  int64_t C, bool from_logits, double eps) {
    const int64_t bad = first_bad_label(labels, B, C);
    if (bad >= 0) return bad;
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        SparseForward<T> body{static_cast<T*>(loss), static_cast<const T*>(pred), labels, C, from_logits,
                              make_clip<T>(eps)};
        launch_rows(body, B, C, "sparse_categorical_crossentropy");
    });
    return -1;
}

void sparse_cross_entropy_backward_cuda(DType dtype, void* dpred, const void* dloss, const void* pred,
                                        const int64_t* labels, int64_t B, int64_t C, bool from_logits,
                                        double eps) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        SparseBackward<T> body{static_cast<T*>(dpred), static_cast<const T*>(dloss), static_cast<const T*>(pred),
                               labels, C, from_logits, make_clip<T>(eps)};
        launch_rows(body, B, C, "sparse_categorical_crossentropy_backward");
    });
}

void binary_cross_entropy_cuda(DType dtype, void* loss, const void* pred, const void* target, int64_t n,
                               bool from_logits, double eps) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        if (n <= 0) return;
        binary_cross_entropy_forward_kernel<T><<<grid_for(n), kBlock, 0, stream()>>>(
            static_cast<T*>(loss), static_cast<const T*>(pred), static_cast<const T*>(target), n, from_logits,
            make_clip<T>(eps));
        CKERAS_CUDA_LAUNCHED("binary_crossentropy");
    });
}

void binary_cross_entropy_backward_cuda(DType dtype, void* dpred, const void* dloss, const void* pred,
                                        const void* target, int64_t n, bool from_logits, double eps) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        if (n <= 0) return;
        binary_cross_entropy_backward_kernel<T><<<grid_for(n), kBlock, 0, stream()>>>(
            static_cast<T*>(dpred), static_cast<const T*>(dloss), static_cast<const T*>(pred),
            static_cast<const T*>(target), n, from_logits, make_clip<T>(eps));
        CKERAS_CUDA_LAUNCHED("binary_crossentropy_backward");
    });
}

void regression_loss_cuda(DType dtype, void* loss, const void* pred, const void* target, int64_t B, int64_t C,
                          bool abs) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        RegressionForward<T> body{static_cast<T*>(loss), static_cast<const T*>(pred),
                                  static_cast<const T*>(target), C, abs};
        launch_rows(body, B, C, abs ? "mean_absolute_error" : "mean_squared_error");
    });
}

void regression_loss_backward_cuda(DType dtype, void* dpred, const void* dloss, const void* pred,
                                   const void* target, int64_t B, int64_t C, bool abs) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        if (B <= 0 || C <= 0) return;
        regression_loss_backward_kernel<T><<<grid_for(B * C), kBlock, 0, stream()>>>(
            static_cast<T*>(dpred), static_cast<const T*>(dloss), static_cast<const T*>(pred),
            static_cast<const T*>(target), B, C, abs);
        CKERAS_CUDA_LAUNCHED(abs ? "mean_absolute_error_backward" : "mean_squared_error_backward");
    });
}

}  // namespace

void register_loss_cuda(KernelTable& t) {
    t.cross_entropy = cross_entropy_cuda;
    t.cross_entropy_backward = cross_entropy_backward_cuda;
    t.sparse_cross_entropy = sparse_cross_entropy_cuda;
    t.sparse_cross_entropy_backward = sparse_cross_entropy_backward_cuda;
    t.binary_cross_entropy = binary_cross_entropy_cuda;
    t.binary_cross_entropy_backward = binary_cross_entropy_backward_cuda;
    t.regression_loss = regression_loss_cuda;
    t.regression_loss_backward = regression_loss_backward_cuda;
}

}  // namespace ckeras::cuda
