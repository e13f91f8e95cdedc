// Which accelerator backend is live (CUDA, the test stand-in, or none), the checks before a device is
// used, the default device with its per-thread scopes, copies between devices, and the TF32 switch.
#include <pthread.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "core/device_backends.h"
#include "ckeras/device.h"
#include "ckeras/error.h"

namespace ckeras {
namespace {

std::atomic<bool> g_initialized{false};
std::atomic<bool> g_forked_child{false};  // this process is a fork of one that had used the accelerator

void on_fork_child() {
    if (g_initialized.load()) g_forked_child = true;
}

bool env_flag(const char* name) {
    const char* v = std::getenv(name);
    return v && *v && std::strcmp(v, "0") != 0;
}

std::atomic<bool> g_tf32{true};

// Process default: -2 unresolved, -1 cpu, k >= 0 gpu:k.
std::atomic<int> g_default{-2};
thread_local std::vector<Device> t_scopes;

Device decode(int code) { return code < 0 ? Device{} : Device{DeviceType::CUDA, code}; }

}  // namespace

DeviceBackend& accelerator() {
    static DeviceBackend* backend = [] {
        g_initialized = true;
        pthread_atfork(nullptr, nullptr, &on_fork_child);
        // Never destroyed: tensors may free device memory during static destruction.
        if (env_flag("CKERAS_TEST_FAKE_GPU")) return make_fake_backend().release();
        return make_cuda_backend().release();
    }();
    return *backend;
}

bool accelerator_initialized() { return g_initialized.load(); }

int cuda_device_count() {
    if (g_forked_child.load()) return 0;
    return accelerator().device_count();
}

std::string cuda_unavailable_reason() {
    if (g_forked_child.load())
        return "this process was forked after ckeras had used the GPU, and CUDA cannot be used in such a "
               "child; start workers with multiprocessing's 'spawn' method (CPU work is unaffected)";
    return accelerator().unavailable_reason();
}

std::string cuda_device_name(int index) {
    check_device(Device{DeviceType::CUDA, index});
    return accelerator().device_name(index);
}

bool forked_after_accelerator_use() { return g_forked_child.load(); }

void check_device(Device device) {
    if (device.type == DeviceType::CPU) {
        CKERAS_CHECK(device.index == 0, "there is one cpu device, got index ", device.index);
        return;
    }
    int n = cuda_device_count();
    if (n == 0) throw_error(ErrorKind::Runtime, "cannot use ", device.str(), ": ", cuda_unavailable_reason());
    CKERAS_CHECK(device.index >= 0 && device.index < n, "cannot use ", device.str(), ": only ", n,
                 " CUDA device(s) are visible");
}

Device current_device() {
    if (!t_scopes.empty()) return t_scopes.back();
    int code = g_default.load(std::memory_order_relaxed);
    if (code == -2) {
        int resolved = cuda_device_count() > 0 ? 0 : -1;
        g_default.compare_exchange_strong(code, resolved);
        code = g_default.load();
    }
    return decode(code);
}

void set_default_device(Device device) {
    check_device(device);
    g_default = device.type == DeviceType::CPU ? -1 : device.index;
}

void push_device_scope(Device device) {
    check_device(device);
    t_scopes.push_back(device);
}

void pop_device_scope() {
    CKERAS_ASSERT(!t_scopes.empty());
    t_scopes.pop_back();
}

DeviceScope::DeviceScope(Device device) { push_device_scope(device); }

DeviceScope::~DeviceScope() { t_scopes.pop_back(); }

void device_copy(void* dst, Device dst_device, const void* src, Device src_device, int64_t nbytes) {
    if (nbytes <= 0) return;
    if (dst_device.type == DeviceType::CPU && src_device.type == DeviceType::CPU) {
        std::memcpy(dst, src, static_cast<size_t>(nbytes));
        return;
    }
    // One side (or both) is an accelerator. Copies between two different GPUs go through the host.
    Device gpu = src_device.type != DeviceType::CPU ? src_device : dst_device;
    check_device(gpu);
    DeviceBackend& acc = accelerator();
    if (src_device.type != DeviceType::CPU && dst_device.type != DeviceType::CPU && src_device != dst_device) {
        std::vector<char> host(static_cast<size_t>(nbytes));
        acc.set_device(src_device.index);
        acc.copy(host.data(), DeviceType::CPU, src, DeviceType::CUDA, nbytes);
        acc.set_device(dst_device.index);
        acc.copy(dst, DeviceType::CUDA, host.data(), DeviceType::CPU, nbytes);
        return;
    }
    acc.set_device(gpu.index);
    acc.copy(dst, dst_device.type, src, src_device.type, nbytes);
}

void device_synchronize(Device device) {
    if (device.type == DeviceType::CPU) return;
    check_device(device);
    accelerator().set_device(device.index);
    accelerator().synchronize();
}

bool tensor_float32_enabled() { return g_tf32.load(std::memory_order_relaxed); }
void set_tensor_float32_enabled(bool enabled) { g_tf32 = enabled; }

}  // namespace ckeras
