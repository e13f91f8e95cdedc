// The fork-join pool of thread_pool.h. One region runs at a time. Its chunks are claimed by compare-and-swap
// on `state` = (generation << 32) | next chunk: a claim succeeds only while the region it was meant for is
// the current one and has chunks left, so a worker that wakes late finds nothing and goes back to waiting.
// The region's description (fn, ctx, chunks) is written before its generation is published and is not
// rewritten before every chunk of it has finished, so whoever wins a claim reads the right description.
#include "cpu/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include <pthread.h>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CKERAS_PAUSE() _mm_pause()
#else
#define CKERAS_PAUSE() std::this_thread::yield()
#endif

namespace ckeras::cpu {
namespace {

struct Pool {
    std::atomic<uint64_t> state{0};
    std::atomic<int64_t> chunks{0};
    std::atomic<void (*)(void*, int64_t)> fn{nullptr};
    std::atomic<void*> ctx{nullptr};
    std::atomic<int> invited{0};  // workers 0 .. invited-1 may join the current region
    std::atomic<int64_t> done{0};
    std::atomic<int> sleepers{0};
    std::atomic<bool> failed{false};  // a chunk threw: no more claims
    std::mutex error_mu;
    std::exception_ptr error;
    std::mutex run_mu;  // one region at a time; a second caller runs its region serially
    std::mutex sleep_mu;
    std::condition_variable wake;
    int started = 0;  // workers running (under run_mu)
};

// Leaked on purpose: detached workers may still be waiting on it at exit. A forked child gets a new one.
Pool* g_pool = new Pool;
thread_local bool t_in_region = false;

// How long an idle worker spins before it sleeps: a training step's regions come microseconds apart.
constexpr std::chrono::microseconds kSpin{200};

uint32_t generation(uint64_t state) { return static_cast<uint32_t>(state >> 32); }

// The next unclaimed chunk of region `gen`, or -1 when it has none left or is no longer current.
int64_t claim(Pool& p, uint32_t gen) {
    uint64_t s = p.state.load(std::memory_order_acquire);
    for (;;) {
        if (generation(s) != gen || p.failed.load(std::memory_order_relaxed)) return -1;
        const int64_t next = static_cast<uint32_t>(s);
        if (next >= p.chunks.load(std::memory_order_relaxed)) return -1;
        if (p.state.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire))
            return next;
    }
}

void run_chunk(Pool& p, int64_t c) {
    const bool outer = t_in_region;
    t_in_region = true;
    try {
        p.fn.load(std::memory_order_relaxed)(p.ctx.load(std::memory_order_relaxed), c);
    } catch (...) {
        std::lock_guard<std::mutex> lock(p.error_mu);
        if (!p.error) p.error = std::current_exception();
        p.failed.store(true, std::memory_order_relaxed);
    }
    t_in_region = outer;
    p.done.fetch_add(1, std::memory_order_release);
}

void worker_main(Pool* pool, int index) {
    Pool& p = *pool;
    uint32_t seen = generation(p.state.load(std::memory_order_acquire));
    for (;;) {
        const auto spin_until = std::chrono::steady_clock::now() + kSpin;
        int spins = 0;
        while (generation(p.state.load(std::memory_order_acquire)) == seen) {
            CKERAS_PAUSE();
            if (++spins % 256 == 0 && std::chrono::steady_clock::now() > spin_until) {
                std::unique_lock<std::mutex> lock(p.sleep_mu);
                p.sleepers.fetch_add(1);
                p.wake.wait(lock, [&] { return generation(p.state.load()) != seen; });
                p.sleepers.fetch_sub(1);
                break;
            }
        }
        const uint32_t gen = generation(p.state.load(std::memory_order_acquire));
        seen = gen;
        if (index >= p.invited.load(std::memory_order_relaxed)) continue;
        for (int64_t c; (c = claim(p, gen)) >= 0;) run_chunk(p, c);
    }
}

void reset_after_fork() { g_pool = new Pool; }  // the parent's workers do not exist in the child

void ensure_workers(Pool& p, int count) {
    static std::once_flag fork_hook;
    std::call_once(fork_hook, [] { pthread_atfork(nullptr, nullptr, reset_after_fork); });
    for (; p.started < count; ++p.started) {
        try {
            std::thread(worker_main, &p, p.started).detach();
        } catch (const std::system_error&) {
            return;  // no more threads: the caller runs what the workers would have
        }
    }
}

}  // namespace

int pool_max_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

bool pool_in_region() { return t_in_region; }

void pool_run(int64_t chunks, int threads, void (*fn)(void*, int64_t), void* ctx) {
    if (chunks <= 0) return;
    Pool& p = *g_pool;
    std::unique_lock<std::mutex> run(p.run_mu, std::defer_lock);
    if (threads <= 1 || chunks == 1 || t_in_region || !run.try_lock()) {
        const bool outer = t_in_region;
        t_in_region = true;
        try {
            for (int64_t c = 0; c < chunks; ++c) fn(ctx, c);
        } catch (...) {
            t_in_region = outer;
            throw;
        }
        t_in_region = outer;
        return;
    }
    ensure_workers(p, threads - 1);
    p.fn.store(fn, std::memory_order_relaxed);
    p.ctx.store(ctx, std::memory_order_relaxed);
    p.chunks.store(chunks, std::memory_order_relaxed);
    p.invited.store(threads - 1, std::memory_order_relaxed);
    p.done.store(0, std::memory_order_relaxed);
    p.failed.store(false, std::memory_order_relaxed);
    p.error = nullptr;
    const uint32_t gen = generation(p.state.load(std::memory_order_relaxed)) + 1;
    p.state.store(static_cast<uint64_t>(gen) << 32);  // seq_cst: ordered before the sleepers check
    if (p.sleepers.load() > 0) {
        std::lock_guard<std::mutex> lock(p.sleep_mu);
        p.wake.notify_all();
    }
    for (int64_t c; (c = claim(p, gen)) >= 0;) run_chunk(p, c);
    // Close the region to claims (after a failure some chunks are left unclaimed: they never run), then wait
    // for the claimed chunks still running on workers.
    uint64_t s = p.state.load(std::memory_order_acquire);
    while (static_cast<uint32_t>(s) < chunks &&
           !p.state.compare_exchange_weak(s, (static_cast<uint64_t>(gen) << 32) | static_cast<uint64_t>(chunks),
                                          std::memory_order_acq_rel, std::memory_order_acquire)) {
    }
    const int64_t claimed = std::min<int64_t>(static_cast<uint32_t>(s), chunks);
    for (int spins = 0; p.done.load(std::memory_order_acquire) < claimed;) {
        CKERAS_PAUSE();
        if (++spins % 4096 == 0) std::this_thread::yield();
    }
    if (p.error) {
        std::exception_ptr e = p.error;
        p.error = nullptr;
        std::rethrow_exception(e);
    }
}

}  // namespace ckeras::cpu
