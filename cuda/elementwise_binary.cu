// CUDA twins of the binary and where slots of cpu/elementwise_cpu.cpp: every BinaryOp with NumPy
// broadcasting (operands read through strides, 0 on a broadcast dim; out contiguous), predicates and
// logical ops writing bool, and where(cond, a, b). Same dtype coverage as the CPU: arithmetic on the
// numeric dtypes (divide and power on floats only), maximum/minimum/comparisons/logical ops on all five.
#include "kernel_util.cuh"

namespace ckeras::cuda {
namespace {

// NaN propagates through maximum/minimum from either side: x wins when it is NaN, else y wins unless x
// is strictly greater (smaller). The reference's exact form, so +-0 ties pick the same operand.
struct AddF { template <class T> __device__ T operator()(T x, T y) const { return T(x + y); } };
struct SubF { template <class T> __device__ T operator()(T x, T y) const { return T(x - y); } };
struct MulF { template <class T> __device__ T operator()(T x, T y) const { return T(x * y); } };
struct DivF { template <class T> __device__ T operator()(T x, T y) const { return x / y; } };
struct PowF {
    __device__ float operator()(float x, float y) const {
        // powf, evaluated in double and rounded once (the CPU's glibc powf is correctly rounded).
        return static_cast<float>(pow(static_cast<double>(x), static_cast<double>(y)));
    }
    __device__ double operator()(double x, double y) const { return pow(x, y); }
};
struct MaxF { template <class T> __device__ T operator()(T x, T y) const { return (is_nan(x) || x > y) ? x : y; } };
struct MinF { template <class T> __device__ T operator()(T x, T y) const { return (is_nan(x) || x < y) ? x : y; } };
struct EqF { template <class T> __device__ bool operator()(T x, T y) const { return x == y; } };
struct NeF { template <class T> __device__ bool operator()(T x, T y) const { return x != y; } };
struct LtF { template <class T> __device__ bool operator()(T x, T y) const { return x < y; } };
struct LeF { template <class T> __device__ bool operator()(T x, T y) const { return x <= y; } };
struct GtF { template <class T> __device__ bool operator()(T x, T y) const { return x > y; } };
struct GeF { template <class T> __device__ bool operator()(T x, T y) const { return x >= y; } };
struct AndF { template <class T> __device__ bool operator()(T x, T y) const { return x && y; } };
struct OrF { template <class T> __device__ bool operator()(T x, T y) const { return x || y; } };

// out[i] = f(a[off_a(i)], b[off_b(i)]), out contiguous over the collapsed shape.
template <class R, class T, class F>
__global__ void binary_forward_kernel(R* out, const T* a, const T* b, Strided<2> L, int64_t n, F f) {
    for (int64_t i = grid_start(); i < n; i += grid_step()) {
        int64_t off[2];
        L.offsets(i, off);
        out[i] = f(a[off[0]], b[off[1]]);
    }
}

// Both operands contiguous (the common case): no index arithmetic.
template <class R, class T, class F>
__global__ void binary_contiguous_kernel(R* out, const T* a, const T* b, int64_t n, F f) {
    for (int64_t i = grid_start(); i < n; i += grid_step()) out[i] = f(a[i], b[i]);
}

template <class R, class T, class F>
void binary_launch(BinaryOp op, void* out, const T* a, const T* b, const Strided<2>& L, int64_t n, F f) {
    if (n == 0) return;
    R* o = static_cast<R*>(out);
    if (L.ndim == 1 && L.strides[0][0] == 1 && L.strides[1][0] == 1)
        binary_contiguous_kernel<R, T, F><<<grid_for(n), kBlock, 0, stream()>>>(o, a, b, n, f);
    else
        binary_forward_kernel<R, T, F><<<grid_for(n), kBlock, 0, stream()>>>(o, a, b, L, n, f);
    CKERAS_CUDA_LAUNCHED(binary_op_name(op));
}

template <class T>
void binary_typed(BinaryOp op, void* out, const T* a, const T* b, const Strided<2>& L, int64_t n) {
    constexpr bool kNum = !std::is_same_v<T, bool>;
    constexpr bool kFloat = std::is_floating_point_v<T>;
    switch (op) {
        case BinaryOp::Add: if constexpr (kNum) return binary_launch<T>(op, out, a, b, L, n, AddF{}); break;
        case BinaryOp::Sub: if constexpr (kNum) return binary_launch<T>(op, out, a, b, L, n, SubF{}); break;
        case BinaryOp::Mul: if constexpr (kNum) return binary_launch<T>(op, out, a, b, L, n, MulF{}); break;
        case BinaryOp::Div: if constexpr (kFloat) return binary_launch<T>(op, out, a, b, L, n, DivF{}); break;
        case BinaryOp::Pow: if constexpr (kFloat) return binary_launch<T>(op, out, a, b, L, n, PowF{}); break;
        case BinaryOp::Maximum: return binary_launch<T>(op, out, a, b, L, n, MaxF{});
        case BinaryOp::Minimum: return binary_launch<T>(op, out, a, b, L, n, MinF{});
        case BinaryOp::Eq: return binary_launch<bool>(op, out, a, b, L, n, EqF{});
        case BinaryOp::Ne: return binary_launch<bool>(op, out, a, b, L, n, NeF{});
        case BinaryOp::Lt: return binary_launch<bool>(op, out, a, b, L, n, LtF{});
        case BinaryOp::Le: return binary_launch<bool>(op, out, a, b, L, n, LeF{});
        case BinaryOp::Gt: return binary_launch<bool>(op, out, a, b, L, n, GtF{});
        case BinaryOp::Ge: return binary_launch<bool>(op, out, a, b, L, n, GeF{});
        case BinaryOp::LogicalAnd: return binary_launch<bool>(op, out, a, b, L, n, AndF{});
        case BinaryOp::LogicalOr: return binary_launch<bool>(op, out, a, b, L, n, OrF{});
        case BinaryOp::kCount: break;
    }
    throw_error(ErrorKind::Type, binary_op_name(op), " is not defined for this dtype");
}

void binary_cuda(BinaryOp op, DType dtype, void* out, const void* a, const int64_t* a_strides, const void* b,
                 const int64_t* b_strides, const int64_t* shape, int ndim) {
    Strided<2> L;
    const int64_t n = collapse<2>(shape, ndim, {a_strides, b_strides}, L, binary_op_name(op));
    // An empty result still rejects an op the dtype does not have, as the CPU does (binary_launch
    // launches nothing for n == 0).
    CKERAS_DISPATCH_ALL(dtype, T, {
        const T* x = static_cast<const T*>(a);
        const T* y = static_cast<const T*>(b);
        binary_typed<T>(op, out, x, y, L, n);
    });
}

// out[i] = cond[off_c(i)] ? a[off_a(i)] : b[off_b(i)].
template <class T>
__global__ void where_kernel(T* out, const bool* cond, const T* a, const T* b, Strided<3> L, int64_t n) {
    for (int64_t i = grid_start(); i < n; i += grid_step()) {
        int64_t off[3];
        L.offsets(i, off);
        out[i] = cond[off[0]] ? a[off[1]] : b[off[2]];
    }
}

void where_cuda(DType dtype, void* out, const void* cond, const int64_t* c_strides, const void* a,
                const int64_t* a_strides, const void* b, const int64_t* b_strides, const int64_t* shape, int ndim) {
    Strided<3> L;
    const int64_t n = collapse<3>(shape, ndim, {c_strides, a_strides, b_strides}, L, "where");
    if (n == 0) return;
    CKERAS_DISPATCH_ALL(dtype, T, {
        where_kernel<T><<<grid_for(n), kBlock, 0, stream()>>>(static_cast<T*>(out), static_cast<const bool*>(cond),
                                                              static_cast<const T*>(a), static_cast<const T*>(b), L, n);
    });
    CKERAS_CUDA_LAUNCHED("where");
}

}  // namespace

void register_binary_cuda(KernelTable& t) {
    t.binary = binary_cuda;
    t.where = where_cuda;
}

}  // namespace ckeras::cuda
