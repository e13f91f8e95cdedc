// Scalar device math for the unary kernels (elementwise_unary.cu): the reference constants of
// cpu/elementwise_cpu.cpp, the stable sigmoid, and double-precision gelu/silu helpers that the float32
// kernels evaluate in and round once. nvcc-only header.
#pragma once
#include <cstdint>

namespace ckeras::cuda {

constexpr double kSeluAlpha = 1.6732632423543772;
constexpr double kSeluScale = 1.0507009873554805;
constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kGeluCoef = 0.044715;
constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kInvSqrt2Pi = 0.3989422804014327;
constexpr float kInfF = __builtin_huge_valf();
constexpr float kNaNF = __builtin_nanf("");

// The reference's sigmoid: 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below (no overflow either side).
template <class T>
__host__ __device__ __forceinline__ T sigmoid_ref(T x) {
    if (x >= 0) return T(1) / (T(1) + exp(-x));
    const T e = exp(x);
    return e / (T(1) + e);
}

// gelu(x) = x Phi(x) = 0.5 x erfc(-x / sqrt 2): erfc keeps the relative accuracy for x << 0, where
// 1 + erf cancels (gelu(-10) ~ -7.6e-23 is a normal float).
__host__ __device__ __forceinline__ double gelu_exact_d(double x) { return 0.5 * x * erfc(-x * kInvSqrt2); }

// gelu'(x) = Phi(x) + x phi(x).
__host__ __device__ __forceinline__ double gelu_exact_grad_d(double x) {
    return 0.5 * erfc(-x * kInvSqrt2) + x * kInvSqrt2Pi * exp(-0.5 * x * x);
}

// tanh gelu: 0.5 x (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3), without 1 + tanh's
// cancellation for x << 0. In double, x^3 cannot overflow for any float x.
__host__ __device__ __forceinline__ double gelu_tanh_d(double x) {
    const double v = 2 * kSqrt2OverPi * (x + kGeluCoef * x * x * x);
    return x * sigmoid_ref(v);
}

// d/dx x sigmoid(v) = s (1 + x (1 - s) v'), s = sigmoid(v), 1 - s = sigmoid(-v), v' = 2 sqrt(2/pi) (1 + 3c x^2).
__host__ __device__ __forceinline__ double gelu_tanh_grad_d(double x) {
    const double v = 2 * kSqrt2OverPi * (x + kGeluCoef * x * x * x);
    const double dv = 2 * kSqrt2OverPi * (1 + 3 * kGeluCoef * x * x);
    return sigmoid_ref(v) * (1 + x * sigmoid_ref(-v) * dv);
}

}  // namespace ckeras::cuda
