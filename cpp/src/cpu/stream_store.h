// Streaming (non-temporal) writes for outputs larger than the last-level cache. A plain store first
// reads the line it writes (read-for-ownership), so a memory-bound kernel writing a huge output moves
// 1.5x (unary) to 1.33x (binary) the bytes it must; and the output would evict everything cached
// anyway. Such kernels compute a chunk into an L1 buffer and copy it out with non-temporal stores, as
// memcpy does above a size threshold. Outputs that fit in cache keep plain stores: the next op reads
// them from there.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ckeras::cpu {

// Output bytes from which writes stream: the last-level cache's size (at least 8 MiB).
inline int64_t stream_min_bytes() {
    static const int64_t bytes = [] {
        long l3 = -1;
#if defined(_SC_LEVEL3_CACHE_SIZE)
        l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
        return std::max<int64_t>(l3 > 0 ? l3 : 0, int64_t(8) << 20);
    }();
    return bytes;
}

// dst[0:n] = src[0:n] with non-temporal stores where the ISA has them (dst need not be aligned).
inline void stream_copy(float* dst, const float* src, int64_t n) {
    int64_t i = 0;
#if defined(__SSE2__)
    for (; i < n && (reinterpret_cast<uintptr_t>(dst + i) & 15) != 0; ++i) dst[i] = src[i];
    for (; i + 4 <= n; i += 4) _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
#endif
    for (; i < n; ++i) dst[i] = src[i];
}

// Writes out[0:n] chunk by chunk: fill(buf, start, len) computes out[start:start+len] into buf, which
// is then streamed out. The fence makes the stores visible before the caller's threads join.
template <class Fill>
void write_streamed(float* out, int64_t n, Fill&& fill) {
    constexpr int64_t kChunk = 2048;  // 8 KiB: stays in L1 between the compute and the copy
    alignas(64) float buf[kChunk];
    for (int64_t s = 0; s < n; s += kChunk) {
        const int64_t len = std::min(kChunk, n - s);
        fill(buf, s, len);
        stream_copy(out + s, buf, len);
    }
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

}  // namespace ckeras::cpu
