// Devices: discovery, the default device, memory and copies. The accelerator half is a DeviceBackend:
// the real one is CUDA (cuda/device_cuda.cu, CUDA builds only); without it the backend reports zero
// devices and says why. Tests may install a host-memory stand-in (CKERAS_TEST_FAKE_GPU=1, read at the
// first device query) to exercise the device plumbing on machines with no GPU: its "gpu:0" runs the CPU
// kernels on memory it allocates itself, behind the same caching allocator and copy paths.
// Nothing here touches a GPU until the first device query.
#pragma once
#include <cstdint>
#include <string>

#include "ckeras/dtype.h"

namespace ckeras {

// The calls the core makes on an accelerator. Implementations never throw from device_count(),
// unavailable_reason() or raw_free().
struct DeviceBackend {
    virtual ~DeviceBackend() = default;
    virtual bool is_fake() const { return false; }
    virtual int device_count() = 0;
    virtual std::string unavailable_reason() = 0;  // "" when devices exist
    virtual std::string device_name(int index) = 0;
    // Makes `index` the current device of the calling thread (cheap when it already is).
    virtual void set_device(int index) = 0;
    // Raw memory on the current device; nullptr when the device is out of memory.
    virtual void* raw_malloc(int64_t nbytes) = 0;
    virtual void raw_free(void* ptr) = 0;
    virtual void mem_info(int64_t* free_bytes, int64_t* total_bytes) = 0;
    // nbytes from src to dst, each on the host (CPU) or the current device. Host destinations are
    // ready on return; device work stays ordered on the device's stream.
    virtual void copy(void* dst, DeviceType dst_type, const void* src, DeviceType src_type, int64_t nbytes) = 0;
    virtual void synchronize() = 0;
};

// The accelerator backend (never null): CUDA, the test stand-in, or one with zero devices.
DeviceBackend& accelerator();

bool is_cuda_build();
// Number of usable accelerator devices; 0 when the build has no CUDA, there is no driver or no device.
// Never throws; the first call initialises the runtime lazily.
int cuda_device_count();
// Why cuda_device_count() is 0 ("CPU-only build", "no CUDA driver", ...), or "" when devices exist.
std::string cuda_unavailable_reason();
std::string cuda_device_name(int index);
// True once anything has queried the accelerator (tests check that import leaves it untouched).
bool accelerator_initialized();
// Build facts for ckeras.sysconfig.get_build_info(): runtime version "13.0", archs "80-real 90".
std::string cuda_build_version();
std::string cuda_build_archs();
// Raises a RuntimeError that says why when `device` cannot be used (no driver, no device, CPU-only
// build, a process forked after it used the GPU, an index out of range).
void check_device(Device device);

// The device new tensors from host data and creation ops land on: the innermost DeviceScope of the
// calling thread, else the process default (set_default_device), else the first GPU when one is
// usable, else the CPU (as TensorFlow does). Resolved on first use, never at import.
Device current_device();
void set_default_device(Device device);  // checks the device
// RAII: makes `device` current for the calling thread (`with ckeras.device("gpu:0")`).
class DeviceScope {
public:
    explicit DeviceScope(Device device);
    ~DeviceScope();
    DeviceScope(const DeviceScope&) = delete;
    DeviceScope& operator=(const DeviceScope&) = delete;
};
// Pushes / pops the thread's scope without RAII (the Python context manager).
void push_device_scope(Device device);
void pop_device_scope();

// Raw device memory through the caching allocator (used by allocate_storage for non-CPU devices).
// Out of memory raises ErrorKind::DeviceMemory naming the requested and free bytes.
void* device_malloc(Device device, int64_t nbytes);
void device_free(Device device, void* ptr);
// Copies nbytes between any two devices (the host is DeviceType::CPU).
void device_copy(void* dst, Device dst_device, const void* src, Device src_device, int64_t nbytes);
// Waits for all queued work on `device` (a no-op for the CPU).
void device_synchronize(Device device);

// Caching allocator figures, in bytes, for one device.
struct DeviceMemoryStats {
    int64_t in_use = 0;       // held by live tensors
    int64_t peak_in_use = 0;  // since the last reset
    int64_t cached = 0;       // freed blocks kept for reuse
    int64_t reserved = 0;     // in_use + cached: what the allocator holds from the device
    int64_t num_raw_allocs = 0;  // raw allocations made (a steady training loop stops adding to it)
};
DeviceMemoryStats device_memory_stats(Device device);
void reset_peak_device_memory(Device device);
// Returns every cached block to the device; live tensors are untouched.
void release_device_cache(Device device);

// Float32 matmul on GPUs may use TF32 tensor cores (on by default, as in TensorFlow).
bool tensor_float32_enabled();
void set_tensor_float32_enabled(bool enabled);

// Which SIMD level the CPU kernels dispatch to: "avx512", "avx2", "generic".
const char* cpu_simd_level();
int cpu_num_threads();
void set_cpu_num_threads(int n);

}  // namespace ckeras
