// The float32 dropout forward as vectorisable loops: Philox4x32-10 on eight (AVX2) or four (SSE2) counters at
// once, with 32x32 -> 64-bit multiplies the vectoriser maps to pmuludq, and each draw's four words used by four
// consecutive elements (philox_dropout_unit's mapping). The single source of dropout_avx2.cpp (-mavx2 -mfma)
// and of the baseline build in random_cpu.cpp, each including it once inside its own namespace after <cstdint>
// and cpu/philox.h; hence no include guard. The same words as philox4x32_10, so the same masks as the scalar
// kernel and the CUDA one: tests/cpp/test_random.cpp checks it element by element.

#if defined(__AVX2__)
// Eight Philox4x32-10 draws at once, counters (lo + j, hi, 0, 0) for j = 0..7, with hand-written 32x32 -> 64-bit
// multiplies: pmuludq on the even lanes and on the odd lanes shifted down, recombined with in-lane blends (GCC's
// vectorisation of the plain loop crossed 128-bit lanes with vperm2i128, eight micro-ops each on Zen 1).
// Writes the 32 words in element order, draw by draw, to word[0..32).
inline void philox8_words(uint32_t lo, uint32_t hi, const uint32_t* k0, const uint32_t* k1, uint32_t* word) {
    const __m256i m0 = _mm256_set1_epi32(static_cast<int>(kPhiloxM0)), m1 = _mm256_set1_epi32(static_cast<int>(kPhiloxM1));
    __m256i c0 = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(lo)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256i c1 = _mm256_set1_epi32(static_cast<int>(hi)), c2 = _mm256_setzero_si256(), c3 = c2;
    for (int r = 0; r < 10; ++r) {
        const __m256i e0 = _mm256_mul_epu32(c0, m0), o0 = _mm256_mul_epu32(_mm256_srli_epi64(c0, 32), m0);
        const __m256i e1 = _mm256_mul_epu32(c2, m1), o1 = _mm256_mul_epu32(_mm256_srli_epi64(c2, 32), m1);
        const __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(e0, 32), o0, 0xAA);
        const __m256i lo0 = _mm256_blend_epi32(e0, _mm256_slli_epi64(o0, 32), 0xAA);
        const __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(e1, 32), o1, 0xAA);
        const __m256i lo1 = _mm256_blend_epi32(e1, _mm256_slli_epi64(o1, 32), 0xAA);
        c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32(static_cast<int>(k0[r])));
        c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32(static_cast<int>(k1[r])));
        c1 = lo1, c3 = lo0;
    }
    // 4 x 8 -> 8 x 4: u0 = draws 0 | 4, u1 = 1 | 5, u2 = 2 | 6, u3 = 3 | 7 (in-lane unpacks), then halves paired.
    const __m256i t0 = _mm256_unpacklo_epi32(c0, c1), t1 = _mm256_unpackhi_epi32(c0, c1);
    const __m256i t2 = _mm256_unpacklo_epi32(c2, c3), t3 = _mm256_unpackhi_epi32(c2, c3);
    const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    __m256i* w = reinterpret_cast<__m256i*>(word);
    _mm256_storeu_si256(w + 0, _mm256_permute2x128_si256(u0, u1, 0x20));
    _mm256_storeu_si256(w + 1, _mm256_permute2x128_si256(u2, u3, 0x20));
    _mm256_storeu_si256(w + 2, _mm256_permute2x128_si256(u0, u1, 0x31));
    _mm256_storeu_si256(w + 3, _mm256_permute2x128_si256(u2, u3, 0x31));
}
#endif

// out[i] = keep ? inp[i] / keep_prob : 0 and keep[i] (when keep is not null) for i < n, where keep is
// (the word of element offset + i) >> 8 >= threshold, i.e. unit >= rate with threshold = ceil(rate 2^24).
inline void dropout_f32(float* out, bool* keep, const float* inp, int64_t n, uint32_t threshold, float keep_prob,
                        uint64_t seed, uint64_t offset) {
    uint32_t k0[10], k1[10];  // the key schedule, the same for every draw
    k0[0] = static_cast<uint32_t>(seed), k1[0] = static_cast<uint32_t>(seed >> 32);
    for (int r = 1; r < 10; ++r) k0[r] = k0[r - 1] + kPhiloxW0, k1[r] = k1[r - 1] + kPhiloxW1;
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
        int64_t draws_in_word = 0;  // draws [0, draws_in_word) already written to `word` in element order
        if (uint64_t(lo) + uint64_t(draws) > (uint64_t(1) << 32)) {  // the counter's low word wraps in this block
            for (int64_t j = 0; j < draws; ++j) {
                const Philox4x32 r = philox_draw(seed, d0 + static_cast<uint64_t>(j));
                w0[j] = r.v[0], w1[j] = r.v[1], w2[j] = r.v[2], w3[j] = r.v[3];
            }
        } else {
            int64_t j0 = 0;
#if defined(__AVX2__)
            for (; j0 + 8 <= draws; j0 += 8) philox8_words(lo + static_cast<uint32_t>(j0), hi, k0, k1, word + 4 * j0);
            for (int64_t j = j0; j < draws; ++j) {  // the last few draws (no low-word wrap here: checked above)
                const Philox4x32 r = philox_draw(seed, d0 + static_cast<uint64_t>(j));
                for (int q = 0; q < 4; ++q) word[4 * j + q] = r.v[q];
            }
            j0 = draws_in_word = draws;  // every word is in place: the loops below have nothing to do
#endif
#pragma omp simd
            for (int64_t j = j0; j < draws; ++j) {
                uint32_t c0 = lo + static_cast<uint32_t>(j), c1 = hi, c2 = 0, c3 = 0;
#pragma GCC unroll 10
                for (int r = 0; r < 10; ++r) {
                    const uint64_t p0 = uint64_t(kPhiloxM0) * c0, p1 = uint64_t(kPhiloxM1) * c2;
                    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0[r];
                    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1[r];
                    c0 = n0, c1 = static_cast<uint32_t>(p1), c2 = n2, c3 = static_cast<uint32_t>(p0);
                }
                w0[j] = c0, w1[j] = c1, w2[j] = c2, w3[j] = c3;
            }
        }
        for (int64_t j = draws_in_word; j < draws; ++j)
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
