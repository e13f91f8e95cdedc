// Fills the CUDA kernel table. Kernels arrive family by family (issue: CUDA backend); an empty slot
// makes the op raise "has no kernel for device cuda:N".
#include "ckeras/kernels.h"
#include "gemm_cuda.h"

namespace ckeras {
namespace cuda {
void register_loss_cuda(KernelTable& t);       // loss.cu
void register_random_cuda(KernelTable& t);     // random.cu
void register_optimizer_cuda(KernelTable& t);  // optimizer.cu
}  // namespace cuda

void register_cuda_kernels(KernelTable& table) {
    cuda::register_loss_cuda(table);
    cuda::register_random_cuda(table);
    cuda::register_optimizer_cuda(table);
    cuda::register_gemm_cuda(table);
}

}  // namespace ckeras
