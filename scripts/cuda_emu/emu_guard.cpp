// Guarded device memory for the emulated device (CKERAS_EMU_GUARD, default 0; run_tests.sh sets 2):
//   1: every device allocation (ckeras::device_malloc, wrapped at link time so that the caching
//      allocator's rounding up is bypassed, and cudaMalloc) gets pages of its own, ending 16-byte
//      rounding after its last byte at an inaccessible page, with another before it; freed memory stays
//      inaccessible for a while. An access out of bounds or after free stops the process with a
//      message naming the allocation and the kernel, block and thread.
//   2: also, device memory is inaccessible outside kernels and cudaMemcpy/cudaMemset, so host code that
//      dereferences a device pointer is caught as it would crash on a GPU.
#include "emu_guard.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "ckeras/device.h"
#include "ckeras/error.h"
#include "emu_core.h"

namespace emu {

size_t device_memory_bytes();  // emu_runtime.cpp

namespace {

constexpr size_t kPage = 4096;

struct Region {
    char* map;  // guard page, data pages, guard page
    size_t map_len;
    char* base;  // the allocation: [base, base + n)
    size_t n;
    bool freed;
};

struct Guard {
    std::mutex mu;
    std::map<uintptr_t, Region> regions;  // by map start, live and quarantined
    std::deque<uintptr_t> quarantine;
    size_t quarantined = 0;
    size_t live = 0;  // bytes in live allocations
    int open = 0;     // DeviceAccess scopes in progress (mode 2)
};
Guard& guard() {
    static Guard* g = new Guard();
    return *g;
}

int env_mode() {
    const char* v = std::getenv("CKERAS_EMU_GUARD");
    return v && *v ? std::atoi(v) : 0;
}

void protect(Region& r, bool open) {
    const size_t data = r.map_len - 2 * kPage;
    if (data) mprotect(r.map + kPage, data, open ? PROT_READ | PROT_WRITE : PROT_NONE);
}

const Region* find(Guard& g, uintptr_t a) {
    auto it = g.regions.upper_bound(a);
    if (it == g.regions.begin()) return nullptr;
    --it;
    const Region& r = it->second;
    return a < uintptr_t(r.map) + r.map_len ? &r : nullptr;
}

void on_segv(int, siginfo_t* si, void*) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(si->si_addr);
    Guard& g = guard();
    char what[256];
    const Region* r = g.mu.try_lock() ? find(g, a) : nullptr;
    const long n = r ? long(r->n) : 0;
    if (!r) std::snprintf(what, sizeof what, "segmentation fault at %p", si->si_addr);
    else if (r->freed) std::snprintf(what, sizeof what, "access to freed device memory (a %ld-byte allocation)", n);
    else if (a < uintptr_t(r->base))
        std::snprintf(what, sizeof what, "access %ld bytes before a %ld-byte device allocation", long(uintptr_t(r->base) - a), n);
    else if (a >= uintptr_t(r->base) + r->n)
        std::snprintf(what, sizeof what, "access at byte %ld of a %ld-byte device allocation (past its end)",
                      long(a - uintptr_t(r->base)), n);
    else std::snprintf(what, sizeof what, "host code accessed device memory (a %ld-byte allocation) outside a kernel "
                                          "or cudaMemcpy", n);
    const std::string where = in_kernel() ? current_thread() : std::string("host code");
    std::fprintf(stderr, "[cuda-emu] %s, in %s\n", what, where.c_str());
    signal(SIGSEGV, SIG_DFL);  // returning re-runs the access: the process stops with SIGSEGV
}

void install_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction sa;
        std::memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_segv;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigaction(SIGSEGV, &sa, nullptr);
    });
}

}  // namespace

int guard_mode() {
    static const int m = env_mode();
    return m;
}

