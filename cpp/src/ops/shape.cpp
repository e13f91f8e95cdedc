// Layout ops: contiguous/cast/copy, views (reshape, permute, expand, squeeze, broadcast, slice, select)
// and their backward rules, plus broadcasting helpers.
#include <algorithm>
#include <utility>

#include "ops/op_util.h"

namespace ckeras {

Tensor make_view(const Tensor& x, const Shape& shape, const Shape& strides, int64_t offset) {
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = x.impl()->storage;
    impl->shape = shape;
    impl->strides = strides;
    impl->offset = offset;
    impl->dtype = x.dtype();
    return Tensor(std::move(impl));
}

// Copies src into dst through both tensors' strides (shapes equal), converting dtype.
static void copy_into(const Tensor& dst, const Tensor& src) {
    if (dst.numel() == 0) return;
    CKERAS_KERNEL(dst, copy_strided, "copy")(dst.dtype(), dst.data_ptr(), dst.strides().data(), src.dtype(),
                                             src.data_ptr(), src.strides().data(), dst.shape().data(),
                                             static_cast<int>(dst.dim()));
}

static Tensor copy_as(const Tensor& x, DType dtype) {
    Tensor out = Tensor::empty(x.shape(), dtype, x.device());
    copy_into(out, x);
    return out;
}

// The byte range [lo, hi) that a view touches (empty for zero-size views).
static std::pair<const char*, const char*> byte_extent(const Tensor& x) {
    const char* base = static_cast<const char*>(x.data_ptr());
    if (x.numel() == 0) return {base, base};
    int64_t lo = 0, hi = 0;
    for (int64_t d = 0; d < x.dim(); ++d) {
        int64_t span = (x.shape()[d] - 1) * x.strides()[d];
        (span < 0 ? lo : hi) += span;
    }
    int64_t isz = static_cast<int64_t>(x.itemsize());
    return {base + lo * isz, base + (hi + 1) * isz};
}

void assign(const Tensor& dst, const Tensor& src_in) {
    // A value from another device is copied over first (Variable.assign(host data) on a GPU variable).
    Tensor src = src_in.device() == dst.device() ? src_in : to_device(src_in.detach(), dst.device());
    CKERAS_CHECK(broadcast_shapes(dst.shape(), src.shape()) == dst.shape(), "cannot assign a value of shape ",
                 src.shape(), " to a variable of shape ", dst.shape());
    // A source overlapping dst (v.assign(v[::-1])) is copied first, or the copy would read elements it
    // has already overwritten.
    auto [dlo, dhi] = byte_extent(dst);
    auto [slo, shi] = byte_extent(src);
    Tensor s = slo < dhi && dlo < shi ? copy_as(src, src.dtype()) : src.detach();
    copy_into(dst, broadcast_to(s, dst.shape()));
    dst.impl()->storage->version++;
}

Tensor copy(const Tensor& x) {
    check_defined("copy", x);
    Tensor out = copy_as(x, x.dtype());
    record_fn(out, "CopyBackward", {&x}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
    return out;
}

Tensor contiguous(const Tensor& x) { return x.is_contiguous() ? x : copy(x); }

Tensor cast(const Tensor& x, DType dtype) {
    if (x.dtype() == dtype) return x;
    Tensor out = copy_as(x, dtype);
    if (is_floating(dtype)) {
        DType src = x.dtype();
        record_fn(out, "CastBackward", {&x}, [src](const Tensor& g) { return std::vector<Tensor>{cast(g, src)}; });
    }
    return out;
}

Tensor reshape(const Tensor& x, const Shape& shape_in) {
    Shape shape = shape_in;
    int64_t infer = -1, known = 1;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == -1) {
            CKERAS_CHECK(infer < 0, "reshape: can only specify one unknown dimension (-1), got ", shape_in);
            infer = static_cast<int64_t>(i);
        } else {
            CKERAS_CHECK(shape[i] >= 0, "reshape: negative dimension ", shape[i], " in shape ", shape_in);
            known = checked_mul(known, shape[i], shape_in);
        }
    }
    int64_t n = x.numel();
    if (infer >= 0) {
        CKERAS_CHECK(known != 0 && n % known == 0, "cannot reshape tensor of shape ", x.shape(), " (", n,
                     " elements) into shape ", shape_in);
        shape[infer] = n / known;
    }
    CKERAS_CHECK(checked_numel(shape) == n, "cannot reshape tensor of shape ", x.shape(), " (", n,
                 " elements) into shape ", shape_in);
    Tensor base = contiguous(x);
    Tensor out = make_view(base, shape, contiguous_strides(shape), base.offset());
    Shape in_shape = x.shape();
    // Record against `base` so that a copy made by contiguous() stays in the graph.
    if (needs_grad({&base}))
        record(out, std::make_shared<LambdaNode>("ReshapeBackward", [in_shape](const Tensor& g) {
            return std::vector<Tensor>{reshape(g, in_shape)};
        }), {&base});
    return out;
}

