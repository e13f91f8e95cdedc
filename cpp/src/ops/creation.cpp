// Tensor creation ops and gather-style ops (take, one_hot).
#include <cmath>

#include "ops/op_util.h"

namespace ckeras {

Tensor zeros(const Shape& shape, DType dtype, Device device) { return Tensor::full(shape, 0.0, dtype, device); }
Tensor ones(const Shape& shape, DType dtype, Device device) { return Tensor::full(shape, 1.0, dtype, device); }
Tensor full(const Shape& shape, double value, DType dtype, Device device) {
    return Tensor::full(shape, value, dtype, device);
}
Tensor zeros_like(const Tensor& x) { return Tensor::full(x.shape(), 0.0, x.dtype(), x.device()); }
Tensor ones_like(const Tensor& x) { return Tensor::full(x.shape(), 1.0, x.dtype(), x.device()); }

Tensor arange(double start, double stop, double step, DType dtype, Device device) {
    CKERAS_CHECK(step != 0, "arange: step must not be zero");
    CKERAS_CHECK(std::isfinite(start) && std::isfinite(stop) && std::isfinite(step),
                 "arange: start, stop and step must be finite");
    double n = std::ceil((stop - start) / step);
    CKERAS_CHECK(n < 9.0e18, "arange: too many elements (", n, ")");
    int64_t count = n > 0 ? static_cast<int64_t>(n) : 0;
    Tensor out = Tensor::empty({count}, dtype, device);
    if (count) require_kernel(kernel_table(device.type).arange, "arange", device)(dtype, out.data_ptr(), count, start, step);
    return out;
}

Tensor take(const Tensor& x, const Tensor& indices_in, std::optional<int64_t> axis) {
    CKERAS_CHECK_KIND(Type, is_integral(indices_in.dtype()), "take: indices must be integers, got ",
                      dtype_name(indices_in.dtype()));
    check_same_device("take", x, indices_in);
    if (!axis) return take(reshape(x, {-1}), indices_in, 0);
    int64_t a = normalize_axis(*axis, x.dim());
    Tensor xc = contiguous(x);
    Tensor idx = contiguous(cast(indices_in, DType::Int64));
    int64_t outer = 1, inner = 1, n = x.shape()[a], k = idx.numel();
    for (int64_t d = 0; d < a; ++d) outer *= x.shape()[d];
    for (int64_t d = a + 1; d < x.dim(); ++d) inner *= x.shape()[d];
    Shape out_shape(x.shape().begin(), x.shape().begin() + a);
    out_shape.insert(out_shape.end(), idx.shape().begin(), idx.shape().end());
    out_shape.insert(out_shape.end(), x.shape().begin() + a + 1, x.shape().end());
    Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
    if (k > 0 && n > 0) {
        // Runs even when `out` is empty (outer or inner is 0): the kernel validates every index first.
        int64_t bad = CKERAS_KERNEL(x, gather, "take")(x.dtype(), out.data_ptr(), xc.data_ptr(), outer, n, inner,
                                                       idx.data<int64_t>(), k);
        if (bad >= 0)
            throw_error(ErrorKind::Index, "take: index ", static_cast<int64_t>(idx.to_vector()[bad]),
                        " is out of bounds for axis ", a, " with size ", n);
    } else if (k > 0) {
        throw_error(ErrorKind::Index, "take: cannot take from an empty axis ", a);
    }
    Shape in_shape = x.shape();
    record_fn(out, "TakeBackward", {&x}, [idx, in_shape, outer, n, inner, k](const Tensor& g_in) {
        Tensor g = contiguous(g_in);
        Tensor dx = Tensor::zeros(in_shape, g.dtype(), g.device());
        if (g.numel())
            CKERAS_KERNEL(g, gather_backward, "take")(g.dtype(), dx.data_ptr(), g.data_ptr(), outer, n, inner,
                                                      idx.data<int64_t>(), k);
        return std::vector<Tensor>{dx};
    });
    return out;
}

Tensor one_hot(const Tensor& indices, int64_t num_classes, int64_t axis, DType dtype) {
    CKERAS_CHECK_KIND(Type, is_integral(indices.dtype()), "one_hot: indices must be integers, got ",
                      dtype_name(indices.dtype()));
    CKERAS_CHECK(num_classes >= 0, "one_hot: num_classes must be non-negative, got ", num_classes);
    // Out-of-range indices (including negatives) give all-zero rows, as in TensorFlow.
    Tensor classes = arange(0, static_cast<double>(num_classes), 1, DType::Int64, indices.device());
    Tensor hot = binary(BinaryOp::Eq, expand_dims(cast(indices, DType::Int64), -1), classes);
    Tensor out = cast(hot, dtype);
    int64_t a = normalize_axis(axis, out.dim());
    if (a == out.dim() - 1) return out;
    Axes perm;
    for (int64_t d = 0; d < out.dim() - 1; ++d) perm.push_back(d);
    perm.insert(perm.begin() + a, out.dim() - 1);
    return contiguous(permute(out, perm));
}

}  // namespace ckeras
