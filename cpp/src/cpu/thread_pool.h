// The CPU kernels' fork-join pool. A parallel region is a number of chunks that the caller and the pool's
// workers claim one at a time from an atomic counter; the caller runs every chunk nobody else has claimed
// and then waits only for the chunks workers did claim. So a worker that is slow to wake (its core busy
// with another process) never holds the caller up: the region then runs on the caller alone, as fast as
// one thread, where an OpenMP team would wait for that worker at its barrier (measured: E1 training with
// a busy second core ran at half the one-thread speed on two OpenMP threads).
//
// The thread count is OpenMP's setting (OMP_NUM_THREADS, ckeras.config.threading), read at each region;
// workers are started when first needed. Regions inside a chunk, or started while another thread's
// region is running, run serially on their caller. A child process after fork() starts without workers.
#pragma once
#include <cstdint>
#include <utility>

namespace ckeras::cpu {

// Threads a parallel region may use: OpenMP's max threads (1 without OpenMP).
int pool_max_threads();
// True while this thread runs a chunk of a region (a nested region then runs serially).
bool pool_in_region();
// Runs fn(ctx, c) for every c in [0, chunks), spread over up to `threads` threads (the caller included).
// After a chunk throws no further chunk starts; the first exception is rethrown here once the chunks
// already running have finished.
void pool_run(int64_t chunks, int threads, void (*fn)(void*, int64_t), void* ctx);

template <class F>
void pool_for_chunks(int64_t chunks, int threads, F&& f) {
    using Fn = std::remove_reference_t<F>;
    pool_run(chunks, threads, [](void* ctx, int64_t c) { (*static_cast<Fn*>(ctx))(c); },
             const_cast<void*>(static_cast<const void*>(&f)));
}

}  // namespace ckeras::cpu