Tensor permute(const Tensor& x, const Axes& perm) {
    int64_t r = x.dim();
    CKERAS_CHECK(static_cast<int64_t>(perm.size()) == r, "transpose: axes ", Shape(perm),
                 " don't match a tensor of rank ", r);
    Shape shape(r), strides(r);
    Axes inverse(r);
    std::vector<bool> used(r, false);
    for (int64_t i = 0; i < r; ++i) {
        int64_t a = normalize_axis(perm[i], r);
        CKERAS_CHECK(!used[a], "transpose: repeated axis in ", Shape(perm));
        used[a] = true;
        shape[i] = x.shape()[a];
        strides[i] = x.strides()[a];
        inverse[a] = i;
    }
    Tensor out = make_view(x, shape, strides, x.offset());
    record_fn(out, "PermuteBackward", {&x}, [inverse](const Tensor& g) {
        return std::vector<Tensor>{permute(g, inverse)};
    });
    return out;
}

Tensor transpose(const Tensor& x, std::optional<Axes> axes) {
    if (axes) return permute(x, *axes);
    Axes perm(x.dim());
    for (int64_t i = 0; i < x.dim(); ++i) perm[i] = x.dim() - 1 - i;
    return permute(x, perm);
}

Tensor swapaxes(const Tensor& x, int64_t a, int64_t b) {
    Axes perm(x.dim());
    for (int64_t i = 0; i < x.dim(); ++i) perm[i] = i;
    std::swap(perm[normalize_axis(a, x.dim())], perm[normalize_axis(b, x.dim())]);
    return permute(x, perm);
}

Tensor expand_dims(const Tensor& x, int64_t axis) {
    int64_t a = normalize_axis(axis, x.dim() + 1);
    Shape shape = x.shape(), strides = x.strides();
    shape.insert(shape.begin() + a, 1);
    strides.insert(strides.begin() + a, 0);  // any stride works for a size-1 dim
    Tensor out = make_view(x, shape, strides, x.offset());
    Shape in_shape = x.shape();
    record_fn(out, "ExpandDimsBackward", {&x}, [in_shape](const Tensor& g) {
        return std::vector<Tensor>{reshape(g, in_shape)};
    });
    return out;
}

Tensor squeeze(const Tensor& x, std::optional<Axes> axes) {
    std::vector<bool> drop(x.dim(), false);
    if (axes) {
        for (int64_t a : *axes) {
            int64_t n = normalize_axis(a, x.dim());
            CKERAS_CHECK(x.shape()[n] == 1, "cannot squeeze axis ", a, " of shape ", x.shape(),
                         ": its size is not 1");
            drop[n] = true;
        }
    } else {
        for (int64_t i = 0; i < x.dim(); ++i) drop[i] = x.shape()[i] == 1;
    }
    Shape shape, strides;
    for (int64_t i = 0; i < x.dim(); ++i)
        if (!drop[i]) { shape.push_back(x.shape()[i]); strides.push_back(x.strides()[i]); }
    Tensor out = make_view(x, shape, strides, x.offset());
    Shape in_shape = x.shape();
    record_fn(out, "SqueezeBackward", {&x}, [in_shape](const Tensor& g) {
        return std::vector<Tensor>{reshape(g, in_shape)};
    });
    return out;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
    size_t n = std::max(a.size(), b.size());
    Shape out(n);
    for (size_t i = 0; i < n; ++i) {
        int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
        int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
        CKERAS_CHECK(da == db || da == 1 || db == 1, "shapes ", a, " and ", b, " cannot be broadcast together");
        out[i] = da == 1 ? db : da;
    }
    return out;
}

