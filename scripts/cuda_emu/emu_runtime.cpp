// The CUDA runtime calls of the emulated device (shim/cuda_runtime.h): one device whose memory is
// host memory (fresh allocations filled with 0xFF bytes, so unwritten floats read as NaN), streams
// that run every copy and kernel at once, and the error state: a bad launch or a device fault is
// returned, once, by the next cudaGetLastError / cudaPeekAtLastError / synchronisation, and printed.
// Knobs: CKERAS_EMU_SM_COUNT (default 16), CKERAS_EMU_CC (compute capability major, default 9),
// CKERAS_EMU_SMEM_OPTIN (bytes, default 232448 as on an H100), CKERAS_EMU_MEMORY (bytes, default 8 GiB),
// CKERAS_EMU_ULP (1: device math off by up to CUDA's documented error, shim/emu_libm.h).
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>

#include "cuda_runtime.h"
#include "emu_guard.h"

namespace emu {
namespace {

long env_long(const char* name, long fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::strtol(v, nullptr, 10) : fallback;
}

struct State {
    std::mutex mu;
    cudaError_t error = cudaSuccess;
    std::string message;  // for the pending error
    std::unordered_map<void*, size_t> sizes;
    size_t used = 0;
    std::unordered_map<const void*, size_t> dyn_smem;
};
State& state() {
    static State* s = new State();  // never destroyed: tensors may free memory during static destruction
    return *s;
}

void set_error(cudaError_t code, const std::string& what) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    std::fprintf(stderr, "[cuda-emu] %s\n", what.c_str());
    if (s.error == cudaSuccess) s.error = code, s.message = what;
}

}  // namespace

bool g_ulp = env_long("CKERAS_EMU_ULP", 0) != 0;  // shim/emu_libm.h
size_t device_memory_bytes() { return size_t(env_long("CKERAS_EMU_MEMORY", 8L << 30)); }
int sm_count_knob() { return int(env_long("CKERAS_EMU_SM_COUNT", 16)); }
size_t smem_optin() { return size_t(env_long("CKERAS_EMU_SMEM_OPTIN", 232448)); }
void note_fault(const std::string& what) { set_error(cudaErrorLaunchFailure, what); }
void note_launch_error(int code, const std::string& what) { set_error(cudaError_t(code), what); }
size_t max_dynamic_smem(const void* kernel_id) {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.dyn_smem.find(kernel_id);
    return it == s.dyn_smem.end() ? 48 * 1024 : it->second;
}

}  // namespace emu

using emu::state;

cudaError_t cudaGetDeviceCount(int* count) {
    *count = 1;
    return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
    if (device != 0) return cudaErrorInvalidDevice;
    *prop = cudaDeviceProp{};
    std::snprintf(prop->name, sizeof prop->name, "ckeras CUDA emulator (host memory, %d SMs)", emu::sm_count_knob());
    prop->totalGlobalMem = emu::device_memory_bytes();
    prop->sharedMemPerBlock = 48 * 1024;
    prop->warpSize = 32;
    prop->maxThreadsPerBlock = 1024;
    prop->major = int(emu::env_long("CKERAS_EMU_CC", 9));
    prop->multiProcessorCount = emu::sm_count_knob();
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : cudaErrorInvalidDevice; }

cudaError_t cudaGetDevice(int* device) {
    *device = 0;
    return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
    if (device != 0) return cudaErrorInvalidDevice;
    switch (attr) {
        case cudaDevAttrMaxThreadsPerBlock: *value = 1024; return cudaSuccess;
        case cudaDevAttrMaxSharedMemoryPerBlock: *value = 48 * 1024; return cudaSuccess;
        case cudaDevAttrWarpSize: *value = 32; return cudaSuccess;
        case cudaDevAttrMultiProcessorCount: *value = emu::sm_count_knob(); return cudaSuccess;
        case cudaDevAttrComputeCapabilityMajor: *value = int(emu::env_long("CKERAS_EMU_CC", 9)); return cudaSuccess;
        case cudaDevAttrComputeCapabilityMinor: *value = 0; return cudaSuccess;
        case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = int(emu::smem_optin()); return cudaSuccess;
    }
    return cudaErrorInvalidValue;
}

