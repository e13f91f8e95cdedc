// Reductions over any set of axes with keepdims, and their backward rules. var/std/logsumexp are
// compositions, so their gradients come from the pieces.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/op_util.h"

namespace ckeras {

static const char* reduce_name(ReduceOp op) {
    static const char* kNames[] = {"sum", "prod", "max", "min", "argmax", "argmin"};
    return kNames[static_cast<int>(op)];
}

Axes normalize_axes(const std::optional<Axes>& axes, int64_t rank) {
    Axes out;
    if (!axes) {
        for (int64_t i = 0; i < rank; ++i) out.push_back(i);
        return out;
    }
    for (int64_t a : *axes) out.push_back(normalize_axis(a, rank));
    std::sort(out.begin(), out.end());
    CKERAS_CHECK(std::adjacent_find(out.begin(), out.end()) == out.end(), "duplicate value in 'axis': ",
                 Shape(*axes));
    return out;
}

// Shape of the result with the reduced axes kept as 1.
static Shape kept_shape(const Shape& shape, const Axes& axes) {
    Shape s = shape;
    for (int64_t a : axes) s[a] = 1;
    return s;
}

static Shape dropped_shape(const Shape& shape, const Axes& axes) {
    Shape s;
    for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d)
        if (!std::binary_search(axes.begin(), axes.end(), d)) s.push_back(shape[d]);
    return s;
}

// Runs the kernel; `axes` sorted and normalised. Result has the kept (keepdims) shape.
static Tensor reduce_kept(ReduceOp op, const Tensor& x, const Axes& axes) {
    int64_t rank = x.dim();
    bool block = axes.empty() || axes.back() - axes.front() + 1 == static_cast<int64_t>(axes.size());
    Tensor src = x;
    int64_t outer = 1, r = 1, inner = 1;
    if (block) {
        src = contiguous(x);
        int64_t lo = axes.empty() ? rank : axes.front(), hi = axes.empty() ? rank : axes.back() + 1;
        for (int64_t d = 0; d < rank; ++d) (d < lo ? outer : d < hi ? r : inner) *= x.shape()[d];
    } else {
        Axes perm;
        for (int64_t d = 0; d < rank; ++d)
            if (!std::binary_search(axes.begin(), axes.end(), d)) { perm.push_back(d); outer *= x.shape()[d]; }
        for (int64_t a : axes) { perm.push_back(a); r *= x.shape()[a]; }
        src = contiguous(permute(x.detach(), perm));
    }
    bool arg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
    if (r == 0 && op != ReduceOp::Sum && op != ReduceOp::Prod && outer * inner > 0)
        throw_error(ErrorKind::Value, "zero-size array to reduction operation ", reduce_name(op),
                    " which has no identity (reducing shape ", x.shape(), " over axes ", Shape(axes), ")");
    Tensor out = Tensor::empty(kept_shape(x.shape(), axes), arg ? DType::Int64 : x.dtype(), x.device());
    if (out.numel())
        CKERAS_KERNEL(x, reduce, reduce_name(op))(op, x.dtype(), out.data_ptr(), src.data_ptr(), outer, r, inner);
    return out;
}

Tensor reduce(ReduceOp op, const Tensor& x_in, const Axes& axes_in, bool keepdims) {
    check_defined(reduce_name(op), x_in);
    Tensor x = x_in.dtype() == DType::Bool ? cast(x_in, op == ReduceOp::Sum || op == ReduceOp::Prod ? DType::Int64
                                                                                                    : DType::Int32)
                                           : x_in;
    Axes axes = normalize_axes(axes_in, x.dim());
    Tensor kept = reduce_kept(op, x, axes);
    Shape final_shape = keepdims ? kept.shape() : dropped_shape(x.shape(), axes);
    Tensor out = make_view(kept, final_shape, contiguous_strides(final_shape), 0);
    if (op == ReduceOp::ArgMax || op == ReduceOp::ArgMin || !is_floating(x.dtype())) return out;
    Shape in_shape = x.shape(), ks = kept.shape();
    Tensor xd = x.detach(), kd = kept.detach();
    record_fn(out, reduce_name(op), {&x}, [op, in_shape, ks, xd, kd](const Tensor& g_in) {
        Tensor g = reshape(g_in, ks);
        Tensor dx;
        Axes all;  // the reduced dims (size-1 dims left out: reducing them changes nothing)
        for (int64_t d = 0; d < static_cast<int64_t>(in_shape.size()); ++d)
            if (ks[d] == 1 && in_shape[d] != 1) all.push_back(d);
        if (op == ReduceOp::Sum) {
            dx = broadcast_to(g, in_shape);
        } else if (op == ReduceOp::Prod) {
            // d prod / d x_i is the product of the other entries of its group: prod / x_i when the group
            // has no zero; with one zero, the product of the rest at that zero and 0 elsewhere; else 0.
            Tensor zero = scalar_like(0, xd), one = scalar_like(1, xd);
            Tensor is_zero = binary(BinaryOp::Eq, xd, zero);
            Tensor zeros_in_group = sum(cast(is_zero, xd.dtype()), all, true);
            Tensor prod_rest = prod(where(is_zero, one, xd), all, true);
            Tensor at_zero = where(binary(BinaryOp::Eq, zeros_in_group, one), prod_rest, zero);
            dx = mul(g, where(is_zero, at_zero, div(kd, xd)));
        } else {
            // Max/Min: split the gradient evenly among the tied extrema (as TensorFlow does).
            Tensor mask = cast(binary(BinaryOp::Eq, xd, kd), xd.dtype());
            Tensor count = all.empty() ? ones_like(kd) : sum(mask, all, true);
            dx = mul(mask, div(g, count));
        }
        return std::vector<Tensor>{dx};
    });
    return out;
}