// Strides that read x as if broadcast to `shape` (0 on broadcast dims).
static Shape broadcast_strides(const Tensor& x, const Shape& shape) {
    size_t n = shape.size(), k = x.shape().size();
    CKERAS_CHECK(k <= n, "cannot broadcast shape ", x.shape(), " to ", shape);
    Shape s(n, 0);
    for (size_t i = 0; i < k; ++i) {
        int64_t d = x.shape()[i], t = shape[n - k + i];
        CKERAS_CHECK(d == t || d == 1, "cannot broadcast shape ", x.shape(), " to ", shape);
        s[n - k + i] = d == 1 ? 0 : x.strides()[i];
    }
    return s;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
    checked_numel(shape);
    if (x.shape() == shape) return x;
    Tensor out = make_view(x, shape, broadcast_strides(x, shape), x.offset());
    Shape in_shape = x.shape();
    record_fn(out, "BroadcastBackward", {&x}, [in_shape](const Tensor& g) {
        return std::vector<Tensor>{sum_to(g, in_shape)};
    });
    return out;
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
    if (g.shape() == shape) return g;
    int64_t lead = g.dim() - static_cast<int64_t>(shape.size());
    CKERAS_ASSERT(lead >= 0);
    Axes axes;
    for (int64_t i = 0; i < g.dim(); ++i)
        if (i < lead || (shape[i - lead] == 1 && g.shape()[i] != 1)) axes.push_back(i);
    Tensor s = axes.empty() ? g : sum(g, axes, true);
    return reshape(s, shape);
}

Tensor slice(const Tensor& x, const std::vector<SliceSpec>& specs) {
    CKERAS_CHECK_KIND(Index, static_cast<int64_t>(specs.size()) <= x.dim(), "too many indices for tensor of rank ",
                      x.dim(), ": got ", specs.size());
    Shape shape = x.shape(), strides = x.strides();
    int64_t offset = x.offset();
    for (size_t d = 0; d < specs.size(); ++d) {
        const SliceSpec& s = specs[d];
        CKERAS_CHECK(s.step != 0, "slice step cannot be zero");
        int64_t len = s.step > 0 ? (s.stop > s.start ? (s.stop - s.start + s.step - 1) / s.step : 0)
                                 : (s.start > s.stop ? (s.start - s.stop - s.step - 1) / (-s.step) : 0);
        if (len > 0) {
            CKERAS_CHECK_KIND(Index, s.start >= 0 && s.start < x.shape()[d] &&
                                         s.start + (len - 1) * s.step >= 0 && s.start + (len - 1) * s.step < x.shape()[d],
                              "slice out of range for axis ", d, " of size ", x.shape()[d]);
            offset += s.start * x.strides()[d];
        }
        shape[d] = len;
        strides[d] = x.strides()[d] * s.step;
    }
    Tensor out = make_view(x, shape, strides, offset);
    Shape in_shape = x.shape();
    DType dt = x.dtype();
    Device dev = x.device();
    record_fn(out, "SliceBackward", {&x}, [in_shape, specs, dt, dev](const Tensor& g) {
        Tensor dx = Tensor::zeros(in_shape, dt, dev);
        Tensor view = slice(dx, specs);
        copy_into(view, g);
        return std::vector<Tensor>{dx};
    });
    return out;
}

