// CUDA twin of cpu/bias_activation_cpu.cpp, the Dense epilogue: in place on x (rows, cols) row-major,
// x[r, c] += bias[c] (when bias is given), then relu (when asked): the same float operations as the add
// op and the relu kernel, so results are bitwise those of the unfused ops. float32 and float64.
#include "kernel_util.cuh"

namespace ckeras::cuda {
namespace {

// Index type I: uint32_t when n < 2^32 (its modulo is several times cheaper than int64's), else int64_t.
template <class T, bool kBias, bool kRelu, class I>
__global__ void bias_activation_forward_kernel(T* x, const T* bias, I n, I cols) {
    for (I i = static_cast<I>(grid_start()); i < n; i += static_cast<I>(grid_step())) {
        T v = x[i];
        if constexpr (kBias) v = v + bias[i % cols];
        if constexpr (kRelu) v = v < 0 ? T(0) : v;
        x[i] = v;
    }
}

// The largest grid-stride step grid_for can produce: i + step must not wrap around in uint32_t.
int64_t grid_step_bound() { return static_cast<int64_t>(sm_count()) * 32 * kBlock; }

template <class T, class I>
void launch(T* x, const T* bias, I n, I cols, bool relu) {
    const unsigned grid = grid_for(static_cast<int64_t>(n));
    if (bias != nullptr && relu)
        bias_activation_forward_kernel<T, true, true, I><<<grid, kBlock, 0, stream()>>>(x, bias, n, cols);
    else if (bias != nullptr)
        bias_activation_forward_kernel<T, true, false, I><<<grid, kBlock, 0, stream()>>>(x, bias, n, cols);
    else
        bias_activation_forward_kernel<T, false, true, I><<<grid, kBlock, 0, stream()>>>(x, bias, n, cols);
}

template <class T>
void bias_activation_typed(T* x, const T* bias, int64_t rows, int64_t cols, bool relu) {
    const int64_t n = rows * cols;
    if (n <= 0 || (bias == nullptr && !relu)) return;
    if (n < (int64_t(1) << 32) - grid_step_bound())
        launch<T, uint32_t>(x, bias, static_cast<uint32_t>(n), static_cast<uint32_t>(cols), relu);
    else
        launch<T, int64_t>(x, bias, n, cols, relu);
    CKERAS_CUDA_LAUNCHED("bias_activation");
}

void bias_activation_cuda(DType dtype, void* x, const void* bias, int64_t rows, int64_t cols, bool relu) {
    CKERAS_DISPATCH_FLOAT(dtype, T,
                               bias_activation_typed<T>(static_cast<T*>(x), static_cast<const T*>(bias), rows, cols,
                                                        relu));
}

}  // namespace

void register_bias_activation_cuda(KernelTable& t) { t.bias_activation = bias_activation_cuda; }

}  // namespace ckeras::cuda
