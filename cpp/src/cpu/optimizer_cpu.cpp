// CPU kernels for the optimizer slots: `optimizer_step` (multi-tensor: gradient scale and clip, decoupled
// weight decay, then the Keras 3 update of SGD, Adam, RMSprop, Adagrad, Adamax, Nadam or Lion) and
// `grad_sq_norm` (for global_clipnorm). Formulas follow keras/src/optimizers/*.py (KERAS.md 3.2-3.3).
// Everything is float32, scalars included, in Keras's order of operations: Keras casts each
// hyper-parameter to the variable dtype and evaluates the bias corrections in that dtype, so doing the
// same (rather than computing them more exactly in double) gives Keras's numbers to the bit; checked
// against keras 3.15.1 (numpy backend) for every kind here. EMA and schedules live in Python.
//
// Nadam and `nadam_u_product`. Keras keeps a float32 variable `_u_product` (1.0 at build) and, at the
// start of each step t = iterations + 1, sets it to u_product * beta_1 * (1 - 0.5 * 0.96^t) before
// running update_step with it. The caller passes the value from BEFORE that update:
//     nadam_u_product = prod_{k=1}^{t-1} beta_1 * (1 - 0.5 * 0.96^k)        (1.0 at t = 1)
// and after the call keeps  nadam_u_product = nadam_u_product * beta_1 * (1 - 0.5 * 0.96^t).
// Kept as a Python float this matches Keras to about 1 ulp of the update; for Keras's bits, keep it
// as float32 and update it in float32, left to right: u * f32(beta_1) * (1 - 0.5 * f32(0.96)^f32(t)).
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "cpu/cpu_common.h"
#include "cpu/optimizer_scalars.h"

