// Tensor-core GEMM for float32 data (sm_80+): TF32 (mma.sync m16n8k8, inputs rounded with cvt.rna)
// or BF16 (mma.sync m16n8k16, inputs rounded to bfloat16), float32 accumulation either way. Tiles of A
// and B travel global -> shared memory with cp.async in a 3-stage pipeline, kept in float32 and in the
// stored matrix's layout (so the copy never transposes); the rounding happens as fragments are read.
// Not here: Hopper's wgmma and bulk tensor copies (sm_90a), ldmatrix.
#include <cuda_bf16.h>

#include <atomic>
#include <cstring>

#include "gemm_common.cuh"

namespace ckeras::cuda {
namespace {

constexpr int kStages = 3, kBK = 32;

// ---- PTX wrappers ------------------------------------------------------------------------------
__device__ inline unsigned smem_addr(const void* p) { return unsigned(__cvta_generic_to_shared(p)); }
// 16 bytes global -> shared; only the first `bytes` are read, the rest of the 16 are zero-filled.
__device__ inline void cp_async16(float* dst, const float* src, int bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(bytes)
                 : "memory");
}
__device__ inline void cp_async4(float* dst, const float* src, int bytes) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(bytes)
                 : "memory");
}
__device__ inline void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
// Waits until at most N of this thread's committed groups are still in flight.
template <int N>
__device__ inline void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }

__device__ inline uint32_t to_tf32(float x) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
    return r;
}
// Two floats as bfloat16 (round to nearest even), `lo` in the low half: the element of lower index.
__device__ inline uint32_t to_bf16x2(float lo, float hi) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    uint32_t r;
    memcpy(&r, &v, 4);
    return r;
}

// D += A (16x8, row) @ B (8x8, col). Fragments (g = lane / 4, t = lane % 4): a = A(g, t), A(g+8, t),
// A(g, t+4), A(g+8, t+4); b = B(t, g), B(t+4, g); d = D(g, 2t), D(g, 2t+1), D(g+8, 2t), D(g+8, 2t+1).
__device__ inline void mma_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
// D += A (16x16) @ B (16x8), pairs along k in each register: a = A(g, 2t..2t+1), A(g+8, 2t..),
// A(g, 2t+8..), A(g+8, 2t+8..); b = B(2t..2t+1, g), B(2t+8..2t+9, g); d as for mma_tf32.
__device__ inline void mma_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// ---- shared-memory layout ----------------------------------------------------------------------
// Each operand's K-step tile is kept as stored: A (M, K) as BM rows of BK ("k-contiguous"), A (K, M)
// as BK rows of BM ("mn-contiguous"); B likewise. Rows are padded so that fragment reads hit 32
// distinct banks: 32-bit reads at g * LD + t need LD % 32 == 4 (k-contiguous TF32), at t * LD + g
// LD % 32 == 8 (mn-contiguous TF32); BF16 reads 64-bit pairs at g * LD + 2t (LD % 32 == 8) or 32-bit
// words at 2t * LD + g (LD % 32 == 4). Every padded row stays a multiple of 16 bytes for cp.async.
template <int BM, int BN, int WM, int WN, bool TA, bool TB, bool BF16>
struct MmaTile {
    static constexpr int kThreads = WM * WN * 32;
    static constexpr int kPadK = BF16 ? 8 : 4, kPadMN = BF16 ? 4 : 8;
    static constexpr int kLdA = TA ? BM + kPadMN : kBK + kPadK, kRowsA = TA ? kBK : BM;
    static constexpr int kLdB = TB ? kBK + kPadK : BN + kPadMN, kRowsB = TB ? BN : kBK;
    static constexpr int kSizeA = kRowsA * kLdA, kSizeB = kRowsB * kLdB;  // floats per stage
    static constexpr int kSmemBytes = kStages * (kSizeA + kSizeB) * int(sizeof(float));
};

