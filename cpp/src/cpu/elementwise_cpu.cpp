// Elementwise CPU kernels: unary math and activations (forward and backward), broadcasting binary ops
// and where. Every formula here is the reference the CUDA kernels are tested against. NaN propagates
// through every op (comparisons aside), as in NumPy.
#include <cmath>

#include "cpu/stream_store.h"
#include "cpu/strided_loop.h"
#include "cpu/unary_vec.h"

namespace ckeras::cpu {
namespace {

constexpr double kSeluAlpha = 1.6732632423543772;
constexpr double kSeluScale = 1.0507009873554805;
constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kGeluCoef = 0.044715;
constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kInvSqrt2Pi = 0.3989422804014327;

template <class T>
inline T sigmoid(T x) {
    if (x >= 0) return T(1) / (T(1) + std::exp(-x));
    T e = std::exp(x);
    return e / (T(1) + e);
}

template <class T>
inline T unary_fn(UnaryOp op, T x, T a, T b) {
    switch (op) {
        case UnaryOp::Neg: return -x;
        case UnaryOp::Abs: return std::abs(x);
        case UnaryOp::Square: return x * x;
        case UnaryOp::Sqrt: return std::sqrt(x);
        case UnaryOp::Rsqrt: return T(1) / std::sqrt(x);
        case UnaryOp::Exp: return std::exp(x);
        case UnaryOp::Log: return std::log(x);
        case UnaryOp::Log1p: return std::log1p(x);
        case UnaryOp::Sign: return x != x ? x : T((x > 0) - (x < 0));
        case UnaryOp::Reciprocal: return T(1) / x;
        case UnaryOp::Relu: return x < 0 ? T(0) : x;
        case UnaryOp::Relu6: return x < 0 ? T(0) : (x > 6 ? T(6) : x);
        case UnaryOp::LeakyRelu: return x < 0 ? a * x : x;
        case UnaryOp::Elu: return x > 0 ? x : a * std::expm1(x);
        case UnaryOp::Selu: return T(kSeluScale) * (x > 0 ? x : T(kSeluAlpha) * std::expm1(x));
        case UnaryOp::GeluExact: return T(0.5) * x * (T(1) + std::erf(x * T(kInvSqrt2)));
        case UnaryOp::GeluTanh:
            return T(0.5) * x * (T(1) + std::tanh(T(kSqrt2OverPi) * (x + T(kGeluCoef) * x * x * x)));
        case UnaryOp::Silu: return x * sigmoid(x);
        case UnaryOp::Sigmoid: return sigmoid(x);
        case UnaryOp::HardSigmoid: { T y = x / T(6) + T(0.5); return y < 0 ? T(0) : (y > 1 ? T(1) : y); }
        case UnaryOp::Tanh: return std::tanh(x);
        case UnaryOp::Softplus: return std::log1p(std::exp(-std::abs(x))) + (x > 0 ? x : T(0));
        case UnaryOp::Softsign: return x / (T(1) + std::abs(x));
        case UnaryOp::Clip: return x < a ? a : (x > b ? b : x);
        case UnaryOp::PowScalar: return std::pow(x, a);
        case UnaryOp::kCount: break;
    }
    return x;
}

// f'(x) given the forward input x and output y.
template <class T>
inline T unary_grad(UnaryOp op, T x, T y, T a, T b) {
    switch (op) {
        case UnaryOp::Neg: return T(-1);
        case UnaryOp::Abs: return x != x ? x : T((x > 0) - (x < 0));
        case UnaryOp::Square: return T(2) * x;
        case UnaryOp::Sqrt: return T(0.5) / y;
        case UnaryOp::Rsqrt: return T(-0.5) * y * y * y;
        case UnaryOp::Exp: return y;
        case UnaryOp::Log: return T(1) / x;
        case UnaryOp::Log1p: return T(1) / (T(1) + x);
        case UnaryOp::Sign: return T(0);
        case UnaryOp::Reciprocal: return -y * y;
        case UnaryOp::Relu: return x > 0 ? T(1) : T(0);
        case UnaryOp::Relu6: return (x > 0 && x < 6) ? T(1) : T(0);
        case UnaryOp::LeakyRelu: return x < 0 ? a : T(1);
        case UnaryOp::Elu: return x > 0 ? T(1) : y + a;
        case UnaryOp::Selu: return x > 0 ? T(kSeluScale) : T(kSeluScale * kSeluAlpha) * std::exp(x);
        case UnaryOp::GeluExact:
            return T(0.5) * (T(1) + std::erf(x * T(kInvSqrt2))) + x * T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
        case UnaryOp::GeluTanh: {
            T u = T(kSqrt2OverPi) * (x + T(kGeluCoef) * x * x * x);
            T t = std::tanh(u);
            T du = T(kSqrt2OverPi) * (T(1) + T(3 * kGeluCoef) * x * x);
            return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du;
        }
        case UnaryOp::Silu: { T s = sigmoid(x); return s + x * s * (T(1) - s); }
        case UnaryOp::Sigmoid: return y * (T(1) - y);
        case UnaryOp::HardSigmoid: return (x > -3 && x < 3) ? T(1) / T(6) : T(0);
        case UnaryOp::Tanh: return T(1) - y * y;
        case UnaryOp::Softplus: return sigmoid(x);
        case UnaryOp::Softsign: { T d = T(1) + std::abs(x); return T(1) / (d * d); }
        case UnaryOp::Clip: return (x >= a && x <= b) ? T(1) : T(0);
        case UnaryOp::PowScalar: return a * std::pow(x, a - T(1));
        case UnaryOp::kCount: break;
    }
    return T(0);
}

// Integer dtypes support the ops that are closed over the integers.
template <class T>
inline T unary_int(UnaryOp op, T x, T a, T b) {
    switch (op) {
        case UnaryOp::Neg: return -x;
        case UnaryOp::Abs: return x < 0 ? -x : x;
        case UnaryOp::Square: return x * x;
        case UnaryOp::Sign: return T((x > 0) - (x < 0));
        case UnaryOp::Relu: return x < 0 ? T(0) : x;
        case UnaryOp::Clip: return x < a ? a : (x > b ? b : x);
        default: throw_error(ErrorKind::Type, unary_op_name(op), " is not defined for integer tensors");
    }
}

// Ops whose vector kernel (forward, or backward) takes longer than moving its bytes: their plain
// stores overlap with the arithmetic, while streaming them through an L1 buffer (write_streamed) runs
// the copy as a phase of its own, which measured slower (exp 13.5 vs 11.5 ms on 64 MiB, 2 threads).
bool unary_compute_bound(UnaryOp op, bool backward) {
    switch (op) {
        case UnaryOp::Elu: case UnaryOp::Selu: case UnaryOp::GeluExact: case UnaryOp::GeluTanh:
        case UnaryOp::Silu: case UnaryOp::Softplus:
            return true;
        case UnaryOp::Exp: case UnaryOp::Log: case UnaryOp::Log1p: case UnaryOp::Sigmoid: case UnaryOp::Tanh:
            return !backward;  // their gradients are cheap expressions of x or y
        default: return false;
    }
}

void unary_cpu(UnaryOp op, DType dtype, void* out, const void* inp, int64_t n, double alpha, double beta) {
    // float32: the vectorised kernels (AVX2+FMA or baseline, chosen at run time) where they cover the
    // op; a call with n == 0 asks whether they do.
    if (dtype == DType::Float32) {
        const UnaryVecLevel level = unary_vec_level();
        const float a = static_cast<float>(alpha), b = static_cast<float>(beta);
        if (unary_vec_f32(level, op, nullptr, nullptr, 0, a, b)) {
            float* o = static_cast<float*>(out);
            const float* x = static_cast<const float*>(inp);
            const bool stream = !unary_compute_bound(op, false) && n * int64_t(sizeof(float)) >= stream_min_bytes();
            parallel_for(n, kElementwiseGrain, [&](int64_t s, int64_t e) {
                if (!stream) return void(unary_vec_f32(level, op, o + s, x + s, e - s, a, b));
                write_streamed(o + s, e - s, [&](float* buf, int64_t c, int64_t len) {
                    unary_vec_f32(level, op, buf, x + s + c, len, a, b);
                });
            });
            return;
        }
    }
    if (is_floating(dtype)) {
        CKERAS_DISPATCH_FLOAT(dtype, T, {
            T* o = static_cast<T*>(out);
            const T* x = static_cast<const T*>(inp);
            const T a = static_cast<T>(alpha), b = static_cast<T>(beta);
            parallel_for(n, kElementwiseGrain, [&](int64_t s, int64_t e) {
                // The switch is hoisted by the compiler's loop unswitching only for simple ops; a
                // per-op loop keeps the hot ones vectorised.
                switch (op) {
                    case UnaryOp::Neg: for (int64_t i = s; i < e; ++i) o[i] = -x[i]; break;
                    case UnaryOp::Square: for (int64_t i = s; i < e; ++i) o[i] = x[i] * x[i]; break;
                    case UnaryOp::Relu: for (int64_t i = s; i < e; ++i) o[i] = x[i] < 0 ? T(0) : x[i]; break;
                    default: for (int64_t i = s; i < e; ++i) o[i] = unary_fn<T>(op, x[i], a, b);
                }
            });
        });
        return;
    }
    if (dtype == DType::Bool) throw_error(ErrorKind::Type, unary_op_name(op), " is not defined for bool tensors");
    CKERAS_DISPATCH_ALL(dtype, T, if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        T* o = static_cast<T*>(out);
        const T* x = static_cast<const T*>(inp);
        for (int64_t i = 0; i < n; ++i) o[i] = unary_int<T>(op, x[i], static_cast<T>(alpha), static_cast<T>(beta));
    });
}

void unary_backward_cpu(UnaryOp op, DType dtype, void* dinp, const void* dout, const void* inp, const void* out,
                        int64_t n, double alpha, double beta) {
    if (dtype == DType::Float32) {
        const UnaryVecLevel level = unary_vec_level();
        const float a = static_cast<float>(alpha), b = static_cast<float>(beta);
        if (unary_backward_vec_f32(level, op, nullptr, nullptr, nullptr, nullptr, 0, a, b)) {
            float* dx = static_cast<float*>(dinp);
            const float *dy = static_cast<const float*>(dout), *x = static_cast<const float*>(inp);
            const float* y = static_cast<const float*>(out);
            const bool stream = !unary_compute_bound(op, true) && n * int64_t(sizeof(float)) >= stream_min_bytes();
            parallel_for(n, kElementwiseGrain, [&](int64_t s, int64_t e) {
                if (!stream)
                    return void(unary_backward_vec_f32(level, op, dx + s, dy + s, x + s, y ? y + s : nullptr, e - s, a, b));
                write_streamed(dx + s, e - s, [&](float* buf, int64_t c, int64_t len) {
                    const int64_t at = s + c;
                    unary_backward_vec_f32(level, op, buf, dy + at, x + at, y ? y + at : nullptr, len, a, b);
                });
            });
            return;
        }
    }
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        T* dx = static_cast<T*>(dinp);
        const T* dy = static_cast<const T*>(dout);
        const T* x = static_cast<const T*>(inp);
        const T* y = static_cast<const T*>(out);
        const T a = static_cast<T>(alpha), b = static_cast<T>(beta);
        parallel_for(n, kElementwiseGrain, [&](int64_t s, int64_t e) {
            if (op == UnaryOp::Relu) {
                for (int64_t i = s; i < e; ++i) dx[i] = x[i] > 0 ? dy[i] : T(0);
            } else {
                for (int64_t i = s; i < e; ++i) dx[i] = dy[i] * unary_grad<T>(op, x[i], y[i], a, b);
            }
        });
    });
}

