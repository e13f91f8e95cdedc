// The kernel interface: one KernelTable per device type, filled by cpu/register_cpu.cpp and
// cuda/register_cuda.cu. Kernels take raw pointers and element counts; they never allocate, validate
// user input or record gradients (ops do that). Shapes in the comments: (outer, n, inner) means a
// contiguous buffer viewed as three nested dims. Strides are in elements.
#pragma once
#include <cstdint>

#include "ckeras/dtype.h"

namespace ckeras {

// ---- elementwise ----------------------------------------------------------------------------
// Unary ops; `alpha`/`beta` are the op's parameters where it has any.
enum class UnaryOp : uint8_t {
    Neg, Abs, Square, Sqrt, Rsqrt, Exp, Log, Log1p, Sign, Reciprocal,
    Relu, Relu6, LeakyRelu /*alpha=negative_slope*/, Elu /*alpha*/, Selu, GeluExact, GeluTanh,
    Silu, Sigmoid, HardSigmoid, Tanh, Softplus, Softsign,
    Clip /*alpha=min, beta=max*/, PowScalar /*alpha=exponent*/,
    kCount
};
const char* unary_op_name(UnaryOp op);

// Binary ops with broadcasting. Comparisons and logical ops write bool.
enum class BinaryOp : uint8_t {
    Add, Sub, Mul, Div, Pow, Maximum, Minimum,
    Eq, Ne, Lt, Le, Gt, Ge, LogicalAnd, LogicalOr,
    kCount
};
const char* binary_op_name(BinaryOp op);
inline bool binary_op_is_predicate(BinaryOp op) { return op >= BinaryOp::Eq; }

// ---- reductions -----------------------------------------------------------------------------
enum class ReduceOp : uint8_t { Sum, Prod, Max, Min, ArgMax, ArgMin, kCount };

// ---- random ---------------------------------------------------------------------------------
// Counter-based (Philox4x32-10): element i of a draw with (seed, offset) is a pure function of
// (seed, offset + i), identical on every device and thread count.
enum class RandomDist : uint8_t { Uniform /*[a, b)*/, Normal /*mean a, stddev b*/,
                                  TruncatedNormal /*mean a, stddev b, |x - a| <= 2b*/ };

// ---- optimizers -----------------------------------------------------------------------------
enum class OptimizerKind : uint8_t { SGD, Adam, RMSprop, Adagrad, Adamax, Nadam, Lion };

// Hyper-parameters for one step of any optimizer (Keras 3 formulas; unused fields ignored).
struct OptimizerStep {
    OptimizerKind kind = OptimizerKind::SGD;
    double learning_rate = 0.01;  // already evaluated from any schedule
    double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;
    double momentum = 0.0, rho = 0.9;
    bool nesterov = false, amsgrad = false, centered = false;
    double weight_decay = 0.0;   // decoupled: w -= w * wd * lr, before the update (0 = off)
    double clip_value = 0.0;     // > 0: clamp each gradient element to [-v, v] first
    int64_t step = 1;            // t = iterations + 1
    double nadam_u_product = 1.0;  // Nadam: product of momentum-cache terms before this step
};

// One parameter tensor with its gradient and optimizer slots (float32, contiguous, n elements).
// slots: SGD {momentum}; Adam {m, v, vhat if amsgrad}; RMSprop {velocity, momentum, average_grad};
// Adagrad {accumulator}; Adamax {m, u}; Nadam {m, v}; Lion {m}. Unused slots are null.
struct ParamGroup {
    float* param = nullptr;
    const float* grad = nullptr;
    float* slot[3] = {nullptr, nullptr, nullptr};
    int64_t n = 0;
    float grad_scale = 1.f;  // clipnorm / global_clipnorm factor applied to grad
    bool decay = true;       // excluded from weight decay when false
};

// ---- the table ------------------------------------------------------------------------------
struct KernelTable {
    // out = cast(in), both read/written through their own strides over `shape` (plain copy when the
    // dtypes match). Writing through out_strides lets ops scatter into views (slice backward, concat).
    void (*copy_strided)(DType out_dtype, void* out, const int64_t* out_strides, DType in_dtype,
                         const void* in, const int64_t* in_strides, const int64_t* shape, int ndim) = nullptr;
    // out[0..n) = value.
    void (*fill)(DType dtype, void* out, int64_t n, double value) = nullptr;
    // out[i] = start + i * step.
    void (*arange)(DType dtype, void* out, int64_t n, double start, double step) = nullptr;