// Queues the copy of a ROWS x COLS tile at g (row stride ld) into shared s (row stride LD): rows >= rows
// or columns >= cols are zero-filled. VEC: 16-byte copies (g and ld multiples of 4 floats, g 16-byte
// aligned); else 4-byte copies. base: any readable address, given for copies that read nothing.
template <int ROWS, int COLS, int LD, int NT, bool VEC>
__device__ inline void copy_tile(float* s, const float* base, const float* g, int64_t ld, int rows, int cols,
                                 int tid) {
    // Each thread copies one column (of 16-byte pieces, or of floats) at rows r0, r0 + kStep, ...
    constexpr int kWidth = VEC ? 4 : 1, kPerRow = COLS / kWidth, kStep = NT / kPerRow;
    static_assert(NT % kPerRow == 0 && ROWS % kStep == 0, "tile copy");
    const int c = tid % kPerRow * kWidth, r0 = tid / kPerRow;
    const int n = max(0, min(kWidth, cols - c));  // elements of this column inside the matrix
    const float* src = g + int64_t(r0) * ld + c;
#pragma unroll
    for (int l = 0; l < ROWS / kStep; ++l) {
        const int r = r0 + l * kStep, bytes = r < rows ? n * 4 : 0;
        const float* from = bytes > 0 ? src + int64_t(l) * kStep * ld : base;
        if constexpr (VEC) cp_async16(s + r * LD + c, from, bytes);
        else cp_async4(s + r * LD + c, from, bytes);
    }
}

// One block: a BM x BN tile of C with WM x WN warps, each warp a (BM / WM) x (BN / WN) piece made of
// 16x8 MMA tiles. TA / TB: A stored (K, M) / B stored (N, K).
template <int BM, int BN, int WM, int WN, bool TA, bool TB, bool VEC, bool BF16>
__global__ void __launch_bounds__(WM * WN * 32, 512 / (WM * WN * 32))
    gemm_mma_kernel(const GemmParams<float> p) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    using L = MmaTile<BM, BN, WM, WN, TA, TB, BF16>;
    constexpr int NT = L::kThreads, WTM = BM / WM, WTN = BN / WN, MT = WTM / 16, NTL = WTN / 8;
    extern __shared__ float4 smem4[];
    float* const sa = reinterpret_cast<float*>(smem4);
    float* const sb = sa + kStages * L::kSizeA;

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;
    const int wm0 = warp / WN * WTM, wn0 = warp % WN * WTN;
    int m0, n0;
    tile_origin<BM, BN>(p.tiles_m, p.tiles_n, m0, n0);
    const int k_begin = blockIdx.y * p.k_chunk, k_end = min(p.K, k_begin + p.k_chunk);
    const int steps = (k_end - k_begin + kBK - 1) / kBK;

    auto load_stage = [&](int stage, int k0) {
        float* a = sa + stage * L::kSizeA;
        float* b = sb + stage * L::kSizeB;
        const int kv = k_end - k0;
        if (TA) copy_tile<kBK, BM, L::kLdA, NT, VEC>(a, p.A, p.A + int64_t(k0) * p.lda + m0, p.lda, kv, p.M - m0, tid);
        else copy_tile<BM, kBK, L::kLdA, NT, VEC>(a, p.A, p.A + int64_t(m0) * p.lda + k0, p.lda, p.M - m0, kv, tid);
        if (TB) copy_tile<BN, kBK, L::kLdB, NT, VEC>(b, p.B, p.B + int64_t(n0) * p.ldb + k0, p.ldb, p.N - n0, kv, tid);
        else copy_tile<kBK, BN, L::kLdB, NT, VEC>(b, p.B, p.B + int64_t(k0) * p.ldb + n0, p.ldb, kv, p.N - n0, tid);
    };
    // op(A)(m, k) and op(B)(k, n) of one stage; pairs (k, k + 1) for BF16 (k even).
    auto a_at = [](const float* a, int m, int k) { return TA ? a[k * L::kLdA + m] : a[m * L::kLdA + k]; };
    auto b_at = [](const float* b, int k, int n) { return TB ? b[n * L::kLdB + k] : b[k * L::kLdB + n]; };
    auto a_pair = [&](const float* a, int m, int k) {
        if (TA) return to_bf16x2(a_at(a, m, k), a_at(a, m, k + 1));
        const float2 v = *reinterpret_cast<const float2*>(a + m * L::kLdA + k);
        return to_bf16x2(v.x, v.y);
    };
    auto b_pair = [&](const float* b, int k, int n) {
        if (!TB) return to_bf16x2(b_at(b, k, n), b_at(b, k + 1, n));
        const float2 v = *reinterpret_cast<const float2*>(b + n * L::kLdB + k);
        return to_bf16x2(v.x, v.y);
    };

    float acc[MT][NTL][4];
