// Runs the emulated CUDA GEMM against a double-precision reference over shapes, transposes, strides
// and math modes; run.sh repeats it over SM counts (CKERAS_EMU_SM_COUNT steers the tile and split-K
// choice) and a smaller shared-memory limit. Device memory is host memory on the emulated device.
//     gemm_harness [sweep|split-k|edges|small-smem] [mode]    mode: 0 FP32, 1 TF32, 2 BF16, 3 FP64
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>
#include "gemm_cuda.h"
#include "ckeras/kernels.h"
using namespace ckeras;
int failures = 0, cases = 0;

template <class T>
void run(cuda::GemmMath math, int64_t M, int64_t N, int64_t K, bool ta, bool tb, double alpha, double beta,
         int64_t pad, int64_t off) {
    std::mt19937 rng(unsigned(M * 7 + N * 13 + K));
    std::uniform_real_distribution<double> u(-1, 1);
    const double nan = std::nan("");
    const int64_t ra = ta ? K : M, ca = ta ? M : K, rb = tb ? N : K, cb = tb ? K : N;
    const int64_t lda = ca + pad, ldb = cb + pad, ldc = N + pad;
    std::vector<T> A(size_t(off + ra * lda + 1), T(nan)), B(size_t(off + rb * ldb + 1), T(nan)), C(size_t(M * ldc + 1), T(7.25));
    for (int64_t r = 0; r < ra; ++r) for (int64_t c = 0; c < ca; ++c) A[size_t(off + r * lda + c)] = T(u(rng));
    for (int64_t r = 0; r < rb; ++r) for (int64_t c = 0; c < cb; ++c) B[size_t(off + r * ldb + c)] = T(u(rng));
    for (int64_t i = 0; i < M; ++i) for (int64_t j = 0; j < N; ++j) C[size_t(i * ldc + j)] = beta == 0 ? T(nan) : T(u(rng));
    std::vector<T> C0 = C;
    const DType dt = sizeof(T) == 4 ? DType::Float32 : DType::Float64;
    cuda::gemm_cuda(math, dt, ta, tb, M, N, K, alpha, A.data() + off, lda, B.data() + off, ldb, beta, C.data(), ldc);
    // The emulator rounds inputs as the hardware does, so the reference rounds them too and every path
    // is held to float32 accumulation error.
    const bool f32 = sizeof(T) == 4;
    auto rnd = [&](T x) -> double {
        if (!f32 || math == cuda::GemmMath::FP32 || std::isnan(double(x))) return double(x);
        float f = float(x); uint32_t b; std::memcpy(&b, &f, 4);
        if (math == cuda::GemmMath::TF32) b = (b + 0x1000u) & 0xFFFFE000u;
        else b = ((b + 0x7FFFu + ((b >> 16) & 1u)) >> 16) << 16;
        std::memcpy(&f, &b, 4); return double(f);
    };
    const double tol = sizeof(T) == 8 ? 1e-12 : 3e-6 * std::sqrt(double(K) + 1);
    int bad = 0;
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < ldc; ++j) {
            const size_t e = size_t(i * ldc + j);
            if (j >= N) { if (!(C[e] == T(7.25))) ++bad; continue; }
            double s = 0, sabs = 0;
            for (int64_t k = 0; k < K; ++k) {
                double a = rnd(A[size_t(off + (ta ? k * lda + i : i * lda + k))]), b = rnd(B[size_t(off + (tb ? j * ldb + k : k * ldb + j))]);
                s += a * b; sabs += std::fabs(a * b);
            }
            double want = alpha == 0 || K == 0 ? (beta == 0 ? 0 : beta * C0[e]) : (beta == 0 ? alpha * s : alpha * s + beta * C0[e]);
            double scale = std::fabs(alpha) * sabs + (beta == 0 ? 0 : std::fabs(beta * C0[e]));
            if (!(std::fabs(double(C[e]) - want) <= tol * scale + 1e-30)) {
                if (bad < 3) printf("   C(%ld,%ld) got %g want %g\n", long(i), long(j), double(C[e]), want);
                ++bad;
            }
        }
    ++cases;
    if (bad) {
        ++failures;
        printf("FAIL math=%d f%d %ldx%ldx%ld ta=%d tb=%d a=%g b=%g pad=%ld off=%ld: %d bad\n", int(math), int(8 * sizeof(T)),
               long(M), long(N), long(K), ta, tb, alpha, beta, long(pad), long(off), bad);
    }
}

template <class... A>
void run_mode(int mode, int64_t M, int64_t N, int64_t K, bool ta, bool tb, A... rest) {
    if (mode == 3) run<double>(cuda::GemmMath::FP32, M, N, K, ta, tb, rest...);
    else run<float>(cuda::GemmMath(mode), M, N, K, ta, tb, rest...);
}

int main(int argc, char** argv) {
    const std::string part = argc > 1 ? argv[1] : "sweep";
    const int which = argc > 2 ? atoi(argv[2]) : -1;
    const char* sms = std::getenv("CKERAS_EMU_SM_COUNT");
    struct S { int64_t M, N, K; };
    if (part == "sweep") {
        const std::vector<S> shapes = {{1, 1, 1}, {7, 33, 127}, {33, 70, 45}, {130, 65, 96}, {64, 64, 257}, {20, 140, 300}};
        for (auto s : shapes)
            for (int t = 0; t < 4; ++t)
                for (int mode = 0; mode < 4; ++mode) {
                    if (which >= 0 && mode != which) continue;
                    for (int64_t pad : {0, 3}) {
                        const double alpha = pad ? -0.5 : 1.0, beta = pad ? 1.5 : 0.0;
                        run_mode(mode, s.M, s.N, s.K, t & 2, t & 1, alpha, beta, pad, int64_t(pad == 3 ? 1 : 0));
                    }
                }
    } else if (part == "split-k") {  // the larger tiles, K split across blocks
        for (int mode = 0; mode < 4; ++mode) {
            if (which >= 0 && mode != which) continue;
            for (auto s : std::vector<S>{{130, 130, 1100}, {100, 100, 600}, {70, 70, 300}})
                for (int t = 0; t < 4; t += 3) run_mode(mode, s.M, s.N, s.K, t & 2, t & 1, 1.0, 0.5, int64_t(4), int64_t(0));
        }
    } else if (part == "edges") {  // K == 0, alpha == 0, M == 0
        run<float>(cuda::GemmMath::TF32, 5, 9, 0, false, false, 1.0, 0.0, 2, 0);
        run<float>(cuda::GemmMath::FP32, 5, 9, 0, true, true, 1.0, -0.5, 2, 0);
        run<float>(cuda::GemmMath::FP32, 5, 9, 3, true, true, 0.0, -0.5, 2, 0);
        run<double>(cuda::GemmMath::FP32, 0, 9, 3, true, true, 1.0, 0.0, 2, 0);
    } else if (part == "small-smem") {  // run with CKERAS_EMU_SMEM_OPTIN=101376: the small tile only
        run<float>(cuda::GemmMath::BF16, 130, 140, 70, false, true, 1.0, 0.0, 0, 0);
        run<float>(cuda::GemmMath::TF32, 130, 140, 70, true, false, 1.0, 0.0, 0, 0);
    } else {
        printf("unknown part %s\n", part.c_str());
        return 2;
    }
    printf("%s (sms=%s): %d cases, %d failures\n", part.c_str(), sms ? sms : "default", cases, failures);
    return failures != 0;
}
