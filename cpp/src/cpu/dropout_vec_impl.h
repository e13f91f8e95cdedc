// The float32 dropout forward as vectorisable loops: Philox4x32-10 on eight (AVX2) or four (SSE2) counters at
// once, with 32x32 -> 64-bit multiplies the vectoriser maps to pmuludq, and each draw's four words used by four
// consecutive elements (philox_dropout_unit's mapping). The single source of dropout_avx2.cpp (-mavx2 -mfma)
// and of the baseline build in random_cpu.cpp, each including it once inside its own namespace after <cstdint>
// and cpu/philox.h; hence no include guard. The same words as philox4x32_10, so the same masks as the scalar
// kernel and the CUDA one: tests/cpp/test_random.cpp checks it element by element.

// out[i] = keep ? inp[i] / keep_prob : 0 and keep[i] (when keep is not null) for i < n, where keep is
// (the word of element offset + i) >> 8 >= threshold, i.e. unit >= rate with threshold = ceil(rate 2^24).
inline void dropout_f32(float* out, bool* keep, const float* inp, int64_t n, uint32_t threshold, float keep_prob,
                        uint64_t seed, uint64_t offset) {
    constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u, kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
    uint32_t k0[10], k1[10];  // the key schedule, the same for every draw
    k0[0] = static_cast<uint32_t>(seed), k1[0] = static_cast<uint32_t>(seed >> 32);
    for (int r = 1; r < 10; ++r) k0[r] = k0[r - 1] + kW0, k1[r] = k1[r - 1] + kW1;
    constexpr int64_t kBlock = 256, kDraws = kBlock / 4 + 1;  // + 1: a block need not start at a word 0
    alignas(64) uint32_t w0[kDraws], w1[kDraws], w2[kDraws], w3[kDraws];
    alignas(64) uint32_t word[4 * kDraws];
    for (int64_t s = 0; s < n; s += kBlock) {
        const int64_t len = n - s < kBlock ? n - s : kBlock;
        const uint64_t first = offset + static_cast<uint64_t>(s);  // element index of out[s]
        const uint64_t last = first + static_cast<uint64_t>(len) - 1;
        if (last < first) {  // the element index wraps past 2^64 in this block: element by element
            for (int64_t i = 0; i < len; ++i) {
                const uint64_t e = first + static_cast<uint64_t>(i);
                word[(first & 3) + static_cast<uint64_t>(i)] = philox_draw(seed, e >> 2).v[e & 3];
            }
        }
        const uint64_t d0 = first >> 2;
        const int64_t draws = last < first ? 0 : static_cast<int64_t>((last >> 2) - d0 + 1);
        const uint32_t lo = static_cast<uint32_t>(d0), hi = static_cast<uint32_t>(d0 >> 32);
        if (uint64_t(lo) + uint64_t(draws) > (uint64_t(1) << 32)) {  // the counter's low word wraps in this block
            for (int64_t j = 0; j < draws; ++j) {
                const Philox4x32 r = philox_draw(seed, d0 + static_cast<uint64_t>(j));
                w0[j] = r.v[0], w1[j] = r.v[1], w2[j] = r.v[2], w3[j] = r.v[3];
            }
        } else {
#pragma omp simd
            for (int64_t j = 0; j < draws; ++j) {
                uint32_t c0 = lo + static_cast<uint32_t>(j), c1 = hi, c2 = 0, c3 = 0;
#pragma GCC unroll 10
                for (int r = 0; r < 10; ++r) {
                    const uint64_t p0 = uint64_t(kM0) * c0, p1 = uint64_t(kM1) * c2;
                    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0[r];
                    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1[r];
                    c0 = n0, c1 = static_cast<uint32_t>(p1), c2 = n2, c3 = static_cast<uint32_t>(p0);
                }
                w0[j] = c0, w1[j] = c1, w2[j] = c2, w3[j] = c3;
            }
        }
        for (int64_t j = 0; j < draws; ++j)
            word[4 * j] = w0[j], word[4 * j + 1] = w1[j], word[4 * j + 2] = w2[j], word[4 * j + 3] = w3[j];
        const uint32_t* wd = word + (first & 3);  // wd[i]: the word of element first + i
#pragma omp simd
        for (int64_t i = 0; i < len; ++i) {
            const uint32_t k = 0u - static_cast<uint32_t>((wd[i] >> 8) >= threshold);  // all ones to keep
            const float v = inp[s + i] / keep_prob;
            uint32_t bits;
            __builtin_memcpy(&bits, &v, 4);
            bits &= k;
            __builtin_memcpy(&out[s + i], &bits, 4);
        }
        if (keep != nullptr)
            for (int64_t i = 0; i < len; ++i) keep[s + i] = (wd[i] >> 8) >= threshold;
    }
}
