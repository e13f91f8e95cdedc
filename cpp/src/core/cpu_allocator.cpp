// CPU memory: 64-byte aligned blocks, with freed large blocks kept in per-size-class free lists so
// that steady-state ops (a training step allocating the same shapes every batch) skip mmap and
// page faults. Size classes are 4 per power of two (at most 19% slack); the cache is capped.
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "ckeras/error.h"
#include "ckeras/tensor.h"

namespace ckeras {
namespace {

constexpr int64_t kAlign = 64;
constexpr int64_t kCacheMin = 64 << 10;  // smaller blocks go straight to malloc, which is fast for them

struct Cache {
    std::mutex mu;
    std::map<int64_t, std::vector<void*>> free_blocks;  // size class -> blocks
    int64_t cached_bytes = 0;
    int64_t limit = int64_t(1) << 30;
};

Cache& cache() {
    static Cache* c = new Cache();  // never destroyed: blocks may be freed during static destruction
    return *c;
}

// Rounds n up to the next of 4 classes per power of two (multiples of 64 bytes).
int64_t size_class(int64_t n) {
    int64_t p = 1;
    while (p * 2 <= n) p *= 2;
    int64_t step = std::max<int64_t>(p / 4, kAlign);
    return (n + step - 1) / step * step;
}

[[noreturn]] void out_of_memory(int64_t nbytes) {
    throw_error(ErrorKind::Memory, "out of memory: failed to allocate ", nbytes, " bytes on cpu");
}

void release(void* p, int64_t cls) {
    Cache& c = cache();
    {
        std::lock_guard<std::mutex> lock(c.mu);
        if (c.cached_bytes + cls <= c.limit) {
            c.free_blocks[cls].push_back(p);
            c.cached_bytes += cls;
            return;
        }
    }
    std::free(p);
}

}  // namespace

std::shared_ptr<void> cpu_allocate(int64_t nbytes) {
    int64_t n = std::max<int64_t>((nbytes + kAlign - 1) / kAlign * kAlign, kAlign);
    if (n < kCacheMin) {
        void* p = std::aligned_alloc(kAlign, static_cast<size_t>(n));
        if (!p) out_of_memory(nbytes);
        return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
    }
    int64_t cls = size_class(n);
    void* p = nullptr;
    {
        Cache& c = cache();
        std::lock_guard<std::mutex> lock(c.mu);
        auto it = c.free_blocks.find(cls);
        if (it != c.free_blocks.end() && !it->second.empty()) {
            p = it->second.back();
            it->second.pop_back();
            c.cached_bytes -= cls;
        }
    }
    if (!p) p = std::aligned_alloc(kAlign, static_cast<size_t>(cls));
    if (!p) {
        cpu_cache_release();  // give cached memory back and try once more
        p = std::aligned_alloc(kAlign, static_cast<size_t>(cls));
        if (!p) out_of_memory(nbytes);
    }
    return std::shared_ptr<void>(p, [cls](void* q) { release(q, cls); });
}

int64_t cpu_cache_bytes() {
    std::lock_guard<std::mutex> lock(cache().mu);
    return cache().cached_bytes;
}

void cpu_cache_release() {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    for (auto& [cls, blocks] : c.free_blocks)
        for (void* p : blocks) std::free(p);
    c.free_blocks.clear();
    c.cached_bytes = 0;
}

void set_cpu_cache_limit(int64_t bytes) {
    CKERAS_CHECK(bytes >= 0, "the cache limit must be non-negative, got ", bytes);
    {
        std::lock_guard<std::mutex> lock(cache().mu);
        cache().limit = bytes;
    }
    if (cpu_cache_bytes() > bytes) cpu_cache_release();
}

}  // namespace ckeras
