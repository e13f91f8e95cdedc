// GPU cases: memory-bound ops (bytes/s, against a device-to-device copy measured in the same binary,
// the GPU's STREAM-style ceiling) and one training step of the article's first model (Dense 784-128-10,
// softmax cross-entropy, Adam) through the ops and autograd, as the eager trainer runs it. Every case
// synchronises before its timer stops, and skips where no GPU is present.
#include <benchmark/benchmark.h>

#include <vector>

#include "ckeras/autograd.h"
#include "ckeras/device.h"
#include "ckeras/ops.h"
#include "ckeras/optim.h"

using namespace ckeras;

namespace {

constexpr int64_t kN = int64_t(1) << 26;  // 256 MiB per float32 array
const Device kGpu{DeviceType::CUDA, 0};

// Under the test stand-in (CKERAS_TEST_FAKE_GPU=1) the cases run on the CPU kernels: a smoke test of
// this file, with figures that mean nothing (labelled so).
bool skip_without_gpu(benchmark::State& state) {
    if (cuda_device_count() == 0) {
        state.SkipWithError("no CUDA device");
        return true;
    }
    if (accelerator().is_fake()) state.SetLabel("test stand-in, not a GPU");
    return false;
}

Tensor gpu_full(const Shape& shape, double v) { return full(shape, v, DType::Float32, kGpu); }

template <class Fn>
void run_bytes(benchmark::State& state, int64_t bytes, Fn&& fn) {
    fn();  // warm: allocator cache, first launch
    device_synchronize(kGpu);
    for (auto _ : state) {
        fn();
        device_synchronize(kGpu);
    }
    state.SetBytesProcessed(state.iterations() * bytes);
}

void BM_Copy_Cuda(benchmark::State& state) {
    if (skip_without_gpu(state)) return;
    Tensor a = gpu_full({kN}, 1.0), b = gpu_full({kN}, 2.0);
    run_bytes(state, 2 * kN * 4, [&] { device_copy(b.data_ptr(), kGpu, a.data_ptr(), kGpu, kN * 4); });
}
BENCHMARK(BM_Copy_Cuda)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_Add_Cuda(benchmark::State& state) {
    if (skip_without_gpu(state)) return;
    Tensor a = gpu_full({kN}, 1.0), b = gpu_full({kN}, 2.0);
    run_bytes(state, 3 * kN * 4, [&] { add(a, b); });
}
BENCHMARK(BM_Add_Cuda)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_AddBroadcastRow_Cuda(benchmark::State& state) {
    if (skip_without_gpu(state)) return;
    Tensor a = gpu_full({kN / 1024, 1024}, 1.0), b = gpu_full({1024}, 2.0);
    run_bytes(state, 2 * kN * 4, [&] { add(a, b); });
}
BENCHMARK(BM_AddBroadcastRow_Cuda)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_Unary_Cuda(benchmark::State& state) {
    if (skip_without_gpu(state)) return;
    const UnaryOp op = static_cast<UnaryOp>(state.range(0));
    if (!accelerator().is_fake()) state.SetLabel(unary_op_name(op));
    Tensor a = gpu_full({kN}, 0.5);
    run_bytes(state, 2 * kN * 4, [&] { unary(op, a); });
}
BENCHMARK(BM_Unary_Cuda)
    ->Arg(static_cast<int>(UnaryOp::Relu))
    ->Arg(static_cast<int>(UnaryOp::Exp))
    ->Arg(static_cast<int>(UnaryOp::Sigmoid))
    ->Arg(static_cast<int>(UnaryOp::GeluTanh))
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

void BM_Sum_Cuda(benchmark::State& state) {
    if (skip_without_gpu(state)) return;
    Tensor a = gpu_full({kN}, 1.0);
    run_bytes(state, kN * 4, [&] { sum(a); });
}
BENCHMARK(BM_Sum_Cuda)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_ColumnSum_Cuda(benchmark::State& state) {
    if (skip_without_gpu(state)) return;
    Tensor a = gpu_full({kN / 1024, 1024}, 1.0);
    run_bytes(state, kN * 4, [&] { sum(a, Axes{0}); });
}
BENCHMARK(BM_ColumnSum_Cuda)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_SoftmaxRows_Cuda(benchmark::State& state) {
    if (skip_without_gpu(state)) return;
    Tensor a = gpu_full({kN / 1024, 1024}, 0.25);
    run_bytes(state, 2 * kN * 4, [&] { softmax(a, -1); });
}
BENCHMARK(BM_SoftmaxRows_Cuda)->UseRealTime()->Unit(benchmark::kMicrosecond);

// One eager step of E1 at batch state.range(0): forward, loss, backward, Adam; samples/s.
void BM_TrainStepE1_Cuda(benchmark::State& state) {
    if (skip_without_gpu(state)) return;
    const int64_t batch = state.range(0);
    DeviceScope scope(kGpu);
    Tensor x = random_uniform({batch, 784}, 0.0, 1.0, DType::Float32, 1, 0);
    Tensor y = full({batch, 10}, 0.1, DType::Float32, kGpu);  // soft targets summing to 1
    std::vector<Tensor> params = {random_uniform({784, 128}, -0.08, 0.08, DType::Float32, 2, 0),
                                  zeros({128}, DType::Float32, kGpu),
                                  random_uniform({128, 10}, -0.2, 0.2, DType::Float32, 3, 0),
                                  zeros({10}, DType::Float32, kGpu)};
    std::vector<std::vector<Tensor>> slots;
    for (Tensor& p : params) {
        p.set_requires_grad(true);
        slots.push_back({zeros(p.shape(), DType::Float32, kGpu), zeros(p.shape(), DType::Float32, kGpu)});
    }
    OptimizerStep cfg;
    cfg.kind = OptimizerKind::Adam;
    cfg.learning_rate = 1e-3;
    auto step = [&](int64_t t) {
        GradModeGuard on(true);
        Tensor h = unary(UnaryOp::Relu, add(matmul(x, params[0]), params[1]));
        Tensor logits = add(matmul(h, params[2]), params[3]);
        Tensor loss = mean(categorical_crossentropy(y, logits, /*from_logits=*/true));
        std::vector<Tensor> grads = grad({loss}, params);
        cfg.step = t;
        optimizer_apply(cfg, ClipOptions{}, params, grads, slots, std::vector<bool>(params.size(), true));
    };
    step(1);
    device_synchronize(kGpu);
    int64_t t = 2;
    for (auto _ : state) {
        step(t++);
        device_synchronize(kGpu);
    }
    state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_TrainStepE1_Cuda)->Arg(32)->Arg(256)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
