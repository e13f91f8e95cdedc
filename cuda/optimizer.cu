// CUDA kernels for the optimizer slots: `optimizer_step` (multi-tensor apply: every group in one launch,
// blocks mapped to (group, chunk) pairs through a group table copied to the device) and `grad_sq_norm`
// (reduced on the device, one read back). Twins of cpp/src/cpu/optimizer_cpu.cpp: the same float32
// scalars (cpu/optimizer_scalars.h, computed on the host by the same code) and, per element, the same
// float32 operations in the same order, each rounded once and never fused into an fma, so the
// parameters and slots agree with the CPU's to the bit.
#include <algorithm>
#include <vector>

#include "cpu/optimizer_scalars.h"
#include "team_reduce.cuh"

namespace ckeras::cuda {
namespace {

// Elements per (group, chunk) work item: kBlock threads, 16 elements each.
constexpr int64_t kChunk = 4096;

// One group as the kernels see it; first_chunk numbers its chunks among all groups' (only groups with
// n > 0 are in the table).
struct DeviceGroup {
    float* param;
    const float* grad;
    float* slot[3];
    int64_t n;
    int64_t first_chunk;
    float grad_scale;
    bool decay;
};

// The group owning chunk `c`: the last one with first_chunk <= c (binary search; groups[0].first_chunk = 0).
__device__ inline int64_t group_of_chunk(const DeviceGroup* groups, int64_t count, int64_t c) {
    int64_t lo = 0, hi = count - 1;
    while (lo < hi) {
        const int64_t mid = (lo + hi + 1) / 2;
        if (groups[mid].first_chunk <= c) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

// float32 with one IEEE rounding per operation and no contraction: nvcc fuses a * b + c into an fma by
// default, the CPU twin (baseline x86-64) never does, and the two must agree to the bit.
struct F {
    float v;
    __device__ F(float x) : v(x) {}
};
__device__ inline F operator+(F a, F b) { return __fadd_rn(a.v, b.v); }
__device__ inline F operator-(F a, F b) { return __fsub_rn(a.v, b.v); }
__device__ inline F operator*(F a, F b) { return __fmul_rn(a.v, b.v); }
__device__ inline F operator/(F a, F b) { return __fdiv_rn(a.v, b.v); }
__device__ inline F sqrt_rn(F a) { return __fsqrt_rn(a.v); }
// std::max / std::min's selections (the first argument when neither is smaller; NaN comparisons false).
__device__ inline F max_(F a, F b) { return a.v < b.v ? b : a; }
__device__ inline F min_(F a, F b) { return b.v < a.v ? b : a; }

// The per-call scalars plus the option flags, passed by value.
struct StepArgs {
    OptimizerScalars c;
    bool sgd_momentum;  // SGD: momentum != 0
    bool nesterov, amsgrad, centered;
    bool rms_momentum;  // RMSprop: momentum > 0
};

// One element: scale and clip the gradient, decay the weight, then the Keras 3 update of kind K.
// Comments give the formulas; the expressions are optimizer_cpu.cpp's, term for term.
template <OptimizerKind K>
__device__ void update_element(const StepArgs& a, const DeviceGroup& p, int64_t i) {
    const OptimizerScalars& c = a.c;
    F g = F(p.grad[i]) * p.grad_scale;
    if (c.clip > 0) g = min_(max_(g, -c.clip), c.clip);
    F w = p.param[i];
    if (c.wd > 0 && p.decay) w = w - w * c.wd * c.lr;
    float* s0 = p.slot[0];
    float* s1 = p.slot[1];
    float* s2 = p.slot[2];
    if constexpr (K == OptimizerKind::SGD) {
        if (!a.sgd_momentum) {  // w -= lr g
            w = w - g * c.lr;
        } else {  // m = mu m - lr g; w += m, or (nesterov) w += mu m - lr g
            const F m = F(s0[i]) * c.momentum - g * c.lr;
            s0[i] = m.v;
            w = a.nesterov ? w + (m * c.momentum - g * c.lr) : w + m;
        }
    } else if constexpr (K == OptimizerKind::Adam) {
        // m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); w -= alpha m / (sqrt(v) + eps); amsgrad: max(vhat, v)
        const F m = F(s0[i]) + (g - s0[i]) * c.one_minus_b1;
        F v = F(s1[i]) + (g * g - s1[i]) * c.one_minus_b2;
        s0[i] = m.v;
        s1[i] = v.v;
        if (a.amsgrad) {
            v = max_(s2[i], v);
            s2[i] = v.v;
        }
        w = w - m * c.adam_alpha / (sqrt_rn(v) + c.eps);
    } else if constexpr (K == OptimizerKind::RMSprop) {
        // v = rho v + (1 - rho) g^2; centered: a = rho a + (1 - rho) g, d = v - a^2 + eps, else d = v + eps;
        // inc = lr g / sqrt(d); momentum > 0: mom = momentum mom + inc, w -= mom; else w -= inc
        const F v = F(c.rho) * s0[i] + F(c.one_minus_rho) * (g * g);
        s0[i] = v.v;
        F d = v + c.eps;
        if (a.centered) {
            const F avg = F(c.rho) * s2[i] + F(c.one_minus_rho) * g;
            s2[i] = avg.v;
            d = v - avg * avg + c.eps;
        }
        const F inc = F(c.lr) * g / sqrt_rn(d);
        if (a.rms_momentum) {
            const F mom = F(c.momentum) * s1[i] + inc;
            s1[i] = mom.v;
            w = w - mom;
        } else {
            w = w - inc;
        }
    } else if constexpr (K == OptimizerKind::Adagrad) {  // acc += g^2; w -= lr g / sqrt(acc + eps)
        const F acc = F(s0[i]) + g * g;
        s0[i] = acc.v;
        w = w - F(c.lr) * g / sqrt_rn(acc + c.eps);
    } else if constexpr (K == OptimizerKind::Adamax) {
        // m += (g - m)(1 - b1); u = max(b2 u, |g|); w -= lr m / ((1 - b1^t)(u + eps))
        const F m = F(s0[i]) + (g - s0[i]) * c.one_minus_b1;
        const F u = max_(F(c.b2) * s1[i], fabsf(g.v));
        s0[i] = m.v;
        s1[i] = u.v;
        w = w - F(c.lr) * m / (F(c.one_minus_b1_pow) * (u + c.eps));
    } else if constexpr (K == OptimizerKind::Nadam) {
        // m, v as Adam (with 1 - f32(b)); m_hat = u_{t+1} m / (1 - prod_{t+1}) + (1 - u_t) g / (1 - prod_t);
        // v_hat = v / (1 - b2^t); w -= m_hat lr / (sqrt(v_hat) + eps)
        const F m = F(s0[i]) + (g - s0[i]) * c.f32_one_minus_b1;
        const F v = F(s1[i]) + (g * g - s1[i]) * c.f32_one_minus_b2;
        s0[i] = m.v;
        s1[i] = v.v;
        const F m_hat = F(c.nadam_u_next) * m / (F(1.f) - c.nadam_prod_next) +
                        (F(1.f) - c.nadam_u_t) * g / (F(1.f) - c.nadam_prod);
        w = w - m_hat * c.lr / (sqrt_rn(v / c.one_minus_b2_pow) + c.eps);
    } else {  // Lion: w -= lr sign(b1 m + (1 - b1) g); then m = b2 m + (1 - b2) g
        const F d = F(s0[i]) * c.b1 + g * c.f32_one_minus_b1;
        w = w - F(c.lr) * float((d.v > 0) - (d.v < 0));
        s0[i] = (F(s0[i]) * c.b2 + g * c.f32_one_minus_b2).v;
    }
    p.param[i] = w.v;
}

// Grid-stride over the (group, chunk) work items; the threads of a block share one chunk.
template <OptimizerKind K>
__global__ void optimizer_step_kernel(StepArgs args, const DeviceGroup* groups, int64_t count, int64_t chunks) {
    for (int64_t c = blockIdx.x; c < chunks; c += gridDim.x) {
        const DeviceGroup p = groups[group_of_chunk(groups, count, c)];
        const int64_t begin = (c - p.first_chunk) * kChunk;
        const int64_t end = begin + kChunk < p.n ? begin + kChunk : p.n;
        for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) update_element<K>(args, p, i);
    }
}

// The device copy of the groups with n > 0, in order, and the number of chunks they make. The returned
// scratch must outlive the launches that read it (it is stream-ordered: holding it until they are queued
// is enough).
std::shared_ptr<void> upload_groups(const ParamGroup* groups, int64_t count, int64_t* live, int64_t* chunks) {
    thread_local std::vector<DeviceGroup> table;  // reused across steps: no allocation once grown
    table.clear();
    *chunks = 0;
    for (int64_t gi = 0; gi < count; ++gi) {
        const ParamGroup& g = groups[gi];
        if (g.n <= 0) continue;
        table.push_back({g.param, g.grad, {g.slot[0], g.slot[1], g.slot[2]}, g.n, *chunks, g.grad_scale, g.decay});
        *chunks += (g.n + kChunk - 1) / kChunk;
    }
    *live = static_cast<int64_t>(table.size());
    if (table.empty()) return nullptr;
    const int64_t nbytes = static_cast<int64_t>(table.size() * sizeof(DeviceGroup));
    std::shared_ptr<void> buf = scratch(nbytes);
    copy_to_device(buf.get(), table.data(), nbytes);
    return buf;
}

template <OptimizerKind K>
void launch_step(const StepArgs& args, const DeviceGroup* groups, int64_t count, int64_t chunks) {
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>(chunks, int64_t(sm_count()) * 16));
    optimizer_step_kernel<K><<<grid, kBlock, 0, stream()>>>(args, groups, count, chunks);
    CKERAS_CUDA_LAUNCHED("optimizer_step");
}

void optimizer_step_cuda(const OptimizerStep& step, ParamGroup* groups, int64_t count) {
    StepArgs args{};
    args.c = make_optimizer_scalars(step);
    for (int64_t gi = 0; gi < count; ++gi) check_optimizer_group(step, groups[gi], gi);
    args.sgd_momentum = step.momentum != 0;
    args.nesterov = step.nesterov;
    args.amsgrad = step.amsgrad;
    args.centered = step.centered;
    args.rms_momentum = step.momentum > 0;
    int64_t live = 0, chunks = 0;
    std::shared_ptr<void> buf = upload_groups(groups, count, &live, &chunks);
    if (chunks == 0) return;
    const auto* table = static_cast<const DeviceGroup*>(buf.get());
    switch (step.kind) {
        case OptimizerKind::SGD: launch_step<OptimizerKind::SGD>(args, table, live, chunks); return;
        case OptimizerKind::Adam: launch_step<OptimizerKind::Adam>(args, table, live, chunks); return;
        case OptimizerKind::RMSprop: launch_step<OptimizerKind::RMSprop>(args, table, live, chunks); return;
        case OptimizerKind::Adagrad: launch_step<OptimizerKind::Adagrad>(args, table, live, chunks); return;
        case OptimizerKind::Adamax: launch_step<OptimizerKind::Adamax>(args, table, live, chunks); return;
        case OptimizerKind::Nadam: launch_step<OptimizerKind::Nadam>(args, table, live, chunks); return;
        case OptimizerKind::Lion: launch_step<OptimizerKind::Lion>(args, table, live, chunks); return;
    }
}

// ---- grad_sq_norm: sum_g grad_scale_g^2 * sum_i grad_g[i]^2, in double ---------------------------------

// partial[c] = grad_scale^2 * sum of grad^2 over chunk c (one block per chunk at a time).
__global__ void grad_sq_norm_chunks_kernel(double* partial, const DeviceGroup* groups, int64_t count,
                                           int64_t chunks) {
    for (int64_t c = blockIdx.x; c < chunks; c += gridDim.x) {  // uniform over the block
        const DeviceGroup p = groups[group_of_chunk(groups, count, c)];
        const int64_t begin = (c - p.first_chunk) * kChunk;
        const int64_t end = begin + kChunk < p.n ? begin + kChunk : p.n;
        double s = 0.0;
        for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) s += double(p.grad[i]) * double(p.grad[i]);
        s = team_sum<kBlock>(s);
        const double scale = p.grad_scale;
        if (threadIdx.x == 0) partial[c] = s * scale * scale;
    }
}

// *out = sum of partial[0..chunks); one block.
__global__ void grad_sq_norm_total_kernel(double* out, const double* partial, int64_t chunks) {
    double s = 0.0;
    for (int64_t c = threadIdx.x; c < chunks; c += blockDim.x) s += partial[c];
    s = team_sum<kBlock>(s);
    if (threadIdx.x == 0) *out = s;
}

double grad_sq_norm_cuda(const ParamGroup* groups, int64_t count) {
    int64_t live = 0, chunks = 0;
    std::shared_ptr<void> table = upload_groups(groups, count, &live, &chunks);
    if (chunks == 0) return 0.0;
    std::shared_ptr<void> buf = scratch((chunks + 1) * static_cast<int64_t>(sizeof(double)));
    double* result = static_cast<double*>(buf.get());
    double* partial = result + 1;
    const unsigned grid = static_cast<unsigned>(std::min<int64_t>(chunks, int64_t(sm_count()) * 16));
    grad_sq_norm_chunks_kernel<<<grid, kBlock, 0, stream()>>>(partial, static_cast<const DeviceGroup*>(table.get()),
                                                              live, chunks);
    CKERAS_CUDA_LAUNCHED("grad_sq_norm");
    grad_sq_norm_total_kernel<<<1, kBlock, 0, stream()>>>(result, partial, chunks);
    CKERAS_CUDA_LAUNCHED("grad_sq_norm");
    double host = 0.0;
    copy_to_host(&host, result, sizeof(host));
    return host;
}

}  // namespace

void register_optimizer_cuda(KernelTable& t) {
    t.optimizer_step = optimizer_step_cuda;
    t.grad_sq_norm = grad_sq_norm_cuda;
}

}  // namespace ckeras::cuda