namespace ckeras::cpu {
namespace {

// A run-time flag as a compile-time constant: with(flag, [&](auto k) { if constexpr (k) ... }), so
// that the element loops hold no branches (GCC vectorises no loop with control flow in it).
template <class Fn>
inline void with(bool flag, Fn&& fn) {
    if (flag) fn(std::true_type{});
    else fn(std::false_type{});
}

// Runs upd(i, g, w) on elements [begin, end) of one group: g is the scaled and clipped gradient, w the
// parameter after decoupled decay; upd updates the slots and w, which is then stored. `omp simd`: the
// parameter, gradient and slots are distinct buffers, which the compiler cannot prove; vector lanes do
// the same float operations in the same order, so the bits are those of the scalar loop.
template <class Update>
inline void for_elements(const OptimizerScalars& c, const ParamGroup& p, int64_t begin, int64_t end,
                         Update&& upd) {
    const float scale = p.grad_scale, clip = c.clip, wd = c.wd, lr = c.lr;
    const float* grad = p.grad;
    float* param = p.param;
    with(clip > 0, [&](auto kClip) {
        with(c.wd > 0 && p.decay, [&](auto kDecay) {
#pragma omp simd
            for (int64_t i = begin; i < end; ++i) {
                float g = grad[i] * scale;
                if constexpr (kClip) g = std::min(std::max(g, -clip), clip);
                float w = param[i];
                if constexpr (kDecay) w = w - w * wd * lr;
                upd(i, g, w);
                param[i] = w;
            }
        });
    });
}

// The update of one kind on elements [begin, end) of group p. Comments give the Keras 3 formulas.
void update_range(const OptimizerStep& s, const OptimizerScalars& c, const ParamGroup& p, int64_t begin,
                  int64_t end) {
    float* s0 = p.slot[0];
    float* s1 = p.slot[1];
    float* s2 = p.slot[2];
    switch (s.kind) {
        case OptimizerKind::SGD:
            if (s.momentum == 0) {  // w -= lr g
                for_elements(c, p, begin, end, [&](int64_t, float g, float& w) { w -= g * c.lr; });
            } else {  // m = mu m - lr g; w += m, or (nesterov) w += mu m - lr g
                with(s.nesterov, [&](auto kNesterov) {
                    for_elements(c, p, begin, end, [&](int64_t i, float g, float& w) {
                        const float m = s0[i] * c.momentum - g * c.lr;
                        s0[i] = m;
                        if constexpr (kNesterov) w += m * c.momentum - g * c.lr;
                        else w += m;
                    });
                });
            }
            return;
        case OptimizerKind::Adam: {
            // m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); w -= alpha m / (sqrt(v) + eps)
            // amsgrad: vhat = max(vhat, v) replaces v in the denominator
            with(s.amsgrad, [&](auto kAms) {
                for_elements(c, p, begin, end, [&](int64_t i, float g, float& w) {
                    const float m = s0[i] + (g - s0[i]) * c.one_minus_b1;
                    float v = s1[i] + (g * g - s1[i]) * c.one_minus_b2;
                    s0[i] = m;
                    s1[i] = v;
                    if constexpr (kAms) {
                        v = std::max(s2[i], v);
                        s2[i] = v;
                    }
                    w -= m * c.adam_alpha / (std::sqrt(v) + c.eps);
                });
            });
            return;
        }
        case OptimizerKind::RMSprop: {
            // v = rho v + (1 - rho) g^2; centered: a = rho a + (1 - rho) g, d = v - a^2 + eps,
            // else d = v + eps;
            // inc = lr g / sqrt(d); momentum > 0: mom = momentum mom + inc, w -= mom; else w -= inc
            with(s.centered, [&](auto kCentered) {
                with(s.momentum > 0, [&](auto kMomentum) {
                    for_elements(c, p, begin, end, [&](int64_t i, float g, float& w) {
                        const float v = c.rho * s0[i] + c.one_minus_rho * (g * g);
                        s0[i] = v;
                        float d;
                        if constexpr (kCentered) {
                            const float a = c.rho * s2[i] + c.one_minus_rho * g;
                            s2[i] = a;
                            d = v - a * a + c.eps;
                        } else {
                            d = v + c.eps;
                        }
                        const float inc = c.lr * g / std::sqrt(d);
                        if constexpr (kMomentum) {
                            const float mom = c.momentum * s1[i] + inc;
                            s1[i] = mom;
                            w -= mom;
                        } else {
                            w -= inc;
                        }
                    });
                });
            });
            return;
        }
        case OptimizerKind::Adagrad:  // acc += g^2; w -= lr g / sqrt(acc + eps)
            for_elements(c, p, begin, end, [&](int64_t i, float g, float& w) {
                const float acc = s0[i] + g * g;
                s0[i] = acc;
                w -= c.lr * g / std::sqrt(acc + c.eps);
            });
            return;
        case OptimizerKind::Adamax:
            // m += (g - m)(1 - b1); u = max(b2 u, |g|); w -= lr m / ((1 - b1^t)(u + eps))
            for_elements(c, p, begin, end, [&](int64_t i, float g, float& w) {
                const float m = s0[i] + (g - s0[i]) * c.one_minus_b1;
                const float u = std::max(c.b2 * s1[i], std::fabs(g));
                s0[i] = m;
                s1[i] = u;
                w -= c.lr * m / (c.one_minus_b1_pow * (u + c.eps));
            });
            return;
        case OptimizerKind::Nadam:
            // m, v as Adam; m_hat = u_{t+1} m / (1 - prod_{t+1}) + (1 - u_t) g / (1 - prod_t);
            // v_hat = v / (1 - b2^t); w -= m_hat lr / (sqrt(v_hat) + eps)
            for_elements(c, p, begin, end, [&](int64_t i, float g, float& w) {
                const float m = s0[i] + (g - s0[i]) * c.f32_one_minus_b1;
                const float v = s1[i] + (g * g - s1[i]) * c.f32_one_minus_b2;
                s0[i] = m;
                s1[i] = v;
                const float m_hat = c.nadam_u_next * m / (1.f - c.nadam_prod_next) +
                                    (1.f - c.nadam_u_t) * g / (1.f - c.nadam_prod);
                w -= m_hat * c.lr / (std::sqrt(v / c.one_minus_b2_pow) + c.eps);
            });
            return;
        case OptimizerKind::Lion:  // w -= lr sign(b1 m + (1 - b1) g); then m = b2 m + (1 - b2) g
            for_elements(c, p, begin, end, [&](int64_t i, float g, float& w) {
                const float d = s0[i] * c.b1 + g * c.f32_one_minus_b1;
                w -= c.lr * float((d > 0) - (d < 0));
                s0[i] = s0[i] * c.b2 + g * c.f32_one_minus_b2;
            });
            return;
    }
}

// A contiguous piece of one group: the unit of parallel work across groups.
struct Chunk {
    int64_t group, begin, end;
};

// The chunks of `size` elements covering every group, in a per-thread vector reused across calls (an
// optimizer step runs every training step: no allocation once it has grown).
const std::vector<Chunk>& make_chunks(const ParamGroup* groups, int64_t count, int64_t size, int64_t* total) {
    thread_local std::vector<Chunk> chunks;
    chunks.clear();
    *total = 0;
    for (int64_t gi = 0; gi < count; ++gi) {
        for (int64_t b = 0; b < groups[gi].n; b += size)
            chunks.push_back({gi, b, std::min(b + size, groups[gi].n)});
        *total += std::max<int64_t>(groups[gi].n, 0);
    }
    return chunks;
}

// Threads pay from this many elements: the updates cost about a nanosecond each (Adam, RMSprop,
// Adagrad: a square root and a division).
constexpr int64_t kParallelMin = 1 << 15;

void optimizer_step_cpu(const OptimizerStep& step, ParamGroup* groups, int64_t count) {
    const OptimizerScalars c = make_optimizer_scalars(step);
    int64_t total = 0;
    for (int64_t gi = 0; gi < count; ++gi) {
        check_optimizer_group(step, groups[gi], gi);
        total += std::max<int64_t>(groups[gi].n, 0);
    }
    // The elements of all groups in a row, [0, total), split into equal ranges, one per thread: one large
    // kernel and a few small biases still split evenly. Elements are independent, so any split gives the
    // same bits.
    parallel_for(total, total >= kParallelMin ? kParallelMin / 2 : total, [&](int64_t b, int64_t e) {
        int64_t offset = 0;
        for (int64_t gi = 0; gi < count && offset < e; ++gi) {
            const int64_t n = std::max<int64_t>(groups[gi].n, 0);
            const int64_t lo = std::max(b, offset), hi = std::min(e, offset + n);
            if (lo < hi) update_range(step, c, groups[gi], lo - offset, hi - offset);
            offset += n;
        }
    });
}

// sum_g grad_scale_g^2 * sum_i grad_g[i]^2 in double. Each fixed-size block is summed on its own and the
// block sums are added in order, so the result does not depend on the thread count.
double grad_sq_norm_cpu(const ParamGroup* groups, int64_t count) {
    constexpr int64_t kBlock = 1 << 14;
    int64_t total = 0;
    const std::vector<Chunk>& chunks = make_chunks(groups, count, kBlock, &total);
    std::vector<double> partial(chunks.size(), 0.0);
    const int64_t grain = total > kElementwiseGrain ? 1 : static_cast<int64_t>(chunks.size());
    parallel_for(static_cast<int64_t>(chunks.size()), grain, [&](int64_t cb, int64_t ce) {
        for (int64_t k = cb; k < ce; ++k) {
            const float* g = groups[chunks[k].group].grad;
            double sum = 0.0;
            for (int64_t i = chunks[k].begin; i < chunks[k].end; ++i) sum += double(g[i]) * double(g[i]);
            partial[k] = sum;
        }
    });
    double result = 0.0;
    size_t k = 0;
    for (int64_t gi = 0; gi < count; ++gi) {
        double group_sum = 0.0;
        for (; k < chunks.size() && chunks[k].group == gi; ++k) group_sum += partial[k];
        const double scale = groups[gi].grad_scale;
        result += group_sum * scale * scale;
    }
    return result;
}

}  // namespace

void register_optimizer_cpu(KernelTable& t) {
    t.optimizer_step = optimizer_step_cpu;
    t.grad_sq_norm = grad_sq_norm_cpu;
}

}  // namespace ckeras::cpu
