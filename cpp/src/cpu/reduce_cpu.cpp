// Reduction CPU kernels: sum, prod, max, min, argmax, argmin over the middle dim of a contiguous
// (outer, r, inner) buffer, writing (outer, inner). Bool input is rejected (the op layer casts it first).
//
// Semantics (NumPy's): NaN propagates through sum/prod/max/min; argmax/argmin return the first maximum
// (first NaN when the row has one). Integer sum/prod wrap modulo 2^bits. r == 0 gives 0 for sum, 1 for
// prod, and writes nothing for max/min/arg (the op raises before calling). Results do not depend on the
// thread count: every partial sum has a fixed shape.
//
// Accuracy: float32 sums run in float lanes for at most 16 adds per lane (as NumPy's pairwise sum does in
// its 128-element leaves), then continue in double lanes; float32 products accumulate in double.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "cpu/cpu_common.h"

namespace ckeras::cpu {
namespace {

constexpr int kLanes = 16;            // independent accumulators along a contiguous row
constexpr int64_t kBlock = 256;       // elements per Lane-type block (inner == 1): 16 adds per lane
constexpr int64_t kRowBlock = 16;     // rows per Lane-type block (inner > 1)
constexpr int64_t kChunk = 1 << 16;   // a long row is split into chunks of this size (multiple of kBlock)
constexpr int64_t kTile = 1024;       // columns per tile (inner > 1): 4 KiB of float32 per row

template <class A>
inline bool is_nan(A a) {
    if constexpr (std::is_floating_point_v<A>) return a != a;
    else return false;
}

// Each op: identity and a combine step. Max/Min keep a NaN once seen (NaN is sticky on either side) and
// keep the accumulated value on ties, as NumPy does. `|` rather than `||`: no branch, so it vectorises.
struct SumOp {
    template <class A> static A identity() { return A(0); }
    template <class A> static A apply(A a, A x) { return a + x; }
};
struct ProdOp {
    template <class A> static A identity() { return A(1); }
    template <class A> static A apply(A a, A x) { return a * x; }
};
struct MaxOp {
    template <class A> static A identity() {
        if constexpr (std::is_floating_point_v<A>) return -std::numeric_limits<A>::infinity();
        else return std::numeric_limits<A>::lowest();
    }
    template <class A> static A apply(A a, A x) { return ((a >= x) | is_nan(a)) ? a : x; }
};
struct MinOp {
    template <class A> static A identity() {
        if constexpr (std::is_floating_point_v<A>) return std::numeric_limits<A>::infinity();
        else return std::numeric_limits<A>::max();
    }
    template <class A> static A apply(A a, A x) { return ((a <= x) | is_nan(a)) ? a : x; }
};

// Accumulator types. Lane: what the inner loop adds in. Wide: what blocks are combined in.
// Integer sum/prod use unsigned arithmetic so that overflow wraps instead of being undefined.
template <class T, bool kWrap = std::is_integral_v<T>> struct Wrapping { using type = T; };
template <class T> struct Wrapping<T, true> { using type = std::make_unsigned_t<T>; };

template <class Op, class T>
struct Acc {
    static constexpr bool kSumOrProd = std::is_same_v<Op, SumOp> || std::is_same_v<Op, ProdOp>;
    using U = std::conditional_t<kSumOrProd, typename Wrapping<T>::type, T>;
    // float prod: double lanes (no spurious overflow in partial products).
    using Lane = std::conditional_t<std::is_same_v<T, float> && std::is_same_v<Op, ProdOp>, double, U>;
    using Wide = std::conditional_t<std::is_same_v<T, float> && kSumOrProd, double, U>;
};

// One chunk (n <= kChunk) of a contiguous row, in kLanes accumulators: each block of kBlock elements runs
// in Lane type, then every lane is folded into its Wide lane; the tail and the lanes fold in a fixed order.
// Float max/min of a chunk: a compare-select reduction that vectorises under `omp simd` (its value
// for rows holding NaN is irrelevant), with NaN tracked in an integer flag; a NaN anywhere makes the
// result NaN, as the sticky Op::apply would.
template <bool kMax, class T>
T float_extreme_chunk(const T* x, int64_t n) {
    using Op = std::conditional_t<kMax, MaxOp, MinOp>;
    T m = Op::template identity<T>();
    int32_t any_nan = 0;
    if constexpr (kMax) {
#pragma omp simd reduction(max : m) reduction(| : any_nan)
        for (int64_t i = 0; i < n; ++i) {
            m = x[i] > m ? x[i] : m;
            any_nan |= static_cast<int32_t>(x[i] != x[i]);
        }
    } else {
#pragma omp simd reduction(min : m) reduction(| : any_nan)
        for (int64_t i = 0; i < n; ++i) {
            m = x[i] < m ? x[i] : m;
            any_nan |= static_cast<int32_t>(x[i] != x[i]);
        }
    }
    return any_nan ? std::numeric_limits<T>::quiet_NaN() : m;
}

template <class Op, class T>
typename Acc<Op, T>::Wide chunk_reduce(const T* x, int64_t n) {
    using Lane = typename Acc<Op, T>::Lane;
    using Wide = typename Acc<Op, T>::Wide;
    if constexpr (std::is_floating_point_v<T> && (std::is_same_v<Op, MaxOp> || std::is_same_v<Op, MinOp>))
        return float_extreme_chunk<std::is_same_v<Op, MaxOp>>(x, n);
    Lane acc[kLanes];
    Wide wide[kLanes];
    for (int l = 0; l < kLanes; ++l) wide[l] = Op::template identity<Wide>();
    int64_t i = 0;
    while (i + kLanes <= n) {
        int64_t end = i + kBlock < n ? i + kBlock : n;
        for (int l = 0; l < kLanes; ++l) acc[l] = Op::template identity<Lane>();
        for (; i + kLanes <= end; i += kLanes)
            for (int l = 0; l < kLanes; ++l) acc[l] = Op::apply(acc[l], static_cast<Lane>(x[i + l]));
        for (int l = 0; l < kLanes; ++l) wide[l] = Op::apply(wide[l], static_cast<Wide>(acc[l]));
    }
    Wide tail = Op::template identity<Wide>();
    for (; i < n; ++i) tail = Op::apply(tail, static_cast<Wide>(x[i]));
    for (int w = kLanes / 2; w >= 1; w /= 2)
        for (int l = 0; l < w; ++l) wide[l] = Op::apply(wide[l], wide[l + w]);
    return Op::apply(wide[0], tail);
}

// inner == 1: out[o] = Op over row o of (outer, r). Rows longer than kChunk are cut into fixed chunks
// whose partials are reduced in parallel, then combined in chunk order (same bits for any thread count).
template <class Op, class T>
void reduce_rows(T* out, const T* in, int64_t outer, int64_t r) {
    using Wide = typename Acc<Op, T>::Wide;
    if (r <= kChunk) {
        int64_t grain = kElementwiseGrain / (r > 0 ? r : 1) + 1;
        parallel_for(outer, grain, [&](int64_t b, int64_t e) {
            for (int64_t o = b; o < e; ++o) out[o] = static_cast<T>(chunk_reduce<Op>(in + o * r, r));
        });
        return;
    }
    int64_t nchunks = (r + kChunk - 1) / kChunk;
    std::vector<Wide> part(static_cast<size_t>(outer * nchunks));
    parallel_for(outer * nchunks, 1, [&](int64_t b, int64_t e) {
        for (int64_t it = b; it < e; ++it) {
            int64_t o = it / nchunks, c = (it % nchunks) * kChunk;
            part[it] = chunk_reduce<Op>(in + o * r + c, r - c < kChunk ? r - c : kChunk);
        }
    });
    for (int64_t o = 0; o < outer; ++o) {
        Wide w = Op::template identity<Wide>();
        for (int64_t c = 0; c < nchunks; ++c) w = Op::apply(w, part[o * nchunks + c]);
        out[o] = static_cast<T>(w);
    }
}

// acc[j] = Op(acc[j], row[j]) for j < w, in groups of kLanes (a constant trip count vectorises at -O2).
template <class Op, class A, class T>
inline void accumulate_row(A* acc, const T* row, int64_t w) {
    int64_t j = 0;
    for (; j + kLanes <= w; j += kLanes)
        for (int l = 0; l < kLanes; ++l) acc[j + l] = Op::apply(acc[j + l], static_cast<A>(row[j + l]));
    for (; j < w; ++j) acc[j] = Op::apply(acc[j], static_cast<A>(row[j]));
}

// acc = Op over rows [k0, k1) of a (rows, w) block with row stride `stride`. Sums take four rows per pass
// (their pairwise sum, then into acc), so acc is loaded and stored once per four input rows; the
// order is fixed by the block, so results still do not depend on the thread count.
template <class Op, class A, class T>
inline void accumulate_rows(A* acc, const T* base, int64_t stride, int64_t k0, int64_t k1, int64_t w) {
    int64_t k = k0;
    if constexpr (std::is_same_v<Op, SumOp>) {
        for (; k + 4 <= k1; k += 4) {
            const T *r0 = base + k * stride, *r1 = r0 + stride, *r2 = r1 + stride, *r3 = r2 + stride;
#pragma omp simd
            for (int64_t j = 0; j < w; ++j)
                acc[j] += (static_cast<A>(r0[j]) + static_cast<A>(r1[j])) + (static_cast<A>(r2[j]) + static_cast<A>(r3[j]));
        }
    }
    for (; k < k1; ++k) accumulate_row<Op>(acc, base + k * stride, w);
}

// inner > 1: out[o, j] = Op over k of in[o, k, j]. Work items are (o, column tile); each accumulates whole
// rows of the tile (vectorisable across j) in Lane type, flushing to Wide every kRowBlock rows.
// inner > 1 with few (outer, tile) items but many rows: items are (o, chunk of kRowChunk rows) over the
// full width, read sequentially; each leaves a Wide partial row, combined in chunk order afterwards. The
// choice of path and the chunking depend on the shape only, so results don't depend on the thread count.
constexpr int64_t kRowChunk = 128;

template <class Op, class T>
void reduce_cols_by_rows(T* out, const T* in, int64_t outer, int64_t r, int64_t inner) {
    using Lane = typename Acc<Op, T>::Lane;
    using Wide = typename Acc<Op, T>::Wide;
    int64_t nch = (r + kRowChunk - 1) / kRowChunk;
    std::vector<Wide> part(static_cast<size_t>(outer * nch * inner));
    parallel_for(outer * nch, 1, [&](int64_t b, int64_t e) {
        std::vector<Lane> acc(static_cast<size_t>(inner));
        for (int64_t it = b; it < e; ++it) {
            int64_t o = it / nch, k0 = (it % nch) * kRowChunk, k1 = std::min(r, k0 + kRowChunk);
            Wide* p = part.data() + it * inner;
            for (int64_t j = 0; j < inner; ++j) p[j] = Op::template identity<Wide>();
            for (int64_t kb = k0; kb < k1; kb += kRowBlock) {
                int64_t ke = std::min(k1, kb + kRowBlock);
                for (int64_t j = 0; j < inner; ++j) acc[j] = Op::template identity<Lane>();
                accumulate_rows<Op>(acc.data(), in + o * r * inner, inner, kb, ke, inner);
                for (int64_t j = 0; j < inner; ++j) p[j] = Op::apply(p[j], static_cast<Wide>(acc[j]));
            }
        }
    });
    for (int64_t o = 0; o < outer; ++o) {
        T* dst = out + o * inner;
        const Wide* p0 = part.data() + o * nch * inner;
        for (int64_t j = 0; j < inner; ++j) {
            Wide w = p0[j];
            for (int64_t c = 1; c < nch; ++c) w = Op::apply(w, p0[c * inner + j]);
            dst[j] = static_cast<T>(w);
        }
    }
}

template <class Op, class T>
void reduce_cols(T* out, const T* in, int64_t outer, int64_t r, int64_t inner) {
    using Lane = typename Acc<Op, T>::Lane;
    using Wide = typename Acc<Op, T>::Wide;
    int64_t ntiles = (inner + kTile - 1) / kTile;
    if (outer * ntiles < 16 && r >= 4 * kRowChunk && inner >= 256) return reduce_cols_by_rows<Op>(out, in, outer, r, inner);
    int64_t grain = kElementwiseGrain / (r * (inner < kTile ? inner : kTile)) + 1;
    parallel_for(outer * ntiles, grain, [&](int64_t b, int64_t e) {
        Lane acc[kTile];
        Wide wide[kTile];
        for (int64_t it = b; it < e; ++it) {
            int64_t o = it / ntiles, j0 = (it % ntiles) * kTile;
            int64_t w = inner - j0 < kTile ? inner - j0 : kTile;
            const T* base = in + o * r * inner + j0;
            for (int64_t j = 0; j < w; ++j) wide[j] = Op::template identity<Wide>();
            for (int64_t k0 = 0; k0 < r; k0 += kRowBlock) {
                int64_t k1 = k0 + kRowBlock < r ? k0 + kRowBlock : r;
                for (int64_t j = 0; j < w; ++j) acc[j] = Op::template identity<Lane>();
                accumulate_rows<Op>(acc, base, inner, k0, k1, w);
                for (int64_t j = 0; j < w; ++j) wide[j] = Op::apply(wide[j], static_cast<Wide>(acc[j]));
            }
            T* dst = out + o * inner + j0;
            for (int64_t j = 0; j < w; ++j) dst[j] = static_cast<T>(wide[j]);
        }
    });
}

// Is x a strictly better candidate than the current best? First occurrence wins; the first NaN wins.
template <bool kMax, class T>
inline bool arg_better(T x, T best) {
    return (kMax ? x > best : x < best) || (is_nan(x) && !is_nan(best));
}

// inner == 1: two passes per row, both vectorisable: the (NaN-sticky) extreme, then its first index.
template <bool kMax, class T>
int64_t arg_row(const T* x, int64_t r) {
    using Op = std::conditional_t<kMax, MaxOp, MinOp>;
    T m = T(0);
    for (int64_t c = 0; c < r; c += kChunk) {
        T part = chunk_reduce<Op>(x + c, r - c < kChunk ? r - c : kChunk);
        m = c == 0 ? part : Op::apply(m, part);
    }
    if (is_nan(m)) {
        for (int64_t i = 0; i < r; ++i)
            if (is_nan(x[i])) return i;
    }
    for (int64_t i = 0; i < r; ++i)
        if (x[i] == m) return i;
    return 0;  // unreachable: m is one of the x[i]
}

// out: (outer, inner) int64 indices into the r axis. r >= 1.
template <bool kMax, class T>
void arg_reduce(int64_t* out, const T* in, int64_t outer, int64_t r, int64_t inner) {
    if (inner == 1) {
        parallel_for(outer, kElementwiseGrain / r + 1, [&](int64_t b, int64_t e) {
            for (int64_t o = b; o < e; ++o) out[o] = arg_row<kMax>(in + o * r, r);
        });
        return;
    }
    int64_t ntiles = (inner + kTile - 1) / kTile;
    int64_t grain = kElementwiseGrain / (r * (inner < kTile ? inner : kTile)) + 1;
    parallel_for(outer * ntiles, grain, [&](int64_t b, int64_t e) {
        T best[kTile];
        int64_t idx[kTile];
        for (int64_t it = b; it < e; ++it) {
            int64_t o = it / ntiles, j0 = (it % ntiles) * kTile;
            int64_t w = inner - j0 < kTile ? inner - j0 : kTile;
            const T* base = in + o * r * inner + j0;
            for (int64_t j = 0; j < w; ++j) { best[j] = base[j]; idx[j] = 0; }
            for (int64_t k = 1; k < r; ++k) {
                const T* row = base + k * inner;
                for (int64_t j = 0; j < w; ++j) {
                    bool take = arg_better<kMax>(row[j], best[j]);
                    best[j] = take ? row[j] : best[j];
                    idx[j] = take ? k : idx[j];
                }
            }
            int64_t* dst = out + o * inner + j0;
            for (int64_t j = 0; j < w; ++j) dst[j] = idx[j];
        }
    });
}

template <class Op, class T>
void reduce_typed(void* out, const void* in, int64_t outer, int64_t r, int64_t inner) {
    T* o = static_cast<T*>(out);
    const T* x = static_cast<const T*>(in);
    if (inner == 1) reduce_rows<Op>(o, x, outer, r);
    else reduce_cols<Op>(o, x, outer, r, inner);
}

template <class T>
void reduce_dispatch(ReduceOp op, void* out, const void* in, int64_t outer, int64_t r, int64_t inner) {
    const T* x = static_cast<const T*>(in);
    switch (op) {
        case ReduceOp::Sum: return reduce_typed<SumOp, T>(out, in, outer, r, inner);
        case ReduceOp::Prod: return reduce_typed<ProdOp, T>(out, in, outer, r, inner);
        case ReduceOp::Max: return reduce_typed<MaxOp, T>(out, in, outer, r, inner);
        case ReduceOp::Min: return reduce_typed<MinOp, T>(out, in, outer, r, inner);
        case ReduceOp::ArgMax: return arg_reduce<true>(static_cast<int64_t*>(out), x, outer, r, inner);
        case ReduceOp::ArgMin: return arg_reduce<false>(static_cast<int64_t*>(out), x, outer, r, inner);
        case ReduceOp::kCount: break;
    }
    throw_error(ErrorKind::Value, "reduce: invalid op ", static_cast<int>(op));
}

// out: (outer, inner), dtype `dtype` (int64 for ArgMax/ArgMin); in: (outer, r, inner) contiguous.
void reduce_cpu(ReduceOp op, DType dtype, void* out, const void* in, int64_t outer, int64_t r, int64_t inner) {
    if (dtype == DType::Bool)
        throw_error(ErrorKind::Type, "reduce: the kernel does not take bool input; cast it first");
    if (outer <= 0 || inner <= 0) return;
    if (r <= 0) {
        // Empty axis: sum -> 0, prod -> 1; max/min/arg have no identity and write nothing.
        if (op != ReduceOp::Sum && op != ReduceOp::Prod) return;
        double v = op == ReduceOp::Sum ? 0.0 : 1.0;
        CKERAS_DISPATCH_ALL(dtype, T, {
            T* o = static_cast<T*>(out);
            for (int64_t i = 0; i < outer * inner; ++i) o[i] = static_cast<T>(v);
        });
        return;
    }
    switch (dtype) {
        case DType::Float32: return reduce_dispatch<float>(op, out, in, outer, r, inner);
        case DType::Float64: return reduce_dispatch<double>(op, out, in, outer, r, inner);
        case DType::Int32: return reduce_dispatch<int32_t>(op, out, in, outer, r, inner);
        case DType::Int64: return reduce_dispatch<int64_t>(op, out, in, outer, r, inner);
        case DType::Bool: break;
    }
}

}  // namespace

void register_reduce_cpu(KernelTable& t) { t.reduce = reduce_cpu; }

}  // namespace ckeras::cpu