#pragma unroll
    for (int i = 0; i < MT; ++i)
#pragma unroll
        for (int j = 0; j < NTL; ++j)
#pragma unroll
            for (int q = 0; q < 4; ++q) acc[i][j][q] = 0.f;

    // Pipeline: stage s % kStages holds K step s. Before step s is used, its copy is waited for and a
    // barrier publishes it; the same barrier tells that every warp is done with step s - 1, whose buffer
    // then receives step s + kStages - 1. A group is committed every step (empty past the end) so that
    // "at most kStages - 2 in flight" always means "step s has landed".
#pragma unroll
    for (int s = 0; s < kStages - 1; ++s) {
        if (s < steps) load_stage(s, k_begin + s * kBK);
        cp_async_commit();
    }
    for (int s = 0; s < steps; ++s) {
        cp_async_wait<kStages - 2>();
        __syncthreads();
        const int next = s + kStages - 1;
        if (next < steps) load_stage(next % kStages, k_begin + next * kBK);
        cp_async_commit();
        const float* a = sa + (s % kStages) * L::kSizeA;
        const float* b = sb + (s % kStages) * L::kSizeB;
#pragma unroll
        for (int kk = 0; kk < kBK; kk += BF16 ? 16 : 8) {
            uint32_t af[MT][4], bf[NTL][2];
#pragma unroll
            for (int i = 0; i < MT; ++i) {
                const int m = wm0 + i * 16 + g;
                if constexpr (BF16) {
                    const int k = kk + 2 * t;
                    af[i][0] = a_pair(a, m, k), af[i][1] = a_pair(a, m + 8, k);
                    af[i][2] = a_pair(a, m, k + 8), af[i][3] = a_pair(a, m + 8, k + 8);
                } else {
                    af[i][0] = to_tf32(a_at(a, m, kk + t)), af[i][1] = to_tf32(a_at(a, m + 8, kk + t));
                    af[i][2] = to_tf32(a_at(a, m, kk + t + 4)), af[i][3] = to_tf32(a_at(a, m + 8, kk + t + 4));
                }
            }
#pragma unroll
            for (int j = 0; j < NTL; ++j) {
                const int n = wn0 + j * 8 + g;
                if constexpr (BF16) {
                    bf[j][0] = b_pair(b, kk + 2 * t, n), bf[j][1] = b_pair(b, kk + 2 * t + 8, n);
                } else {
                    bf[j][0] = to_tf32(b_at(b, kk + t, n)), bf[j][1] = to_tf32(b_at(b, kk + t + 4, n));
                }
            }
#pragma unroll
            for (int i = 0; i < MT; ++i)
#pragma unroll
                for (int j = 0; j < NTL; ++j) {
                    if constexpr (BF16) mma_bf16(acc[i][j], af[i], bf[j]);
                    else mma_tf32(acc[i][j], af[i], bf[j]);
                }
        }
    }
    cp_async_wait<0>();

#pragma unroll
    for (int i = 0; i < MT; ++i)
#pragma unroll
        for (int j = 0; j < NTL; ++j)
#pragma unroll
            for (int q = 0; q < 4; ++q) {
                const int gi = m0 + wm0 + i * 16 + g + (q >> 1) * 8, gj = n0 + wn0 + j * 8 + 2 * t + (q & 1);
                if (gi < p.M && gj < p.N) emit(p, gi, gj, acc[i][j][q]);
            }
    split_k_finish<float, BM, BN, NT>(p, m0, n0);
#else
    __trap();  // the host never launches it below sm_80
#endif
}

