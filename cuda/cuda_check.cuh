// CKERAS_CUDA_CHECK: turns a failed CUDA runtime call into a ckeras::Error naming the call and the
// CUDA error string. nvcc-only header.
#pragma once
#include <cuda_runtime.h>

#include "ckeras/error.h"

#define CKERAS_CUDA_CHECK(call)                                                                   \
    do {                                                                                          \
        cudaError_t err_ = (call);                                                                \
        if (err_ != cudaSuccess)                                                                  \
            ::ckeras::throw_error(err_ == cudaErrorMemoryAllocation ? ::ckeras::ErrorKind::DeviceMemory \
                                                                    : ::ckeras::ErrorKind::Runtime, \
                                  "CUDA error in ", #call, ": ", cudaGetErrorString(err_));       \
    } while (0)

template <class T>
inline T ceil_div(T a, T b) { return (a + b - 1) / b; }
