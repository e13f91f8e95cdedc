// What every CUDA kernel file needs from the device layer: the stream ckeras kernels run on, the
// post-launch check, stream-ordered scratch memory and small host<->device copies. nvcc-only header;
// implemented in device_cuda.cu.
//
// A launcher looks like
//     void relu_forward_cuda(float* out, const float* inp, int64_t n) {
//         if (n == 0) return;
//         relu_forward_kernel<<<grid_for(n), kBlock, 0, cuda::stream()>>>(out, inp, n);
//         CKERAS_CUDA_LAUNCHED("relu");
//     }
#pragma once
#include <cstdint>
#include <memory>

#include "cuda_check.cuh"

namespace ckeras::cuda {

// The stream of the current device (ops select the device before they call a kernel). Every ckeras
// kernel and copy goes on it, so work is ordered and memory freed after a launch can be reused by the
// next launch without a host synchronisation.
cudaStream_t stream();

// Call right after every launch: turns a launch error into a ckeras::Error naming `op`, remembers
// `op` so that a fault found at the next synchronisation can name the ops in flight, and, under
// CKERAS_LAUNCH_BLOCKING=1, synchronises at once so a fault is reported at the op that caused it.
void check_launch(const char* op);

// Waits for the current device's stream; a sticky fault becomes a ckeras::Error naming the ops
// launched since the last synchronisation.
void synchronize();

// Device scratch memory from the caching allocator (stream-ordered: it may be released as soon as the
// launches that use it are queued).
std::shared_ptr<void> scratch(int64_t nbytes);

// Small copies on stream(): host to device (the host buffer may be reused when the call returns), and
// device to host (waits for the stream, so the value is ready).
void copy_to_device(void* dst, const void* src, int64_t nbytes);
void copy_to_host(void* dst, const void* src, int64_t nbytes);

// Number of streaming multiprocessors of the current device (grid sizing for grid-stride loops).
int sm_count();

constexpr int kBlock = 256;
// Blocks for a grid-stride loop over n elements: enough to fill the GPU, never more than needed.
inline unsigned grid_for(int64_t n, int block = kBlock) {
    int64_t want = (n + block - 1) / block;
    int64_t cap = static_cast<int64_t>(sm_count()) * 32;
    return static_cast<unsigned>(want < cap ? (want > 0 ? want : 1) : cap);
}

}  // namespace ckeras::cuda

#define CKERAS_CUDA_LAUNCHED(op) ::ckeras::cuda::check_launch(op)
