// Shared helpers for CPU kernels: dtype dispatch, OpenMP parallel_for with a grain size, and the
// per-family registration functions that register_cpu.cpp calls.
#pragma once
#include <cstdint>

#include "ckeras/dtype_dispatch.h"
#include "ckeras/error.h"
#include "ckeras/kernels.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace ckeras::cpu {

// Runs fn(begin, end) over [0, n) in chunks of at least `grain` items, in parallel when n > grain.
template <class Fn>
void parallel_for(int64_t n, int64_t grain, Fn&& fn) {
    if (n <= 0) return;
#ifdef _OPENMP
    if (n > grain && omp_get_max_threads() > 1 && !omp_in_parallel()) {
        int64_t chunks = (n + grain - 1) / grain;
        int threads = static_cast<int>(chunks < omp_get_max_threads() ? chunks : omp_get_max_threads());
#pragma omp parallel num_threads(threads)
        {
            int t = omp_get_thread_num(), nt = omp_get_num_threads();
            int64_t per = (n + nt - 1) / nt;
            int64_t b = t * per, e = b + per < n ? b + per : n;
            if (b < e) fn(b, e);
        }
        return;
    }
#endif
    (void)grain;
    fn(0, n);
}

// Elements per chunk for memory-bound loops: below this, threads cost more than they save. Kept high
// (~100 us of work): a fork-join on a machine whose other cores are busy (another library's spinning
// BLAS threads, other processes) can stall for a scheduler timeslice, so only big ops take the risk.
constexpr int64_t kElementwiseGrain = 1 << 17;

void register_copy_cpu(KernelTable& t);        // copy_cpu.cpp: copy_strided, fill, arange, gather
void register_elementwise_cpu(KernelTable& t); // elementwise_cpu.cpp: unary, binary, where
void register_reduce_cpu(KernelTable& t);      // reduce_cpu.cpp: reduce
void register_softmax_cpu(KernelTable& t);     // softmax_cpu.cpp: softmax, softmax_backward
void register_loss_cpu(KernelTable& t);        // loss_cpu.cpp: the cross-entropy and regression slots
void register_gemm_cpu(KernelTable& t);        // gemm_cpu.cpp: gemm
void register_random_cpu(KernelTable& t);      // random_cpu.cpp: random, dropout, dropout_backward
void register_bias_activation_cpu(KernelTable& t);  // bias_activation_cpu.cpp: bias_activation
void register_optimizer_cpu(KernelTable& t);   // optimizer_cpu.cpp: optimizer_step, grad_sq_norm

}  // namespace ckeras::cpu