Tensor select(const Tensor& x, int64_t axis, int64_t index) {
    int64_t a = normalize_axis(axis, x.dim());
    int64_t n = x.shape()[a];
    CKERAS_CHECK_KIND(Index, index >= -n && index < n, "index ", index, " is out of bounds for axis ", a,
                      " with size ", n);
    if (index < 0) index += n;
    std::vector<SliceSpec> specs;
    for (int64_t d = 0; d <= a; ++d) specs.push_back(d == a ? SliceSpec{index, index + 1, 1} : SliceSpec{0, x.shape()[d], 1});
    return squeeze(slice(x, specs), Axes{a});
}

Tensor concatenate(const std::vector<Tensor>& xs, int64_t axis) {
    CKERAS_CHECK(!xs.empty(), "concatenate needs at least one tensor");
    const Tensor& f = xs[0];
    CKERAS_CHECK(f.dim() > 0, "concatenate: zero-dimensional tensors cannot be concatenated");
    int64_t a = normalize_axis(axis, f.dim());
    DType dt = f.dtype();
    for (const Tensor& x : xs) dt = promote_types(dt, x.dtype());
    Shape shape = f.shape();
    shape[a] = 0;
    for (const Tensor& x : xs) {
        check_same_device("concatenate", f, x);
        CKERAS_CHECK(x.dim() == f.dim(), "concatenate: all inputs must have the same rank, got ", f.shape(),
                     " and ", x.shape());
        for (int64_t d = 0; d < f.dim(); ++d)
            CKERAS_CHECK(d == a || x.shape()[d] == f.shape()[d], "concatenate: shapes ", f.shape(), " and ",
                         x.shape(), " differ outside axis ", a);
        shape[a] += x.shape()[a];
    }
    Tensor out = Tensor::empty(shape, dt, f.device());
    std::vector<int64_t> sizes;
    int64_t pos = 0;
    for (const Tensor& x : xs) {
        std::vector<SliceSpec> specs;
        for (int64_t d = 0; d <= a; ++d)
            specs.push_back(d == a ? SliceSpec{pos, pos + x.shape()[a], 1} : SliceSpec{0, shape[d], 1});
        if (x.shape()[a] > 0) copy_into(slice(out, specs), x);
        pos += x.shape()[a];
        sizes.push_back(x.shape()[a]);
    }
    bool any = std::any_of(xs.begin(), xs.end(), [](const Tensor& x) { return x.requires_grad(); });
    if (grad_enabled() && any) {
        std::vector<DType> dts;
        for (const Tensor& x : xs) dts.push_back(x.dtype());
        record(out, std::make_shared<LambdaNode>("ConcatenateBackward", [sizes, a, dts](const Tensor& g) {
            std::vector<Tensor> parts = split(g, sizes, a);
            for (size_t i = 0; i < parts.size(); ++i)
                parts[i] = is_floating(dts[i]) ? cast(parts[i], dts[i]) : Tensor();
            return parts;
        }), xs);
    }
    return out;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t axis) {
    CKERAS_CHECK(!xs.empty(), "stack needs at least one tensor");
    int64_t a = normalize_axis(axis, xs[0].dim() + 1);
    std::vector<Tensor> ex;
    for (const Tensor& x : xs) {
        CKERAS_CHECK(x.shape() == xs[0].shape(), "stack: all inputs must have the same shape, got ", xs[0].shape(),
                     " and ", x.shape());
        ex.push_back(expand_dims(x, a));
    }
    return concatenate(ex, a);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis) {
    int64_t a = normalize_axis(axis, x.dim());
    int64_t total = 0;
    for (int64_t s : sizes) {
        CKERAS_CHECK(s >= 0, "split: negative section size ", s);
        total += s;
    }
    CKERAS_CHECK(total == x.shape()[a], "split: section sizes ", Shape(sizes), " don't add up to ", x.shape()[a],
                 ", the size of axis ", a);
    std::vector<Tensor> out;
    int64_t pos = 0;
    for (int64_t s : sizes) {
        std::vector<SliceSpec> specs;
        for (int64_t d = 0; d <= a; ++d) specs.push_back(d == a ? SliceSpec{pos, pos + s, 1} : SliceSpec{0, x.shape()[d], 1});
        out.push_back(slice(x, specs));
        pos += s;
    }
    return out;
}

}  // namespace ckeras
