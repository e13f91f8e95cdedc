// Host emulation of the bits of CUDA the GEMM kernels use: every CUDA thread of a block is a
// std::thread; __syncthreads and warp-wide mma are barriers. For checking index math only.
#pragma once
#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)

struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) float2 { float x, y; };
struct alignas(16) double2 { double x, y; };
struct uint3 { unsigned x = 0, y = 0, z = 0; };
struct dim3 {
    unsigned x, y, z;
    dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
typedef int cudaError_t;
enum { cudaSuccess = 0, cudaErrorMemoryAllocation = 2 };
typedef void* cudaStream_t;
inline const char* cudaGetErrorString(int) { return "emulated error"; }
enum cudaDeviceAttr { cudaDevAttrComputeCapabilityMajor, cudaDevAttrMaxSharedMemoryPerBlockOptin };
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize };
inline int cudaGetDevice(int* d) { *d = 0; return 0; }
namespace emu { extern int smem_optin; extern int cc_major; }
inline int cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int) {
    *v = a == cudaDevAttrComputeCapabilityMajor ? emu::cc_major : emu::smem_optin;
    return 0;
}
template <class F> int cudaFuncSetAttribute(F, cudaFuncAttribute, int bytes) {
    if (bytes > emu::smem_optin) std::abort();
    return 0;
}
template <class T> int cudaMalloc(T** p, size_t n) { *p = static_cast<T*>(std::calloc(n, 1)); return 0; }
inline int cudaMemsetAsync(void* p, int v, size_t n, cudaStream_t) { std::memset(p, v, n); return 0; }

namespace emu {
extern thread_local uint3 t_thread, t_block;
extern dim3 g_grid, g_block;
extern std::barrier<>* block_barrier;
extern std::vector<std::unique_ptr<std::barrier<>>> warp_barriers;
extern std::vector<unsigned char> dyn_smem;
extern std::atomic<long> launches;
}  // namespace emu
#define threadIdx (::emu::t_thread)
#define blockIdx (::emu::t_block)
#define gridDim (::emu::g_grid)
#define blockDim (::emu::g_block)
inline void __syncthreads() { emu::block_barrier->arrive_and_wait(); }
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
template <class T> T __ldcg(const T* p) { return *p; }
inline void __trap() { std::abort(); }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
template <class T> T* emu_dynamic_smem() { return reinterpret_cast<T*>(emu::dyn_smem.data()); }

// Runs the grid block by block (shared arrays are function statics), each block's threads at once.
template <class K, class... A>
void emu_launch(K kernel, dim3 grid, dim3 block, size_t smem, cudaStream_t, A... args) {
    emu::launches++;
    emu::g_grid = grid, emu::g_block = block;
    const unsigned nt = block.x;
    emu::dyn_smem.assign(smem + 16, 0xFF);  // NaN bytes: reading an unwritten element shows
    for (unsigned bz = 0; bz < grid.z; ++bz)
        for (unsigned by = 0; by < grid.y; ++by)
            for (unsigned bx = 0; bx < grid.x; ++bx) {
                std::barrier<> bb(nt);
                emu::block_barrier = &bb;
                emu::warp_barriers.clear();
                for (unsigned w = 0; w < (nt + 31) / 32; ++w)
                    emu::warp_barriers.emplace_back(new std::barrier<>(std::min(32u, nt - w * 32)));
                std::vector<std::thread> ths;
                for (unsigned t = 0; t < nt; ++t)
                    ths.emplace_back([&, t] {
                        emu::t_thread = uint3{t, 0, 0};
                        emu::t_block = uint3{bx, by, bz};
                        kernel(args...);
                        emu::warp_barriers[t / 32]->arrive_and_drop();
                        bb.arrive_and_drop();
                    });
                for (auto& th : ths) th.join();
            }
}