void* guard_alloc(size_t n) {
    install_handler();
    {
        Guard& g = guard();
        std::lock_guard<std::mutex> lock(g.mu);
        if (g.live + n > device_memory_bytes()) return nullptr;  // the emulated device is full
        g.live += n;
    }
    const size_t rounded = (n + 15) / 16 * 16, pages = (rounded + kPage - 1) / kPage;
    const size_t len = (pages + 2) * kPage;
    void* m = mmap(nullptr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        std::lock_guard<std::mutex> lock(guard().mu);
        guard().live -= n;
        return nullptr;
    }
    Region r{static_cast<char*>(m), len, static_cast<char*>(m) + kPage + pages * kPage - rounded, n, false};
    protect(r, true);
    std::memset(r.base, 0xFF, n);  // NaN: reads of unwritten memory show
    Guard& g = guard();
    std::lock_guard<std::mutex> lock(g.mu);
    if (guard_mode() >= 2 && g.open == 0) protect(r, false);
    g.regions[uintptr_t(m)] = r;
    return r.base;
}

bool guard_free(void* p) {
    if (!p) return true;
    Guard& g = guard();
    std::lock_guard<std::mutex> lock(g.mu);
    const Region* found = find(g, reinterpret_cast<uintptr_t>(p));
    if (!found || found->base != p || found->freed) return false;
    Region& r = g.regions[uintptr_t(found->map)];
    r.freed = true;
    g.live -= r.n;
    protect(r, false);
    g.quarantine.push_back(uintptr_t(r.map));
    g.quarantined += r.map_len;
    // Unmap the oldest beyond 256 MiB or 4096 regions (each takes 3 of the process's ~65530 mappings).
    while (g.quarantined > (size_t(256) << 20) || g.quarantine.size() > 4096) {
        Region& old = g.regions[g.quarantine.front()];
        g.quarantined -= old.map_len;
        munmap(old.map, old.map_len);
        g.regions.erase(g.quarantine.front());
        g.quarantine.pop_front();
    }
    return true;
}

size_t guard_live_bytes() {
    std::lock_guard<std::mutex> lock(guard().mu);
    return guard().live;
}

DeviceAccess::DeviceAccess() {
    if (guard_mode() < 2) return;
    Guard& g = guard();
    std::lock_guard<std::mutex> lock(g.mu);
    if (g.open++ == 0)
        for (auto& [start, r] : g.regions)
            if (!r.freed) protect(r, true);
}

DeviceAccess::~DeviceAccess() {
    if (guard_mode() < 2) return;
    Guard& g = guard();
    std::lock_guard<std::mutex> lock(g.mu);
    if (--g.open == 0)
        for (auto& [start, r] : g.regions)
            if (!r.freed) protect(r, false);
}

}  // namespace emu

// ckeras::device_malloc / device_free, wrapped at link time (-Wl,--wrap): guarded memory in guard mode,
// the caching allocator otherwise.
extern "C" void* __real__ZN6ckeras13device_mallocENS_6DeviceEl(ckeras::Device device, int64_t nbytes);
extern "C" void __real__ZN6ckeras11device_freeENS_6DeviceEPv(ckeras::Device device, void* ptr);

extern "C" void* __wrap__ZN6ckeras13device_mallocENS_6DeviceEl(ckeras::Device device, int64_t nbytes) {
    // The test stand-in (CKERAS_TEST_FAKE_GPU) keeps its own memory and limits.
    if (emu::guard_mode() == 0 || ckeras::accelerator().is_fake())
        return __real__ZN6ckeras13device_mallocENS_6DeviceEl(device, nbytes);
    ckeras::check_device(device);
    void* p = emu::guard_alloc(size_t(nbytes));
    // Full: the caching allocator's path then fails too (cudaMalloc) and raises its out-of-memory error.
    return p ? p : __real__ZN6ckeras13device_mallocENS_6DeviceEl(device, nbytes);
}

extern "C" void __wrap__ZN6ckeras11device_freeENS_6DeviceEPv(ckeras::Device device, void* ptr) {
    if (emu::guard_mode() == 0 || ckeras::accelerator().is_fake())
        return __real__ZN6ckeras11device_freeENS_6DeviceEPv(device, ptr);
    if (!emu::guard_free(ptr)) {
        std::fprintf(stderr, "[cuda-emu] device_free of %p, which is not a live device allocation\n", ptr);
        std::abort();
    }
}