    // out, inp: (n,), same dtype.
    void (*unary)(UnaryOp op, DType dtype, void* out, const void* inp, int64_t n, double alpha,
                  double beta) = nullptr;
    // dinp = dout * f'(inp); inp and out are the forward input and output: (n,).
    void (*unary_backward)(UnaryOp op, DType dtype, void* dinp, const void* dout, const void* inp,
                           const void* out, int64_t n, double alpha, double beta) = nullptr;
    // out (contiguous, `shape`) = a op b, with a and b read through broadcast strides (0 on a
    // broadcast dim). `dtype` is the input dtype; predicates write bool.
    void (*binary)(BinaryOp op, DType dtype, void* out, const void* a, const int64_t* a_strides,
                   const void* b, const int64_t* b_strides, const int64_t* shape, int ndim) = nullptr;
    // out = cond ? a : b, all three read through broadcast strides; cond is bool.
    void (*where)(DType dtype, void* out, const void* cond, const int64_t* c_strides, const void* a,
                  const int64_t* a_strides, const void* b, const int64_t* b_strides,
                  const int64_t* shape, int ndim) = nullptr;

    // in: (outer, r, inner) contiguous; out: (outer, inner). ArgMax/ArgMin write int64.
    void (*reduce)(ReduceOp op, DType dtype, void* out, const void* in, int64_t outer, int64_t r,
                   int64_t inner) = nullptr;

    // Row-major C = alpha * op(A) @ op(B) + beta * C; op(A): (M, K), op(B): (K, N), C: (M, N).
    // lda/ldb/ldc are row strides of the stored (untransposed) matrices. beta == 0 ignores C's contents.
    void (*gemm)(DType dtype, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
                 const void* A, int64_t lda, const void* B, int64_t ldb, double beta, void* C,
                 int64_t ldc) = nullptr;

    // Softmax (or log-softmax) over the middle dim of (outer, n, inner).
    void (*softmax)(DType dtype, void* out, const void* in, int64_t outer, int64_t n, int64_t inner,
                    bool log) = nullptr;
    // dinp from dout and the forward output, same layout.
    void (*softmax_backward)(DType dtype, void* dinp, const void* dout, const void* out, int64_t outer,
                             int64_t n, int64_t inner, bool log) = nullptr;

    // Cross-entropy per row. pred, target: (B, C); loss: (B,).
    // from_logits: loss = logsumexp(z) * sum(y) - sum(y * z); else p /= sum(p), clip to [eps, 1 - eps],
    // loss = -sum(y * log p).
    void (*cross_entropy)(DType dtype, void* loss, const void* pred, const void* target, int64_t B,
                          int64_t C, bool from_logits, double eps) = nullptr;
    // dpred (B, C) from dloss (B,).
    void (*cross_entropy_backward)(DType dtype, void* dpred, const void* dloss, const void* pred,
                                   const void* target, int64_t B, int64_t C, bool from_logits,
                                   double eps) = nullptr;
    // Sparse: labels (B,) int64. Returns the index of the first label outside [0, C), or -1.
    int64_t (*sparse_cross_entropy)(DType dtype, void* loss, const void* pred, const int64_t* labels,
                                    int64_t B, int64_t C, bool from_logits, double eps) = nullptr;
    void (*sparse_cross_entropy_backward)(DType dtype, void* dpred, const void* dloss, const void* pred,
                                          const int64_t* labels, int64_t B, int64_t C, bool from_logits,
                                          double eps) = nullptr;
    // Binary CE, elementwise over (n,): from logits uses the stable max(z,0) - z*y + log1p(exp(-|z|)).
    void (*binary_cross_entropy)(DType dtype, void* loss, const void* pred, const void* target, int64_t n,
                                 bool from_logits, double eps) = nullptr;
    void (*binary_cross_entropy_backward)(DType dtype, void* dpred, const void* dloss, const void* pred,
                                          const void* target, int64_t n, bool from_logits,
                                          double eps) = nullptr;
    // Mean squared (abs=false) / absolute (abs=true) error per row: pred, target (B, C); loss (B,).
    void (*regression_loss)(DType dtype, void* loss, const void* pred, const void* target, int64_t B,
                            int64_t C, bool abs) = nullptr;
    void (*regression_loss_backward)(DType dtype, void* dpred, const void* dloss, const void* pred,
                                     const void* target, int64_t B, int64_t C, bool abs) = nullptr;