cudaError_t cudaMalloc(void** ptr, size_t nbytes) {
    if (emu::guard_mode()) return (*ptr = emu::guard_alloc(nbytes)) ? cudaSuccess : cudaErrorMemoryAllocation;
    auto& s = state();
    const size_t total = emu::device_memory_bytes();
    std::lock_guard<std::mutex> lock(s.mu);
    *ptr = nullptr;
    if (s.used + nbytes > total) return cudaErrorMemoryAllocation;
    void* p = std::aligned_alloc(256, (nbytes + 255) / 256 * 256 + 256);
    if (!p) return cudaErrorMemoryAllocation;
    std::memset(p, 0xFF, nbytes);
    s.sizes[p] = nbytes;
    s.used += nbytes;
    *ptr = p;
    return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
    if (!ptr) return cudaSuccess;
    if (emu::guard_mode()) return emu::guard_free(ptr) ? cudaSuccess : cudaErrorInvalidValue;
    auto& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.sizes.find(ptr);
    if (it == s.sizes.end()) return cudaErrorInvalidValue;
    s.used -= it->second;
    s.sizes.erase(it);
    std::free(ptr);
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
    auto& s = state();
    const size_t total = emu::device_memory_bytes();
    std::lock_guard<std::mutex> lock(s.mu);
    const size_t used = emu::guard_mode() ? emu::guard_live_bytes() : s.used;
    *total_bytes = total;
    *free_bytes = total > used ? total - used : 0;
    return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t nbytes, cudaMemcpyKind) {
    emu::DeviceAccess access;
    if (nbytes) std::memmove(dst, src, nbytes);
    return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t nbytes, cudaMemcpyKind kind, cudaStream_t) {
    return cudaMemcpy(dst, src, nbytes, kind);
}
cudaError_t cudaMemset(void* ptr, int value, size_t nbytes) {
    emu::DeviceAccess access;
    if (nbytes) std::memset(ptr, value, nbytes);
    return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t nbytes, cudaStream_t) { return cudaMemset(ptr, value, nbytes); }

struct CUstream_st {
    unsigned flags;
};
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags) {
    *stream = new CUstream_st{flags};
    return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
    delete stream;
    return cudaSuccess;
}

cudaError_t cudaGetLastError() {
    auto& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    const cudaError_t e = s.error;
    s.error = cudaSuccess;
    return e;
}
cudaError_t cudaPeekAtLastError() {
    auto& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    return s.error;
}
// Work is done by the time a call returns: a synchronisation only reports a pending fault.
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaGetLastError(); }
cudaError_t cudaDeviceSynchronize() { return cudaGetLastError(); }

const char* cudaGetErrorName(cudaError_t err) {
    switch (err) {
        case cudaSuccess: return "cudaSuccess";
        case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
        case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
        case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
        case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
        case cudaErrorNoDevice: return "cudaErrorNoDevice";
        case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
        case cudaErrorAssert: return "cudaErrorAssert";
        case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    }
    return "cudaErrorUnknown";
}

// The name plus the emulator's description of the last error reported (one per process is enough:
// the caller formats it at once).
const char* cudaGetErrorString(cudaError_t err) {
    static thread_local std::string text;
    auto& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    text = std::string(cudaGetErrorName(err)) + (s.message.empty() ? "" : " (emulator: " + s.message + ")");
    return text.c_str();
}

cudaError_t emu_func_set_attribute(const void* func, cudaFuncAttribute attr, int value) {
    if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 || size_t(value) > emu::smem_optin())
        return cudaErrorInvalidValue;
    auto& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    s.dyn_smem[func] = size_t(value);
    return cudaSuccess;
}
