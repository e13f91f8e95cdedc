// Google Benchmark for the float32 unary kernels, single thread, 16M elements (64 MiB in, 64 MiB out):
// exp, sigmoid, tanh, gelu (exact) and relu forward through four paths: the reference formulas of
// elementwise_cpu.cpp written with std:: (as the scalar fallback runs them), and the baseline,
// AVX2+FMA and AVX-512 builds of unary_vec_impl.h. Reports bytes/s counting one read and one write
// per element.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "ckeras/kernels.h"
#include "cpu/gemm_cpu.h"
#include "cpu/unary_vec.h"

namespace {

using ckeras::UnaryOp;

constexpr int64_t kN = int64_t(1) << 24;

enum class Path { Reference, Generic, Avx2, Avx512 };

float sigmoid_ref(float x) {
    if (x >= 0) return 1.f / (1.f + std::exp(-x));
    const float e = std::exp(x);
    return e / (1.f + e);
}

// The reference loop of unary_fn<float> for the benchmarked ops.
void reference(UnaryOp op, float* out, const float* x, int64_t n) {
    switch (op) {
        case UnaryOp::Exp: for (int64_t i = 0; i < n; ++i) out[i] = std::exp(x[i]); break;
        case UnaryOp::Sigmoid: for (int64_t i = 0; i < n; ++i) out[i] = sigmoid_ref(x[i]); break;
        case UnaryOp::Tanh: for (int64_t i = 0; i < n; ++i) out[i] = std::tanh(x[i]); break;
        case UnaryOp::GeluExact:
            for (int64_t i = 0; i < n; ++i) out[i] = 0.5f * x[i] * (1.f + std::erf(x[i] * 0.70710678f));
            break;
        case UnaryOp::Relu: for (int64_t i = 0; i < n; ++i) out[i] = x[i] < 0 ? 0.f : x[i]; break;
        default: break;
    }
}

void run_unary(benchmark::State& state, UnaryOp op, Path path) {
    if (path == Path::Avx2 && !ckeras::cpu::cpu_has_avx2_fma()) {
        state.SkipWithError("this CPU has no AVX2+FMA");
        return;
    }
    if (path == Path::Avx512 && !ckeras::cpu::cpu_has_avx512()) {
        state.SkipWithError("this CPU has no AVX-512");
        return;
    }
    std::vector<float> x(kN), y(kN);
    std::mt19937 rng(0);
    std::uniform_real_distribution<float> u(-8.f, 8.f);
    for (auto& v : x) v = u(rng);
    for (auto _ : state) {
        switch (path) {
            case Path::Reference: reference(op, y.data(), x.data(), kN); break;
            case Path::Generic: ckeras::cpu::generic::unary_f32(op, y.data(), x.data(), kN, 0.f, 0.f); break;
            case Path::Avx2: ckeras::cpu::avx2::unary_f32(op, y.data(), x.data(), kN, 0.f, 0.f); break;
            case Path::Avx512: ckeras::cpu::avx512::unary_f32(op, y.data(), x.data(), kN, 0.f, 0.f); break;
        }
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() * 2 * kN * int64_t(sizeof(float)));
}

#define CKERAS_BENCH_UNARY(Name, op)                                                              \
    void BM_##Name##_Cpu(benchmark::State& state, Path path) { run_unary(state, op, path); }     \
    BENCHMARK_CAPTURE(BM_##Name##_Cpu, reference, Path::Reference)->UseRealTime()->Unit(benchmark::kMillisecond); \
    BENCHMARK_CAPTURE(BM_##Name##_Cpu, generic, Path::Generic)->UseRealTime()->Unit(benchmark::kMillisecond);     \
    BENCHMARK_CAPTURE(BM_##Name##_Cpu, avx2, Path::Avx2)->UseRealTime()->Unit(benchmark::kMillisecond);         \
    BENCHMARK_CAPTURE(BM_##Name##_Cpu, avx512, Path::Avx512)->UseRealTime()->Unit(benchmark::kMillisecond);

CKERAS_BENCH_UNARY(Exp, UnaryOp::Exp)
CKERAS_BENCH_UNARY(Sigmoid, UnaryOp::Sigmoid)
CKERAS_BENCH_UNARY(Tanh, UnaryOp::Tanh)
CKERAS_BENCH_UNARY(Gelu, UnaryOp::GeluExact)
CKERAS_BENCH_UNARY(Relu, UnaryOp::Relu)

}  // namespace

BENCHMARK_MAIN();
