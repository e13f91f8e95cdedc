// Loss ops over the fused kernels of cpu/loss_cpu.cpp: categorical cross-entropy (dense and sparse
// targets), binary cross-entropy and mean squared / absolute error, each returning per-sample losses.
// Every input is brought to (B, C) row-major (class axis moved last, leading dims flattened) with
// recorded layout ops, so their gradients route back through permute/reshape/cast on their own. The
// kernels give d/doutput; d/dtarget of the dense losses is built here from ops. Sparse labels get none.
#include <cmath>

#include "ops/op_util.h"

namespace ckeras {
namespace {

constexpr double kEpsilon = 1e-7;  // keras.backend.epsilon()

// Integer and bool outputs are computed in float32; the target follows the output's float dtype.
Tensor as_float(const Tensor& x) { return is_floating(x.dtype()) ? x : cast(x, DType::Float32); }

// The probability clip [eps, 1 - eps] as the kernels hold it: both bounds rounded to T.
template <class T>
std::pair<double, double> clip_bounds_t() {
    T lo = static_cast<T>(kEpsilon);
    T hi = T(1) - lo;
    return {double(lo), double(hi)};
}
std::pair<double, double> clip_bounds(DType dt) {
    return dt == DType::Float32 ? clip_bounds_t<float>() : clip_bounds_t<double>();
}
Tensor clip_prob(const Tensor& p) {
    auto [lo, hi] = clip_bounds(p.dtype());
    return unary(UnaryOp::Clip, p, lo, hi);
}

// x's shape without dim a.
Shape drop_dim(const Shape& s, int64_t a) {
    Shape r;
    for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d)
        if (d != a) r.push_back(s[d]);
    return r;
}

// x (class axis a) as a contiguous (B, C) tensor: axis a moved last, the other dims flattened in order.
Tensor to_rows(const Tensor& x, int64_t a) {
    int64_t r = x.dim();
    Axes perm;
    for (int64_t d = 0; d < r; ++d)
        if (d != a) perm.push_back(d);
    perm.push_back(a);
    Tensor moved = a == r - 1 ? x : permute(x, perm);
    return reshape(contiguous(moved), {checked_numel(drop_dim(x.shape(), a)), x.shape()[a]});
}

// log of the per-row probabilities the forward uses: log_softmax(z), or log(clip(p / sum(p))). (B, C).
Tensor log_prob(const Tensor& p, bool from_logits) {
    if (from_logits) return log_softmax(p, -1);
    return unary(UnaryOp::Log, clip_prob(div(p, sum(p, Axes{-1}, true))));
}

void check_same_shape(const char* name, const Tensor& target, const Tensor& output, bool label_hint) {
    if (target.shape() == output.shape()) return;
    // A target of class indices: output's shape without its last dim, or with a trailing 1.
    bool labels = false;
    if (label_hint && output.dim() >= 1) {
        Shape lead(output.shape().begin(), output.shape().end() - 1), lead1 = lead;
        lead1.push_back(1);
        labels = target.shape() == lead || target.shape() == lead1;
    }
    throw_error(ErrorKind::Value, name, ": Arguments `target` and `output` must have the same shape. Received: "
                "target.shape=", target.shape(), ", output.shape=", output.shape(),
                labels ? "; use sparse_categorical_crossentropy for integer labels" : "");
}

// Sparse labels as a contiguous int64 (n,) tensor of n = numel. Float targets are accepted when every
// value is a whole number (Keras casts them); values are checked on the host before the cast.
Tensor sparse_labels(const Tensor& t, int64_t C) {
    if (is_floating(t.dtype())) {
        for (double v : t.to_vector()) {
            CKERAS_CHECK(v == std::floor(v), "sparse_categorical_crossentropy expects integer class indices as "
                         "`target`; received the non-integer value ", v, " in a ", dtype_name(t.dtype()), " target");
            CKERAS_CHECK(v >= 0 && v < double(C), "Received a label value of ", v,
                         " which is outside the valid range of [0, ", C, ")");
        }
    }
    // Own copy when the cast was a no-op, so that the backward sees the labels the forward validated.
    Tensor labels = contiguous(cast(t.detach(), DType::Int64));
    if (labels.impl()->storage == t.impl()->storage) labels = copy(labels);
    return reshape(labels, {t.numel()});
}

// labels[i], read exactly on the CPU (other devices go through item()).
int64_t label_at(const Tensor& labels, int64_t i) {
    if (labels.device().type == DeviceType::CPU) return labels.data<int64_t>()[i];
    return static_cast<int64_t>(select(labels, 0, i).item());
}

// MSE / MAE: Keras's rank fix (a trailing 1 on one side: rank-1 against (N, 1) expands, otherwise the
// extra 1 is squeezed), then both broadcast to one shape; mean over its last axis.
Tensor regression(const Tensor& target, const Tensor& output, bool abs) {
    const char* name = abs ? "mean_absolute_error" : "mean_squared_error";
    check_defined(name, target);
    check_defined(name, output);
    check_same_device(name, target, output);
    Tensor p = as_float(output), y = cast(target, p.dtype());
    auto fix = [](Tensor& big, Tensor& small) {
        if (big.dim() != small.dim() + 1 || big.shape().back() != 1) return;
        if (small.dim() == 1) small = expand_dims(small, -1);
        else big = squeeze(big, Axes{-1});
    };
    fix(p, y);
    fix(y, p);
    Shape s;
    try {
        s = broadcast_shapes(y.shape(), p.shape());
    } catch (const Error&) {
        throw_error(ErrorKind::Value, name, ": `target` and `output` must have broadcastable shapes. Received: "
                    "target.shape=", target.shape(), ", output.shape=", output.shape());
    }
    Shape lead = s.empty() ? Shape{} : Shape(s.begin(), s.end() - 1);
    if (s.empty()) s = {1};
    Tensor p2 = to_rows(broadcast_to(p, s), static_cast<int64_t>(s.size()) - 1);
    Tensor y2 = to_rows(broadcast_to(y, s), static_cast<int64_t>(s.size()) - 1);
    int64_t B = p2.size(0), C = p2.size(1);
    Tensor loss = Tensor::empty({B}, p2.dtype(), p2.device());
    if (B) CKERAS_KERNEL(p2, regression_loss, name)(p2.dtype(), loss.data_ptr(), p2.data_ptr(), y2.data_ptr(), B, C, abs);
    bool want_y = needs_grad({&y2});
    Tensor pd = p2.detach(), yd = y2.detach();
    record_fn(loss, abs ? "MeanAbsoluteErrorBackward" : "MeanSquaredErrorBackward", {&p2, &y2},
              [pd, yd, B, C, abs, want_y, name](const Tensor& g_in) {
        Tensor g = contiguous(g_in);
        Tensor dp = Tensor::empty(pd.shape(), pd.dtype(), pd.device());
        if (dp.numel())
            CKERAS_KERNEL(pd, regression_loss_backward, name)(pd.dtype(), dp.data_ptr(), g.data_ptr(), pd.data_ptr(),
                                                              yd.data_ptr(), B, C, abs);
        return std::vector<Tensor>{dp, want_y ? neg(dp) : Tensor()};  // the loss depends on p - t only
    });
    return reshape(loss, lead);
}

}  // namespace

