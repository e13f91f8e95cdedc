// Tests for the CUDA GEMM (cuda/gemm*.cu) against the CPU table's gemm on the same inputs: every
// transpose combination, odd, tiny and article-sized shapes (with their backward products), alpha and
// beta (beta == 0 over a NaN-filled C), K == 0, alpha == 0, row strides wider than the rows, split-K
// determinism, NaN flow and unaligned operands, for the FP32, TF32 and BF16 paths and float64. Every
// test skips without a real CUDA device; the explicit math paths need a CUDA build (gemm_cuda.h).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "ckeras/device.h"
#include "ckeras/error.h"
#include "ckeras/kernels.h"
#include "ckeras/ops.h"
#include "ckeras/tensor.h"
#ifdef CKERAS_WITH_CUDA
#include "gemm_cuda.h"
#endif

namespace ckeras {
namespace {

#define SKIP_WITHOUT_GPU()                                                                     \
    do {                                                                                       \
        if (cuda_device_count() == 0 || accelerator().is_fake()) GTEST_SKIP() << "no CUDA device"; \
    } while (0)

const Device kGpu{DeviceType::CUDA, 0};
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// Which kernel runs: the KernelTable slot (its math follows tensor_float32_enabled()), or one math
// mode forced through gemm_cuda.
enum class Path { Slot, FP32, TF32, BF16 };

const char* path_name(Path p) {
    return p == Path::Slot ? "slot" : p == Path::FP32 ? "fp32" : p == Path::TF32 ? "tf32" : "bf16";
}

// Error bound, relative to s_ij = |alpha| sum_k |op(A)_ik op(B)_kj| + |beta C_ij| (the scale every
// rounding error of the sum is proportional to; a wrong or missing term is off by a sizeable fraction
// of it). FP32 against FP32 in another summation order: rounding errors grow like sqrt(K) u with
// u = 6e-8; 1e-5 sqrt(K) leaves ~100x room yet flags one term of K <= 1e4 lost. float64 likewise with
// u = 1.1e-16. TF32 rounds each input to a 10-bit mantissa (relative error <= 2^-11 = 4.9e-4 per
// input, <= ~1e-3 per product): 1e-2. BF16 keeps 8 bits (2^-8 = 3.9e-3 per input, <= ~7.8e-3 per
// product): 2e-2.
double tolerance(Path path, bool f64, int64_t K) {
    const double root = std::sqrt(double(std::max<int64_t>(K, 1)));
    if (f64) return 1e-13 * root;
    if (path == Path::TF32) return 1e-2;
    if (path == Path::BF16) return 2e-2;
    if (path == Path::Slot && tensor_float32_enabled()) return 1e-2;  // TF32 where the GPU has it
    return 1e-5 * root;
}

// Sets the TF32 flag for a scope.
struct Tf32Flag {
    bool prev;
    explicit Tf32Flag(bool on) : prev(tensor_float32_enabled()) { set_tensor_float32_enabled(on); }
    ~Tf32Flag() { set_tensor_float32_enabled(prev); }
};

template <class T>
Tensor upload(const std::vector<T>& v) {
    const DType dt = std::is_same_v<T, float> ? DType::Float32 : DType::Float64;
    Tensor h = Tensor::empty({std::max<int64_t>(1, int64_t(v.size()))}, dt);
    if (!v.empty()) std::memcpy(h.data_ptr(), v.data(), v.size() * sizeof(T));
    return to_device(h, kGpu);
}

template <class T>
std::vector<T> download(const Tensor& t, size_t n) {
    Tensor h = to_device(t, Device{});
    std::vector<T> v(n);
    if (n) std::memcpy(v.data(), h.data_ptr(), n * sizeof(T));
    return v;
}

// Runs the GPU gemm on device pointers; false when the path is not available (tensor cores need sm_80+).
bool gpu_gemm(Path path, DType dt, bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const void* A,
              int64_t lda, const void* B, int64_t ldb, double beta, void* C, int64_t ldc) {
    if (path == Path::Slot) {
        auto gemm = kernel_table(DeviceType::CUDA).gemm;
        EXPECT_NE(gemm, nullptr) << "CUDA gemm slot is empty";
        if (gemm) gemm(dt, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return gemm != nullptr;
    }
#ifdef CKERAS_WITH_CUDA
    using cuda::GemmMath;
    const GemmMath math = path == Path::FP32 ? GemmMath::FP32 : path == Path::TF32 ? GemmMath::TF32 : GemmMath::BF16;
    try {
        cuda::gemm_cuda(math, dt, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::NotImplemented) throw;
        return false;
    }
    return true;
#else
    return false;
#endif
}

// Whether `path` runs on this build and GPU (one 1x1x1 product).
bool path_available(Path path) {
    Tensor one = upload(std::vector<float>{1.f}), out = upload(std::vector<float>{0.f});
    return gpu_gemm(path, DType::Float32, false, false, 1, 1, 1, 1.0, one.data_ptr(), 1, one.data_ptr(), 1, 0.0,
                    out.data_ptr(), 1);
}

// The float32 paths a test can force: each math mode in CUDA builds, else the slot alone.
std::vector<Path> float_paths() {
#ifdef CKERAS_WITH_CUDA
    std::vector<Path> paths;
    for (Path p : {Path::FP32, Path::TF32, Path::BF16})
        if (path_available(p)) paths.push_back(p);
    return paths;
#else
    return {Path::Slot};
#endif
}

struct Case {
    int64_t M, N, K;
    bool ta, tb;
    double alpha, beta;
    int64_t pad = 0;     // extra elements at the end of every row of A, B and C (NaN / sentinel)
    int64_t offset = 0;  // elements skipped at the start of A's and B's buffers (misalignment)
    std::string str() const {
        return std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K) + (ta ? " ta" : "") +
               (tb ? " tb" : "") + " alpha=" + std::to_string(alpha) + " beta=" + std::to_string(beta) +
               " pad=" + std::to_string(pad) + " offset=" + std::to_string(offset);
    }
};

// A stored (rows, cols) matrix with row stride cols + pad, `offset` leading elements: values uniform
// in [-1, 1], padding NaN (a kernel that reads it poisons its result).
template <class T>
std::vector<T> random_matrix(int64_t rows, int64_t cols, int64_t pad, int64_t offset, std::mt19937& rng) {
    std::uniform_real_distribution<double> u(-1, 1);
    std::vector<T> v(size_t(offset + rows * (cols + pad)), T(kNaN));
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) v[size_t(offset + r * (cols + pad) + c)] = T(u(rng));
    return v;
}

// Runs one case on the GPU and on the CPU table and compares; `nan_at_a00` plants a NaN in op(A)(0, 0).
// Returns the GPU result (C with its padding) for callers that compare runs.
template <class T>
std::vector<T> check_case(const Case& c, Path path, bool nan_at_a00 = false) {
    SCOPED_TRACE(std::string(path_name(path)) + (std::is_same_v<T, double> ? " f64 " : " f32 ") + c.str());
    const DType dt = std::is_same_v<T, float> ? DType::Float32 : DType::Float64;
    std::mt19937 rng(uint32_t(c.M * 131 + c.N * 17 + c.K));
    const int64_t ra = c.ta ? c.K : c.M, ca = c.ta ? c.M : c.K, rb = c.tb ? c.N : c.K, cb = c.tb ? c.K : c.N;
    const int64_t lda = ca + c.pad, ldb = cb + c.pad, ldc = c.N + c.pad;
    std::vector<T> A = random_matrix<T>(ra, ca, c.pad, c.offset, rng);
    std::vector<T> B = random_matrix<T>(rb, cb, c.pad, c.offset, rng);
    if (nan_at_a00 && c.M > 0 && c.K > 0) A[size_t(c.offset)] = T(kNaN);
    // C: beta == 0 must ignore it, so fill it with NaN then; its padding is a sentinel that must survive.
    const T sentinel = T(12345.5);
    std::vector<T> C0 = random_matrix<T>(c.M, c.N, c.pad, 0, rng);
    for (int64_t i = 0; i < c.M; ++i)
        for (int64_t j = 0; j < ldc; ++j) {
            T& x = C0[size_t(i * ldc + j)];
            x = j >= c.N ? sentinel : c.beta == 0 ? T(kNaN) : x;
        }

    // Reference and error scale on the CPU.
    const KernelTable& cpu = kernel_table(DeviceType::CPU);
    std::vector<T> want = C0;
    if (c.M > 0 && c.N > 0)
        cpu.gemm(dt, c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data() + c.offset, lda, B.data() + c.offset, ldb, c.beta,
                 want.data(), ldc);
    std::vector<T> absA(A.size()), absB(B.size()), scale(C0.size(), T(0));
    for (size_t i = 0; i < A.size(); ++i) absA[i] = std::isnan(A[i]) ? T(0) : std::fabs(A[i]);
    for (size_t i = 0; i < B.size(); ++i) absB[i] = std::isnan(B[i]) ? T(0) : std::fabs(B[i]);
    if (c.M > 0 && c.N > 0 && c.K > 0)
        cpu.gemm(dt, c.ta, c.tb, c.M, c.N, c.K, std::fabs(c.alpha), absA.data() + c.offset, lda,
                 absB.data() + c.offset, ldb, 0.0, scale.data(), ldc);

    Tensor dA = upload(A), dB = upload(B), dC = upload(C0);
    const char* pa = static_cast<const char*>(dA.data_ptr()) + c.offset * int64_t(sizeof(T));
    const char* pb = static_cast<const char*>(dB.data_ptr()) + c.offset * int64_t(sizeof(T));
    if (!gpu_gemm(path, dt, c.ta, c.tb, c.M, c.N, c.K, c.alpha, pa, lda, pb, ldb, c.beta, dC.data_ptr(), ldc)) {
        ADD_FAILURE() << path_name(path) << " math is not available";
        return {};
    }
    std::vector<T> got = download<T>(dC, C0.size());

    const double tol = tolerance(path, std::is_same_v<T, double>, c.K);
    int failures = 0;
    for (int64_t i = 0; i < c.M && failures < 10; ++i)
        for (int64_t j = 0; j < ldc && failures < 10; ++j) {
            const size_t e = size_t(i * ldc + j);
            const double g = double(got[e]), w = double(want[e]);
            if (j >= c.N) {
                if (std::memcmp(&got[e], &sentinel, sizeof(T)) != 0)
                    ++failures, ADD_FAILURE() << "padding of C written at (" << i << ", " << j << "): " << g;
                continue;
            }
            const double bound = double(scale[e]) + (c.beta == 0 ? 0.0 : std::fabs(c.beta * double(C0[e])));
            const bool ok = std::isnan(w) ? std::isnan(g) : std::fabs(g - w) <= tol * bound + 1e-30;
            if (!ok) ++failures, ADD_FAILURE() << "C(" << i << ", " << j << "): gpu " << g << " cpu " << w;
        }
    return got;
}

// op shapes (M, N, K): tiny and odd ones, and the article's MLP (784 -> 128) at batch 32 and 256 with
// its backward products: forward (B, 128, 784), dX = dY W^T (B, 784, 128), dW = X^T dY (784, 128, B).
const std::vector<std::array<int64_t, 3>> kShapes = {
    {1, 1, 1},    {7, 33, 127},  {127, 1025, 33}, {32, 128, 784},  {32, 784, 128},
    {784, 128, 32}, {256, 128, 784}, {256, 784, 128}, {784, 128, 256}, {130, 260, 1000}, {64, 64, 4096},
};

template <class T>
void check_all_shapes(Path path) {
    for (const auto& s : kShapes)
        for (int t = 0; t < 4; ++t)
            for (const auto& ab : {std::array<double, 2>{1.0, 0.0}, std::array<double, 2>{-0.75, 1.5}}) {
                check_case<T>({s[0], s[1], s[2], (t & 2) != 0, (t & 1) != 0, ab[0], ab[1]}, path);
                if (::testing::Test::HasFailure()) return;
            }
}

TEST(CudaGemm, SlotIsRegistered) {
    SKIP_WITHOUT_GPU();
    EXPECT_NE(kernel_table(DeviceType::CUDA).gemm, nullptr);
}

TEST(CudaGemm, Fp32SlotMatchesCpu) {
    SKIP_WITHOUT_GPU();
    Tf32Flag off(false);
    check_all_shapes<float>(Path::Slot);
}

TEST(CudaGemm, Fp64SlotMatchesCpu) {
    SKIP_WITHOUT_GPU();
    check_all_shapes<double>(Path::Slot);
}

TEST(CudaGemm, Tf32SlotMatchesCpu) {
    SKIP_WITHOUT_GPU();
    Tf32Flag on(true);
    check_all_shapes<float>(Path::Slot);
}

TEST(CudaGemm, RowStridesWiderThanRows) {
    SKIP_WITHOUT_GPU();
    Tf32Flag off(false);
    std::vector<Path> paths = float_paths();
    if (paths.front() != Path::Slot) paths.push_back(Path::Slot);
    for (Path path : paths) {
        for (int t = 0; t < 4; ++t)
            for (int64_t pad : {3, 4}) {  // 3: no 16-byte copies; 4: 16-byte copies with wide rows
                check_case<float>({37, 71, 45, (t & 2) != 0, (t & 1) != 0, 1.25, 0.0, pad}, path);
                check_case<float>({300, 260, 200, (t & 2) != 0, (t & 1) != 0, 0.5, -2.0, pad}, path);
            }
        if (path == Path::Slot) check_case<double>({37, 71, 45, true, false, 1.25, 0.5, 5}, path);
    }
}

TEST(CudaGemm, EmptyAndScalingOnlyProducts) {
    SKIP_WITHOUT_GPU();
    const Case cases[] = {
        {5, 9, 0, false, false, 1.0, 0.0, 2},  // K = 0, beta = 0: zeros, even over NaN
        {5, 9, 0, true, true, 1.0, -0.5, 2},   // K = 0: C = beta C
        {0, 9, 4, false, false, 1.0, 0.0, 1},  // M = 0: nothing happens
        {5, 0, 4, false, false, 1.0, 0.0, 1},  // N = 0 (C is all padding: must stay untouched)
    };
    for (const Case& c : cases) {
        check_case<float>(c, Path::Slot);
        check_case<double>(c, Path::Slot);
    }
}

TEST(CudaGemm, AlphaZeroReadsNeitherAnorB) {
    SKIP_WITHOUT_GPU();
    // A carries a NaN; with alpha == 0 the result is beta C (BLAS semantics, as the CPU kernel).
    check_case<float>({9, 17, 13, false, false, 0.0, 0.5}, Path::Slot, /*nan_at_a00=*/true);
    check_case<double>({9, 17, 13, true, true, 0.0, 0.0}, Path::Slot, /*nan_at_a00=*/true);
}

TEST(CudaGemm, NanPropagates) {
    SKIP_WITHOUT_GPU();
    for (Path path : float_paths())
        check_case<float>({40, 50, 60, false, true, 1.0, 0.0}, path, /*nan_at_a00=*/true);  // row 0 of C is NaN
}

#ifdef CKERAS_WITH_CUDA
TEST(CudaGemm, ExplicitMathPathsMatchCpu) {
    SKIP_WITHOUT_GPU();
    for (Path path : float_paths()) check_all_shapes<float>(path);
}

TEST(CudaGemm, UnalignedOperands) {
    SKIP_WITHOUT_GPU();
    // A and B start one float past a 16-byte boundary: the tensor-core kernels copy 4 bytes at a time.
    for (Path path : float_paths())
        for (int t = 0; t < 4; ++t)
            check_case<float>({150, 140, 130, (t & 2) != 0, (t & 1) != 0, 1.0, 0.0, 0, 1}, path);
}

TEST(CudaGemm, Cube1024) {
    SKIP_WITHOUT_GPU();
    const std::vector<Path> paths = float_paths();
    for (size_t i = 0; i < paths.size(); ++i)  // FP32 nn, TF32 tn, BF16 nt
        check_case<float>({1024, 1024, 1024, i % 2 == 1, i == 2, 1.0, 0.0}, paths[i]);
    check_case<double>({1024, 1024, 1024, true, true, 1.0, 0.0}, Path::Slot);
}

TEST(CudaGemm, SplitKIsDeterministic) {
    SKIP_WITHOUT_GPU();
    // 32x128x784 splits K across blocks (few tiles); the same call twice must give the same bits, with
    // another split-K product in between (the arrival counters must be back at zero).
    for (Path path : float_paths()) {
        const Case c{32, 128, 784, false, false, 1.0, 0.0};
        std::vector<float> first = check_case<float>(c, path);
        check_case<float>({16, 40, 2000, true, true, 2.0, 1.0}, path);
        std::vector<float> second = check_case<float>(c, path);
        ASSERT_EQ(first.size(), second.size());
        EXPECT_EQ(0, std::memcmp(first.data(), second.data(), first.size() * sizeof(float))) << path_name(path);
    }
}

TEST(CudaGemm, SlotFollowsTf32Flag) {
    SKIP_WITHOUT_GPU();
    // With the flag on, the slot's float32 result is the TF32 kernel's (on sm_80+), not the FP32 one's.
    if (!path_available(Path::TF32)) GTEST_SKIP() << "no TF32 on this GPU";
    const Case c{64, 96, 512, false, false, 1.0, 0.0};
    std::vector<float> tf32 = check_case<float>(c, Path::TF32);
    std::vector<float> fp32 = check_case<float>(c, Path::FP32);
    Tf32Flag on(true);
    std::vector<float> slot_on = check_case<float>(c, Path::Slot);
    set_tensor_float32_enabled(false);
    std::vector<float> slot_off = check_case<float>(c, Path::Slot);
    EXPECT_EQ(slot_on, tf32);
    EXPECT_EQ(slot_off, fp32);
    EXPECT_NE(tf32, fp32);
}
#endif

}  // namespace
}  // namespace ckeras
