// Memory-bound kernels against a STREAM-style triad measured in the same binary with the same
// OpenMP threads: elementwise, reductions, softmax cross-entropy, and one Adam step. Reports bytes/s
// (bytes each kernel must move at least once), so the ratios to BM_StreamTriad read directly.
#include <benchmark/benchmark.h>

#include <vector>

#include "ckeras/kernels.h"

using namespace ckeras;

namespace {

constexpr int64_t kN = int64_t(1) << 24;  // 64 MiB per float32 array: far beyond the caches

KernelTable& cpu() { return kernel_table(DeviceType::CPU); }

struct Buffers {
    std::vector<float> a, b, c;
    explicit Buffers(int64_t n) : a(n, 1.0f), b(n, 2.0f), c(n, 0.5f) {}
};

void set_bytes(benchmark::State& state, int64_t bytes) {
    state.SetBytesProcessed(state.iterations() * bytes);
}

// a = b + s * c, the STREAM triad, written as the plainest OpenMP loop.
void BM_StreamTriad(benchmark::State& state) {
    Buffers buf(kN);
    float* a = buf.a.data();
    const float *b = buf.b.data(), *c = buf.c.data();
    const float s = 3.0f;
    for (auto _ : state) {
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < kN; ++i) a[i] = b[i] + s * c[i];
        benchmark::ClobberMemory();
    }
    set_bytes(state, 3 * kN * 4);
}
BENCHMARK(BM_StreamTriad)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Add_Cpu(benchmark::State& state) {
    Buffers buf(kN);
    int64_t shape[1] = {kN}, st[1] = {1};
    for (auto _ : state) {
        cpu().binary(BinaryOp::Add, DType::Float32, buf.a.data(), buf.b.data(), st, buf.c.data(), st, shape, 1);
        benchmark::ClobberMemory();
    }
    set_bytes(state, 3 * kN * 4);
}
BENCHMARK(BM_Add_Cpu)->UseRealTime()->Unit(benchmark::kMillisecond);

// Bias add: (rows, 1024) + (1024,) broadcast, the Dense layer's pattern.
void BM_AddBroadcastRow_Cpu(benchmark::State& state) {
    const int64_t cols = 1024, rows = kN / cols;
    Buffers buf(kN);
    int64_t shape[2] = {rows, cols}, sa[2] = {cols, 1}, sb[2] = {0, 1};
    for (auto _ : state) {
        cpu().binary(BinaryOp::Add, DType::Float32, buf.a.data(), buf.b.data(), sa, buf.c.data(), sb, shape, 2);
        benchmark::ClobberMemory();
    }
    set_bytes(state, 2 * kN * 4);
}
BENCHMARK(BM_AddBroadcastRow_Cpu)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Unary_Cpu(benchmark::State& state) {
    auto op = static_cast<UnaryOp>(state.range(0));
    state.SetLabel(unary_op_name(op));
    Buffers buf(kN);
    for (auto _ : state) {
        cpu().unary(op, DType::Float32, buf.a.data(), buf.b.data(), kN, 0.0, 0.0);
        benchmark::ClobberMemory();
    }
    set_bytes(state, 2 * kN * 4);
}
BENCHMARK(BM_Unary_Cpu)
    ->Arg(static_cast<int>(UnaryOp::Relu))
    ->Arg(static_cast<int>(UnaryOp::Exp))
    ->Arg(static_cast<int>(UnaryOp::Sigmoid))
    ->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_ReluBackward_Cpu(benchmark::State& state) {
    Buffers buf(kN);
    for (auto _ : state) {
        cpu().unary_backward(UnaryOp::Relu, DType::Float32, buf.a.data(), buf.b.data(), buf.c.data(), nullptr, kN, 0, 0);
        benchmark::ClobberMemory();
    }
    set_bytes(state, 3 * kN * 4);
}
BENCHMARK(BM_ReluBackward_Cpu)->UseRealTime()->Unit(benchmark::kMillisecond);

