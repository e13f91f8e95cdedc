// Builds the kernel tables: the CPU one from every family's registration, the CUDA one (CUDA builds)
// from cuda/register_cuda.cu. Also the op names used in error messages.
#include "ckeras/device.h"
#include "cpu/cpu_common.h"

namespace ckeras {

KernelTable& kernel_table(DeviceType type) {
    static KernelTable cpu_table = [] {
        KernelTable t;
        cpu::register_copy_cpu(t);
        cpu::register_elementwise_cpu(t);
        cpu::register_reduce_cpu(t);
        cpu::register_softmax_cpu(t);
        cpu::register_loss_cpu(t);
        cpu::register_gemm_cpu(t);
        cpu::register_random_cpu(t);
        cpu::register_optimizer_cpu(t);
        cpu::register_bias_activation_cpu(t);
        return t;
    }();
    if (type == DeviceType::CPU) return cpu_table;
    // The test stand-in accelerator keeps its memory on the host and runs the CPU kernels.
    if (accelerator().is_fake()) return cpu_table;
#ifdef CKERAS_WITH_CUDA
    static KernelTable cuda_table = [] {
        KernelTable t;
        register_cuda_kernels(t);
        return t;
    }();
    return cuda_table;
#else
    static KernelTable empty_table;
    return empty_table;
#endif
}

const char* unary_op_name(UnaryOp op) {
    static const char* kNames[] = {"negative", "abs", "square", "sqrt", "rsqrt", "exp", "log", "log1p", "sign",
                                   "reciprocal", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "gelu",
                                   "silu", "sigmoid", "hard_sigmoid", "tanh", "softplus", "softsign", "clip",
                                   "power"};
    static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<size_t>(UnaryOp::kCount));
    return kNames[static_cast<int>(op)];
}

const char* binary_op_name(BinaryOp op) {
    static const char* kNames[] = {"add", "subtract", "multiply", "divide", "power", "maximum", "minimum",
                                   "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
                                   "logical_and", "logical_or"};
    static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<size_t>(BinaryOp::kCount));
    return kNames[static_cast<int>(op)];
}

}  // namespace ckeras