// One row of a binary op: o[i] = f(a[i*sa], b[i*sb]); fast paths for the common stride patterns.
template <class T, class R, class F>
inline void binary_row(R* o, const T* a, int64_t sa, const T* b, int64_t sb, int64_t n, F f) {
    if (sa == 1 && sb == 1) for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
    else if (sa == 1 && sb == 0) { T y = *b; for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], y); }
    else if (sa == 0 && sb == 1) { T x = *a; for (int64_t i = 0; i < n; ++i) o[i] = f(x, b[i]); }
    else for (int64_t i = 0; i < n; ++i) o[i] = f(a[i * sa], b[i * sb]);
}

template <class T, class R, class F>
void binary_loop(R* out, const T* a, const int64_t* as, const T* b, const int64_t* bs, const int64_t* shape,
                 int nd, F f) {
    Shape os = contiguous_strides(Shape(shape, shape + nd));
    bool stream = false;
    if constexpr (std::is_same_v<R, float>) {
        int64_t total = 1;
        for (int d = 0; d < nd; ++d) total *= shape[d];
        stream = total * int64_t(sizeof(float)) >= stream_min_bytes();
    }
    for_each_row<3>(shape, nd, {os.data(), as, bs},
                    [&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& st) {
        if (st[0] == 1) {
            if constexpr (std::is_same_v<R, float>) {
                if (stream)
                    return write_streamed(out + off[0], n, [&](float* buf, int64_t c, int64_t len) {
                        binary_row<T, R>(buf, a + off[1] + c * st[1], st[1], b + off[2] + c * st[2], st[2], len, f);
                    });
            }
            binary_row<T, R>(out + off[0], a + off[1], st[1], b + off[2], st[2], n, f);
        } else {
            for (int64_t i = 0; i < n; ++i) out[off[0] + i * st[0]] = f(a[off[1] + i * st[1]], b[off[2] + i * st[2]]);
        }
    });
}

