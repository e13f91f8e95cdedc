// Softmax and log-softmax CPU kernels over the middle dim of a contiguous (outer, n, inner) buffer, and their
// backward from the forward output. float32 and float64: exp in T, sums and the final scaling in double.
//
// Stable form: subtract the row max first, so [1e30, 0] gives [1, 0]. A row holding +inf (or NaN, or only
// -inf) gives NaN everywhere in that row and nowhere else, as NumPy/torch do.
#include <algorithm>
#include <cmath>

#include "cpu/cpu_common.h"
#include "cpu/unary_vec.h"

namespace ckeras::cpu {
namespace {

constexpr int64_t kTile = 256;          // columns per tile when inner > 1
constexpr int64_t kGrain = 1 << 13;     // elements per thread chunk (exp-bound, so smaller than elementwise)

template <class T>
inline T nan_max(T m, T x) { return (m > x || m != m) ? m : x; }  // NaN is sticky

// ---- inner == 1: one contiguous row x, y: (n,) -------------------------------------------------------

// A row's last pass, given its max m and the sum s of its exps e (e may be y): log-softmax y = x - (m + log s),
// softmax y = e / s, both in double.
template <class T>
void finish_row(T* y, const T* x, const T* e, int64_t n, double s, double m, bool log) {
    if (log) {
        const double shift = m + std::log(s);  // log-sum-exp
        for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(double(x[i]) - shift);
    } else {
        const double inv = 1.0 / s;
        for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(double(e[i]) * inv);
    }
}

template <class T>
void softmax_row(T* y, const T* x, int64_t n, bool log) {
    T m = x[0];
    for (int64_t i = 1; i < n; ++i) m = nan_max(m, x[i]);
    double s = 0;
    for (int64_t i = 0; i < n; ++i) {
        T e = std::exp(x[i] - m);
        if (!log) y[i] = e;
        s += e;
    }
    finish_row(y, x, y, n, s, double(m), log);
}

// softmax: dx = y * (dy - sum(dy * y)); log-softmax: dx = dy - exp(y) * sum(dy).
template <class T>
void softmax_backward_row(T* dx, const T* dy, const T* y, int64_t n, bool log) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += log ? double(dy[i]) : double(dy[i]) * double(y[i]);
    if (log) {
        for (int64_t i = 0; i < n; ++i) dx[i] = static_cast<T>(double(dy[i]) - std::exp(double(y[i])) * s);
    } else {
        for (int64_t i = 0; i < n; ++i) dx[i] = static_cast<T>(double(y[i]) * (double(dy[i]) - s));
    }
}

// ---- float32, inner == 1: the exps of several rows in one vectorised call ------------------------------

constexpr int64_t kExpBlock = 2048;  // elements per vectorised exp call (8 KiB: the shifted inputs stay in L1)

// The row's max over four interleaved lanes (one chain of maxss is latency-bound, and a branch mispredicts
// on random logits). A NaN may be skipped here: it still reaches every output through its own x - m and the
// row's sum, as +inf does through inf - inf.
inline float row_max_f32(const float* x, int64_t n) {
    float m[4] = {x[0], x[0], x[0], x[0]};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; ++k) m[k] = x[i + k] > m[k] ? x[i + k] : m[k];
    for (; i < n; ++i) m[0] = x[i] > m[0] ? x[i] : m[0];
    const float a = m[0] > m[1] ? m[0] : m[1], b = m[2] > m[3] ? m[2] : m[3];
    return a > b ? a : b;
}

