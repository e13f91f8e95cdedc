// CUDA twins of the unary and unary_backward slots of cpu/elementwise_cpu.cpp: every UnaryOp on
// float32 and float64, the integer-closed ones (neg, abs, square, sign, relu, clip) on int32/int64.
//
// float64 uses the reference formulas of unary_fn / unary_grad. float32 follows the CPU's vectorised
// kernels (cpu/unary_vec_impl.h): the same rearrangements (hard_sigmoid as (x + 3) / 6, dy scaled first in
// the rsqrt and reciprocal gradients, ...), so special values (NaN, +-inf, +-0) come out the same. Where
// those kernels keep accuracy in float through compensated arithmetic (gelu, silu, the scaled
// sigmoid of softplus' and selu's gradients, pow), the float32 path here evaluates in double and rounds
// once, which is at least as accurate; the rest uses CUDA's float libm (<= 2 ulp).
#include "elementwise_math.cuh"
#include "kernel_util.cuh"

namespace ckeras::cuda {
namespace {

template <class T> constexpr bool kF32 = std::is_same_v<T, float>;

// pow(x, a) for float32 as the CPU computes it: the exponents its vector kernel special-cases, else
// powf (computed here in double and rounded once).
__host__ __device__ __forceinline__ float pow_f32(float x, float a) {
    if (a == 0.f) return 1.f;
    if (a == 1.f) return x;
    if (a == 2.f) return x * x;
    if (a == 3.f) return (x * x) * x;
    if (a == -1.f) return 1.f / x;
    if (a == 0.5f) return x == -kInfF ? kInfF : sqrtf(x) + 0.f;  // pow(-0, .5) = +0, pow(-inf, .5) = +inf
    return static_cast<float>(pow(static_cast<double>(x), static_cast<double>(a)));
}

template <UnaryOp Op, class T>
__host__ __device__ __forceinline__ T unary_fwd(T x, T a, T b) {
    if constexpr (Op == UnaryOp::Neg) return -x;
    else if constexpr (Op == UnaryOp::Abs) {
        if constexpr (std::is_floating_point_v<T>) return fabs(x);
        else return x < 0 ? -x : x;
    }
    else if constexpr (Op == UnaryOp::Square) return x * x;
    else if constexpr (Op == UnaryOp::Sqrt) return sqrt(x);
    else if constexpr (Op == UnaryOp::Rsqrt) return T(1) / sqrt(x);
    else if constexpr (Op == UnaryOp::Exp) return exp(x);
    else if constexpr (Op == UnaryOp::Log) return log(x);
    else if constexpr (Op == UnaryOp::Log1p) return log1p(x);
    else if constexpr (Op == UnaryOp::Sign) return is_nan(x) ? x : T((x > 0) - (x < 0));
    else if constexpr (Op == UnaryOp::Reciprocal) return T(1) / x;
    else if constexpr (Op == UnaryOp::Relu) return x < 0 ? T(0) : x;
    else if constexpr (Op == UnaryOp::Relu6) return x < 0 ? T(0) : (x > 6 ? T(6) : x);
    else if constexpr (Op == UnaryOp::LeakyRelu) return x < 0 ? a * x : x;
    else if constexpr (Op == UnaryOp::Elu) return x > 0 ? x : a * expm1(x);
    else if constexpr (Op == UnaryOp::Selu) return T(kSeluScale) * (x > 0 ? x : T(kSeluAlpha) * expm1(x));
    else if constexpr (Op == UnaryOp::GeluExact) {
        if constexpr (kF32<T>) return static_cast<float>(gelu_exact_d(x));
        else return T(0.5) * x * (T(1) + erf(x * T(kInvSqrt2)));
    }
    else if constexpr (Op == UnaryOp::GeluTanh) {
        if constexpr (kF32<T>) return static_cast<float>(gelu_tanh_d(x));
        else return T(0.5) * x * (T(1) + tanh(T(kSqrt2OverPi) * (x + T(kGeluCoef) * x * x * x)));
    }
    else if constexpr (Op == UnaryOp::Silu) {
        if constexpr (kF32<T>) return static_cast<float>(static_cast<double>(x) * sigmoid_ref(static_cast<double>(x)));
        else return x * sigmoid_ref(x);
    }
    else if constexpr (Op == UnaryOp::Sigmoid) return sigmoid_ref(x);
    else if constexpr (Op == UnaryOp::HardSigmoid) {
        const T y = kF32<T> ? (x + T(3)) / T(6) : x / T(6) + T(0.5);
        return y < 0 ? T(0) : (y > 1 ? T(1) : y);
    }
    else if constexpr (Op == UnaryOp::Tanh) return tanh(x);
    else if constexpr (Op == UnaryOp::Softplus) return log1p(exp(-fabs(x))) + (x > 0 ? x : T(0));
    else if constexpr (Op == UnaryOp::Softsign) return x / (T(1) + fabs(x));
    else if constexpr (Op == UnaryOp::Clip) return x < a ? a : (x > b ? b : x);
    else if constexpr (Op == UnaryOp::PowScalar) {
        if constexpr (kF32<T>) return pow_f32(x, a);
        else return pow(x, a);
    }
    else return x;
}

// Ops whose gradient reads the forward output y (the others never touch `out`, which may be null).
__host__ __device__ constexpr bool grad_uses_out(UnaryOp op) {
    return op == UnaryOp::Sqrt || op == UnaryOp::Rsqrt || op == UnaryOp::Exp || op == UnaryOp::Reciprocal ||
           op == UnaryOp::Elu || op == UnaryOp::Sigmoid || op == UnaryOp::Tanh;
}

// float64: dy * unary_grad(x, y) with the reference's formulas (relu: x > 0 ? dy : 0).
template <UnaryOp Op>
__host__ __device__ __forceinline__ double unary_bwd_f64(double g, double x, double y, double a, double b) {
    double d = 0;
    if constexpr (Op == UnaryOp::Neg) d = -1;
    else if constexpr (Op == UnaryOp::Abs) d = x != x ? x : double((x > 0) - (x < 0));
    else if constexpr (Op == UnaryOp::Square) d = 2 * x;
    else if constexpr (Op == UnaryOp::Sqrt) d = 0.5 / y;
    else if constexpr (Op == UnaryOp::Rsqrt) d = -0.5 * y * y * y;
    else if constexpr (Op == UnaryOp::Exp) d = y;
    else if constexpr (Op == UnaryOp::Log) d = 1 / x;
    else if constexpr (Op == UnaryOp::Log1p) d = 1 / (1 + x);
    else if constexpr (Op == UnaryOp::Sign) d = 0;
    else if constexpr (Op == UnaryOp::Reciprocal) d = -y * y;
    else if constexpr (Op == UnaryOp::Relu) return x > 0 ? g : 0.0;
    else if constexpr (Op == UnaryOp::Relu6) d = (x > 0 && x < 6) ? 1 : 0;
    else if constexpr (Op == UnaryOp::LeakyRelu) d = x < 0 ? a : 1;
    else if constexpr (Op == UnaryOp::Elu) d = x > 0 ? 1 : y + a;
    else if constexpr (Op == UnaryOp::Selu) d = x > 0 ? kSeluScale : (kSeluScale * kSeluAlpha) * exp(x);
    else if constexpr (Op == UnaryOp::GeluExact)
        d = 0.5 * (1 + erf(x * kInvSqrt2)) + x * kInvSqrt2Pi * exp(-0.5 * x * x);
    else if constexpr (Op == UnaryOp::GeluTanh) {
        const double u = kSqrt2OverPi * (x + kGeluCoef * x * x * x);
        const double t = tanh(u);
        const double du = kSqrt2OverPi * (1 + (3 * kGeluCoef) * x * x);
        d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
    }
    else if constexpr (Op == UnaryOp::Silu) { const double s = sigmoid_ref(x); d = s + x * s * (1 - s); }
    else if constexpr (Op == UnaryOp::Sigmoid) d = y * (1 - y);
    else if constexpr (Op == UnaryOp::HardSigmoid) d = (x > -3 && x < 3) ? 1.0 / 6.0 : 0;
    else if constexpr (Op == UnaryOp::Tanh) d = 1 - y * y;
    else if constexpr (Op == UnaryOp::Softplus) d = sigmoid_ref(x);
    else if constexpr (Op == UnaryOp::Softsign) { const double s = 1 + fabs(x); d = 1 / (s * s); }
    else if constexpr (Op == UnaryOp::Clip) d = (x >= a && x <= b) ? 1 : 0;
    else if constexpr (Op == UnaryOp::PowScalar) d = a * pow(x, a - 1);
    return g * d;
}

// float32: the vector kernels' forms (unary_backward_f32 in cpu/unary_vec_impl.h).
template <UnaryOp Op>
__host__ __device__ __forceinline__ float unary_bwd_f32(float g, float x, float y, float a, float b) {
    const double gd = g, xd = x;
    if constexpr (Op == UnaryOp::Neg) return g * -1.f;
    else if constexpr (Op == UnaryOp::Abs) return g * (x != x ? x : (x > 0.f ? 1.f : (x < 0.f ? -1.f : 0.f)));
    else if constexpr (Op == UnaryOp::Square) return (2.f * g) * x;
    else if constexpr (Op == UnaryOp::Sqrt) return g * (0.5f / y);
    else if constexpr (Op == UnaryOp::Rsqrt) return (((-0.5f * g) * y) * y) * y;
    else if constexpr (Op == UnaryOp::Exp) return g * y;
    else if constexpr (Op == UnaryOp::Log) return g / x;
    else if constexpr (Op == UnaryOp::Log1p) return g / (1.f + x);
    else if constexpr (Op == UnaryOp::Sign) return g * 0.f;
    else if constexpr (Op == UnaryOp::Reciprocal) return (-g * y) * y;
    else if constexpr (Op == UnaryOp::Relu) return x > 0.f ? g : 0.f;
    else if constexpr (Op == UnaryOp::Relu6) return g * ((x > 0.f && x < 6.f) ? 1.f : 0.f);
    else if constexpr (Op == UnaryOp::LeakyRelu) return g * (x < 0.f ? a : 1.f);
    else if constexpr (Op == UnaryOp::Elu) return g * (x > 0.f ? 1.f : y + a);
    else if constexpr (Op == UnaryOp::Selu) {
        if (x > 0.f) return g * static_cast<float>(kSeluScale);
        return static_cast<float>(static_cast<double>(g * static_cast<float>(kSeluScale * kSeluAlpha)) * exp(xd));
    }
    else if constexpr (Op == UnaryOp::GeluExact) return static_cast<float>(gd * gelu_exact_grad_d(xd));
    else if constexpr (Op == UnaryOp::GeluTanh) return static_cast<float>(gd * gelu_tanh_grad_d(xd));
    else if constexpr (Op == UnaryOp::Silu)
        return static_cast<float>(gd * (sigmoid_ref(xd) * (1 + xd * sigmoid_ref(-xd))));
    else if constexpr (Op == UnaryOp::Sigmoid) return g * (y * (1.f - y));
    else if constexpr (Op == UnaryOp::HardSigmoid) return g * ((x > -3.f && x < 3.f) ? 1.f / 6.f : 0.f);
    else if constexpr (Op == UnaryOp::Tanh) return g * ((1.f - y) * (1.f + y));
    else if constexpr (Op == UnaryOp::Softplus) return static_cast<float>(gd * sigmoid_ref(xd));
    else if constexpr (Op == UnaryOp::Softsign) { const float d = 1.f + fabsf(x); return (g / d) / d; }
    else if constexpr (Op == UnaryOp::Clip) return g * ((x >= a && x <= b) ? 1.f : 0.f);
    else if constexpr (Op == UnaryOp::PowScalar) {  // a * pow(x, a - 1)
        if (a == 0.f) return g * (x == 0.f ? kNaNF : (x != x ? x : 0.f));
        if (a == 1.f) return g * 1.f;
        if (a == 2.f) return (2.f * g) * x;
        if (a == 3.f) return ((3.f * g) * x) * x;
        if (a == -1.f) { const float r = 1.f / x; return (-g * r) * r; }
        if (a == 0.5f) {
            const float r = x == 0.f ? kInfF : (x == -kInfF ? 0.f : 1.f / sqrtf(x));
            return g * (0.5f * r);
        }
        return g * (a * static_cast<float>(pow(xd, static_cast<double>(a - 1.f))));
    }
    else return g;
}

template <UnaryOp Op, class T>
__global__ void unary_forward_kernel(T* out, const T* inp, int64_t n, T a, T b) {
    for (int64_t i = grid_start(); i < n; i += grid_step()) out[i] = unary_fwd<Op, T>(inp[i], a, b);
}

template <UnaryOp Op, class T>
__global__ void unary_backward_kernel(T* dinp, const T* dout, const T* inp, const T* out, int64_t n, T a, T b) {
    for (int64_t i = grid_start(); i < n; i += grid_step()) {
        const T y = grad_uses_out(Op) ? out[i] : T(0);
        if constexpr (kF32<T>) dinp[i] = unary_bwd_f32<Op>(dout[i], inp[i], y, a, b);
        else dinp[i] = unary_bwd_f64<Op>(dout[i], inp[i], y, a, b);
    }
}

#define CKERAS_UNARY_OPS(X)                                                                               \
    X(Neg) X(Abs) X(Square) X(Sqrt) X(Rsqrt) X(Exp) X(Log) X(Log1p) X(Sign) X(Reciprocal) X(Relu) X(Relu6)   \
    X(LeakyRelu) X(Elu) X(Selu) X(GeluExact) X(GeluTanh) X(Silu) X(Sigmoid) X(HardSigmoid) X(Tanh)         \
    X(Softplus) X(Softsign) X(Clip) X(PowScalar)
// The ops closed over the integers (unary_int in the CPU kernels).
#define CKERAS_UNARY_INT_OPS(X) X(Neg) X(Abs) X(Square) X(Sign) X(Relu) X(Clip)

template <class T>
void unary_launch(UnaryOp op, T* out, const T* inp, int64_t n, T a, T b) {
    const unsigned grid = grid_for(n);
#define CKERAS_CASE(name)                                                                          \
    case UnaryOp::name:                                                                            \
        unary_forward_kernel<UnaryOp::name, T><<<grid, kBlock, 0, stream()>>>(out, inp, n, a, b); \
        break;
    if constexpr (std::is_floating_point_v<T>) {
        switch (op) {
            CKERAS_UNARY_OPS(CKERAS_CASE)
            default: throw_error(ErrorKind::Value, "unary: invalid op ", static_cast<int>(op));
        }
    } else {
        switch (op) {
            CKERAS_UNARY_INT_OPS(CKERAS_CASE)
            default: throw_error(ErrorKind::Type, unary_op_name(op), " is not defined for integer tensors");
        }
    }
#undef CKERAS_CASE
    CKERAS_CUDA_LAUNCHED(unary_op_name(op));
}

void unary_cuda(UnaryOp op, DType dtype, void* out, const void* inp, int64_t n, double alpha, double beta) {
    if (dtype == DType::Bool) throw_error(ErrorKind::Type, unary_op_name(op), " is not defined for bool tensors");
    if (n <= 0) return;  // (the CPU raises for an unsupported integer op only once it meets an element)
    switch (dtype) {
        case DType::Float32: return unary_launch<float>(op, static_cast<float*>(out), static_cast<const float*>(inp), n,
                                                        static_cast<float>(alpha), static_cast<float>(beta));
        case DType::Float64: return unary_launch<double>(op, static_cast<double*>(out), static_cast<const double*>(inp),
                                                         n, alpha, beta);
        case DType::Int32: return unary_launch<int32_t>(op, static_cast<int32_t*>(out), static_cast<const int32_t*>(inp),
                                                        n, static_cast<int32_t>(alpha), static_cast<int32_t>(beta));
        case DType::Int64: return unary_launch<int64_t>(op, static_cast<int64_t*>(out), static_cast<const int64_t*>(inp),
                                                        n, static_cast<int64_t>(alpha), static_cast<int64_t>(beta));
        case DType::Bool: break;
    }
}

template <class T>
void unary_backward_launch(UnaryOp op, T* dx, const T* dy, const T* x, const T* y, int64_t n, T a, T b) {
    const unsigned grid = grid_for(n);
    switch (op) {
#define CKERAS_CASE(name)                                                                              \
        case UnaryOp::name:                                                                            \
            unary_backward_kernel<UnaryOp::name, T><<<grid, kBlock, 0, stream()>>>(dx, dy, x, y, n, a, b); \
            break;
        CKERAS_UNARY_OPS(CKERAS_CASE)
#undef CKERAS_CASE
        default: throw_error(ErrorKind::Value, "unary_backward: invalid op ", static_cast<int>(op));
    }
    CKERAS_CUDA_LAUNCHED(unary_op_name(op));
}

void unary_backward_cuda(UnaryOp op, DType dtype, void* dinp, const void* dout, const void* inp, const void* out,
                         int64_t n, double alpha, double beta) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        if (n <= 0) return;
        unary_backward_launch<T>(op, static_cast<T*>(dinp), static_cast<const T*>(dout), static_cast<const T*>(inp),
                                 static_cast<const T*>(out), n, static_cast<T>(alpha), static_cast<T>(beta));
    });
}

}  // namespace

void register_unary_cuda(KernelTable& t) {
    t.unary = unary_cuda;
    t.unary_backward = unary_backward_cuda;
}

}  // namespace ckeras::cuda