static Axes axes_or_all(const std::optional<Axes>& axes, const Tensor& x) { return normalize_axes(axes, x.dim()); }

Tensor sum(const Tensor& x, std::optional<Axes> axes, bool keepdims) {
    return reduce(ReduceOp::Sum, x, axes_or_all(axes, x), keepdims);
}
Tensor prod(const Tensor& x, std::optional<Axes> axes, bool keepdims) {
    return reduce(ReduceOp::Prod, x, axes_or_all(axes, x), keepdims);
}
Tensor max(const Tensor& x, std::optional<Axes> axes, bool keepdims) {
    return reduce(ReduceOp::Max, x, axes_or_all(axes, x), keepdims);
}
Tensor min(const Tensor& x, std::optional<Axes> axes, bool keepdims) {
    return reduce(ReduceOp::Min, x, axes_or_all(axes, x), keepdims);
}

static int64_t reduced_count(const Tensor& x, const Axes& axes) {
    int64_t n = 1;
    for (int64_t a : axes) n *= x.shape()[a];
    return n;
}

Tensor mean(const Tensor& x_in, std::optional<Axes> axes_in, bool keepdims) {
    Tensor x = is_floating(x_in.dtype()) ? x_in : cast(x_in, DType::Float32);
    Axes axes = axes_or_all(axes_in, x);
    int64_t n = reduced_count(x, axes);
    Tensor s = reduce(ReduceOp::Sum, x, axes, keepdims);
    return div(s, scalar_like(static_cast<double>(n), s));  // n == 0 gives NaN, as NumPy does
}

Tensor var(const Tensor& x_in, std::optional<Axes> axes_in, bool keepdims) {
    Tensor x = is_floating(x_in.dtype()) ? x_in : cast(x_in, DType::Float32);
    Axes axes = axes_or_all(axes_in, x);
    Tensor centered = sub(x, mean(x, axes, true));
    return mean(unary(UnaryOp::Square, centered), axes, keepdims);
}

Tensor stddev(const Tensor& x, std::optional<Axes> axes, bool keepdims) {
    return unary(UnaryOp::Sqrt, var(x, axes, keepdims));
}

Tensor logsumexp(const Tensor& x_in, std::optional<Axes> axes_in, bool keepdims) {
    Tensor x = is_floating(x_in.dtype()) ? x_in : cast(x_in, DType::Float32);
    Axes axes = axes_or_all(axes_in, x);
    // Shift by the (constant) max; an infinite max shifts by 0 so that inf/-inf rows stay exact.
    Tensor m = reduce_kept(ReduceOp::Max, x.detach(), axes);
    Tensor finite = binary(BinaryOp::Lt, unary(UnaryOp::Abs, m), scalar_like(INFINITY, m));
    m = where(finite, m, scalar_like(0, m));
    Tensor s = sum(unary(UnaryOp::Exp, sub(x, m)), axes, true);
    Tensor out = add(unary(UnaryOp::Log, s), m);
    return keepdims ? out : reshape(out, dropped_shape(x.shape(), axes));
}

static Tensor arg_reduce(ReduceOp op, const Tensor& x, std::optional<int64_t> axis, bool keepdims) {
    if (!axis) {
        Tensor flat = reshape(x.detach(), {-1});
        Tensor r = reduce(op, flat, Axes{0}, false);
        return keepdims ? reshape(r, Shape(x.dim(), 1)) : r;
    }
    return reduce(op, x.detach(), Axes{*axis}, keepdims);
}

Tensor argmax(const Tensor& x, std::optional<int64_t> axis, bool keepdims) {
    return arg_reduce(ReduceOp::ArgMax, x, axis, keepdims);
}
Tensor argmin(const Tensor& x, std::optional<int64_t> axis, bool keepdims) {
    return arg_reduce(ReduceOp::ArgMin, x, axis, keepdims);
}

}  // namespace ckeras
