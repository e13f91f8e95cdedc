// Google Benchmark for the float32 GEMM: the CPU slot on square 1024^3 and 2048^3, and the dense-layer
// shapes of a 784-128 MLP at batch 32 and 256 (forward Y = X W, backward dX = dY W^T and dW = X^T dY);
// the CUDA kernels (FP32, TF32, BF16 math) on 4096^3 and the same MLP shapes. Reports FLOP/s (2 M N K
// per call). CPU threads: OMP_NUM_THREADS.
#include <benchmark/benchmark.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "ckeras/device.h"
#include "ckeras/error.h"
#include "ckeras/kernels.h"
#include "cpu/cpu_common.h"
#include "cpu/gemm_cpu.h"
#ifdef CKERAS_WITH_CUDA
#include "gemm_cuda.h"
#endif

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
    b->Args({1, 128, 784, 0, 0, 0});  // one-sample inference: x (1, 784) @ W (784, 128), the small-M path
    b->Args({1024, 128, 784, 0, 0, 0})->Args({1024, 64, 784, 0, 0, 0});  // predict at batch 1024: E1, E2/E3
    b->Args({1024, 10, 128, 0, 0, 0})->Args({1024, 10, 64, 0, 0, 0});  // predict's output layer: E1, E3
    b->Args({32, 10, 128, 0, 0, 0})->Args({32, 128, 10, 0, 1, 0})->Args({128, 10, 32, 1, 0, 0});  // E1's output layer at b32
    b->Args({1024, 1024, 1024, 0, 0, 1});  // the portable micro-kernel, for comparison
    b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_Gemm_Cpu)->Apply(gemm_args);

#if defined(__x86_64__)
// The machine's float32 FMA ceiling, to read the GEMM figures against: each OpenMP thread runs twelve independent
// chains of 8-wide FMAs (enough to cover the FMA latency) out of registers, no memory traffic. FLOPS counts
// 2 x 8 per FMA over all threads. Skipped without AVX2+FMA.
__attribute__((target("avx2,fma"))) double fma_chains(int64_t steps) {
    __m256 a0 = _mm256_set1_ps(0.f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
    __m256 a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    const __m256 m = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-3f);
    for (int64_t i = 0; i < steps; ++i) {
        a0 = _mm256_fmadd_ps(a0, m, c), a1 = _mm256_fmadd_ps(a1, m, c), a2 = _mm256_fmadd_ps(a2, m, c);
        a3 = _mm256_fmadd_ps(a3, m, c), a4 = _mm256_fmadd_ps(a4, m, c), a5 = _mm256_fmadd_ps(a5, m, c);
        a6 = _mm256_fmadd_ps(a6, m, c), a7 = _mm256_fmadd_ps(a7, m, c), a8 = _mm256_fmadd_ps(a8, m, c);
        a9 = _mm256_fmadd_ps(a9, m, c), a10 = _mm256_fmadd_ps(a10, m, c), a11 = _mm256_fmadd_ps(a11, m, c);
        // keeps the twelve chains in registers and the loop from being folded away
        __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5), "+x"(a6), "+x"(a7),
                         "+x"(a8), "+x"(a9), "+x"(a10), "+x"(a11));
    }
    const __m256 sum = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                                     _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    return double(_mm256_cvtss_f32(_mm256_add_ps(sum, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)))));
}

