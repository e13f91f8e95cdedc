// Random tensors and dropout over the counter-based `random` / `dropout` kernels. A draw with (seed, offset)
// fills element i from Philox index offset + i, so callers (ckeras.random's SeedGenerator) advance `offset`
// by the element count to get fresh numbers. New tensors land on the CPU; there is no device argument yet.
#include <cmath>

#include "ops/op_util.h"

namespace ckeras {

static void check_float_dtype(const char* op, DType dtype) {
    CKERAS_CHECK(is_floating(dtype), op, " requires a floating-point dtype (float32 or float64), got ",
                 dtype_name(dtype));
}

// out: `shape`, drawn from `dist` with parameters (a, b).
static Tensor random_impl(const char* op, RandomDist dist, const Shape& shape, double a, double b, DType dtype,
                          uint64_t seed, uint64_t offset) {
    check_float_dtype(op, dtype);
    const int64_t n = checked_numel(shape);
    Tensor out = Tensor::empty(shape, dtype, current_device());
    if (n) CKERAS_KERNEL(out, random, op)(dist, dtype, out.data_ptr(), n, seed, offset, a, b);
    return out;
}

Tensor random_uniform(const Shape& shape, double minval, double maxval, DType dtype, uint64_t seed,
                      uint64_t offset) {
    CKERAS_CHECK(std::isfinite(minval) && std::isfinite(maxval),
                 "random_uniform: minval and maxval must be finite, got minval=", minval, ", maxval=", maxval);
    return random_impl("random_uniform", RandomDist::Uniform, shape, minval, maxval, dtype, seed, offset);
}

static void check_mean_stddev(const char* op, double mean, double stddev) {
    CKERAS_CHECK(std::isfinite(mean), op, ": mean must be finite, got ", mean);
    CKERAS_CHECK(std::isfinite(stddev) && stddev >= 0, op, ": stddev must be finite and >= 0, got ", stddev);
}

Tensor random_normal(const Shape& shape, double mean, double stddev, DType dtype, uint64_t seed, uint64_t offset) {
    check_mean_stddev("random_normal", mean, stddev);
    return random_impl("random_normal", RandomDist::Normal, shape, mean, stddev, dtype, seed, offset);
}

Tensor truncated_normal(const Shape& shape, double mean, double stddev, DType dtype, uint64_t seed,
                        uint64_t offset) {
    check_mean_stddev("truncated_normal", mean, stddev);
    return random_impl("truncated_normal", RandomDist::TruncatedNormal, shape, mean, stddev, dtype, seed, offset);
}

// Inverted dropout. Saves the boolean keep mask (x's shape) for the backward:
// dx = keep ? dout / (1 - rate) : 0, the same scaling the forward applies to x.
Tensor dropout(const Tensor& x_in, double rate, uint64_t seed, uint64_t offset) {
    check_defined("dropout", x_in);
    check_float_dtype("dropout", x_in.dtype());
    CKERAS_CHECK(rate >= 0.0 && rate <= 1.0, "dropout: rate must be a float in [0, 1], got ", rate);
    Tensor x = contiguous(x_in);
    const int64_t n = x.numel();
    Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
    Tensor keep = Tensor::empty(x.shape(), DType::Bool, x.device());
    if (n)
        CKERAS_KERNEL(x, dropout, "dropout")(x.dtype(), out.data_ptr(), keep.data<bool>(), x.data_ptr(), n, rate,
                                             seed, offset);
    record_fn(out, "DropoutBackward", {&x}, [keep, rate](const Tensor& g_in) {
        Tensor g = contiguous(g_in);
        Tensor dx = Tensor::empty(g.shape(), g.dtype(), g.device());
        if (dx.numel())
            CKERAS_KERNEL(g, dropout_backward, "dropout")(g.dtype(), dx.data_ptr(), g.data_ptr(), keep.data<bool>(),
                                                          dx.numel(), rate);
        return std::vector<Tensor>{dx};
    });
    return out;
}

}  // namespace ckeras
