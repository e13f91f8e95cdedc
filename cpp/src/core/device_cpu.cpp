// CPU facts (thread count) and, in CPU-only builds, an accelerator backend reporting no devices.
#include "core/device_backends.h"
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

#ifndef CKERAS_WITH_CUDA
namespace {
// CPU-only builds: an accelerator backend with no devices that says why.
class NoCudaBackend : public DeviceBackend {
public:
    int device_count() override { return 0; }
    std::string unavailable_reason() override { return "this ckeras build has no CUDA support (CPU-only build)"; }
    std::string device_name(int) override { return ""; }
    void set_device(int) override {}
    void* raw_malloc(int64_t) override { return nullptr; }
    void raw_free(void*) override {}
    void mem_info(int64_t* free_bytes, int64_t* total_bytes) override { *free_bytes = *total_bytes = 0; }
    void copy(void*, DeviceType, const void*, DeviceType, int64_t) override {
        throw_error(ErrorKind::Runtime, unavailable_reason());
    }
    void synchronize() override {}
};
}  // namespace

std::unique_ptr<DeviceBackend> make_cuda_backend() { return std::make_unique<NoCudaBackend>(); }
bool is_cuda_build() { return false; }
std::string cuda_build_version() { return ""; }
std::string cuda_build_archs() { return ""; }
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