void BM_FmaPeak_Cpu(benchmark::State& state) {
    if (!ckeras::cpu::cpu_has_avx2_fma()) {
        state.SkipWithError("no AVX2+FMA on this CPU");
        return;
    }
    constexpr int64_t kSteps = 1 << 20;
    int threads = 1;
    double sink = 0;
    for (auto _ : state) {
#pragma omp parallel reduction(+ : sink)
        {
            sink += fma_chains(kSteps);
#ifdef _OPENMP
#pragma omp single
            threads = omp_get_num_threads();
#endif
        }
    }
    benchmark::DoNotOptimize(sink);
    state.counters["threads"] = threads;
    state.counters["FLOPS"] = benchmark::Counter(2.0 * 8 * 12 * double(kSteps) * threads * double(state.iterations()),
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FmaPeak_Cpu)->UseRealTime()->Unit(benchmark::kMillisecond);
#endif

// Args: M, N, K, trans_a, trans_b, math (0 FP32, 1 TF32, 2 BF16). One timed iteration queues `reps`
// products (enough for ~10 ms at 100 TFLOP/s, at most 200) and waits for the GPU, so small shapes
// measure the device and its launch rate rather than one host round trip. Time per product: Time / reps.
void BM_Gemm_Cuda(benchmark::State& state) {
#ifndef CKERAS_WITH_CUDA
    state.SkipWithError("CPU-only build");
#else
    using ckeras::Device;
    using ckeras::DeviceType;
    if (ckeras::cuda_device_count() == 0) {
        state.SkipWithError(("no CUDA device: " + ckeras::cuda_unavailable_reason()).c_str());
        return;
    }
    const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
    const bool ta = state.range(3) != 0, tb = state.range(4) != 0;
    const auto math = static_cast<ckeras::cuda::GemmMath>(state.range(5));
    const Device gpu{DeviceType::CUDA, 0}, host{};
    std::mt19937 rng(0);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> hA(size_t(M * K)), hB(size_t(K * N));
    for (auto& x : hA) x = u(rng);
    for (auto& x : hB) x = u(rng);
    const int64_t bytes_a = M * K * 4, bytes_b = K * N * 4, bytes_c = M * N * 4;
    void* A = ckeras::device_malloc(gpu, bytes_a);
    void* B = ckeras::device_malloc(gpu, bytes_b);
    void* C = ckeras::device_malloc(gpu, bytes_c);
    ckeras::device_copy(A, gpu, hA.data(), host, bytes_a);
    ckeras::device_copy(B, gpu, hB.data(), host, bytes_b);
    const int64_t lda = ta ? M : K, ldb = tb ? K : N;  // stored A: (K, M) if ta; stored B: (N, K) if tb
    const double flops = 2.0 * double(M) * double(N) * double(K);
    const int reps = int(std::clamp(1e12 / flops, 1.0, 200.0));
    auto gemm = [&] {
        ckeras::cuda::gemm_cuda(math, ckeras::DType::Float32, ta, tb, M, N, K, 1.0, A, lda, B, ldb, 0.0, C, N);
    };
    try {
        gemm();  // warm-up: allocator, shared-memory attributes, split-K counters
        ckeras::device_synchronize(gpu);
        for (auto _ : state) {
            for (int r = 0; r < reps; ++r) gemm();
            ckeras::device_synchronize(gpu);
        }
        state.counters["FLOPS"] =
            benchmark::Counter(flops * reps * double(state.iterations()), benchmark::Counter::kIsRate);
        state.counters["reps"] = reps;
    } catch (const ckeras::Error& e) {  // e.g. TF32 / BF16 on a GPU older than sm_80
        state.SkipWithError(e.what());
    }
    ckeras::device_free(gpu, A);
    ckeras::device_free(gpu, B);
    ckeras::device_free(gpu, C);
#endif
}

void gemm_cuda_args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"M", "N", "K", "ta", "tb", "math"});
    for (int64_t math : {0, 1, 2}) {
        b->Args({4096, 4096, 4096, 0, 0, math});
        for (int64_t batch : {32, 256}) {
            b->Args({batch, 128, 784, 0, 0, math});  // forward: X (batch, 784) @ W (784, 128)
            b->Args({batch, 784, 128, 0, 1, math});  // dX = dY (batch, 128) @ W^T, W stored (784, 128)
            b->Args({784, 128, batch, 1, 0, math});  // dW = X^T @ dY, X stored (batch, 784)
        }
    }
    b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_Gemm_Cuda)->Apply(gemm_cuda_args);

}  // namespace

BENCHMARK_MAIN();
