// Fills the CUDA kernel table, family by family; test_kernel_parity checks that every slot the CPU
// table fills is filled here too.
#include "ckeras/kernels.h"
#include "gemm_cuda.h"

namespace ckeras {
namespace cuda {
void register_copy_cuda(KernelTable& t);             // copy.cu: copy_strided, fill, arange
void register_unary_cuda(KernelTable& t);            // elementwise_unary.cu: unary, unary_backward
void register_binary_cuda(KernelTable& t);           // elementwise_binary.cu: binary, where
void register_reduce_cuda(KernelTable& t);           // reduce.cu: reduce
void register_softmax_cuda(KernelTable& t);          // softmax.cu: softmax, softmax_backward
void register_bias_activation_cuda(KernelTable& t);  // bias_activation.cu: bias_activation
void register_gather_cuda(KernelTable& t);           // gather.cu: gather, gather_backward
void register_loss_cuda(KernelTable& t);             // loss.cu: the fused losses and their backward
void register_random_cuda(KernelTable& t);           // random.cu: random, dropout, dropout_backward
void register_optimizer_cuda(KernelTable& t);        // optimizer.cu: optimizer_step, grad_sq_norm
}  // namespace cuda

void register_cuda_kernels(KernelTable& table) {
    cuda::register_copy_cuda(table);
    cuda::register_unary_cuda(table);
    cuda::register_binary_cuda(table);
    cuda::register_reduce_cuda(table);
    cuda::register_softmax_cuda(table);
    cuda::register_bias_activation_cuda(table);
    cuda::register_gather_cuda(table);
    cuda::register_loss_cuda(table);
    cuda::register_random_cuda(table);
    cuda::register_optimizer_cuda(table);
    cuda::register_gemm_cuda(table);  // gemm.cu: gemm (gemm_cuda.h)
}

}  // namespace ckeras
