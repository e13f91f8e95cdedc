// Device discovery and per-device memory. The CUDA half is implemented in cuda/device_cuda.cu in CUDA
// builds; in CPU-only builds it reports zero devices and explains why.
#pragma once
#include <string>

#include "ckeras/dtype.h"

namespace ckeras {

bool is_cuda_build();
// Number of usable CUDA devices; 0 when the build has no CUDA, there is no driver or no device.
// Never throws; the first call initialises the runtime lazily.
int cuda_device_count();
// Why cuda_device_count() is 0 ("CPU-only build", "no CUDA driver", ...), or "" when devices exist.
std::string cuda_unavailable_reason();
std::string cuda_device_name(int index);
// Build facts for ckeras.sysconfig.get_build_info(): runtime version "13.0", archs "sm_80;sm_90;compute_90".
std::string cuda_build_version();
std::string cuda_build_archs();
// Raises a RuntimeError that says why when `device` cannot be used.
void check_device(Device device);

// Raw device memory (used by allocate_storage for non-CPU devices).
void* device_malloc(Device device, int64_t nbytes);
void device_free(Device device, void* ptr);

// Which SIMD level the CPU kernels dispatch to: "avx512", "avx2", "generic".
const char* cpu_simd_level();
int cpu_num_threads();
void set_cpu_num_threads(int n);

}  // namespace ckeras