template <class T>
void binary_typed(BinaryOp op, void* out, const T* a, const int64_t* as, const T* b, const int64_t* bs,
                  const int64_t* shape, int nd) {
    T* o = static_cast<T*>(out);
    bool* p = static_cast<bool*>(out);
    constexpr bool kNum = !std::is_same_v<T, bool>;
    switch (op) {
        case BinaryOp::Add: if constexpr (kNum) return binary_loop(o, a, as, b, bs, shape, nd, [](T x, T y) { return T(x + y); }); break;
        case BinaryOp::Sub: if constexpr (kNum) return binary_loop(o, a, as, b, bs, shape, nd, [](T x, T y) { return T(x - y); }); break;
        case BinaryOp::Mul: if constexpr (kNum) return binary_loop(o, a, as, b, bs, shape, nd, [](T x, T y) { return T(x * y); }); break;
        case BinaryOp::Div:
            if constexpr (std::is_floating_point_v<T>) return binary_loop(o, a, as, b, bs, shape, nd, [](T x, T y) { return x / y; });
            break;
        case BinaryOp::Pow:
            if constexpr (std::is_floating_point_v<T>) return binary_loop(o, a, as, b, bs, shape, nd, [](T x, T y) { return std::pow(x, y); });
            break;
        case BinaryOp::Maximum:
            return binary_loop(o, a, as, b, bs, shape, nd, [](T x, T y) { return (x != x || x > y) ? x : y; });
        case BinaryOp::Minimum:
            return binary_loop(o, a, as, b, bs, shape, nd, [](T x, T y) { return (x != x || x < y) ? x : y; });
        case BinaryOp::Eq: return binary_loop(p, a, as, b, bs, shape, nd, [](T x, T y) { return x == y; });
        case BinaryOp::Ne: return binary_loop(p, a, as, b, bs, shape, nd, [](T x, T y) { return x != y; });
        case BinaryOp::Lt: return binary_loop(p, a, as, b, bs, shape, nd, [](T x, T y) { return x < y; });
        case BinaryOp::Le: return binary_loop(p, a, as, b, bs, shape, nd, [](T x, T y) { return x <= y; });
        case BinaryOp::Gt: return binary_loop(p, a, as, b, bs, shape, nd, [](T x, T y) { return x > y; });
        case BinaryOp::Ge: return binary_loop(p, a, as, b, bs, shape, nd, [](T x, T y) { return x >= y; });
        case BinaryOp::LogicalAnd: return binary_loop(p, a, as, b, bs, shape, nd, [](T x, T y) { return x && y; });
        case BinaryOp::LogicalOr: return binary_loop(p, a, as, b, bs, shape, nd, [](T x, T y) { return x || y; });
        case BinaryOp::kCount: break;
    }
    throw_error(ErrorKind::Type, binary_op_name(op), " is not defined for this dtype");
}

