// Tensor ops: validate, allocate, dispatch to the device's kernel table, record the backward node.
// All ops accept strided inputs; results are new contiguous tensors unless documented as views.
#pragma once
#include <optional>
#include <vector>

#include "ckeras/kernels.h"
#include "ckeras/tensor.h"

namespace ckeras {

using Axes = std::vector<int64_t>;

// ---- creation (ops/creation.cpp) ----
Tensor zeros(const Shape& shape, DType dtype = DType::Float32, Device device = {});
Tensor ones(const Shape& shape, DType dtype = DType::Float32, Device device = {});
Tensor full(const Shape& shape, double value, DType dtype = DType::Float32, Device device = {});
Tensor arange(double start, double stop, double step, DType dtype, Device device = {});
Tensor zeros_like(const Tensor& x);
Tensor ones_like(const Tensor& x);

// ---- layout and views (ops/shape.cpp) ----
Tensor contiguous(const Tensor& x);                      // x itself when already contiguous
Tensor cast(const Tensor& x, DType dtype);               // x itself when dtype matches
Tensor copy(const Tensor& x);                            // always a new contiguous tensor
// x on `device` (x itself when already there): a contiguous copy through the host or device link.
// Differentiable: the gradient goes back to x's device.
Tensor to_device(const Tensor& x, Device device);
Tensor reshape(const Tensor& x, const Shape& shape);     // view when possible; one -1 allowed
Tensor permute(const Tensor& x, const Axes& perm);       // view
Tensor transpose(const Tensor& x, std::optional<Axes> axes = std::nullopt);  // reverses dims by default
Tensor swapaxes(const Tensor& x, int64_t a, int64_t b);  // view
Tensor expand_dims(const Tensor& x, int64_t axis);       // view
Tensor squeeze(const Tensor& x, std::optional<Axes> axes = std::nullopt);  // view
Tensor broadcast_to(const Tensor& x, const Shape& shape);  // view with zero strides
// Basic slicing: one (start, stop, step) per leading dim, already clamped by the caller (Python
// slice.indices semantics); step may be negative. View.
struct SliceSpec { int64_t start, stop, step; };
Tensor slice(const Tensor& x, const std::vector<SliceSpec>& specs);
Tensor select(const Tensor& x, int64_t axis, int64_t index);  // drops the axis; view
// In place: dst[...] = broadcast(cast(src)). Not recorded; bumps dst's storage version.
void assign(const Tensor& dst, const Tensor& src);
Tensor concatenate(const std::vector<Tensor>& xs, int64_t axis);
Tensor stack(const std::vector<Tensor>& xs, int64_t axis);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis);
Tensor take(const Tensor& x, const Tensor& indices, std::optional<int64_t> axis);  // gather; int indices
Tensor one_hot(const Tensor& indices, int64_t num_classes, int64_t axis = -1, DType dtype = DType::Float32);
// Sums `g` over broadcast dims so that it has `shape` (the gradient of broadcast_to).
Tensor sum_to(const Tensor& g, const Shape& shape);
Shape broadcast_shapes(const Shape& a, const Shape& b);  // ValueError naming both shapes

// ---- elementwise (ops/elementwise.cpp) ----
Tensor unary(UnaryOp op, const Tensor& x, double alpha = 0.0, double beta = 0.0);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// A 0-d tensor of x's dtype/device (scalar operands).
Tensor scalar_like(double v, const Tensor& like);

// ---- activations needing more than one elementwise kernel (ops/activation.cpp) ----
Tensor softmax(const Tensor& x, int64_t axis = -1);
Tensor log_softmax(const Tensor& x, int64_t axis = -1);

// ---- reductions (ops/reduce.cpp) ----
// `axes` empty with `all_axes` true reduces everything.
Tensor reduce(ReduceOp op, const Tensor& x, const Axes& axes, bool keepdims);
Tensor sum(const Tensor& x, std::optional<Axes> axes = std::nullopt, bool keepdims = false);
Tensor mean(const Tensor& x, std::optional<Axes> axes = std::nullopt, bool keepdims = false);
Tensor max(const Tensor& x, std::optional<Axes> axes = std::nullopt, bool keepdims = false);
Tensor min(const Tensor& x, std::optional<Axes> axes = std::nullopt, bool keepdims = false);
Tensor prod(const Tensor& x, std::optional<Axes> axes = std::nullopt, bool keepdims = false);
Tensor var(const Tensor& x, std::optional<Axes> axes = std::nullopt, bool keepdims = false);
Tensor stddev(const Tensor& x, std::optional<Axes> axes = std::nullopt, bool keepdims = false);
Tensor logsumexp(const Tensor& x, std::optional<Axes> axes = std::nullopt, bool keepdims = false);
Tensor argmax(const Tensor& x, std::optional<int64_t> axis = std::nullopt, bool keepdims = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> axis = std::nullopt, bool keepdims = false);
// Normalises and sorts an axis list; IndexError when out of range, ValueError on duplicates.
Axes normalize_axes(const std::optional<Axes>& axes, int64_t rank);

// ---- matmul (ops/matmul.cpp) ----
// NumPy matmul semantics: 1-D promoted, batch dims broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);

// ---- losses (ops/loss.cpp); each returns per-sample losses (leading dims of pred) ----
Tensor categorical_crossentropy(const Tensor& target, const Tensor& output, bool from_logits, int64_t axis = -1);
Tensor sparse_categorical_crossentropy(const Tensor& target, const Tensor& output, bool from_logits, int64_t axis = -1);
// Mean over the last axis of the elementwise binary cross-entropy.
Tensor binary_crossentropy(const Tensor& target, const Tensor& output, bool from_logits);
Tensor mean_squared_error(const Tensor& target, const Tensor& output);
Tensor mean_absolute_error(const Tensor& target, const Tensor& output);

// ---- random (ops/random.cpp) ----
Tensor random_uniform(const Shape& shape, double minval, double maxval, DType dtype, uint64_t seed, uint64_t offset);
Tensor random_normal(const Shape& shape, double mean, double stddev, DType dtype, uint64_t seed, uint64_t offset);
Tensor truncated_normal(const Shape& shape, double mean, double stddev, DType dtype, uint64_t seed, uint64_t offset);
Tensor dropout(const Tensor& x, double rate, uint64_t seed, uint64_t offset);

}  // namespace ckeras
