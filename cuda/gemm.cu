// CUDA GEMM entry point (KernelTable::gemm and gemm_cuda): handles the products that multiply
// nothing (M or N zero: no-op; K zero or alpha zero: C = beta * C), picks the kernel family by dtype
// and math mode, and holds what the families share on the host: the tile/split planner, the split-K
// workspace and arrival counters, and the per-device facts they read. Kernels: gemm_simt.cu (FP32,
// FP64 on CUDA cores), gemm_tf32.cu (TF32 / BF16 tensor cores).
#include <algorithm>
#include <climits>
#include <mutex>

#include "ckeras/device.h"
#include "ckeras/kernels.h"
#include "gemm_common.cuh"

namespace ckeras::cuda {
namespace {

constexpr int kMaxDevices = 64;
constexpr int kMaxSplits = 32;
// Arrival counters per device: K is split only for grids of fewer tiles than SMs, far below this.
// One set per device is enough because every ckeras launch on a device goes on its one stream
// (cuda::stream()), so split-K launches never overlap; per-thread streams would need a set each.
constexpr int kCounterTiles = 4096;

// C = beta * C over (M, N) with row stride ldc; beta == 0 writes zeros without reading C.
template <class T>
__global__ void gemm_scale_kernel(T* C, int64_t M, int64_t N, int64_t ldc, T beta) {
    const int64_t n = M * N, stride = int64_t(gridDim.x) * blockDim.x;
    for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += stride) {
        T* c = C + e / N * ldc + e % N;
        *c = beta == T(0) ? T(0) : beta * *c;
    }
}

template <class T>
void scale_c(void* C, int64_t M, int64_t N, int64_t ldc, double beta) {
    gemm_scale_kernel<T><<<grid_for(M * N), kBlock, 0, stream()>>>(static_cast<T*>(C), M, N, ldc, T(beta));
    CKERAS_CUDA_LAUNCHED("matmul (gemm scale)");
}

int current_device() {
    int dev = 0;
    CKERAS_CUDA_CHECK(cudaGetDevice(&dev));
    CKERAS_CHECK_KIND(NotImplemented, dev < kMaxDevices, "gemm: device index ", dev, " is above ", kMaxDevices - 1);
    return dev;
}

void gemm_slot(DType dtype, bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const void* A,
               int64_t lda, const void* B, int64_t ldb, double beta, void* C, int64_t ldc) {
    const bool tf32 = dtype == DType::Float32 && tensor_float32_enabled() && device_caps().major >= 8;
    gemm_cuda(tf32 ? GemmMath::TF32 : GemmMath::FP32, dtype, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace

const DeviceCaps& device_caps() {
    static std::mutex mu;
    static DeviceCaps caps[kMaxDevices];
    static bool known[kMaxDevices] = {};
    const int dev = current_device();
    std::lock_guard<std::mutex> lock(mu);
    if (!known[dev]) {
        CKERAS_CUDA_CHECK(cudaDeviceGetAttribute(&caps[dev].major, cudaDevAttrComputeCapabilityMajor, dev));
        CKERAS_CUDA_CHECK(
            cudaDeviceGetAttribute(&caps[dev].smem_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
        known[dev] = true;
    }
    return caps[dev];
}

GemmPlan plan_gemm(int M, int N, int K, const TileShape* shapes, int count) {
    const int64_t sms = sm_count();
    for (int s = 0; s < count; ++s) {
        const TileShape& sh = shapes[s];
        const int64_t tiles_m = ceil_div<int64_t>(M, sh.bm), tiles_n = ceil_div<int64_t>(N, sh.bn);
        const int64_t tiles = tiles_m * tiles_n;
        int64_t splits = 1;
        if (tiles < sms) {
            const int64_t want = ceil_div<int64_t>(sms, tiles);      // splits for one block per SM
            const int64_t can = std::max<int64_t>(1, K / sh.kmin);  // splits that keep kmin each
            if (want > can && s + 1 < count) continue;              // a smaller tile fills the GPU better
            splits = std::min<int64_t>({want, can, kMaxSplits});
        }
        CKERAS_CHECK_KIND(NotImplemented, tiles <= INT_MAX, "gemm: ", M, "x", N, " is too large for one launch");
        // K pieces are whole K steps; recount so that no split is empty.
        const int64_t chunk = ceil_div<int64_t>(ceil_div<int64_t>(K, splits), sh.bk) * sh.bk;
        splits = ceil_div<int64_t>(K, chunk);
        return GemmPlan{s, int(tiles_m), int(tiles_n), int(splits), int(chunk)};
    }
    throw_error(ErrorKind::Runtime, "internal error: plan_gemm was given no tile shape");
}

void* gemm_workspace(const GemmPlan& plan, int M, int N, size_t elem_size, std::shared_ptr<void>* hold) {
    if (plan.splits == 1) return nullptr;
    CKERAS_ASSERT(int64_t(plan.tiles_m) * plan.tiles_n <= kCounterTiles);
    *hold = scratch(int64_t(plan.splits) * M * N * int64_t(elem_size));
    return hold->get();
}

int* gemm_tile_counters() {
    static std::mutex mu;
    static int* counters[kMaxDevices] = {};
    const int dev = current_device();
    std::lock_guard<std::mutex> lock(mu);
    if (counters[dev] == nullptr) {
        // Kept for the life of the process (16 KiB); zeroed once on the stream, and every split-K
        // launch leaves them zero again (the last block of a tile resets its counter).
        int* p = nullptr;
        CKERAS_CUDA_CHECK(cudaMalloc(&p, kCounterTiles * sizeof(int)));
        CKERAS_CUDA_CHECK(cudaMemsetAsync(p, 0, kCounterTiles * sizeof(int), stream()));
        counters[dev] = p;
    }
    return counters[dev];
}

void gemm_cuda(GemmMath math, DType dtype, bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
               const void* A, int64_t lda, const void* B, int64_t ldb, double beta, void* C, int64_t ldc) {
    CKERAS_CHECK_KIND(Type, dtype == DType::Float32 || dtype == DType::Float64,
                      "gemm: the CUDA kernel takes float32 or float64, got ", dtype);
    if (M <= 0 || N <= 0) return;
    // As the CPU kernel: alpha is compared in the element type, and an all-zero product reads nothing.
    const bool no_product = K <= 0 || (dtype == DType::Float32 ? float(alpha) == 0.f : alpha == 0.0);
    if (no_product) return dtype == DType::Float32 ? scale_c<float>(C, M, N, ldc, beta)
                                                   : scale_c<double>(C, M, N, ldc, beta);
    CKERAS_CHECK_KIND(NotImplemented, M <= INT_MAX && N <= INT_MAX && K <= INT_MAX,
                      "gemm: CUDA kernels take dimensions below 2^31, got M=", M, " N=", N, " K=", K);
    const GemmArgs args{ta, tb, int(M), int(N), int(K), alpha, beta, A, lda, B, ldb, C, ldc};
    if (dtype == DType::Float32 && math != GemmMath::FP32) {
        CKERAS_CHECK_KIND(NotImplemented, device_caps().major >= 8,
                          "gemm: TF32 and BF16 tensor-core math need an sm_80 or newer GPU");
        return gemm_mma_cuda(math, args);
    }
    gemm_simt_cuda(dtype, args);
}

void register_gemm_cuda(KernelTable& table) { table.gemm = gemm_slot; }

}  // namespace ckeras::cuda
