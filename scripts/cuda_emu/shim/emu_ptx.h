// Emulated PTX wrappers of gemm_tf32.cu (same names and contracts).
__device__ inline void cp_async16(float* dst, const float* src, int bytes) {
    std::memset(dst, 0, 16);
    std::memcpy(dst, src, size_t(bytes));
}
__device__ inline void cp_async4(float* dst, const float* src, int bytes) {
    std::memset(dst, 0, 4);
    std::memcpy(dst, src, size_t(bytes));
}
__device__ inline void cp_async_commit() {}
template <int N> __device__ inline void cp_async_wait() {}
inline uint32_t bits_of(float x) { uint32_t b; std::memcpy(&b, &x, 4); return b; }
inline float float_of(uint32_t b) { float x; std::memcpy(&x, &b, 4); return x; }
__device__ inline uint32_t to_tf32(float x) {  // round to nearest, ties away, to 10 mantissa bits
    uint32_t b = bits_of(x);
    if (std::isfinite(x)) b = (b + 0x1000u) & 0xFFFFE000u;
    return b;
}
inline uint16_t bf16_rn(float x) {
    uint32_t b = bits_of(x);
    if (std::isnan(x)) return 0x7FC0;
    return uint16_t((b + 0x7FFFu + ((b >> 16) & 1u)) >> 16);
}
__device__ inline uint32_t to_bf16x2(float lo, float hi) { return uint32_t(bf16_rn(lo)) | uint32_t(bf16_rn(hi)) << 16; }
inline float bf16_val(uint32_t reg, int half) { return float_of((half ? reg >> 16 : reg & 0xFFFFu) << 16); }

struct EmuWarp { uint32_t a[32][4]; uint32_t b[32][2]; };
inline EmuWarp& emu_warp() { static EmuWarp w[64]; return w[threadIdx.x / 32]; }
template <bool BF16>
void emu_mma(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    const int lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    auto& bar = *emu::warp_barriers[threadIdx.x / 32];
    EmuWarp& w = emu_warp();
    std::memcpy(w.a[lane], a, 16);
    std::memcpy(w.b[lane], b, 8);
    bar.arrive_and_wait();
    constexpr int K = BF16 ? 16 : 8;
    auto A = [&](int r, int k) -> float {  // A (16, K)
        if (!BF16) {
            const int reg = (r >= 8 ? 1 : 0) + (k >= 4 ? 2 : 0);
            return float_of(w.a[(r % 8) * 4 + k % 4][reg]);
        }
        const int reg = (r >= 8 ? 1 : 0) + (k >= 8 ? 2 : 0), kk = k % 8;
        return bf16_val(w.a[(r % 8) * 4 + kk / 2][reg], kk % 2);
    };
    auto B = [&](int k, int n) -> float {  // B (K, 8)
        if (!BF16) return float_of(w.b[n * 4 + k % 4][k >= 4 ? 1 : 0]);
        const int kk = k % 8;
        return bf16_val(w.b[n * 4 + kk / 2][k >= 8 ? 1 : 0], kk % 2);
    };
    for (int q = 0; q < 4; ++q) {
        const int r = g + (q >> 1) * 8, c = 2 * t + (q & 1);
        double s = d[q];
        for (int k = 0; k < K; ++k) s += double(A(r, k)) * double(B(k, c));
        d[q] = float(s);
    }
    bar.arrive_and_wait();
}
__device__ inline void mma_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) { emu_mma<false>(d, a, b); }
__device__ inline void mma_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) { emu_mma<true>(d, a, b); }