Tensor categorical_crossentropy(const Tensor& target, const Tensor& output, bool from_logits, int64_t axis) {
    const char* name = "categorical_crossentropy";
    check_defined(name, target);
    check_defined(name, output);
    check_same_device(name, target, output);
    check_same_shape(name, target, output, true);
    CKERAS_CHECK(output.dim() >= 1, name, ": Arguments `target` and `output` must be at least rank 1. Received: "
                 "target.shape=", target.shape(), ", output.shape=", output.shape());
    int64_t a = normalize_axis(axis, output.dim());
    Tensor p = as_float(output);
    Tensor p2 = to_rows(p, a), y2 = to_rows(cast(target, p.dtype()), a);
    int64_t B = p2.size(0), C = p2.size(1);
    Tensor loss = Tensor::empty({B}, p2.dtype(), p2.device());
    if (B)
        CKERAS_KERNEL(p2, cross_entropy, name)(p2.dtype(), loss.data_ptr(), p2.data_ptr(), y2.data_ptr(), B, C,
                                               from_logits, kEpsilon);
    bool want_y = needs_grad({&y2});
    Tensor pd = p2.detach(), yd = y2.detach();
    record_fn(loss, "CategoricalCrossentropyBackward", {&p2, &y2},
              [pd, yd, B, C, from_logits, want_y, name](const Tensor& g_in) {
        Tensor g = contiguous(g_in);
        Tensor dp = Tensor::empty(pd.shape(), pd.dtype(), pd.device());
        if (dp.numel())
            CKERAS_KERNEL(pd, cross_entropy_backward, name)(pd.dtype(), dp.data_ptr(), g.data_ptr(), pd.data_ptr(),
                                                            yd.data_ptr(), B, C, from_logits, kEpsilon);
        // loss = -sum(y * log_prob(p)) is linear in y: dy = -dloss * log_prob(p).
        Tensor dy = want_y ? mul(neg(log_prob(pd, from_logits)), expand_dims(g, 1)) : Tensor();
        return std::vector<Tensor>{dp, dy};
    });
    return reshape(loss, drop_dim(output.shape(), a));
}