// Launches one instantiation; the first launch on each device raises its dynamic shared-memory limit.
template <int BM, int BN, int WM, int WN, bool TA, bool TB, bool VEC, bool BF16>
void launch_one(const GemmParams<float>& p, dim3 grid) {
    constexpr int bytes = MmaTile<BM, BN, WM, WN, TA, TB, BF16>::kSmemBytes;
    auto kernel = gemm_mma_kernel<BM, BN, WM, WN, TA, TB, VEC, BF16>;
    static std::atomic<uint64_t> raised{0};  // one bit per device index below 64
    int dev = 0;
    CKERAS_CUDA_CHECK(cudaGetDevice(&dev));
    const uint64_t bit = dev < 64 ? uint64_t(1) << dev : 0;
    if (bit == 0 || !(raised.load() & bit)) {
        CKERAS_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
        raised.fetch_or(bit);
    }
    kernel<<<grid, WM * WN * 32, bytes, stream()>>>(p);
    CKERAS_CUDA_LAUNCHED("matmul (gemm_mma)");
}

template <int BM, int BN, int WM, int WN, bool VEC, bool BF16>
void launch(const GemmArgs& a, const GemmPlan& plan) {
    std::shared_ptr<void> hold;
    const GemmParams<float> p = gemm_params<float>(a, plan, &hold);
    const dim3 grid = gemm_grid(plan);
    if (!a.ta && !a.tb) return launch_one<BM, BN, WM, WN, false, false, VEC, BF16>(p, grid);
    if (!a.ta && a.tb) return launch_one<BM, BN, WM, WN, false, true, VEC, BF16>(p, grid);
    if (a.ta && !a.tb) return launch_one<BM, BN, WM, WN, true, false, VEC, BF16>(p, grid);
    return launch_one<BM, BN, WM, WN, true, true, VEC, BF16>(p, grid);
}

// 128x128 tiles with 2x4 warps of 64x32 (256 threads) for large products; 64x64 with 2x2 warps of
// 32x32 (128 threads) plus a split of K for small ones (kmin: untuned guesses, as in gemm_simt.cu).
// Operands that cannot be copied in 16-byte pieces (a row stride not a multiple of 4, or a pointer not
// 16-byte aligned) take 4-byte copies and the small tile only: ptxas spills the large one then.
constexpr TileShape kShapes[] = {{128, 128, kBK, 256}, {64, 64, kBK, 64}};
// The largest shared-memory need of each shape (BF16 with A (M, K) and B (N, K)).
constexpr int kSmemLarge = MmaTile<128, 128, 2, 4, false, true, true>::kSmemBytes;
constexpr int kSmemSmall = MmaTile<64, 64, 2, 2, false, true, true>::kSmemBytes;

bool aligned16(const void* ptr, int64_t ld) { return reinterpret_cast<uintptr_t>(ptr) % 16 == 0 && ld % 4 == 0; }

}  // namespace

void gemm_mma_cuda(GemmMath math, const GemmArgs& a) {
    const DeviceCaps& caps = device_caps();
    CKERAS_CHECK_KIND(NotImplemented, caps.smem_optin >= kSmemSmall, "gemm: the tensor-core kernels need ",
                      kSmemSmall, " bytes of shared memory per block; this GPU allows ", caps.smem_optin);
    const bool vec = aligned16(a.A, a.lda) && aligned16(a.B, a.ldb);
    // The small tile only, without 16-byte copies or without room for the large tile (~100 KB GPUs).
    const bool large_ok = vec && caps.smem_optin >= kSmemLarge;
    GemmPlan plan = plan_gemm(a.M, a.N, a.K, large_ok ? kShapes : kShapes + 1, large_ok ? 2 : 1);
    if (!large_ok) plan.shape = 1;
    const bool bf16 = math == GemmMath::BF16;
    if (plan.shape == 0)
        return bf16 ? launch<128, 128, 2, 4, true, true>(a, plan) : launch<128, 128, 2, 4, true, false>(a, plan);
    if (vec) return bf16 ? launch<64, 64, 2, 2, true, true>(a, plan) : launch<64, 64, 2, 2, true, false>(a, plan);
    return bf16 ? launch<64, 64, 2, 2, false, true>(a, plan) : launch<64, 64, 2, 2, false, false>(a, plan);
}

}  // namespace ckeras::cuda
