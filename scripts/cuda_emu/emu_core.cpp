// The emulated device's execution engine (shim/emu_core.h). A block's CUDA threads are fibers with
// their own stacks on the calling host thread; a fiber runs until it blocks at __syncthreads or a
// warp-synchronous operation, then hands over to the next ready lane of its warp (or to the block's
// scheduler), so a warp's lanes meet in lockstep at exactly those points and nowhere else. Blocks run
// one after another on a host thread (emu_launch.cpp may use several). Deadlocks (a warp collective
// that part of its lanes never reach, a __syncthreads that a lane waiting in a collective blocks) and
// traps become device faults naming the kernel, block and threads. x86-64 only (a 20-line context
// switch below).
#include "emu_core.h"

#include <signal.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

namespace emu {

thread_local constinit Ctx t_ctx{};
size_t smem_optin();  // emu_runtime.cpp

}  // namespace emu

// emu_switch(save, to): saves the callee-saved registers on the current stack, stores the stack
// pointer in *save and resumes the context whose stack pointer is `to`. A new fiber's stack is laid
// out so that its first resumption "returns" into emu_fiber_entry, which calls r12(r13).
extern "C" void emu_switch(void** save, void* to);
extern "C" void emu_fiber_entry();
asm(R"(
    .text
    .globl emu_switch
    .hidden emu_switch
    .type emu_switch, @function
emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch, .-emu_switch
    .globl emu_fiber_entry
    .hidden emu_fiber_entry
    .type emu_fiber_entry, @function
emu_fiber_entry:
    movq %r13, %rdi
    callq *%r12
    ud2
    .size emu_fiber_entry, .-emu_fiber_entry
)");

