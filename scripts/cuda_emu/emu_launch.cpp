// Kernel launches on the emulated device (shim/emu_core.h): the configuration checks a GPU makes,
// then the grid's blocks, on the calling host thread or, with CKERAS_EMU_THREADS=N (default 1), on N
// host threads taking blocks in turn. Blocks then really run at once, with real atomics between them:
// results must not depend on which block runs first (float atomics aside), as on a GPU.
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "emu_core.h"
#include "emu_guard.h"

namespace emu {

void note_fault(const std::string& what);  // emu_runtime.cpp
void note_launch_error(int code, const std::string& what);
size_t max_dynamic_smem(const void* kernel_id);  // what cudaFuncSetAttribute allowed, else 48 KiB
size_t smem_optin();

namespace {

int thread_count() {
    static const int n = [] {
        const char* v = std::getenv("CKERAS_EMU_THREADS");
        const long k = v && *v ? std::strtol(v, nullptr, 10) : 1;
        return int(k < 1 ? 1 : k > 64 ? 64 : k);
    }();
    return n;
}

bool valid_config(const Config& c) {
    const uint64_t threads = uint64_t(c.block.x) * c.block.y * c.block.z;
    return threads >= 1 && threads <= 1024 && c.block.z <= 64 && c.grid.x >= 1 && c.grid.y >= 1 && c.grid.z >= 1 &&
           c.grid.x <= 0x7FFFFFFFu && c.grid.y <= 65535 && c.grid.z <= 65535;
}

// One grid shared by the host threads that run it.
struct Job {
    const Site* site;
    const Config* cfg;
    void (*body)(void*);
    void* arg;
    GridCursor cursor;
    std::mutex mu;
    std::string fault;  // the first one
    void run() {
        std::string f = run_blocks(*site, *cfg, body, arg, cursor);
        if (f.empty()) return;
        std::lock_guard<std::mutex> lock(mu);
        if (fault.empty()) fault = f;
    }
};

// thread_count() - 1 helpers that join the caller on each large grid. Never destroyed (detached).
class Pool {
public:
    explicit Pool(int helpers) {
        for (int i = 0; i < helpers; ++i) std::thread([this] { loop(); }).detach();
    }
    void run(Job& job, int helpers) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            job_ = &job;
            ++generation_;
            busy_ = helpers;
        }
        wake_.notify_all();
        job.run();
        std::unique_lock<std::mutex> lock(mu_);
        done_.wait(lock, [this] { return busy_ == 0; });
        job_ = nullptr;
    }

private:
    void loop() {
        uint64_t seen = 0;
        for (;;) {
            Job* job;
            {
                std::unique_lock<std::mutex> lock(mu_);
                wake_.wait(lock, [&] { return generation_ != seen; });
                seen = generation_;
                job = job_;
            }
            job->run();
            std::lock_guard<std::mutex> lock(mu_);
            if (--busy_ == 0) done_.notify_one();
        }
    }
    std::mutex mu_;
    std::condition_variable wake_, done_;
    Job* job_ = nullptr;
    uint64_t generation_ = 0;
    int busy_ = 0;
};

}  // namespace

void launch(const Site& site, const void* kernel_id, const Config& cfg, void (*body)(void*), void* arg) {
    const std::string name = std::string(site.kernel) + " (" + site.file + ":" + std::to_string(site.line) + ")";
    if (in_kernel()) return note_launch_error(1, "launch from device code: " + name);  // cudaErrorInvalidValue
    if (!valid_config(cfg)) return note_launch_error(9, "invalid launch configuration: " + name);
    if (cfg.smem > max_dynamic_smem(kernel_id) || cfg.smem > smem_optin())
        return note_launch_error(1, "dynamic shared memory of " + std::to_string(cfg.smem) +
                                        " bytes above the kernel's limit: " + name);
    Job job{&site, &cfg, body, arg, {}, {}, {}};
    const uint64_t blocks = uint64_t(cfg.grid.x) * cfg.grid.y * cfg.grid.z;
    const int helpers = thread_count() - 1;
    DeviceAccess access;
    if (helpers > 0 && blocks >= 4) {
        static std::mutex mu;  // one pooled grid at a time (host threads launching at once take turns)
        static Pool* pool = new Pool(helpers);
        std::lock_guard<std::mutex> lock(mu);
        pool->run(job, helpers);
    } else {
        job.run();
    }
    if (!job.fault.empty()) note_fault(job.fault);
}

}  // namespace emu
