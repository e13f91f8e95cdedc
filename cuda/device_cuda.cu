// CUDA device discovery and raw device memory. The runtime is linked statically and touched only on
// the first query, so importing ckeras never needs a driver: "no driver" or "no device" becomes zero
// devices with the reason kept for error messages.
#include <mutex>
#include <string>

#include "ckeras/device.h"
#include "cuda_check.cuh"

namespace ckeras {
namespace {

struct CudaState {
    int count = 0;
    std::string reason;
};

const CudaState& cuda_state() {
    static CudaState state;
    static std::once_flag once;
    std::call_once(once, [] {
        int n = 0;
        cudaError_t err = cudaGetDeviceCount(&n);
        if (err != cudaSuccess) {
            state.count = 0;
            if (err == cudaErrorInsufficientDriver || err == cudaErrorNoDevice)
                state.reason = err == cudaErrorNoDevice ? "no CUDA device was found"
                                                        : "the CUDA driver is missing or too old for this build";
            else
                state.reason = std::string("CUDA is unavailable: ") + cudaGetErrorString(err);
            cudaGetLastError();  // clear the error so it does not stick
            return;
        }
        state.count = n;
        if (n == 0) state.reason = "no CUDA device was found";
    });
    return state;
}

}  // namespace

bool is_cuda_build() { return true; }
int cuda_device_count() { return cuda_state().count; }
std::string cuda_unavailable_reason() { return cuda_state().reason; }

std::string cuda_device_name(int index) {
    check_device(Device{DeviceType::CUDA, index});
    cudaDeviceProp prop;
    CKERAS_CUDA_CHECK(cudaGetDeviceProperties(&prop, index));
    return prop.name;
}

std::string cuda_build_version() {
    return std::to_string(CUDART_VERSION / 1000) + "." + std::to_string((CUDART_VERSION % 1000) / 10);
}

std::string cuda_build_archs() { return CKERAS_CUDA_ARCHS; }

void* device_malloc(Device device, int64_t nbytes) {
    check_device(device);
    CKERAS_CUDA_CHECK(cudaSetDevice(device.index));
    void* p = nullptr;
    if (nbytes == 0) nbytes = 1;
    cudaError_t err = cudaMalloc(&p, static_cast<size_t>(nbytes));
    if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        size_t free_b = 0, total_b = 0;
        cudaMemGetInfo(&free_b, &total_b);
        throw_error(ErrorKind::Memory, "out of memory on ", device.str(), ": tried to allocate ", nbytes,
                    " bytes with ", free_b, " bytes free");
    }
    CKERAS_CUDA_CHECK(err);
    return p;
}

void device_free(Device device, void* ptr) {
    if (!ptr) return;
    cudaSetDevice(device.index);
    cudaFree(ptr);
}

}  // namespace ckeras
