// The captured training step (TrainPlan) on the article's model E1, Dense(784 -> 128, relu) ->
// Dense(128 -> 10, softmax) with categorical cross-entropy, accuracy and Adam, at batch 32 and 256: one step
// with its gather from a 60,000-row dataset, and the pieces it is made of (the two big GEMMs, the Adam update
// over all 101,770 parameters). Reports samples/s; FLOPs of the step: 2 * B * (784*128 + 128*10) * 2 + dX.
#include <benchmark/benchmark.h>

#include <vector>

#include "ckeras/kernels.h"
#include "ckeras/ops.h"
#include "ckeras/train_plan.h"

using namespace ckeras;

namespace {

constexpr int64_t kSamples = 60000, kIn = 784, kHidden = 128, kClasses = 10;

Tensor uniform(const Shape& shape, double lo, double hi, uint64_t seed) {
    return random_uniform(shape, lo, hi, DType::Float32, seed, 0);
}

struct E1 {
    std::vector<PlanStage> stages;
    PlanOptimizer opt;
    std::vector<PlanMetricSpec> metrics;
    E1() {
        PlanStage d1, d2;
        d1.kernel = uniform({kIn, kHidden}, -0.08, 0.08, 1);
        d1.bias = Tensor::zeros({kHidden}, DType::Float32);
        d1.activation = PlanActivation::Relu;
        d2.kernel = uniform({kHidden, kClasses}, -0.2, 0.2, 2);
        d2.bias = Tensor::zeros({kClasses}, DType::Float32);
        d2.activation = PlanActivation::Softmax;
        stages = {d1, d2};
        opt.step.kind = OptimizerKind::Adam;
        opt.step.learning_rate = 1e-3;
        opt.iterations = Tensor::zeros({}, DType::Int64);
        opt.learning_rate = Tensor::full({}, 1e-3, DType::Float32);
        for (const Tensor& p : {d1.kernel, d1.bias, d2.kernel, d2.bias})
            opt.slots.push_back({Tensor::zeros(p.shape(), DType::Float32), Tensor::zeros(p.shape(), DType::Float32)});
        metrics.push_back({PlanMetric::CategoricalAccuracy, 0.5, Tensor::zeros({}, DType::Float32),
                           Tensor::zeros({}, DType::Float32)});
    }
};

Tensor one_hot_targets(int64_t n) {
    Tensor y = Tensor::zeros({n, kClasses}, DType::Float32);
    for (int64_t i = 0; i < n; ++i) y.data<float>()[i * kClasses + (i * 7) % kClasses] = 1.f;
    return y;
}

// One run_epoch over `steps` batches of a shuffled 60,000-row dataset, timed per step.
void BM_TrainPlanStep_E1(benchmark::State& state) {
    const int64_t batch = state.range(0), steps = 200;
    E1 model;
    TrainPlan plan(model.stages, {PlanLoss::CategoricalCrossentropy}, model.metrics, model.opt, batch);
    Tensor x = uniform({kSamples, kIn}, 0, 1, 3), y = one_hot_targets(kSamples);
    Tensor xs = slice(x, {{0, steps * batch, 1}}), ys = slice(y, {{0, steps * batch, 1}});
    Tensor perm = Tensor::empty({steps * batch}, DType::Int64);
    for (int64_t i = 0; i < steps * batch; ++i) perm.data<int64_t>()[i] = (i * 7919) % (steps * batch);
    for (auto _ : state) plan.run_epoch(xs, ys, batch, perm);
    state.SetItemsProcessed(state.iterations() * steps * batch);
}
BENCHMARK(BM_TrainPlanStep_E1)->Arg(32)->Arg(256)->UseRealTime()->Unit(benchmark::kMillisecond);

// One of the first layer's GEMMs at batch B: the forward (B, 784) @ (784, 128), or (trans_a) the weight
// gradient (784, B) @ (B, 128) with A stored as (B, 784).
void run_e1_gemm(benchmark::State& state, bool trans_a) {
    const int64_t batch = state.range(0);
    const int64_t M = trans_a ? kIn : batch, K = trans_a ? batch : kIn;
    Tensor a = uniform({batch, kIn}, 0, 1, 4), b = uniform({K, kHidden}, -1, 1, 5);
    Tensor c = Tensor::empty({M, kHidden}, DType::Float32);
    for (auto _ : state)
        kernel_table(DeviceType::CPU).gemm(DType::Float32, trans_a, false, M, kHidden, K, 1.0, a.data_ptr(), kIn,
                                           b.data_ptr(), kHidden, 0.0, c.data_ptr(), kHidden);
    state.SetItemsProcessed(state.iterations() * batch);
}
void BM_E1ForwardGemm(benchmark::State& state) { run_e1_gemm(state, false); }
void BM_E1WeightGradGemm(benchmark::State& state) { run_e1_gemm(state, true); }
BENCHMARK(BM_E1ForwardGemm)->Arg(32)->Arg(256)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_E1WeightGradGemm)->Arg(32)->Arg(256)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Adam over E1's four tensors in one optimizer_step call.
void BM_E1Adam(benchmark::State& state) {
    E1 model;
    std::vector<Tensor> grads;
    std::vector<ParamGroup> groups;
    for (size_t i = 0; i < model.opt.slots.size(); ++i) {
        const Tensor& p = i < 2 ? (i == 0 ? model.stages[0].kernel : model.stages[0].bias)
                                : (i == 2 ? model.stages[1].kernel : model.stages[1].bias);
        grads.push_back(uniform(p.shape(), -1, 1, 10 + i));
        ParamGroup g;
        g.param = p.data<float>();
        g.grad = grads.back().data<float>();
        g.slot[0] = model.opt.slots[i][0].data<float>();
        g.slot[1] = model.opt.slots[i][1].data<float>();
        g.n = p.numel();
        groups.push_back(g);
    }
    OptimizerStep step = model.opt.step;
    for (auto _ : state) {
        step.step++;
        kernel_table(DeviceType::CPU).optimizer_step(step, groups.data(), static_cast<int64_t>(groups.size()));
    }
}
BENCHMARK(BM_E1Adam)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
