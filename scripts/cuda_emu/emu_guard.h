// Guarded device memory (emu_guard.cpp), used by emu_runtime.cpp and emu_launch.cpp.
#pragma once
#include <cstddef>

namespace emu {

int guard_mode();                // CKERAS_EMU_GUARD: 0 off, 1 bounds and use after free, 2 also host access
void* guard_alloc(size_t nbytes);  // nullptr when the emulated device (CKERAS_EMU_MEMORY) is full
bool guard_free(void* p);        // false: p is not a live guarded allocation
size_t guard_live_bytes();

// Device memory is accessible to the calling code while one of these lives (mode 2; no-op otherwise).
struct DeviceAccess {
    DeviceAccess();
    ~DeviceAccess();
    DeviceAccess(const DeviceAccess&) = delete;
    DeviceAccess& operator=(const DeviceAccess&) = delete;
};

}  // namespace emu
