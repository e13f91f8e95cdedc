// Google Benchmark for the CPU float32 GEMM slot: square 1024^3 and 2048^3, and the dense-layer shapes
// of a 784-128 MLP at batch 32 and 256 (forward Y = X W, backward dX = dY W^T and dW = X^T dY).
// Reports FLOP/s (2 M N K per call). Threads: OMP_NUM_THREADS.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "ckeras/kernels.h"
#include "cpu/cpu_common.h"
#include "cpu/gemm_cpu.h"

namespace {

using ckeras::DType;

// Args: M, N, K, trans_a, trans_b, generic (1 = force the portable micro-kernel).
void BM_Gemm_Cpu(benchmark::State& state) {
    const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
    const bool ta = state.range(3) != 0, tb = state.range(4) != 0;
    ckeras::KernelTable table;
    ckeras::cpu::register_gemm_cpu(table);
    ckeras::cpu::set_gemm_simd_override(state.range(5) ? "generic" : nullptr);
    std::mt19937 rng(0);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> A(size_t(M * K)), B(size_t(K * N)), C(size_t(M * N));
    for (auto& x : A) x = u(rng);
    for (auto& x : B) x = u(rng);
    const int64_t lda = ta ? M : K, ldb = tb ? K : N;  // stored A: (K, M) if ta; stored B: (N, K) if tb
    for (auto _ : state) {
        table.gemm(DType::Float32, ta, tb, M, N, K, 1.0, A.data(), lda, B.data(), ldb, 0.0, C.data(), N);
        benchmark::DoNotOptimize(C.data());
        benchmark::ClobberMemory();
    }
    ckeras::cpu::set_gemm_simd_override(nullptr);
    state.counters["FLOPS"] =
        benchmark::Counter(2.0 * double(M) * double(N) * double(K) * double(state.iterations()),
                           benchmark::Counter::kIsRate);
}

void gemm_args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"M", "N", "K", "ta", "tb", "generic"});
    b->Args({1024, 1024, 1024, 0, 0, 0})->Args({2048, 2048, 2048, 0, 0, 0});
    for (int64_t batch : {32, 256}) {
        b->Args({batch, 128, 784, 0, 0, 0});  // forward: X (batch, 784) @ W (784, 128)
        b->Args({batch, 784, 128, 0, 1, 0});  // dX = dY (batch, 128) @ W^T, W stored (784, 128)
        b->Args({784, 128, batch, 1, 0, 0});  // dW = X^T @ dY, X stored (batch, 784)
    }
    b->Args({1024, 1024, 1024, 0, 0, 1});  // the portable micro-kernel, for comparison
    b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_Gemm_Cpu)->Apply(gemm_args);

}  // namespace

BENCHMARK_MAIN();
