// The caching device allocator (device_backends.h) and the device-memory entry points of device.h.
#include <algorithm>
#include <array>

#include "core/device_backends.h"
#include "ckeras/error.h"

namespace ckeras {

int64_t CachingAllocator::size_class(int64_t nbytes) {
    constexpr int64_t kMin = 512;
    int64_t n = std::max<int64_t>(nbytes, 1);
    int64_t p = 1;
    while (p * 2 <= n) p *= 2;
    int64_t step = std::max<int64_t>(p / 4, kMin);
    return (n + step - 1) / step * step;
}

void* CachingAllocator::allocate(int64_t nbytes) {
    int64_t cls = size_class(nbytes);
    std::lock_guard<std::mutex> lock(mu_);
    void* p = nullptr;
    auto it = free_.find(cls);
    if (it != free_.end() && !it->second.empty()) {
        p = it->second.back();
        it->second.pop_back();
        stats_.cached -= cls;
    } else {
        backend_.set_device(device_.index);
        p = backend_.raw_malloc(cls);
        if (!p) {  // give the cache back and try once more before failing
            release_locked();
            p = backend_.raw_malloc(cls);
        }
        if (!p) {
            int64_t free_b = 0, total_b = 0;
            backend_.mem_info(&free_b, &total_b);
            throw_error(ErrorKind::DeviceMemory, "out of memory on ", device_.str(), ": tried to allocate ",
                        nbytes, " bytes with ", free_b, " bytes free (of ", total_b, "); ckeras holds ",
                        stats_.in_use, " bytes in live tensors. Use a smaller batch size or model, or free "
                        "tensors you no longer need");
        }
        ++stats_.num_raw_allocs;
        stats_.reserved += cls;
    }
    live_[p] = cls;
    stats_.in_use += cls;
    stats_.peak_in_use = std::max(stats_.peak_in_use, stats_.in_use);
    return p;
}

void CachingAllocator::free(void* ptr) {
    if (!ptr) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(ptr);
    if (it == live_.end()) return;  // not ours (cannot happen through allocate_storage)
    int64_t cls = it->second;
    live_.erase(it);
    stats_.in_use -= cls;
    if (forked_after_accelerator_use()) return;  // the child must not touch the parent's device memory
    free_[cls].push_back(ptr);
    stats_.cached += cls;
}

void CachingAllocator::release_locked() {
    if (forked_after_accelerator_use()) return;
    backend_.set_device(device_.index);
    for (auto& [cls, blocks] : free_) {
        for (void* p : blocks) backend_.raw_free(p);
        stats_.reserved -= cls * static_cast<int64_t>(blocks.size());
    }
    free_.clear();
    stats_.cached = 0;
}

void CachingAllocator::release_cache() {
    std::lock_guard<std::mutex> lock(mu_);
    release_locked();
}

DeviceMemoryStats CachingAllocator::stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
}

void CachingAllocator::reset_peak() {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.peak_in_use = stats_.in_use;
}

namespace {

constexpr int kMaxDevices = 16;

CachingAllocator& allocator_for(Device device) {
    static std::array<CachingAllocator*, kMaxDevices> allocators{};
    static std::mutex mu;
    CKERAS_CHECK(device.index >= 0 && device.index < kMaxDevices, "cannot use ", device.str(),
                 ": ckeras supports at most ", kMaxDevices, " GPUs");
    std::lock_guard<std::mutex> lock(mu);
    auto& slot = allocators[device.index];
    if (!slot) slot = new CachingAllocator(accelerator(), device);  // never destroyed, like the backend
    return *slot;
}

}  // namespace

void* device_malloc(Device device, int64_t nbytes) {
    check_device(device);
    return allocator_for(device).allocate(nbytes);
}

void device_free(Device device, void* ptr) {
    if (ptr) allocator_for(device).free(ptr);
}

DeviceMemoryStats device_memory_stats(Device device) {
    check_device(device);
    return allocator_for(device).stats();
}

void reset_peak_device_memory(Device device) {
    check_device(device);
    allocator_for(device).reset_peak();
}

void release_device_cache(Device device) {
    check_device(device);
    allocator_for(device).release_cache();
}

}  // namespace ckeras