    // Gather along the middle dim: in (outer, axis_size, inner), indices (n_idx,) int64 with negative
    // values counting from the end; out (outer, n_idx, inner). Returns the position in `indices` of
    // the first index outside [-axis_size, axis_size), or -1 (then out is complete).
    int64_t (*gather)(DType dtype, void* out, const void* in, int64_t outer, int64_t axis_size, int64_t inner,
                      const int64_t* indices, int64_t n_idx) = nullptr;
    // dinp (outer, axis_size, inner) += scatter of dout (outer, n_idx, inner); indices already validated.
    void (*gather_backward)(DType dtype, void* dinp, const void* dout, int64_t outer, int64_t axis_size,
                            int64_t inner, const int64_t* indices, int64_t n_idx) = nullptr;

    // out: (n,) drawn from `dist` with parameters a, b.
    void (*random)(RandomDist dist, DType dtype, void* out, int64_t n, uint64_t seed, uint64_t offset,
                   double a, double b) = nullptr;
    // Inverted dropout: keep[i] = uniform(seed, offset + i) >= rate; out = keep ? inp / (1 - rate) : 0.
    void (*dropout)(DType dtype, void* out, bool* keep, const void* inp, int64_t n, double rate,
                    uint64_t seed, uint64_t offset) = nullptr;

    // Dropout's gradient: dinp = keep ? dout / T(1 - rate) : 0, the forward's scaling. dinp may alias dout.
    void (*dropout_backward)(DType dtype, void* dinp, const void* dout, const bool* keep, int64_t n,
                             double rate) = nullptr;

    // Dense epilogue, in place on x (rows, cols) row-major: x[r, c] += bias[c] (skipped when bias is null),
    // then, when `relu`, x = x < 0 ? 0 : x. The same float operations as the add op and the relu kernel.
    void (*bias_activation)(DType dtype, void* x, const void* bias, int64_t rows, int64_t cols,
                            bool relu) = nullptr;

    // Updates every group in one call (multi-tensor apply).
    void (*optimizer_step)(const OptimizerStep& step, ParamGroup* groups, int64_t count) = nullptr;
    // sum of squares of every group's grad (times grad_scale^2): for global_clipnorm.
    double (*grad_sq_norm)(const ParamGroup* groups, int64_t count) = nullptr;
};

// Every slot of KernelTable, for the parity test (a slot filled for one device must be filled for all).
#define CKERAS_KERNEL_SLOTS(X)                                                                         \
    X(copy_strided) X(fill) X(arange) X(unary) X(unary_backward) X(binary) X(where) X(reduce) X(gemm)      \
    X(softmax) X(softmax_backward) X(cross_entropy) X(cross_entropy_backward) X(sparse_cross_entropy)      \
    X(sparse_cross_entropy_backward) X(binary_cross_entropy) X(binary_cross_entropy_backward)              \
    X(regression_loss) X(regression_loss_backward) X(gather) X(gather_backward) X(random) X(dropout)       \
    X(dropout_backward) X(bias_activation) X(optimizer_step) X(grad_sq_norm)

// The table for a device type; CUDA's is empty in a CPU-only build.
KernelTable& kernel_table(DeviceType type);
// Throws NotImplemented naming the op and device when a slot is empty.
template <class Fn>
Fn require_kernel(Fn fn, const char* op, Device device);

void register_cpu_kernels(KernelTable& table);
void register_cuda_kernels(KernelTable& table);  // defined only in CUDA builds

}  // namespace ckeras

#include "ckeras/kernels_inl.h"
