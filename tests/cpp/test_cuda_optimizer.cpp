// The CUDA optimizer kernels against their CPU twins (cpu/optimizer_cpu.cpp): several steps of every
// OptimizerKind with each of its options (momentum, nesterov, amsgrad, centered, weight decay with one
// group excluded, clip_value, per-group grad_scale), all groups in one call, sizes from empty to over a
// million elements, a NaN gradient; then grad_sq_norm and the argument checks. Skipped without a CUDA device.
//
// Tolerance. Both devices take the per-call scalars from the same host code (cpu/optimizer_scalars.h) and
// do, per element, the same float32 operations in the same order with one IEEE rounding each (the CUDA
// kernel uses __fadd_rn & co., so nothing is fused into an fma, and the CPU's baseline x86-64 build fuses
// nothing either): the parameters and slots are expected to agree to the bit. The bound allows 1 ulp per
// step taken (k ulp after k steps, relative to the element or, for elements near 0 next to large ones,
// to 1e-3 of the tensor's largest magnitude) so that a host compiler that contracts differently still
// passes; any difference is printed. grad_sq_norm differs only in the order of its double sums: 1e-12.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "ckeras/optim.h"
#include "cuda_twin.h"
#include "test_util.h"

using namespace ckeras;
using namespace ckeras::test;

