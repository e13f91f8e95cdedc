// Internal to the core: the backend factories and the caching allocator that sits on a backend.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "ckeras/device.h"

namespace ckeras {

// The CUDA backend (cuda/device_cuda.cu) or, in CPU-only builds, one that reports zero devices.
std::unique_ptr<DeviceBackend> make_cuda_backend();
// The host-memory stand-in for tests (core/device_fake.cpp). CKERAS_TEST_FAKE_GPU_MEMORY caps its
// memory in bytes (default 1 GiB), so tests can provoke an out-of-memory.
std::unique_ptr<DeviceBackend> make_fake_backend();
// True in a child forked after the parent had used the accelerator.
bool forked_after_accelerator_use();

// Keeps freed device blocks in per-size-class free lists and hands them back for requests of the same
// class, so a training loop allocating the same shapes every step stops calling the device's malloc.
// Classes are 4 per power of two, multiples of 512 bytes. One instance per device; thread-safe.
// Blocks are reused in stream order: every ckeras kernel runs on the device's one stream.
class CachingAllocator {
public:
    explicit CachingAllocator(DeviceBackend& backend, Device device) : backend_(backend), device_(device) {}
    // ErrorKind::DeviceMemory when the device stays out of memory after the cache was released.
    void* allocate(int64_t nbytes);
    void free(void* ptr);
    void release_cache();
    DeviceMemoryStats stats();
    void reset_peak();
    static int64_t size_class(int64_t nbytes);

private:
    DeviceBackend& backend_;
    Device device_;
    std::mutex mu_;
    std::map<int64_t, std::vector<void*>> free_;     // class -> cached blocks
    std::unordered_map<void*, int64_t> live_;        // block -> class
    DeviceMemoryStats stats_;
    void release_locked();
};

}  // namespace ckeras