// Sum in double with four interleaved accumulators (one chain of double adds is latency-bound).
inline double sum_f64(const float* x, int64_t n) {
    double s[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; ++k) s[k] += x[i + k];
    for (; i < n; ++i) s[0] += x[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

// Sums in double and finish_row as softmax_row does; only the exps differ from it: the
// vector exp's (within 1 ulp) instead of std::exp. At n = 10 a row loop of libm calls took 6 ns per element.
// The exps go to a buffer of their own, so y may be x (every x[i] is read before y[i] is written).
void softmax_rows_f32(float* y, const float* x, int64_t rows, int64_t n, bool log, UnaryVecLevel level) {
    alignas(64) float shifted[kExpBlock];
    alignas(64) float e[kExpBlock];
    float m[kExpBlock];
    auto exps = [&](int64_t len) {  // e = exp(shifted)
        if (!unary_vec_f32(level, UnaryOp::Exp, e, shifted, len, 0.f, 0.f))
            for (int64_t i = 0; i < len; ++i) e[i] = std::exp(shifted[i]);
    };
    const int64_t per_block = n <= kExpBlock ? kExpBlock / n : 1;
    for (int64_t r0 = 0; r0 < rows; r0 += per_block) {
        const int64_t rb = std::min(per_block, rows - r0);
        const float* xb = x + r0 * n;
        float* yb = y + r0 * n;
        for (int64_t r = 0; r < rb; ++r) m[r] = row_max_f32(xb + r * n, n);
        if (n <= kExpBlock) {  // rb whole rows
            for (int64_t r = 0; r < rb; ++r)
                for (int64_t i = 0; i < n; ++i) shifted[r * n + i] = xb[r * n + i] - m[r];
            exps(rb * n);
            for (int64_t r = 0; r < rb; ++r)
                finish_row(yb + r * n, xb + r * n, e + r * n, n, sum_f64(e + r * n, n), double(m[r]), log);
            continue;
        }
        // One long row in chunks: softmax keeps its exps in y and scales them there.
        double s = 0;
        for (int64_t c = 0; c < n; c += kExpBlock) {
            const int64_t len = std::min(kExpBlock, n - c);
            for (int64_t i = 0; i < len; ++i) shifted[i] = xb[c + i] - m[0];
            exps(len);
            s += sum_f64(e, len);
            if (!log) std::copy(e, e + len, yb + c);
        }
        finish_row(yb, xb, static_cast<const float*>(yb), n, s, double(m[0]), log);
    }
}

// ---- inner > 1: a tile of w <= kTile columns; element (k, j) is at k * inner + j -----------------------

template <class T>
void softmax_tile(T* y, const T* x, int64_t n, int64_t inner, int64_t w, bool log) {
    T m[kTile];
    double s[kTile];
    for (int64_t j = 0; j < w; ++j) { m[j] = x[j]; s[j] = 0; }
    for (int64_t k = 1; k < n; ++k)
        for (int64_t j = 0; j < w; ++j) m[j] = nan_max(m[j], x[k * inner + j]);
    for (int64_t k = 0; k < n; ++k)
        for (int64_t j = 0; j < w; ++j) {
            T e = std::exp(x[k * inner + j] - m[j]);
            if (!log) y[k * inner + j] = e;
            s[j] += e;
        }
    // s becomes the per-column shift (log) or scale (softmax).
    for (int64_t j = 0; j < w; ++j) s[j] = log ? double(m[j]) + std::log(s[j]) : 1.0 / s[j];
    for (int64_t k = 0; k < n; ++k)
        for (int64_t j = 0; j < w; ++j) {
            int64_t i = k * inner + j;
            y[i] = static_cast<T>(log ? double(x[i]) - s[j] : double(y[i]) * s[j]);
        }
}

template <class T>
void softmax_backward_tile(T* dx, const T* dy, const T* y, int64_t n, int64_t inner, int64_t w, bool log) {
    double s[kTile];
    for (int64_t j = 0; j < w; ++j) s[j] = 0;
    for (int64_t k = 0; k < n; ++k)
        for (int64_t j = 0; j < w; ++j) {
            int64_t i = k * inner + j;
            s[j] += log ? double(dy[i]) : double(dy[i]) * double(y[i]);
        }
    for (int64_t k = 0; k < n; ++k)
        for (int64_t j = 0; j < w; ++j) {
            int64_t i = k * inner + j;
            dx[i] = static_cast<T>(log ? double(dy[i]) - std::exp(double(y[i])) * s[j]
                                       : double(y[i]) * (double(dy[i]) - s[j]));
        }
}

// Runs fn(offset, w) for every (row-of-outer, column tile) of an (outer, n, inner) buffer in parallel;
// offset is the element index of the tile's (0, 0) entry and w its width.
template <class Fn>
void for_each_tile(int64_t outer, int64_t n, int64_t inner, Fn&& fn) {
    if (outer <= 0 || n <= 0 || inner <= 0) return;
    int64_t ntiles = (inner + kTile - 1) / kTile;
    int64_t per_item = n * (inner < kTile ? inner : kTile);
    parallel_for(outer * ntiles, kGrain / per_item + 1, [&](int64_t b, int64_t e) {
        for (int64_t it = b; it < e; ++it) {
            int64_t o = it / ntiles, j0 = (it % ntiles) * kTile;
            fn(o * n * inner + j0, inner - j0 < kTile ? inner - j0 : kTile);
        }
    });
}

void softmax_cpu(DType dtype, void* out, const void* in, int64_t outer, int64_t n, int64_t inner, bool log) {
    if (dtype == DType::Float32 && inner == 1 && outer > 0 && n > 0) {
        const UnaryVecLevel level = unary_vec_level();
        float* y = static_cast<float*>(out);
        const float* x = static_cast<const float*>(in);
        return parallel_for(outer, kGrain / n + 1, [&](int64_t b, int64_t e) {
            softmax_rows_f32(y + b * n, x + b * n, e - b, n, log, level);
        });
    }
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        T* y = static_cast<T*>(out);
        const T* x = static_cast<const T*>(in);
        for_each_tile(outer, n, inner, [&](int64_t off, int64_t w) {
            if (inner == 1) softmax_row(y + off, x + off, n, log);
            else softmax_tile(y + off, x + off, n, inner, w, log);
        });
    });
}

void softmax_backward_cpu(DType dtype, void* dinp, const void* dout, const void* out, int64_t outer, int64_t n,
                          int64_t inner, bool log) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        T* dx = static_cast<T*>(dinp);
        const T* dy = static_cast<const T*>(dout);
        const T* y = static_cast<const T*>(out);
        for_each_tile(outer, n, inner, [&](int64_t off, int64_t w) {
            if (inner == 1) softmax_backward_row(dx + off, dy + off, y + off, n, log);
            else softmax_backward_tile(dx + off, dy + off, y + off, n, inner, w, log);
        });
    });
}

}  // namespace

void register_softmax_cpu(KernelTable& t) {
    t.softmax = softmax_cpu;
    t.softmax_backward = softmax_backward_cpu;
}

}  // namespace ckeras::cpu
