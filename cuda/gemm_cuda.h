// The CUDA GEMM (KernelTable::gemm) with the math mode picked by the caller, for tests and benchmarks
// that run each path explicitly. Host-only header (any compiler); the code is in cuda/gemm*.cu, so
// only CUDA builds (CKERAS_WITH_CUDA) link it.
#pragma once
#include <cstdint>

#include "ckeras/dtype.h"

namespace ckeras {
struct KernelTable;

namespace cuda {

// How float32 products are computed. FP32: CUDA cores, full float32. TF32: tensor cores with inputs
// rounded to TF32 (10-bit mantissa, cvt.rna) and float32 accumulation. BF16: tensor cores with inputs
// rounded to bfloat16 (8-bit mantissa) and float32 accumulation. TF32 and BF16 need an sm_80+ GPU
// (NotImplemented otherwise). float64 ignores the mode: it always runs the FP64 CUDA-core kernel.
enum class GemmMath { FP32, TF32, BF16 };

// Row-major C = alpha * op(A) @ op(B) + beta * C with the KernelTable::gemm contract (device pointers,
// row strides lda/ldb/ldc, beta == 0 never reads C, K == 0 or alpha == 0 gives C = beta * C without
// reading A or B). Runs on the current device's ckeras stream; returns without waiting.
void gemm_cuda(GemmMath math, DType dtype, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
               double alpha, const void* A, int64_t lda, const void* B, int64_t ldb, double beta, void* C,
               int64_t ldc);

// Fills KernelTable::gemm: float32 takes TF32 when tensor_float32_enabled() and the GPU is sm_80+,
// else FP32.
void register_gemm_cuda(KernelTable& table);

}  // namespace cuda
}  // namespace ckeras
