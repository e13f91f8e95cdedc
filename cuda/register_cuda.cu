// Fills the CUDA kernel table. Kernels arrive family by family (issue: CUDA backend); an empty slot
// makes the op raise "has no kernel for device cuda:N".
#include "ckeras/kernels.h"

namespace ckeras {

namespace cuda {
void register_copy_cuda(KernelTable& t);             // copy.cu: copy_strided, fill, arange
void register_unary_cuda(KernelTable& t);            // elementwise_unary.cu: unary, unary_backward
void register_binary_cuda(KernelTable& t);           // elementwise_binary.cu: binary, where
void register_reduce_cuda(KernelTable& t);           // reduce.cu: reduce
void register_softmax_cuda(KernelTable& t);          // softmax.cu: softmax, softmax_backward
void register_bias_activation_cuda(KernelTable& t);  // bias_activation.cu: bias_activation
void register_gather_cuda(KernelTable& t);           // gather.cu: gather, gather_backward
}  // namespace cuda

void register_cuda_kernels(KernelTable& table) {
    cuda::register_copy_cuda(table);
    cuda::register_unary_cuda(table);
    cuda::register_binary_cuda(table);
    cuda::register_reduce_cuda(table);
    cuda::register_softmax_cuda(table);
    cuda::register_bias_activation_cuda(table);
    cuda::register_gather_cuda(table);
}

}  // namespace ckeras