Tensor sparse_categorical_crossentropy(const Tensor& target, const Tensor& output, bool from_logits, int64_t axis) {
    const char* name = "sparse_categorical_crossentropy";
    check_defined(name, target);
    check_defined(name, output);
    check_same_device(name, target, output);
    CKERAS_CHECK(output.dim() >= 1, name, ": Argument `output` must be at least rank 1. Received: output.shape=",
                 output.shape());
    int64_t a = normalize_axis(axis, output.dim());
    Shape lead = drop_dim(output.shape(), a);
    // A target with output's rank and a 1 at the class axis (or, as Keras squeezes, at the end) is squeezed.
    Tensor t = target;
    if (t.dim() == output.dim() && t.shape() != lead) {
        if (t.shape()[a] == 1 && drop_dim(t.shape(), a) == lead) t = squeeze(t, Axes{a});
        else if (t.shape().back() == 1 && drop_dim(t.shape(), t.dim() - 1) == lead) t = squeeze(t, Axes{-1});
    }
    CKERAS_CHECK(t.shape() == lead, name, ": Arguments `target` and `output` must have the same shape apart from "
                 "the class axis ", a, " of `output` (a trailing 1 on `target` is allowed): expected target.shape=",
                 lead, ". Received: target.shape=", target.shape(), ", output.shape=", output.shape());
    CKERAS_CHECK(is_floating(t.dtype()) || is_integral(t.dtype()) || t.dtype() == DType::Bool, name,
                 ": unsupported target dtype ", dtype_name(t.dtype()));
    Tensor p2 = to_rows(as_float(output), a);
    int64_t B = p2.size(0), C = p2.size(1);
    Tensor labels = sparse_labels(t, C);
    Tensor loss = Tensor::empty({B}, p2.dtype(), p2.device());
    if (B) {
        int64_t bad = CKERAS_KERNEL(p2, sparse_cross_entropy, name)(p2.dtype(), loss.data_ptr(), p2.data_ptr(),
                                                                  labels.data<int64_t>(), B, C, from_logits, kEpsilon);
        if (bad >= 0)
            throw_error(ErrorKind::Value, "Received a label value of ", label_at(labels, bad),
                        " which is outside the valid range of [0, ", C, ")");
    }
    Tensor pd = p2.detach();
    record_fn(loss, "SparseCategoricalCrossentropyBackward", {&p2},
              [pd, labels, B, C, from_logits, name](const Tensor& g_in) {
        Tensor g = contiguous(g_in);
        Tensor dp = Tensor::empty(pd.shape(), pd.dtype(), pd.device());
        if (dp.numel())
            CKERAS_KERNEL(pd, sparse_cross_entropy_backward, name)(pd.dtype(), dp.data_ptr(), g.data_ptr(),
                                                                   pd.data_ptr(), labels.data<int64_t>(), B, C,
                                                                   from_logits, kEpsilon);
        return std::vector<Tensor>{dp};
    });
    return reshape(loss, lead);
}

Tensor binary_crossentropy(const Tensor& target, const Tensor& output, bool from_logits) {
    const char* name = "binary_crossentropy";
    check_defined(name, target);
    check_defined(name, output);
    check_same_device(name, target, output);
    check_same_shape(name, target, output, false);
    Tensor p = contiguous(as_float(output));
    Tensor y = contiguous(cast(target, p.dtype()));
    int64_t n = p.numel();
    Tensor el = Tensor::empty(p.shape(), p.dtype(), p.device());
    if (n)
        CKERAS_KERNEL(p, binary_cross_entropy, name)(p.dtype(), el.data_ptr(), p.data_ptr(), y.data_ptr(), n,
                                                     from_logits, kEpsilon);
    bool want_y = needs_grad({&y});
    Tensor pd = p.detach(), yd = y.detach();
    record_fn(el, "BinaryCrossentropyBackward", {&p, &y}, [pd, yd, n, from_logits, want_y, name](const Tensor& g_in) {
        Tensor g = contiguous(g_in);
        Tensor dp = Tensor::empty(pd.shape(), pd.dtype(), pd.device());
        if (n)
            CKERAS_KERNEL(pd, binary_cross_entropy_backward, name)(pd.dtype(), dp.data_ptr(), g.data_ptr(),
                                                                   pd.data_ptr(), yd.data_ptr(), n, from_logits,
                                                                   kEpsilon);
        // Linear in y: d/dy is -z (logits) or log(1 - c) - log(c) with c = clip(p).
        Tensor dy;
        if (want_y) {
            Tensor c = from_logits ? Tensor() : clip_prob(pd);
            Tensor slope = from_logits ? neg(pd)
                                       : sub(unary(UnaryOp::Log, sub(scalar_like(1.0, c), c)), unary(UnaryOp::Log, c));
            dy = mul(g, slope);
        }
        return std::vector<Tensor>{dp, dy};
    });
    // Per sample: the mean over the last axis (a 0-d input is its own sample).
    return el.dim() == 0 ? el : mean(el, Axes{-1});
}

Tensor mean_squared_error(const Tensor& target, const Tensor& output) { return regression(target, output, false); }
Tensor mean_absolute_error(const Tensor& target, const Tensor& output) { return regression(target, output, true); }

}  // namespace ckeras
