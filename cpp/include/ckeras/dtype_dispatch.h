// Dtype dispatch for kernel entry points (host code, any compiler): runs a body with T bound to the C++
// type of a runtime DType. Shared by the CPU kernels (cpu/cpu_common.h) and the CUDA launchers.
#pragma once
#include <cstdint>

#include "ckeras/dtype.h"
#include "ckeras/error.h"

// CKERAS_DISPATCH_FLOAT(dt, T, body): runs body with T = float or double; other dtypes raise TypeError.
#define CKERAS_DISPATCH_FLOAT(dt, T, ...)                                                          \
    switch (dt) {                                                                                  \
        case ::ckeras::DType::Float32: { using T = float; __VA_ARGS__; break; }                    \
        case ::ckeras::DType::Float64: { using T = double; __VA_ARGS__; break; }                   \
        default: ::ckeras::throw_error(::ckeras::ErrorKind::Type, "expected a floating dtype, got ", \
                                       ::ckeras::dtype_name(dt));                                  \
    }
// All five dtypes (bool as `bool`).
#define CKERAS_DISPATCH_ALL(dt, T, ...)                                                            \
    switch (dt) {                                                                                  \
        case ::ckeras::DType::Float32: { using T = float; __VA_ARGS__; break; }                    \
        case ::ckeras::DType::Float64: { using T = double; __VA_ARGS__; break; }                   \
        case ::ckeras::DType::Int32: { using T = int32_t; __VA_ARGS__; break; }                    \
        case ::ckeras::DType::Int64: { using T = int64_t; __VA_ARGS__; break; }                    \
        case ::ckeras::DType::Bool: { using T = bool; __VA_ARGS__; break; }                        \
    }
