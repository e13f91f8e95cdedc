// The CUDA backend: device discovery, raw memory, copies, one stream per device, and the launch and
// synchronisation checks every kernel file uses (cuda_common.cuh). The runtime is linked statically
// and touched only on the first query, so importing ckeras never needs a driver: "no driver" or "no
// device" becomes zero devices with the reason kept for error messages.
#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "core/device_backends.h"
#include "ckeras/device.h"
#include "cuda_common.cuh"

namespace ckeras {
namespace {

constexpr int kMaxDevices = 16;
thread_local int t_device = -1;  // the calling thread's current device, as last set by set_device

bool launch_blocking() {
    static const bool on = [] {
        const char* v = std::getenv("CKERAS_LAUNCH_BLOCKING");
        return v && *v && std::strcmp(v, "0") != 0;
    }();
    return on;
}

// The ops launched since the last successful synchronisation (names are string literals).
struct InFlight {
    std::mutex mu;
    std::array<const char*, 8> names{};
    int count = 0;  // total since the last clear; the ring keeps the last 8
    void add(const char* op) {
        std::lock_guard<std::mutex> lock(mu);
        names[count % names.size()] = op;
        ++count;
    }
    std::string describe_and_clear() {
        std::lock_guard<std::mutex> lock(mu);
        std::string s;
        int n = count < static_cast<int>(names.size()) ? count : static_cast<int>(names.size());
        for (int i = count - n; i < count; ++i) s += (s.empty() ? "" : ", ") + std::string(names[i % names.size()]);
        if (count > n) s = "... " + s;
        count = 0;
        return s.empty() ? std::string("(none recorded)") : s;
    }
    void clear() {
        std::lock_guard<std::mutex> lock(mu);
        count = 0;
    }
};
InFlight& in_flight() {
    static InFlight* f = new InFlight();
    return *f;
}

class CudaBackend : public DeviceBackend {
public:
    int device_count() override {
        init();
        return count_;
    }
    std::string unavailable_reason() override {
        init();
        return reason_;
    }
    std::string device_name(int index) override {
        cudaDeviceProp prop;
        CKERAS_CUDA_CHECK(cudaGetDeviceProperties(&prop, index));
        return prop.name;
    }
    void set_device(int index) override {
        if (t_device == index) return;
        CKERAS_CUDA_CHECK(cudaSetDevice(index));
        t_device = index;
    }
    void* raw_malloc(int64_t nbytes) override {
        void* p = nullptr;
        cudaError_t err = cudaMalloc(&p, static_cast<size_t>(nbytes));
        if (err == cudaErrorMemoryAllocation) {
            cudaGetLastError();  // not sticky: clear it so the next call does not see it
            return nullptr;
        }
        CKERAS_CUDA_CHECK(err);
        return p;
    }
    void raw_free(void* ptr) override { cudaFree(ptr); }  // errors at process exit are harmless
    void mem_info(int64_t* free_bytes, int64_t* total_bytes) override {
        size_t f = 0, t = 0;
        if (cudaMemGetInfo(&f, &t) != cudaSuccess) cudaGetLastError();
        *free_bytes = static_cast<int64_t>(f);
        *total_bytes = static_cast<int64_t>(t);
    }
    void copy(void* dst, DeviceType dst_type, const void* src, DeviceType src_type, int64_t nbytes) override {
        cudaMemcpyKind kind = src_type == DeviceType::CPU ? cudaMemcpyHostToDevice
                              : dst_type == DeviceType::CPU ? cudaMemcpyDeviceToHost
                                                            : cudaMemcpyDeviceToDevice;
        CKERAS_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(nbytes), kind, cuda::stream()));
        if (kind == cudaMemcpyDeviceToHost) synchronize();
    }
    void synchronize() override { cuda::synchronize(); }

private:
    void init() {
        std::call_once(once_, [this] {
            int n = 0;
            cudaError_t err = cudaGetDeviceCount(&n);
            if (err != cudaSuccess) {
                count_ = 0;
                if (err == cudaErrorNoDevice) reason_ = "no CUDA device was found";
                else if (err == cudaErrorInsufficientDriver)
                    reason_ = "the CUDA driver is missing or too old for this build";
                else reason_ = std::string("CUDA is unavailable: ") + cudaGetErrorString(err);
                cudaGetLastError();  // clear the error so it does not stick
                return;
            }
            count_ = n < kMaxDevices ? n : kMaxDevices;
            if (n == 0) reason_ = "no CUDA device was found";
        });
    }
    std::once_flag once_;
    int count_ = 0;
    std::string reason_;
};

int current_index() {
    if (t_device < 0) accelerator().set_device(0);
    return t_device;
}

}  // namespace

std::unique_ptr<DeviceBackend> make_cuda_backend() { return std::make_unique<CudaBackend>(); }
bool is_cuda_build() { return true; }

std::string cuda_build_version() {
    return std::to_string(CUDART_VERSION / 1000) + "." + std::to_string((CUDART_VERSION % 1000) / 10);
}

std::string cuda_build_archs() { return CKERAS_CUDA_ARCHS; }

namespace cuda {

cudaStream_t stream() {
    static std::array<cudaStream_t, kMaxDevices> streams{};
    static std::array<std::once_flag, kMaxDevices> made;
    int d = current_index();
    std::call_once(made[d], [d] { CKERAS_CUDA_CHECK(cudaStreamCreateWithFlags(&streams[d], cudaStreamNonBlocking)); });
    return streams[d];
}

void check_launch(const char* op) {
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess)
        throw_error(ErrorKind::Runtime, "CUDA kernel launch failed in ", op, ": ", cudaGetErrorString(err));
    if (launch_blocking()) {
        err = cudaStreamSynchronize(stream());
        if (err != cudaSuccess)
            throw_error(ErrorKind::Runtime, "CUDA error in ", op, ": ", cudaGetErrorString(err),
                        " (found at its launch: CKERAS_LAUNCH_BLOCKING=1)");
        return;
    }
    in_flight().add(op);
}

void synchronize() {
    cudaError_t err = cudaStreamSynchronize(stream());
    if (err != cudaSuccess)
        throw_error(ErrorKind::Runtime, "CUDA error found at a synchronisation: ", cudaGetErrorString(err),
                    ". It came from one of the ops launched since the previous synchronisation (oldest "
                    "first): ", in_flight().describe_and_clear(),
                    ". Run with CKERAS_LAUNCH_BLOCKING=1 to report the failing op at its launch");
    in_flight().clear();
}

std::shared_ptr<void> scratch(int64_t nbytes) {
    Device dev{DeviceType::CUDA, current_index()};
    void* p = device_malloc(dev, nbytes);
    return std::shared_ptr<void>(p, [dev](void* q) { device_free(dev, q); });
}

void copy_to_device(void* dst, const void* src, int64_t nbytes) {
    if (nbytes > 0)
        CKERAS_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(nbytes), cudaMemcpyHostToDevice, stream()));
}

void copy_to_host(void* dst, const void* src, int64_t nbytes) {
    if (nbytes <= 0) return;
    CKERAS_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(nbytes), cudaMemcpyDeviceToHost, stream()));
    synchronize();
}

int sm_count() {
    static std::array<int, kMaxDevices> counts{};
    int d = current_index();
    if (counts[d] == 0) {
        int n = 0;
        CKERAS_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, d));
        counts[d] = n > 0 ? n : 1;
    }
    return counts[d];
}

}  // namespace cuda
}  // namespace ckeras
