// Device built-ins of the emulated CUDA device (included by cuda_runtime.h): synchronisation, warp
// shuffles and votes (real exchanges between the 32 lanes, emu_core.h), atomics (only CUDA's overload
// set, so a call CUDA lacks fails to compile here too), memory fences, cache-hint loads and the math
// intrinsics. Math goes to glibc: CUDA's libm and fast intrinsics (__expf, rsqrtf) differ from it in
// the last bits, which the tests' tolerances allow for. The _rn intrinsics are kept out of
// floating-point contraction (as nvcc never fuses them) by an empty asm on their inputs and result.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

// ---- synchronisation -------------------------------------------------------------------------------
inline void __syncthreads() { emu::syncthreads(); }
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
[[noreturn]] inline void __trap() { emu::fault("__trap()"); }
inline unsigned __activemask() { return emu::active_lanes(); }

// ---- warp-synchronous calls ----------------------------------------------------------------------
namespace emu {
enum class ShflKind : int { Idx, Up, Down, Xor };
inline const char kShflTag = 0, kVoteTag = 0, kSyncTag = 0;
template <class T>
T shfl(unsigned mask, T v, ShflKind kind, int arg, int w) {
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "shuffles move 4- or 8-byte values");
    if (w < 1 || w > 32 || (w & (w - 1))) fault("warp shuffle with a width that is not a power of 2 up to 32");
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof v);
    unsigned lanes;
    const uint64_t* all = warp_exchange(mask, bits, &kShflTag, &lanes);
    const int lane = int(lane_id()), first = lane / w * w;
    int src = lane;
    switch (kind) {
        case ShflKind::Idx: src = first + (arg & (w - 1)); break;
        case ShflKind::Up: src = lane - first >= arg ? lane - arg : lane; break;
        case ShflKind::Down: src = lane - first + arg < w ? lane + arg : lane; break;
        case ShflKind::Xor: src = lane ^ arg; src = src >= first + w ? lane : src; break;
    }
    if (src < 0 || src > 31 || !(lanes >> src & 1u)) fault("warp shuffle reads a lane outside its mask");
    std::memcpy(&v, &all[src], sizeof v);
    return v;
}
// Votes: the mask of the taking-part lanes whose predicate is true; *lanes: the lanes taking part.
inline unsigned ballot(unsigned mask, bool pred, unsigned* lanes) {
    unsigned bits = 0;
    const uint64_t* all = warp_exchange(mask, pred ? 1 : 0, &kVoteTag, lanes);
    for (unsigned l = 0; l < 32; ++l)
        if ((*lanes >> l & 1u) && all[l]) bits |= 1u << l;
    return bits;
}
}  // namespace emu

template <class T>
T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
    return emu::shfl(mask, v, emu::ShflKind::Idx, src, width);
}
template <class T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    return emu::shfl(mask, v, emu::ShflKind::Up, int(delta), width);
}
template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    return emu::shfl(mask, v, emu::ShflKind::Down, int(delta), width);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
    return emu::shfl(mask, v, emu::ShflKind::Xor, lane_mask, width);
}
inline unsigned __ballot_sync(unsigned mask, int pred) {
    unsigned lanes;
    return emu::ballot(mask, pred != 0, &lanes);
}
inline int __any_sync(unsigned mask, int pred) {
    unsigned lanes;
    return emu::ballot(mask, pred != 0, &lanes) != 0;
}
inline int __all_sync(unsigned mask, int pred) {
    unsigned lanes;
    return emu::ballot(mask, pred != 0, &lanes) == lanes;
}
inline void __syncwarp(unsigned mask = 0xffffffffu) {
    unsigned lanes;
    emu::warp_exchange(mask, 0, &emu::kSyncTag, &lanes);
}

// ---- atomics (fibers switch only at synchronisation points, so these are indivisible) -------------
#define EMU_ATOMIC_INT(T)                                                                         \
    inline T atomicAdd(T* p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }           \
    inline T atomicExch(T* p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }         \
    inline T atomicAnd(T* p, T v) { return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST); }           \
    inline T atomicOr(T* p, T v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }             \
    inline T atomicXor(T* p, T v) { return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST); }           \
    inline T atomicCAS(T* p, T expected, T desired) {                                             \
        __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
        return expected;                                                                          \
    }
