// Inline helpers for kernels.h.
#pragma once
#include "ckeras/error.h"

namespace ckeras {
template <class Fn>
Fn require_kernel(Fn fn, const char* op, Device device) {
    if (!fn) throw_error(ErrorKind::NotImplemented, op, " has no kernel for device ", device.str());
    return fn;
}
}  // namespace ckeras
