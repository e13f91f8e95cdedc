// The caching device allocator against a counting mock backend: size classes, reuse by class, the
// figures it reports, releasing the cache, and out-of-memory after the cache was given back.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "core/device_backends.h"
#include "ckeras/error.h"

namespace ckeras {
namespace {

class MockBackend : public DeviceBackend {
public:
    explicit MockBackend(int64_t capacity) : capacity_(capacity) {}
    int device_count() override { return 1; }
    std::string unavailable_reason() override { return ""; }
    std::string device_name(int) override { return "mock"; }
    void set_device(int) override {}
    void* raw_malloc(int64_t n) override {
        ++mallocs;
        if (used + n > capacity_) return nullptr;
        void* p = std::malloc(static_cast<size_t>(n));
        sizes[p] = n;
        used += n;
        return p;
    }
    void raw_free(void* p) override {
        ++frees;
        used -= sizes[p];
        sizes.erase(p);
        std::free(p);
    }
    void mem_info(int64_t* f, int64_t* t) override {
        *f = capacity_ - used;
        *t = capacity_;
    }
    void copy(void*, DeviceType, const void*, DeviceType, int64_t) override {}
    void synchronize() override {}
    int mallocs = 0, frees = 0;
    int64_t used = 0;
    std::map<void*, int64_t> sizes;

private:
    int64_t capacity_;
};

const Device kGpu{DeviceType::CUDA, 0};

TEST(DeviceAllocator, SizeClassesAreFourPerPowerOfTwoFromHalfAKilobyte) {
    EXPECT_EQ(CachingAllocator::size_class(0), 512);
    EXPECT_EQ(CachingAllocator::size_class(1), 512);
    EXPECT_EQ(CachingAllocator::size_class(513), 1024);
    EXPECT_EQ(CachingAllocator::size_class(4096), 4096);
    EXPECT_EQ(CachingAllocator::size_class(4097), 5120);  // steps of 1024 between 4 and 8 KiB
    EXPECT_EQ(CachingAllocator::size_class((1 << 20) + 1), (1 << 20) + (1 << 18));
    for (int64_t n : {1, 7, 511, 1000, 3000, 70000, 1 << 22, (1 << 22) + 3})
        EXPECT_GE(CachingAllocator::size_class(n), n) << n;
}

TEST(DeviceAllocator, FreedBlocksAreReusedForTheSameClass) {
    MockBackend be(1 << 30);
    CachingAllocator alloc(be, kGpu);
    void* a = alloc.allocate(1000);
    alloc.free(a);
    void* b = alloc.allocate(900);  // same class (1024)
    EXPECT_EQ(a, b);
    EXPECT_EQ(be.mallocs, 1);
    void* c = alloc.allocate(5000);  // another class: a new block
    EXPECT_EQ(be.mallocs, 2);
    DeviceMemoryStats st = alloc.stats();
    EXPECT_EQ(st.in_use, 1024 + 5120);
    EXPECT_EQ(st.cached, 0);
    EXPECT_EQ(st.reserved, st.in_use);
    EXPECT_EQ(st.num_raw_allocs, 2);
    alloc.free(b);
    alloc.free(c);
    st = alloc.stats();
    EXPECT_EQ(st.in_use, 0);
    EXPECT_EQ(st.cached, 1024 + 5120);
    EXPECT_EQ(st.peak_in_use, 1024 + 5120);
    alloc.reset_peak();
    EXPECT_EQ(alloc.stats().peak_in_use, 0);
    alloc.release_cache();
    EXPECT_EQ(be.frees, 2);
    EXPECT_EQ(be.used, 0);
    EXPECT_EQ(alloc.stats().reserved, 0);
}

TEST(DeviceAllocator, ASteadyLoopStopsAllocating) {
    MockBackend be(1 << 30);
    CachingAllocator alloc(be, kGpu);
    for (int step = 0; step < 50; ++step) {
        void* x = alloc.allocate(32 * 784 * 4);
        void* h = alloc.allocate(32 * 128 * 4);
        void* o = alloc.allocate(32 * 10 * 4);
        alloc.free(h);
        alloc.free(x);
        alloc.free(o);
    }
    EXPECT_EQ(be.mallocs, 3);
}

TEST(DeviceAllocator, OutOfMemoryReleasesTheCacheThenNamesTheBytes) {
    MockBackend be(10000);
    CachingAllocator alloc(be, kGpu);
    void* a = alloc.allocate(4096);
    alloc.free(a);                      // 4096 cached
    void* b = alloc.allocate(8000);     // class 8192 does not fit beside the cached block: cache released, retried
    EXPECT_NE(b, nullptr);
    EXPECT_EQ(be.frees, 1);
    try {
        alloc.allocate(6000);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::DeviceMemory);
        std::string msg = e.what();
        EXPECT_NE(msg.find("tried to allocate 6000 bytes"), std::string::npos) << msg;
        EXPECT_NE(msg.find("with 1808 bytes free"), std::string::npos) << msg;
        EXPECT_NE(msg.find("cuda:0"), std::string::npos) << msg;
    }
    alloc.free(b);  // still usable after the failure
    void* c = alloc.allocate(7500);  // class 8192 again: the cached block
    EXPECT_EQ(c, b);
}

}  // namespace
}  // namespace ckeras