EMU_ATOMIC_INT(int)
EMU_ATOMIC_INT(unsigned)
EMU_ATOMIC_INT(unsigned long long)
#undef EMU_ATOMIC_INT
inline int atomicSub(int* p, int v) { return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST); }
inline unsigned atomicSub(unsigned* p, unsigned v) { return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST); }
namespace emu {
template <class T, class F>
T atomic_update(T* p, F f) {  // compare-and-swap loop: returns the old value
    T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
    while (!__atomic_compare_exchange_n(p, &old, f(old), false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
    return old;
}
template <class T, class B>
T atomic_float(T* p, T v) {  // float / double add through the bits
    B* q = reinterpret_cast<B*>(p);
    const B old = atomic_update(q, [v](B o) {
        T x;
        std::memcpy(&x, &o, sizeof x);
        x += v;
        std::memcpy(&o, &x, sizeof o);
        return o;
    });
    T r;
    std::memcpy(&r, &old, sizeof r);
    return r;
}
}  // namespace emu
inline float atomicAdd(float* p, float v) { return emu::atomic_float<float, uint32_t>(p, v); }
inline double atomicAdd(double* p, double v) { return emu::atomic_float<double, uint64_t>(p, v); }
inline float atomicExch(float* p, float v) {
    float r;
    uint32_t b, o;
    std::memcpy(&b, &v, 4);
    o = __atomic_exchange_n(reinterpret_cast<uint32_t*>(p), b, __ATOMIC_SEQ_CST);
    std::memcpy(&r, &o, 4);
    return r;
}
#define EMU_ATOMIC_MINMAX(T)                                                                      \
    inline T atomicMin(T* p, T v) { return emu::atomic_update(p, [v](T o) { return v < o ? v : o; }); } \
    inline T atomicMax(T* p, T v) { return emu::atomic_update(p, [v](T o) { return v > o ? v : o; }); }
EMU_ATOMIC_MINMAX(int)
EMU_ATOMIC_MINMAX(unsigned)
EMU_ATOMIC_MINMAX(long long)
EMU_ATOMIC_MINMAX(unsigned long long)
#undef EMU_ATOMIC_MINMAX
inline unsigned atomicInc(unsigned* p, unsigned lim) {
    return emu::atomic_update(p, [lim](unsigned o) { return o >= lim ? 0u : o + 1; });
}
inline unsigned atomicDec(unsigned* p, unsigned lim) {
    return emu::atomic_update(p, [lim](unsigned o) { return (o == 0 || o > lim) ? lim : o - 1; });
}

// ---- loads and stores with cache hints ------------------------------------------------------------
template <class T> T __ldg(const T* p) { return *p; }
template <class T> T __ldcg(const T* p) { return *p; }
template <class T> T __ldca(const T* p) { return *p; }
template <class T> T __ldcs(const T* p) { return *p; }
template <class T> T __ldlu(const T* p) { return *p; }
template <class T> void __stcg(T* p, T v) { *p = v; }
template <class T> void __stcs(T* p, T v) { *p = v; }
template <class T> void __stwb(T* p, T v) { *p = v; }
inline size_t __cvta_generic_to_shared(const void* p) { return reinterpret_cast<size_t>(p); }

// ---- integer and bit intrinsics -------------------------------------------------------------------
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x ? __builtin_clz(unsigned(x)) : 32; }
inline int __clzll(long long x) { return x ? __builtin_clzll((unsigned long long)x) : 64; }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) {
    unsigned r = 0;
    for (int i = 0; i < 32; ++i) r |= (x >> i & 1u) << (31 - i);
    return r;
}
inline unsigned __umulhi(unsigned a, unsigned b) { return unsigned((uint64_t(a) * b) >> 32); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
    return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long min(long a, long b) { return a < b ? a : b; }
inline long max(long a, long b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }

// ---- floating point -------------------------------------------------------------------------------
#if defined(__x86_64__)
#define EMU_OPAQUE(v) __asm__("" : "+x"(v))
#else
#define EMU_OPAQUE(v) __asm__("" : "+w"(v))
#endif
#define EMU_RN2(name, T, op)      \
    inline T name(T a, T b) {     \
        EMU_OPAQUE(a);            \
        EMU_OPAQUE(b);            \
        T r = a op b;             \
        EMU_OPAQUE(r);            \
        return r;                 \
    }
EMU_RN2(__fadd_rn, float, +)
EMU_RN2(__fsub_rn, float, -)
EMU_RN2(__fmul_rn, float, *)
EMU_RN2(__fdiv_rn, float, /)
EMU_RN2(__dadd_rn, double, +)
EMU_RN2(__dsub_rn, double, -)
EMU_RN2(__dmul_rn, double, *)
EMU_RN2(__ddiv_rn, double, /)
#undef EMU_RN2
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline double __dsqrt_rn(double x) { return sqrt(x); }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline double __drcp_rn(double x) { return 1.0 / x; }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return powf(10.0f, x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __log10f(float x) { return log10f(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline float __powf(float a, float b) { return powf(a, b); }
inline float __saturatef(float x) { return x >= 1.0f ? 1.0f : (x > 0.0f ? x : 0.0f); }  // NaN -> 0
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
inline int __float_as_int(float x) { int r; std::memcpy(&r, &x, 4); return r; }
inline unsigned __float_as_uint(float x) { unsigned r; std::memcpy(&r, &x, 4); return r; }
inline float __int_as_float(int x) { float r; std::memcpy(&r, &x, 4); return r; }
inline float __uint_as_float(unsigned x) { float r; std::memcpy(&r, &x, 4); return r; }
inline long long __double_as_longlong(double x) { long long r; std::memcpy(&r, &x, 8); return r; }
inline double __longlong_as_double(long long x) { double r; std::memcpy(&r, &x, 8); return r; }
inline int __float2int_rn(float x) { return int(nearbyintf(x)); }
inline int __float2int_rz(float x) { return int(x); }
inline int __double2int_rn(double x) { return int(nearbyint(x)); }
inline float __int2float_rn(int x) { return float(x); }
