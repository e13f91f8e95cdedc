// N-operand strided iteration for CPU kernels. Dims are collapsed where every operand is contiguous
// across them, then the loop walks "rows" (all dims but the last) and hands each row to a functor with
// the row's element offsets and the last dim's strides, so the inner loop can be a tight, vectorisable one.
#pragma once
#include <array>
#include <vector>

#include "cpu/cpu_common.h"

namespace ckeras::cpu {

template <int N>
struct StridedLayout {
    std::vector<int64_t> shape;
    std::array<std::vector<int64_t>, N> strides;
};

// Drops size-1 dims and merges neighbours whose strides chain for every operand.
template <int N>
StridedLayout<N> collapse_dims(const int64_t* shape, int ndim, const std::array<const int64_t*, N>& strides) {
    StridedLayout<N> L;
    for (int d = 0; d < ndim; ++d) {
        if (shape[d] == 1) continue;
        bool merge = !L.shape.empty();
        for (int k = 0; k < N && merge; ++k)
            merge = L.strides[k].back() == strides[k][d] * shape[d];
        if (merge) {
            L.shape.back() *= shape[d];
            for (int k = 0; k < N; ++k) L.strides[k].back() = strides[k][d];
        } else {
            L.shape.push_back(shape[d]);
            for (int k = 0; k < N; ++k) L.strides[k].push_back(strides[k][d]);
        }
    }
    if (L.shape.empty()) {  // a scalar: one row of one element
        L.shape.push_back(1);
        for (int k = 0; k < N; ++k) L.strides[k].push_back(0);
    }
    return L;
}

// fn(offsets, n, inner_strides): offsets[k] is the element offset of operand k where a run of n
// elements starts, stepping by inner_strides[k]. Rows are walked in parallel; long rows are cut into
// segments so that a fully contiguous operation (one collapsed row) still uses every thread.
template <int N, class Fn>
void for_each_row(const int64_t* shape, int ndim, const std::array<const int64_t*, N>& strides, Fn&& fn) {
    for (int d = 0; d < ndim; ++d)
        if (shape[d] == 0) return;
    StridedLayout<N> L = collapse_dims<N>(shape, ndim, strides);
    const int nd = static_cast<int>(L.shape.size());
    const int64_t n = L.shape[nd - 1];
    int64_t rows = 1;
    for (int d = 0; d < nd - 1; ++d) rows *= L.shape[d];
    std::array<int64_t, N> inner;
    for (int k = 0; k < N; ++k) inner[k] = L.strides[k][nd - 1];
    const int64_t segs = n > kElementwiseGrain ? (n + kElementwiseGrain - 1) / kElementwiseGrain : 1;
    const int64_t seg_len = (n + segs - 1) / segs;
    const int64_t units = rows * segs;
    int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(seg_len, 1));
    parallel_for(units, grain, [&](int64_t u0, int64_t u1) {
        // Unravel the first row into a multi-index over the outer dims, then step it like an odometer.
        std::vector<int64_t> idx(nd > 1 ? nd - 1 : 1, 0);
        std::array<int64_t, N> off{};
        int64_t rem = u0 / segs;
        for (int d = nd - 2; d >= 0; --d) {
            idx[d] = rem % L.shape[d];
            rem /= L.shape[d];
            for (int k = 0; k < N; ++k) off[k] += idx[d] * L.strides[k][d];
        }
        for (int64_t u = u0; u < u1; ++u) {
            int64_t seg = u % segs;
            int64_t start = seg * seg_len, len = std::min(seg_len, n - start);
            std::array<int64_t, N> o;
            for (int k = 0; k < N; ++k) o[k] = off[k] + start * inner[k];
            if (len > 0) fn(o, len, inner);
            if (seg + 1 < segs) continue;
            for (int d = nd - 2; d >= 0; --d) {
                if (++idx[d] < L.shape[d]) {
                    for (int k = 0; k < N; ++k) off[k] += L.strides[k][d];
                    break;
                }
                for (int k = 0; k < N; ++k) off[k] -= (L.shape[d] - 1) * L.strides[k][d];
                idx[d] = 0;
            }
        }
    });
}

}  // namespace ckeras::cpu
