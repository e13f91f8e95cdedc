// CPU facts (thread count) and, in CPU-only builds, the CUDA half of device.h reporting no devices.
#include "ckeras/device.h"
#include "ckeras/error.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace ckeras {

int cpu_num_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

void set_cpu_num_threads(int n) {
    CKERAS_CHECK(n >= 1, "the number of threads must be at least 1, got ", n);
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

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

#ifndef CKERAS_WITH_CUDA
bool is_cuda_build() { return false; }
int cuda_device_count() { return 0; }
std::string cuda_unavailable_reason() { return "this ckeras build has no CUDA support (CPU-only build)"; }
std::string cuda_device_name(int) { return ""; }
std::string cuda_build_version() { return ""; }
std::string cuda_build_archs() { return ""; }
void* device_malloc(Device device, int64_t) {
    check_device(device);
    return nullptr;
}
void device_free(Device, void*) {}
#endif

}  // namespace ckeras

// ---- interruption (interrupt.h) ----
#include <atomic>

#include "ckeras/interrupt.h"

namespace ckeras {
namespace {
std::atomic<bool (*)()> g_interrupt_hook{nullptr};
}
void set_interrupt_hook(bool (*hook)()) { g_interrupt_hook = hook; }
void poll_interrupt() {
    auto hook = g_interrupt_hook.load();
    if (hook && hook()) throw_error(ErrorKind::Interrupt, "interrupted");
}
}  // namespace ckeras
