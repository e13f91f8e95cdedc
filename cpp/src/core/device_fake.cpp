// A stand-in accelerator for tests on machines without a GPU (CKERAS_TEST_FAKE_GPU=1): one device,
// "gpu:0", whose memory is host memory it allocates itself and whose kernel table is the CPU's. It
// exercises everything around the kernels (placement, copies, the caching allocator, out-of-memory,
// fork checks) without a GPU; it is never chosen unless a test asks for it.
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "core/device_backends.h"
#include "ckeras/error.h"

namespace ckeras {
namespace {

class FakeBackend : public DeviceBackend {
public:
    FakeBackend() {
        const char* cap = std::getenv("CKERAS_TEST_FAKE_GPU_MEMORY");
        if (cap && *cap) total_ = std::strtoll(cap, nullptr, 10);
    }
    bool is_fake() const override { return true; }
    int device_count() override { return 1; }
    std::string unavailable_reason() override { return ""; }
    std::string device_name(int) override { return "ckeras test stand-in (host memory)"; }
    void set_device(int index) override {
        CKERAS_CHECK(index == 0, "cannot use cuda:", index, ": only 1 CUDA device(s) are visible");
    }
    void* raw_malloc(int64_t nbytes) override {
        std::lock_guard<std::mutex> lock(mu_);
        if (used_ + nbytes > total_) return nullptr;
        void* p = std::aligned_alloc(256, static_cast<size_t>((nbytes + 255) / 256 * 256));
        if (!p) return nullptr;
        sizes_[p] = nbytes;
        used_ += nbytes;
        return p;
    }
    void raw_free(void* ptr) override {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = sizes_.find(ptr);
        if (it == sizes_.end()) return;
        used_ -= it->second;
        sizes_.erase(it);
        std::free(ptr);
    }
    void mem_info(int64_t* free_bytes, int64_t* total_bytes) override {
        std::lock_guard<std::mutex> lock(mu_);
        *free_bytes = total_ - used_;
        *total_bytes = total_;
    }
    void copy(void* dst, DeviceType, const void* src, DeviceType, int64_t nbytes) override {
        std::memcpy(dst, src, static_cast<size_t>(nbytes));
    }
    void synchronize() override {}

private:
    std::mutex mu_;
    std::unordered_map<void*, int64_t> sizes_;
    int64_t used_ = 0;
    int64_t total_ = int64_t(1) << 30;
};

}  // namespace

std::unique_ptr<DeviceBackend> make_fake_backend() { return std::make_unique<FakeBackend>(); }

}  // namespace ckeras
