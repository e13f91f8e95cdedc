// Fills the CUDA kernel table. Kernels arrive family by family (issue: CUDA backend); an empty slot
// makes the op raise "has no kernel for device cuda:N".
#include "ckeras/kernels.h"
#include "gemm_cuda.h"

namespace ckeras {

void register_cuda_kernels(KernelTable& table) {
    cuda::register_gemm_cuda(table);
}

}  // namespace ckeras
