// softmax and log_softmax over any axis (the elementwise activations are unary ops).
#include "ops/op_util.h"

namespace ckeras {

static Tensor softmax_impl(const Tensor& x_in, int64_t axis, bool log) {
    const char* name = log ? "log_softmax" : "softmax";
    check_defined(name, x_in);
    Tensor x = contiguous(is_floating(x_in.dtype()) ? x_in : cast(x_in, DType::Float32));
    if (x.dim() == 0) x = reshape(x, {1});
    int64_t a = normalize_axis(axis, x.dim());
    int64_t outer = 1, n = x.shape()[a], inner = 1;
    for (int64_t d = 0; d < a; ++d) outer *= x.shape()[d];
    for (int64_t d = a + 1; d < x.dim(); ++d) inner *= x.shape()[d];
    Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
    if (out.numel()) CKERAS_KERNEL(x, softmax, name)(x.dtype(), out.data_ptr(), x.data_ptr(), outer, n, inner, log);
    if (!needs_grad({&x})) return x_in.dim() == 0 ? reshape(out, {}) : out;
    Tensor od = out.detach();
    record_fn(out, log ? "LogSoftmaxBackward" : "SoftmaxBackward", {&x},
              [od, outer, n, inner, log, name](const Tensor& g_in) {
        Tensor g = contiguous(g_in);
        Tensor dx = Tensor::empty(od.shape(), od.dtype(), od.device());
        if (dx.numel())
            CKERAS_KERNEL(od, softmax_backward, name)(od.dtype(), dx.data_ptr(), g.data_ptr(), od.data_ptr(), outer,
                                                      n, inner, log);
        return std::vector<Tensor>{dx};
    });
    return x_in.dim() == 0 ? reshape(out, {}) : out;
}

Tensor softmax(const Tensor& x, int64_t axis) { return softmax_impl(x, axis, false); }
Tensor log_softmax(const Tensor& x, int64_t axis) { return softmax_impl(x, axis, true); }

}  // namespace ckeras