// Sum of rows (inner == 1) and of columns (inner > 1) over the same 64 MiB.
void BM_Sum_Cpu(benchmark::State& state) {
    const int64_t cols = state.range(0) ? 4096 : 1, r = state.range(0) ? kN / 4096 : kN;
    state.SetLabel(state.range(0) ? "axis=0 of (4096 rows... , 4096)" : "all");
    Buffers buf(kN);
    for (auto _ : state) {
        cpu().reduce(ReduceOp::Sum, DType::Float32, buf.a.data(), buf.b.data(), 1, r, cols);
        benchmark::ClobberMemory();
    }
    set_bytes(state, kN * 4);
}
BENCHMARK(BM_Sum_Cpu)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Max_Cpu(benchmark::State& state) {
    Buffers buf(kN);
    for (auto _ : state) {
        cpu().reduce(ReduceOp::Max, DType::Float32, buf.a.data(), buf.b.data(), kN / 1024, 1024, 1);
        benchmark::ClobberMemory();
    }
    set_bytes(state, kN * 4);
}
BENCHMARK(BM_Max_Cpu)->UseRealTime()->Unit(benchmark::kMillisecond);

// Fused softmax cross-entropy from logits, forward + backward, (batch, 10) as in a digits classifier.
void BM_SoftmaxCrossEntropy_Cpu(benchmark::State& state) {
    const int64_t B = state.range(0), C = 10;
    std::vector<float> logits(B * C), target(B * C, 0.f), loss(B), dloss(B, 1.0f / B), dlogits(B * C);
    for (int64_t i = 0; i < B * C; ++i) logits[i] = static_cast<float>((i * 7919) % 101) / 50.f - 1.f;
    for (int64_t i = 0; i < B; ++i) target[i * C + i % C] = 1.f;
    for (auto _ : state) {
        cpu().cross_entropy(DType::Float32, loss.data(), logits.data(), target.data(), B, C, true, 1e-7);
        cpu().cross_entropy_backward(DType::Float32, dlogits.data(), dloss.data(), logits.data(), target.data(), B,
                                     C, true, 1e-7);
        benchmark::ClobberMemory();
    }
    set_bytes(state, 4 * B * C * 4);
}
BENCHMARK(BM_SoftmaxCrossEntropy_Cpu)->Arg(32)->Arg(256)->Arg(65536)->UseRealTime();

// Softmax over the last dim of (rows, C): (1024, 10) is the output layer of predict at batch 1024.
void BM_Softmax_Cpu(benchmark::State& state) {
    const int64_t rows = state.range(0), C = state.range(1);
    std::vector<float> x(rows * C), y(rows * C);
    for (int64_t i = 0; i < rows * C; ++i) x[i] = static_cast<float>((i * 7919) % 101) / 10.f - 5.f;
    for (auto _ : state) {
        cpu().softmax(DType::Float32, y.data(), x.data(), rows, C, 1, false);
        benchmark::ClobberMemory();
    }
    set_bytes(state, 2 * rows * C * 4);
}
BENCHMARK(BM_Softmax_Cpu)->Args({1024, 10})->Args({32, 10})->Args({256, 1000})->UseRealTime();

// One Adam step over the parameters of a 784-128-10 network (101,770 floats in 4 tensors).
void BM_AdamStep_Cpu(benchmark::State& state) {
    const int64_t sizes[4] = {784 * 128, 128, 128 * 10, 10};
    std::vector<std::vector<float>> p, g, m, v;
    std::vector<ParamGroup> groups;
    int64_t total = 0;
    for (int64_t n : sizes) {
        p.emplace_back(n, 0.1f), g.emplace_back(n, 0.01f), m.emplace_back(n, 0.f), v.emplace_back(n, 0.f);
        total += n;
    }
    for (int i = 0; i < 4; ++i) {
        ParamGroup gr;
        gr.param = p[i].data(), gr.grad = g[i].data(), gr.slot[0] = m[i].data(), gr.slot[1] = v[i].data();
        gr.n = sizes[i];
        groups.push_back(gr);
    }
    OptimizerStep step;
    step.kind = OptimizerKind::Adam;
    step.learning_rate = 1e-3;
    for (auto _ : state) {
        cpu().optimizer_step(step, groups.data(), 4);
        step.step++;
        benchmark::ClobberMemory();
    }
    set_bytes(state, 7 * total * 4);  // read p, g, m, v; write p, m, v
}
BENCHMARK(BM_AdamStep_Cpu)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