namespace {

// Which slots a kind uses (the ParamGroup positions optim.h reports); the others stay null.
void needed_slots(const OptimizerStep& s, bool need[3]) {
    need[0] = need[1] = need[2] = false;
    for (int k : optimizer_slot_positions(s)) need[k] = true;
}

struct Config {
    std::string name;
    OptimizerStep step;
    float slot_init = 0.f;  // Keras starts every slot at 0, Adagrad's accumulator at 0.1
};

std::vector<Config> configs() {
    auto make = [](const char* name, OptimizerKind kind, double lr, auto&& set) {
        Config c;
        c.name = name;
        c.step.kind = kind;
        c.step.learning_rate = lr;
        set(c.step);
        if (kind == OptimizerKind::Adagrad) c.slot_init = 0.1f;
        return c;
    };
    auto none = [](OptimizerStep&) {};
    using K = OptimizerKind;
    return {
        make("sgd", K::SGD, 0.1, none),
        make("sgd momentum", K::SGD, 0.05, [](OptimizerStep& s) { s.momentum = 0.9; }),
        make("sgd nesterov decay clip", K::SGD, 0.05, [](OptimizerStep& s) {
            s.momentum = 0.9; s.nesterov = true; s.weight_decay = 0.01; s.clip_value = 0.5; }),
        make("adam", K::Adam, 1e-3, none),
        make("adam amsgrad", K::Adam, 1e-2, [](OptimizerStep& s) { s.amsgrad = true; }),
        make("adamw amsgrad clip", K::Adam, 1e-2, [](OptimizerStep& s) {
            s.amsgrad = true; s.weight_decay = 0.004; s.clip_value = 0.3; s.beta_2 = 0.99; }),
        make("rmsprop", K::RMSprop, 1e-3, none),
        make("rmsprop momentum", K::RMSprop, 1e-3, [](OptimizerStep& s) { s.momentum = 0.9; }),
        make("rmsprop centered", K::RMSprop, 1e-3, [](OptimizerStep& s) { s.centered = true; }),
        make("rmsprop centered momentum decay clip", K::RMSprop, 1e-3, [](OptimizerStep& s) {
            s.centered = true; s.momentum = 0.5; s.weight_decay = 0.01; s.clip_value = 0.7; s.rho = 0.95; }),
        make("adagrad", K::Adagrad, 1e-2, none),
        make("adagrad decay clip", K::Adagrad, 1e-2, [](OptimizerStep& s) {
            s.weight_decay = 0.02; s.clip_value = 0.4; }),
        make("adamax", K::Adamax, 2e-3, none),
        make("adamax decay", K::Adamax, 2e-3, [](OptimizerStep& s) { s.weight_decay = 0.004; }),
        make("nadam", K::Nadam, 2e-3, none),
        make("nadam decay clip", K::Nadam, 2e-3, [](OptimizerStep& s) {
            s.weight_decay = 0.004; s.clip_value = 0.6; s.beta_1 = 0.8; }),
        make("lion", K::Lion, 1e-4, [](OptimizerStep& s) { s.beta_2 = 0.99; }),
        make("lion decay clip", K::Lion, 3e-4, [](OptimizerStep& s) {
            s.beta_2 = 0.99; s.weight_decay = 0.01; s.clip_value = 0.5; }),
    };
}

// One parameter tensor on both devices: host vectors for the CPU run, CUDA buffers for the other.
struct Var {
    std::vector<float> w, s[3];
    Tensor dw, ds[3];
    float grad_scale;
    bool decay;
};

// |gpu - cpu| <= k ulp of (|cpu| + 1e-3 max|cpu|) per element; counts (and prints) inexact elements.
int64_t compare(const std::vector<float>& gpu, const std::vector<float>& cpu, int steps, const std::string& what) {
    const double floor = 1e-3 * max_abs(as_double(cpu));
    int64_t inexact = 0, bad = 0;
    for (size_t i = 0; i < cpu.size(); ++i) {
        const double a = gpu[i], b = cpu[i];
        if (std::isnan(b) ? std::isnan(a) : a == b) continue;
        ++inexact;
        if (!std::isnan(a) && !std::isnan(b) && std::fabs(a - b) <= steps * ulp1<float>() * (std::fabs(b) + floor))
            continue;
        if (bad++ < 5) ADD_FAILURE() << what << ": element " << i << ": cuda " << a << ", cpu " << b;
    }
    EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << cpu.size() << " elements out of tolerance";
    return inexact;
}

void run_config(const Config& cfg, const std::vector<int64_t>& sizes) {
    bool need[3];
    needed_slots(cfg.step, need);
    std::vector<Var> vars(sizes.size());
    for (size_t v = 0; v < sizes.size(); ++v) {
        Var& x = vars[v];
        const std::vector<double> w0 = uniform(sizes[v], -1, 1, uint32_t(100 + v));
        x.w.assign(w0.begin(), w0.end());
        x.dw = to_cuda(x.w);
        for (int k = 0; k < 3; ++k)
            if (need[k]) {
                x.s[k].assign(size_t(sizes[v]), cfg.slot_init);
                x.ds[k] = to_cuda(x.s[k]);
            }
        x.grad_scale = v % 3 == 1 ? 0.5f : v % 3 == 2 ? 2.5f : 1.f;
        x.decay = v != 1;  // one group excluded from weight decay
    }
    double u_product = 1.0;  // Nadam: prod_{k<t} beta_1 (1 - 0.5 * 0.96^k), as the caller keeps it
    int64_t inexact = 0;
    for (int t = 1; t <= 5; ++t) {
        OptimizerStep step = cfg.step;
        step.step = t;
        step.nadam_u_product = u_product;
        std::vector<std::vector<float>> grads(vars.size());
        std::vector<Tensor> dgrads(vars.size());
        std::vector<ParamGroup> host(vars.size()), dev(vars.size());
        for (size_t v = 0; v < vars.size(); ++v) {
            const int64_t n = sizes[v];
            const std::vector<double> g = uniform(n, -1, 1, uint32_t(1000 * t + v));
            grads[v].assign(g.begin(), g.end());
            for (int64_t i = 0; i < n; i += 7) grads[v][size_t(i)] *= 10;  // beyond clip_value
            for (int64_t i = 3; i < n; i += 11) grads[v][size_t(i)] = 0;
            if (t == 3 && n > 5) grads[v][5] = std::nanf("");
            dgrads[v] = to_cuda(grads[v]);
            Var& x = vars[v];
            host[v].param = x.w.data();
            host[v].grad = grads[v].data();
            dev[v].param = static_cast<float*>(x.dw.data_ptr());
            dev[v].grad = static_cast<const float*>(dgrads[v].data_ptr());
            for (int k = 0; k < 3; ++k)
                if (need[k]) {
                    host[v].slot[k] = x.s[k].data();
                    dev[v].slot[k] = static_cast<float*>(x.ds[k].data_ptr());
                }
            host[v].n = dev[v].n = n;
            host[v].grad_scale = dev[v].grad_scale = x.grad_scale;
            host[v].decay = dev[v].decay = x.decay;
        }
        cpu_table().optimizer_step(step, host.data(), int64_t(host.size()));
        cuda_table().optimizer_step(step, dev.data(), int64_t(dev.size()));
        for (size_t v = 0; v < vars.size(); ++v) {
            const std::string what = cfg.name + ", step " + std::to_string(t) + ", group " + std::to_string(v) +
                                     " (n=" + std::to_string(sizes[v]) + ")";
            inexact += compare(from_cuda<float>(vars[v].dw), vars[v].w, t, what + " param");
            for (int k = 0; k < 3; ++k)
                if (need[k]) inexact += compare(from_cuda<float>(vars[v].ds[k]), vars[v].s[k], t,
                                                what + " slot " + std::to_string(k));
        }
        u_product *= cfg.step.beta_1 * (1.0 - 0.5 * std::pow(0.96, double(t)));
    }
    if (inexact > 0)
        std::cout << "[note] " << cfg.name << ": " << inexact
                  << " element comparisons within tolerance but not bit-identical\n";
}

TEST(CudaOptimizer, EveryKindAndOptionMatchesCpuOverSeveralSteps) {
    CKERAS_SKIP_WITHOUT_CUDA();
    // An empty group among them; 4096 and 4099 fill and overflow one chunk of the CUDA kernel.
    const std::vector<int64_t> sizes = {1, 7, 0, 1025, 33, 4096, 4099};
    for (const Config& cfg : configs()) run_config(cfg, sizes);
}

TEST(CudaOptimizer, LargeGroupsMatchCpu) {
    CKERAS_SKIP_WITHOUT_CUDA();
    const std::vector<int64_t> sizes = {(1 << 20) + 3, 5, (1 << 18) + 1};
    for (const Config& cfg : configs())
        if (cfg.name == "adamw amsgrad clip" || cfg.name == "rmsprop centered momentum decay clip" ||
            cfg.name == "nadam decay clip" || cfg.name == "lion decay clip")
            run_config(cfg, sizes);
}

TEST(CudaOptimizer, NoGroupsOrOnlyEmptyGroupsIsANoOp) {
    CKERAS_SKIP_WITHOUT_CUDA();
    OptimizerStep step;
    step.kind = OptimizerKind::Adam;
    cuda_table().optimizer_step(step, nullptr, 0);
    std::vector<ParamGroup> empty(3);  // n = 0, null pointers
    cuda_table().optimizer_step(step, empty.data(), 3);
    EXPECT_EQ(cuda_table().grad_sq_norm(nullptr, 0), 0.0);
    EXPECT_EQ(cuda_table().grad_sq_norm(empty.data(), 3), 0.0);
}

TEST(CudaOptimizer, GradSqNormMatchesCpu) {
    CKERAS_SKIP_WITHOUT_CUDA();
    const std::vector<int64_t> sizes = {0, 1, 7, 4096, 4097, 1025, (1 << 20) + 3, 33};
    std::vector<std::vector<float>> grads;
    std::vector<Tensor> dgrads;
    std::vector<ParamGroup> host(sizes.size()), dev(sizes.size());
    for (size_t v = 0; v < sizes.size(); ++v) {
        const std::vector<double> g = uniform(sizes[v], -3, 3, uint32_t(7 + v));
        grads.emplace_back(g.begin(), g.end());
        dgrads.push_back(to_cuda(grads.back()));
    }
    for (size_t v = 0; v < sizes.size(); ++v) {
        host[v].grad = grads[v].data();
        dev[v].grad = static_cast<const float*>(dgrads[v].data_ptr());
        host[v].n = dev[v].n = sizes[v];
        host[v].grad_scale = dev[v].grad_scale = v % 2 ? 0.25f : 1.5f;
    }
    const double cpu = cpu_table().grad_sq_norm(host.data(), int64_t(host.size()));
    const double gpu = cuda_table().grad_sq_norm(dev.data(), int64_t(dev.size()));
    EXPECT_NEAR(gpu, cpu, 1e-12 * cpu);
    // One group alone, and a NaN that must propagate.
    EXPECT_NEAR(cuda_table().grad_sq_norm(dev.data() + 6, 1), cpu_table().grad_sq_norm(host.data() + 6, 1),
                1e-12 * cpu);
    grads[2][3] = std::nanf("");
    Tensor with_nan = to_cuda(grads[2]);
    dev[2].grad = static_cast<const float*>(with_nan.data_ptr());
    EXPECT_TRUE(std::isnan(cuda_table().grad_sq_norm(dev.data(), int64_t(dev.size()))));
}

// The host-side checks run before anything is launched, with the CPU's messages.
TEST(CudaOptimizer, ArgumentChecks) {
    CKERAS_SKIP_WITHOUT_CUDA();
    Tensor w = to_cuda(std::vector<float>(4, 1.f)), g = to_cuda(std::vector<float>(4, 0.5f));
    ParamGroup p;
    p.param = static_cast<float*>(w.data_ptr());
    p.grad = static_cast<const float*>(g.data_ptr());
    p.n = 4;
    OptimizerStep step;
    step.kind = OptimizerKind::Adam;
    expect_error([&] { cuda_table().optimizer_step(step, &p, 1); }, ErrorKind::Value, {"missing slot 0"});
    step.kind = OptimizerKind::SGD;
    step.step = 0;
    expect_error([&] { cuda_table().optimizer_step(step, &p, 1); }, ErrorKind::Value, {"must be >= 1"});
    EXPECT_EQ(from_cuda<float>(w), std::vector<float>(4, 1.f));  // nothing was written
}

}  // namespace
