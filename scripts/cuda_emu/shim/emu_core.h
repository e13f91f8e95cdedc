// The emulated CUDA device's execution engine as translated kernels see it (scripts/cuda_emu): the
// built-in indices, kernel launches, __syncthreads, warp-wide collectives, per-block shared memory,
// cp.async queues and device faults. Implemented in emu_core.cpp. Every CUDA thread of a block is a
// fiber on one host thread; blocks run one after another.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

struct uint3 {
    unsigned x, y, z;
};
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};
typedef struct CUstream_st* cudaStream_t;

namespace emu {

// The built-ins of the running CUDA thread (threadIdx is updated at every switch between fibers).
struct Ctx {
    uint3 thread, block;
    dim3 block_dim, grid_dim;
    unsigned lane;  // of the running thread in its warp
};
extern thread_local constinit Ctx t_ctx;

// <<<grid, block, smem, stream>>> and where the launch is written (for fault messages).
struct Config {
    dim3 grid, block;
    size_t smem;
    cudaStream_t stream;
    Config(dim3 g, dim3 b, size_t s = 0, cudaStream_t st = nullptr) : grid(g), block(b), smem(s), stream(st) {}
};
struct Site {
    const char* kernel;
    const char* file;
    int line;
};

// Runs body(arg) as every thread of every block of the grid; a bad configuration or a fault inside
// the kernel is left for cudaGetLastError (emu_launch.cpp).
void launch(const Site& site, const void* kernel_id, const Config& cfg, void (*body)(void*), void* arg);

// Runs blocks of the grid on the calling host thread, taking block numbers from `cursor` until none
// is left or some block faulted; returns the first fault's description, or "" (emu_core.cpp).
struct GridCursor {
    std::atomic<uint64_t> next{0};
    std::atomic<bool> failed{false};
};
std::string run_blocks(const Site& site, const Config& cfg, void (*body)(void*), void* arg, GridCursor& cursor);
bool in_kernel();  // the calling host thread is running a block
std::string current_thread();  // "kernel (file:line) block (x,y,z) thread (x,y,z)" of the running thread

// Block barrier; exited threads no longer take part.
void syncthreads();

// A warp-synchronous operation: every lane of `mask` deposits `in` (at most kSlot bytes) and waits;
// the last to arrive runs fn over all deposits, which fills every lane's `out`. Lanes of one warp may
// not run two different collectives (or masks) at once.
constexpr size_t kSlot = 64;
struct alignas(16) Slot {
    unsigned char bytes[kSlot];
};
using CollectiveFn = void (*)(const Slot* in, Slot* out, unsigned lanes);
void warp_collective(unsigned mask, CollectiveFn fn, const void* in, size_t n_in, void* out, size_t n_out);
// The common case, one 8-byte value per lane: returns the 32 deposits (valid until the warp's next
// call but one) and sets *lanes to the lanes that took part. `tag` tells kinds of calls apart.
const uint64_t* warp_exchange(unsigned mask, uint64_t value, const void* tag, unsigned* lanes);
inline unsigned lane_id() { return t_ctx.lane; }
unsigned active_lanes();  // the lanes of the caller's warp that have not exited

// Stops the kernel with a device fault (reported at the next cudaGetLastError / synchronisation).
[[noreturn]] void fault(const char* what);

// Shared memory. A `__shared__` declaration becomes a static thread_local array followed by
// shared_touch, which fills it with 0xFF bytes (NaN) the first time each block reaches it: a block
// reading what it never wrote sees NaN, not the previous block's data.
void shared_touch(void* p, size_t nbytes);
void* dynamic_smem();  // the launch's dynamic shared memory (16-byte aligned, 0xFF-filled per block)

// cp.async: copies wait in the issuing thread's queue, grouped by commit, until a wait completes them.
struct AsyncCopy {
    void* dst;
    const void* src;
    unsigned bytes, size;  // bytes read from src; size written to dst (the rest zero-filled)
    long group;            // -1 until committed
};
std::vector<AsyncCopy>& async_queue();
long& async_groups();  // groups committed so far by this thread

}  // namespace emu

template <class T>
T* emu_dynamic_smem() {
    return static_cast<T*>(emu::dynamic_smem());
}

// kernel<<<cfg>>>(args...) for a kernel named with all its template arguments (or none): the arguments
// are converted to the kernel's parameter types once, as a call would, and each CUDA thread gets its
// own copy.
template <class... P, class... A>
void emu_launch(const emu::Site& site, void (*kernel)(P...), const emu::Config& cfg, A&&... args) {
    using Params = std::tuple<std::decay_t<P>...>;
    Params params(std::forward<A>(args)...);
    struct Call {
        void (*kernel)(P...);
        Params* params;
    } call{kernel, &params};
    emu::launch(site, reinterpret_cast<const void*>(kernel), cfg,
                [](void* c) {
                    Call* k = static_cast<Call*>(c);
                    std::apply(k->kernel, *k->params);
                },
                &call);
}

// The same for a kernel template whose arguments the launch deduces: `call` is a generic lambda that
// calls the kernel by name on copies of the arguments, so deduction and conversions are a call's.
template <class F, class... A>
void emu_launch_deduced(const emu::Site& site, F call, const emu::Config& cfg, A&&... args) {
    using Args = std::tuple<std::decay_t<A>...>;
    Args stored(std::forward<A>(args)...);
    struct Call {
        F* call;
        Args* args;
    } c{&call, &stored};
    emu::launch(site, nullptr, cfg,
                [](void* p) {
                    Call* k = static_cast<Call*>(p);
                    std::apply([k](auto&... a) { (*k->call)(a...); }, *k->args);
                },
                &c);
}

#define threadIdx (::emu::t_ctx.thread)
#define blockIdx (::emu::t_ctx.block)
#define blockDim (::emu::t_ctx.block_dim)
#define gridDim (::emu::t_ctx.grid_dim)
constexpr int warpSize = 32;
