// The machinery behind shim/emu_ptx.h, at global scope (cuda_runtime.h includes it): per-thread cp.async
// queues, and mma.sync as a warp-wide exchange that applies the PTX fragment layouts (products summed in
// double, one rounding to float: tensor cores round differently, within the tests' tolerances).
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "emu_core.h"
namespace emu {
inline void cp_async(void* dst, const void* src, int bytes, unsigned size) {
    if (bytes < 0 || unsigned(bytes) > size) fault("cp.async with a source size outside [0, copy size]");
    if (reinterpret_cast<uintptr_t>(dst) % size != 0 || (bytes > 0 && reinterpret_cast<uintptr_t>(src) % size != 0))
        fault("cp.async with a misaligned address");
    std::memset(dst, 0xFF, size);
    async_queue().push_back({dst, src, unsigned(bytes), size, -1});
}
inline void cp_async_wait_groups(long pending) {  // complete every committed group but the newest `pending`
    std::vector<AsyncCopy>& q = async_queue();
    const long limit = async_groups() - pending;
    size_t keep = 0;
    for (AsyncCopy& c : q) {
        if (c.group >= 0 && c.group < limit) {
            std::memset(c.dst, 0, c.size);
            std::memcpy(c.dst, c.src, c.bytes);
        } else {
            q[keep++] = c;
        }
    }
    q.resize(keep);
}
}  // namespace emu

namespace emu {
struct MmaIn {
    uint32_t a[4], b[2];
    float d[4];
};
inline float f32_of(uint32_t b) { float x; std::memcpy(&x, &b, 4); return x; }
inline float bf16_half(uint32_t reg, int half) { return f32_of((half ? reg >> 16 : reg & 0xFFFFu) << 16); }
// D (16x8) += A (16xK) @ B (Kx8) with the m16n8k8 TF32 (K = 8) or m16n8k16 BF16 (K = 16) layouts.
template <bool BF16>
void mma_all(const Slot* in, Slot* out, unsigned lanes) {
    if (lanes != 0xFFFFFFFFu) fault("mma.sync needs all 32 lanes");
    MmaIn f[32];
    for (int l = 0; l < 32; ++l) std::memcpy(&f[l], in[l].bytes, sizeof(MmaIn));
    constexpr int K = BF16 ? 16 : 8;
    auto A = [&](int r, int k) -> double {
        if (!BF16) return f32_of(f[(r % 8) * 4 + k % 4].a[(r >= 8 ? 1 : 0) + (k >= 4 ? 2 : 0)]);
        const int kk = k % 8;
        return bf16_half(f[(r % 8) * 4 + kk / 2].a[(r >= 8 ? 1 : 0) + (k >= 8 ? 2 : 0)], kk % 2);
    };
    auto B = [&](int k, int n) -> double {
        if (!BF16) return f32_of(f[n * 4 + k % 4].b[k >= 4 ? 1 : 0]);
        const int kk = k % 8;
        return bf16_half(f[n * 4 + kk / 2].b[k >= 8 ? 1 : 0], kk % 2);
    };
    for (int l = 0; l < 32; ++l) {
        const int g = l / 4, t = l % 4;
        float d[4];
        for (int q = 0; q < 4; ++q) {
            const int r = g + (q >> 1) * 8, c = 2 * t + (q & 1);
            double s = f[l].d[q];
            for (int k = 0; k < K; ++k) s += A(r, k) * B(k, c);
            d[q] = float(s);
        }
        std::memcpy(out[l].bytes, d, sizeof d);
    }
}
template <bool BF16>
void mma(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    MmaIn m;
    std::memcpy(m.a, a, sizeof m.a);
    std::memcpy(m.b, b, sizeof m.b);
    std::memcpy(m.d, d, sizeof m.d);
    warp_collective(0xFFFFFFFFu, mma_all<BF16>, &m, sizeof m, d, sizeof d);
}
}  // namespace emu

