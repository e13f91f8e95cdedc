// Emulated PTX wrappers of gemm_tf32.cu, under the same names and contracts as the inline-asm ones the
// translation removes (included where they were, inside the kernel's namespace): cp.async (queued per
// thread, landing only at the wait that covers its group; until then the destination reads as NaN),
// cvt.rna.tf32 and mma.sync (emu_mma.h).
#pragma once
#include <cstdint>
#include <cstring>

__device__ inline void cp_async16(float* dst, const float* src, int bytes) { ::emu::cp_async(dst, src, bytes, 16); }
__device__ inline void cp_async4(float* dst, const float* src, int bytes) { ::emu::cp_async(dst, src, bytes, 4); }
__device__ inline void cp_async_commit() {
    long& groups = ::emu::async_groups();
    for (::emu::AsyncCopy& c : ::emu::async_queue())
        if (c.group < 0) c.group = groups;
    ++groups;
}
template <int N>
__device__ inline void cp_async_wait() { ::emu::cp_async_wait_groups(N); }

// cvt.rna.tf32.f32: round to nearest, ties away from zero, to 10 mantissa bits (low 13 bits zero).
__device__ inline uint32_t to_tf32(float x) {
    uint32_t b;
    std::memcpy(&b, &x, 4);
    if ((b & 0x7F800000u) != 0x7F800000u) b = (b + 0x1000u) & 0xFFFFE000u;
    return b;
}

__device__ inline void mma_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) { ::emu::mma<false>(d, a, b); }
__device__ inline void mma_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) { ::emu::mma<true>(d, a, b); }