namespace emu {
namespace {

enum class State : uint8_t { Ready, AtBarrier, AtWarp, Done };

struct Fiber {
    void* sp = nullptr;
    char* stack = nullptr;  // lowest address of the usable stack (a guard page lies below)
    uint3 tid{};
    unsigned linear = 0, lane = 0, warp = 0;
    State state = State::Ready;
    std::vector<AsyncCopy> async;
    long groups = 0;
};

struct Warp {
    unsigned exists = 0, live = 0;  // lanes of the block / lanes that have not exited
    unsigned mask = 0, arrived = 0;  // the collective in progress (mask 0: none)
    const void* tag = nullptr;       // which kind of collective it is
    unsigned parity = 0;  // deposits alternate between two buffers: a lane may read its result late
    uint64_t value[2][32];
    Slot in[2][32], out[2][32];
};

// Everything about the block being run (one per host thread).
struct Block {
    const Site* site = nullptr;
    std::vector<Fiber> fibers;
    std::vector<Warp> warps;
    unsigned nthreads = 0, live = 0, at_barrier = 0;
    void* sched_sp = nullptr;
    Fiber* cur = nullptr;
    void (*body)(void*) = nullptr;
    void* arg = nullptr;
    std::string fault;
    unsigned char* dyn = nullptr;
    size_t dyn_size = 0;
    std::vector<std::pair<void*, size_t>> touched;
};
thread_local Block* t_block = nullptr;

size_t stack_bytes() {
    static const size_t n = [] {
        const char* v = std::getenv("CKERAS_EMU_STACK_KB");
        const long kb = v && *v ? std::strtol(v, nullptr, 10) : 64;
        return size_t(kb > 16 ? kb : 16) * 1024;
    }();
    return n;
}
constexpr size_t kGuard = 4096;

// CKERAS_EMU_SCHEDULE=reverse runs blocks, and threads between synchronisation points, from the last to
// the first: a race that the forward order happens to hide (a read of shared memory that another
// warp writes without a barrier in between) then shows.
bool reverse_order() {
    static const bool r = [] {
        const char* v = std::getenv("CKERAS_EMU_SCHEDULE");
        return v && std::strcmp(v, "reverse") == 0;
    }();
    return r;
}

char* new_stack() {
    void* p = mmap(nullptr, stack_bytes() + kGuard, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        std::fprintf(stderr, "cuda-emu: cannot map a fiber stack\n");
        std::abort();
    }
    mprotect(p, kGuard, PROT_NONE);  // overflow faults instead of corrupting the next stack
    return static_cast<char*>(p) + kGuard;
}

std::string where(const Block& b, const Fiber* f) {
    std::string s = std::string(b.site->kernel) + " (" + b.site->file + ":" + std::to_string(b.site->line) +
                    ") block (" + std::to_string(t_ctx.block.x) + "," + std::to_string(t_ctx.block.y) + "," +
                    std::to_string(t_ctx.block.z) + ")";
    if (f)
        s += " thread (" + std::to_string(f->tid.x) + "," + std::to_string(f->tid.y) + "," +
             std::to_string(f->tid.z) + ")";
    return s;
}

Block& block() {
    Block* b = t_block;
    if (!b || !b->cur) {
        std::fprintf(stderr, "cuda-emu: a device built-in was called outside a kernel\n");
        std::abort();
    }
    return *b;
}

void switch_to(Block& b, Fiber* from, Fiber* to) {
    b.cur = to;
    t_ctx.thread = to->tid;
    t_ctx.lane = to->lane;
    emu_switch(from ? &from->sp : &b.sched_sp, to->sp);
}

// The calling fiber stops running until someone marks it Ready and switches to it: hand over to the
// next ready lane of its warp, else to the scheduler.
void suspend(Block& b, Fiber* f) {
    const Warp& w = b.warps[f->warp];
    for (unsigned i = 1; i < 32; ++i) {
        const unsigned lane = (f->lane + (reverse_order() ? 32 - i : i)) % 32;
        if (!(w.exists >> lane & 1u)) continue;
        Fiber* g = &b.fibers[f->warp * 32 + lane];
        if (g->state == State::Ready) return switch_to(b, f, g);
    }
    b.cur = nullptr;
    emu_switch(&f->sp, b.sched_sp);
}

void release_barrier(Block& b) {
    for (unsigned i = 0; i < b.nthreads; ++i)
        if (b.fibers[i].state == State::AtBarrier) b.fibers[i].state = State::Ready;
    b.at_barrier = 0;
}

[[noreturn]] void finish(Block& b, Fiber* f) {
    f->state = State::Done;
    --b.live;
    Warp& w = b.warps[f->warp];
    w.live &= ~(1u << f->lane);
    if (w.mask >> f->lane & 1u) fault("a thread exited while its warp waits for it in a warp-synchronous call");
    if (b.at_barrier > 0 && b.at_barrier == b.live) release_barrier(b);
    suspend(b, f);
    std::abort();  // never resumed
}

void fiber_main(Fiber* f) {
    Block& b = *t_block;
    try {
        b.body(b.arg);
    } catch (const std::exception& e) {
        fault((std::string("exception in device code: ") + e.what()).c_str());
    } catch (...) {
        fault("exception in device code");
    }
    finish(b, f);
}

void start_fiber(Fiber& f) {
    if (!f.stack) f.stack = new_stack();
    // Stack tops staggered across cache sets: tops 4 KiB apart would all compete for one L1 set.
    char* top = f.stack + stack_bytes() - (f.linear * 592) % 4096;
    void** x = reinterpret_cast<void**>((reinterpret_cast<uintptr_t>(top) - 16) & ~uintptr_t(15));
    x[-1] = reinterpret_cast<void*>(&emu_fiber_entry);  // ret target
    x[-2] = nullptr;                                     // rbp
    x[-3] = nullptr;                                     // rbx
    x[-4] = reinterpret_cast<void*>(&fiber_main);       // r12
    x[-5] = &f;                                          // r13
    x[-6] = nullptr;                                     // r14
    x[-7] = nullptr;                                     // r15
    f.sp = x - 7;
    f.state = State::Ready;
    f.async.clear();
    f.groups = 0;
}

std::string describe_deadlock(const Block& b) {
    std::string s = "deadlock: no thread can proceed.";
    for (size_t wi = 0; wi < b.warps.size(); ++wi) {
        const Warp& w = b.warps[wi];
        if (!w.mask) continue;
        unsigned missing = w.mask & w.exists & ~w.arrived, at_bar = 0, done = 0;
        for (unsigned l = 0; l < 32; ++l)
            if (missing >> l & 1u) {
                const State st = b.fibers[wi * 32 + l].state;
                if (st == State::AtBarrier) at_bar |= 1u << l;
                if (st == State::Done) done |= 1u << l;
            }
        char buf[200];
        std::snprintf(buf, sizeof buf,
                      " Warp %zu: lanes 0x%08x wait in a warp-synchronous call (mask 0x%08x) for lanes 0x%08x"
                      " (0x%08x of them wait at __syncthreads, 0x%08x have exited).",
                      wi, w.arrived, w.mask, missing, at_bar, done);
        s += buf;
    }
    if (b.at_barrier) s += " " + std::to_string(b.at_barrier) + " of " + std::to_string(b.live) +
                           " live threads wait at __syncthreads.";
    return s;
}

// Runs one block to completion (or to its first fault).
void run_block(Block& b) {
    for (unsigned i = 0; i < b.nthreads; ++i) start_fiber(b.fibers[i]);
    for (Warp& w : b.warps) w.live = w.exists, w.mask = 0, w.arrived = 0;
    b.live = b.nthreads;
    b.at_barrier = 0;
    b.touched.clear();
    if (b.dyn_size) std::memset(b.dyn, 0xFF, b.dyn_size);
    size_t cursor = 0;
    while (b.fault.empty()) {
        Fiber* next = nullptr;
        const size_t n = b.nthreads;
        for (size_t k = 0; k < n; ++k) {
            Fiber& f = b.fibers[reverse_order() ? n - 1 - (cursor + k) % n : (cursor + k) % n];
            if (f.state == State::Ready) {
                next = &f;
                cursor = reverse_order() ? n - 1 - f.linear : f.linear;
                break;
            }
        }
        if (!next) {
            if (b.live == 0) return;
            b.fault = where(b, nullptr) + ": " + describe_deadlock(b);
            return;
        }
        switch_to(b, nullptr, next);
    }
}

}  // namespace

std::string run_blocks(const Site& site, const Config& cfg, void (*body)(void*), void* arg, GridCursor& cursor) {
    static thread_local bool alt_stack = [] {  // a fault handler must not run on an overflowed fiber stack
        stack_t ss{};
        ss.ss_size = 1 << 16;
        ss.ss_sp = std::malloc(ss.ss_size);
        return sigaltstack(&ss, nullptr) == 0;
    }();
    (void)alt_stack;
    static thread_local Block b;
    b.site = &site;
    b.body = body;
    b.arg = arg;
    b.fault.clear();
    b.nthreads = cfg.block.x * cfg.block.y * cfg.block.z;
    if (b.fibers.size() < b.nthreads) b.fibers.resize(b.nthreads);  // never shrunk: the stacks are kept
    b.warps.assign((b.nthreads + 31) / 32, Warp{});
    for (unsigned t = 0; t < b.nthreads; ++t) {
        Fiber& f = b.fibers[t];
        f.tid = uint3{t % cfg.block.x, t / cfg.block.x % cfg.block.y, t / (cfg.block.x * cfg.block.y)};
        f.linear = t, f.lane = t % 32, f.warp = t / 32;
        b.warps[t / 32].exists |= 1u << (t % 32);
    }
    static thread_local std::vector<Slot> dyn;  // Slot: 16-byte aligned
    dyn.resize((cfg.smem + sizeof(Slot) - 1) / sizeof(Slot));
    b.dyn = reinterpret_cast<unsigned char*>(dyn.data());
    b.dyn_size = cfg.smem;
    t_ctx.grid_dim = cfg.grid;
    t_ctx.block_dim = cfg.block;
    t_block = &b;
    const uint64_t blocks = uint64_t(cfg.grid.x) * cfg.grid.y * cfg.grid.z;
    while (!cursor.failed.load(std::memory_order_relaxed)) {
        const uint64_t k = cursor.next.fetch_add(1);
        if (k >= blocks) break;
        const uint64_t i = reverse_order() ? blocks - 1 - k : k;  // x fastest
        t_ctx.block = uint3{unsigned(i % cfg.grid.x), unsigned(i / cfg.grid.x % cfg.grid.y),
                            unsigned(i / (uint64_t(cfg.grid.x) * cfg.grid.y))};
        run_block(b);
        if (!b.fault.empty()) cursor.failed = true;
    }
    t_block = nullptr;
    b.cur = nullptr;
    return b.fault;
}

bool in_kernel() { return t_block != nullptr; }

std::string current_thread() { return t_block ? where(*t_block, t_block->cur) : std::string("host code"); }

void syncthreads() {
    Block& b = block();
    Fiber* f = b.cur;
    f->state = State::AtBarrier;
    if (++b.at_barrier == b.live) {
        release_barrier(b);
        return;
    }
    suspend(b, f);
}

namespace {
// The calling lane joins the warp-synchronous call `tag` over `mask` (its deposit already made in
// buffer `parity`); returns once every lane of the mask has arrived, the last one first running
// complete() (a lambda, before anyone reads the results).
template <class Complete>
unsigned arrive(unsigned mask, const void* tag, const uint64_t* deposit, Complete complete) {
    Block& b = block();
    Fiber* f = b.cur;
    Warp& w = b.warps[f->warp];
    const unsigned bit = 1u << f->lane, lanes = mask & w.exists;
    if (!(mask & bit)) fault("a warp-synchronous call whose mask leaves out the calling lane");
    if (lanes & ~w.live) fault("a warp-synchronous call whose mask names lanes that have exited");
    if (w.mask == 0) {
        w.mask = mask, w.tag = tag, w.arrived = 0;
    } else if (w.mask != mask || w.tag != tag) {
        fault("lanes of one warp are in different warp-synchronous calls (or masks) at once");
    }
    const unsigned p = w.parity;
    if (deposit) w.value[p][f->lane] = *deposit;
    w.arrived |= bit;
    if (w.arrived == lanes) {
        complete(w, p, lanes);
        w.mask = 0, w.parity ^= 1u;
        for (unsigned l = 0; l < 32; ++l)
            if ((lanes >> l & 1u) && l != f->lane) b.fibers[f->warp * 32 + l].state = State::Ready;
    } else {
        f->state = State::AtWarp;
        suspend(b, f);
    }
    return p;
}
}  // namespace

void warp_collective(unsigned mask, CollectiveFn fn, const void* in, size_t n_in, void* out, size_t n_out) {
    Block& b = block();
    Warp& w = b.warps[b.cur->warp];
    const unsigned lane = b.cur->lane;
    std::memcpy(w.in[w.parity][lane].bytes, in, n_in);
    const unsigned p = arrive(mask, reinterpret_cast<const void*>(fn), nullptr,
                              [fn](Warp& v, unsigned q, unsigned lanes) { fn(v.in[q], v.out[q], lanes); });
    std::memcpy(out, w.out[p][lane].bytes, n_out);
}

const uint64_t* warp_exchange(unsigned mask, uint64_t value, const void* tag, unsigned* lanes) {
    Warp* w = nullptr;
    const unsigned p = arrive(mask, tag, &value, [&w](Warp& v, unsigned, unsigned) { w = &v; });
    if (!w) w = &t_block->warps[t_block->cur->warp];  // not the last to arrive
    *lanes = mask & w->exists;
    return w->value[p];
}

unsigned active_lanes() {
    Block& b = block();
    return b.warps[b.cur->warp].live;
}

void fault(const char* what) {
    Block* b = t_block;
    if (!b || !b->cur) {
        std::fprintf(stderr, "cuda-emu: device fault outside a kernel: %s\n", what);
        std::abort();
    }
    Fiber* f = b->cur;
    if (b->fault.empty()) b->fault = where(*b, f) + ": " + what;
    b->cur = nullptr;
    emu_switch(&f->sp, b->sched_sp);  // abandoned: the scheduler sees the fault and stops the grid
    std::abort();
}

void shared_touch(void* p, size_t nbytes) {
    Block& b = block();
    for (const auto& t : b.touched)
        if (t.first == p) return;
    b.touched.emplace_back(p, nbytes);
    std::memset(p, 0xFF, nbytes);
    size_t total = 0;  // the static shared memory this block has reached so far
    for (const auto& t : b.touched) total += t.second;
    if (total > 48 * 1024) fault("more than 48 KiB of static __shared__ memory");
    if (total + b.dyn_size > smem_optin()) fault("static plus dynamic shared memory above the device's limit");
}

void* dynamic_smem() { return block().dyn; }

std::vector<AsyncCopy>& async_queue() { return block().cur->async; }
long& async_groups() { return block().cur->groups; }

}  // namespace emu