void binary_cpu(BinaryOp op, DType dtype, void* out, const void* a, const int64_t* as, const void* b,
                const int64_t* bs, const int64_t* shape, int nd) {
    CKERAS_DISPATCH_ALL(dtype, T, binary_typed<T>(op, out, static_cast<const T*>(a), as, static_cast<const T*>(b),
                                                  bs, shape, nd));
}

void where_cpu(DType dtype, void* out, const void* cond, const int64_t* cs, const void* a, const int64_t* as,
               const void* b, const int64_t* bs, const int64_t* shape, int nd) {
    Shape os = contiguous_strides(Shape(shape, shape + nd));
    const bool* c = static_cast<const bool*>(cond);
    CKERAS_DISPATCH_ALL(dtype, T, {
        T* o = static_cast<T*>(out);
        const T* x = static_cast<const T*>(a);
        const T* y = static_cast<const T*>(b);
        for_each_row<4>(shape, nd, {os.data(), cs, as, bs},
                        [&](const std::array<int64_t, 4>& off, int64_t n, const std::array<int64_t, 4>& st) {
            for (int64_t i = 0; i < n; ++i)
                o[off[0] + i * st[0]] = c[off[1] + i * st[1]] ? x[off[2] + i * st[2]] : y[off[3] + i * st[3]];
        });
    });
}

}  // namespace

void register_elementwise_cpu(KernelTable& t) {
    t.unary = unary_cpu;
    t.unary_backward = unary_backward_cpu;
    t.binary = binary_cpu;
    t.where = where_cpu;
}

}  // namespace ckeras::cpu
