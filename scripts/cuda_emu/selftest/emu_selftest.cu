// Self-tests of the emulated CUDA device (translated by transform.py like cuda/*.cu): CUDA's semantics
// for shuffles with widths, votes, atomics, 3-D indices, block barriers, shared memory per block,
// cp.async, and that the mistakes the emulator exists to catch (a shuffle or barrier some lanes never
// reach, a trap, a bad launch, too much shared memory) become CUDA errors. Only in the emulated build.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "emu_ptx.h"

namespace emu {
int guard_mode();  // emu_guard.cpp
}

namespace ckeras {  // where shim/emu_libm.h's functions apply, as in the kernels of cuda/
__global__ void exp_kernel(float* out, const float* in, int n) {
    for (int i = threadIdx.x; i < n; i += blockDim.x) out[i] = exp(in[i]);
}
}  // namespace ckeras

namespace {

template <class T>
struct DeviceBuffer {
    T* p = nullptr;
    size_t n;
    explicit DeviceBuffer(size_t count) : n(count) { EXPECT_EQ(cudaMalloc(&p, n * sizeof(T)), cudaSuccess); }
    ~DeviceBuffer() { cudaFree(p); }
    std::vector<T> get() const {
        std::vector<T> h(n);
        EXPECT_EQ(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
        return h;
    }
};

// out[5 * t + k]: the five shuffles of thread t (two warps).
__global__ void shuffles_kernel(int* out) {
    const int t = threadIdx.x, lane = t % 32, v = 100 * t;
    out[5 * t + 0] = __shfl_sync(0xffffffffu, v, lane + 3);           // (lane + 3) % 32
    out[5 * t + 1] = __shfl_up_sync(0xffffffffu, v, 2, 8);            // within groups of 8
    out[5 * t + 2] = __shfl_down_sync(0xffffffffu, v, 5, 16);         // within groups of 16
    out[5 * t + 3] = __shfl_xor_sync(0xffffffffu, v, 9);              // any lane of the warp
    out[5 * t + 4] = __shfl_xor_sync(0xffffffffu, v, 8, 8);           // later groups: own value
}

TEST(EmuSelfTest, ShufflesFollowCudaSemantics) {
    DeviceBuffer<int> out(64 * 5);
    shuffles_kernel<<<1, 64>>>(out.p);
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    const std::vector<int> h = out.get();
    for (int t = 0; t < 64; ++t) {
        const int lane = t % 32, base = t - lane;
        EXPECT_EQ(h[5 * t + 0], 100 * (base + (lane + 3) % 32)) << t;
        EXPECT_EQ(h[5 * t + 1], 100 * (lane % 8 >= 2 ? t - 2 : t)) << t;
        EXPECT_EQ(h[5 * t + 2], 100 * (lane % 16 + 5 < 16 ? t + 5 : t)) << t;
        EXPECT_EQ(h[5 * t + 3], 100 * (base + (lane ^ 9))) << t;
        EXPECT_EQ(h[5 * t + 4], 100 * ((lane ^ 8) / 8 > lane / 8 ? t : base + (lane ^ 8))) << t;
    }
}

// out[4 * t + k]: ballot, any, all over a predicate, and a ballot from a 20-thread (partial) warp.
__global__ void votes_kernel(unsigned* out) {
    const int t = threadIdx.x;
    const bool p = t % 3 == 0;
    out[4 * t + 0] = __ballot_sync(0xffffffffu, p);
    out[4 * t + 1] = __any_sync(0xffffffffu, t == 7);
    out[4 * t + 2] = __all_sync(0xffffffffu, t < 100);
    out[4 * t + 3] = __all_sync(0xffffffffu, p);
}

TEST(EmuSelfTest, VotesFollowCudaSemantics) {
    DeviceBuffer<unsigned> out(20 * 4);
    votes_kernel<<<1, 20>>>(out.p);
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    const std::vector<unsigned> h = out.get();
    unsigned want = 0;
    for (int t = 0; t < 20; t += 3) want |= 1u << t;
    for (int t = 0; t < 20; ++t) {
        EXPECT_EQ(h[4 * t + 0], want);
        EXPECT_EQ(h[4 * t + 1], 1u);
        EXPECT_EQ(h[4 * t + 2], 1u);
        EXPECT_EQ(h[4 * t + 3], 0u) << t;
    }
}

// A shared-memory tree sum per block, plus float, int and 64-bit atomics across blocks.
__global__ void block_sum_kernel(float* sums, float* total, int* count, unsigned long long* lowest) {
    __shared__ float s[256];
    const int t = threadIdx.x;
    s[t] = float(blockIdx.x * 256 + t);
    __syncthreads();
    for (int w = 128; w > 0; w /= 2) {
        if (t < w) s[t] += s[t + w];
        __syncthreads();
    }
    if (t == 0) sums[blockIdx.x] = s[0];
    atomicAdd(total, 1.0f);
    atomicAdd(count, 1);
    atomicMin(lowest, 1000ull - blockIdx.x * 256 - t);
}

TEST(EmuSelfTest, BarriersAndAtomics) {
    DeviceBuffer<float> sums(3), total(1);
    DeviceBuffer<int> count(1);
    DeviceBuffer<unsigned long long> lowest(1);
    cudaMemset(total.p, 0, sizeof(float));
    cudaMemset(count.p, 0, sizeof(int));
    cudaMemset(lowest.p, 0xff, sizeof(unsigned long long));
    block_sum_kernel<<<3, 256>>>(sums.p, total.p, count.p, lowest.p);
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    const std::vector<float> h = sums.get();
    for (int b = 0; b < 3; ++b) EXPECT_EQ(h[b], float(256 * (256 * b) + 255 * 128)) << b;
    EXPECT_EQ(total.get()[0], 768.f);
    EXPECT_EQ(count.get()[0], 768);
    EXPECT_EQ(lowest.get()[0], 1000ull - 767);
}

// Every thread of a 3-D grid of 3-D blocks writes its global linear index once.
__global__ void indices_kernel(int* out) {
    const int tx = threadIdx.x + blockIdx.x * blockDim.x, ty = threadIdx.y + blockIdx.y * blockDim.y,
              tz = threadIdx.z + blockIdx.z * blockDim.z;
    const int nx = gridDim.x * blockDim.x, ny = gridDim.y * blockDim.y;
    atomicAdd(&out[(tz * ny + ty) * nx + tx], (tz * ny + ty) * nx + tx + 1);
}

TEST(EmuSelfTest, ThreeDimensionalIndices) {
    const dim3 grid(3, 2, 2), block(5, 4, 3);
    const int n = 3 * 5 * 2 * 4 * 2 * 3;
    DeviceBuffer<int> out(n);
    cudaMemset(out.p, 0, n * sizeof(int));
    indices_kernel<<<grid, block>>>(out.p);
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    const std::vector<int> h = out.get();
    for (int i = 0; i < n; ++i) EXPECT_EQ(h[i], i + 1) << i;
}

// Block 0 writes its shared variable, block 1 only reads it: shared memory is per block, and memory a
// block never wrote reads as NaN in the emulation.
__global__ void shared_per_block_kernel(float* out) {
    __shared__ float x;
    if (blockIdx.x == 0) x = 1.f;
    __syncthreads();
    out[blockIdx.x] = x;
}

TEST(EmuSelfTest, SharedMemoryIsPerBlock) {
    DeviceBuffer<float> out(2);
    shared_per_block_kernel<<<2, 32>>>(out.p);
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    const std::vector<float> h = out.get();
    EXPECT_EQ(h[0], 1.f);
    EXPECT_TRUE(std::isnan(h[1]));
}

// Warp 1 reads what warp 0 writes with no barrier in between: NaN in the forward order.
__global__ void missing_barrier_kernel(float* out) {
    __shared__ float s[64];
    s[threadIdx.x] = 2.f;
    out[threadIdx.x] = s[63 - threadIdx.x];
}

TEST(EmuSelfTest, AMissingBarrierReadsUnwrittenSharedMemory) {
    DeviceBuffer<float> out(64);
    missing_barrier_kernel<<<1, 64>>>(out.p);
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    const std::vector<float> h = out.get();
    int nan = 0;
    for (float v : h) nan += std::isnan(v);
    EXPECT_EQ(nan, 32);  // one warp ran before the other wrote
}

// cp.async lands at the wait that covers its group; before it the destination is NaN.
__global__ void cp_async_kernel(float* out, const float* in) {
    __shared__ __align__(16) float s[8];
    cp_async16(s, in, 16);
    cp_async_commit();
    cp_async4(s + 4, in + 4, 0);  // zero-fill
    cp_async_commit();
    cp_async_wait<1>();  // the first group only
    out[0] = s[0], out[1] = s[3], out[2] = s[4];
    cp_async_wait<0>();
    out[3] = s[4];
}

TEST(EmuSelfTest, CpAsyncLandsAtItsWait) {
    DeviceBuffer<float> out(4), in(8);
    const float h_in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    cudaMemcpy(in.p, h_in, sizeof h_in, cudaMemcpyHostToDevice);
    cp_async_kernel<<<1, 1>>>(out.p, in.p);
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    const std::vector<float> h = out.get();
    EXPECT_EQ(h[0], 1.f);
    EXPECT_EQ(h[1], 4.f);
    EXPECT_TRUE(std::isnan(h[2]));
    EXPECT_EQ(h[3], 0.f);
}

// Half a warp in a shuffle, the other half at __syncthreads: no thread can go on.
__global__ void divergent_shuffle_kernel(int* out) {
    if (threadIdx.x < 16) out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, int(threadIdx.x), 1);
    else __syncthreads();
}
__global__ void trap_kernel() {
    if (blockIdx.x == 1 && threadIdx.x == 3) __trap();
}
__global__ void empty_kernel() {}
__global__ void dynamic_smem_kernel(float* out) {
    extern __shared__ float dyn[];
    dyn[threadIdx.x] = 1.f;
    __syncthreads();
    out[threadIdx.x] = dyn[(threadIdx.x + 1) % blockDim.x];
}

TEST(EmuSelfTest, MistakesBecomeCudaErrors) {
    DeviceBuffer<int> out(32);
    divergent_shuffle_kernel<<<1, 32>>>(out.p);
    EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
    trap_kernel<<<2, 32>>>();
    EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorLaunchFailure);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // reported once
    empty_kernel<<<1, 2048>>>();
    EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
    DeviceBuffer<float> f(64);
    dynamic_smem_kernel<<<1, 64, 64 * 1024>>>(f.p);  // above 48 KiB without the attribute
    EXPECT_NE(cudaGetLastError(), cudaSuccess);
    ASSERT_EQ(cudaFuncSetAttribute(dynamic_smem_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024),
              cudaSuccess);
    dynamic_smem_kernel<<<1, 64, 64 * 1024>>>(f.p);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
    EXPECT_EQ(f.get(), std::vector<float>(64, 1.f));
}

__global__ void write_first_kernel(float* p, int n) {
    if (int(threadIdx.x) < n) p[threadIdx.x] = 1.f;
}

// Under CKERAS_EMU_ULP=1, device expf is off by up to CUDA's 2 ulp, and is so for some arguments.
TEST(EmuSelfTest, DeviceMathErrorStaysWithinCudasBound) {
    if (!emu::g_ulp) GTEST_SKIP() << "needs CKERAS_EMU_ULP=1";
    const int n = 1000;
    std::vector<float> x(n);
    for (int i = 0; i < n; ++i) x[i] = -10.f + 0.02f * float(i);
    DeviceBuffer<float> in(n), out(n);
    cudaMemcpy(in.p, x.data(), n * sizeof(float), cudaMemcpyHostToDevice);
    ckeras::exp_kernel<<<1, 128>>>(out.p, in.p, n);
    const std::vector<float> y = out.get();
    int moved = 0;
    for (int i = 0; i < n; ++i) {
        const float want = expf(x[i]);
        const float ulp = std::nextafter(want, INFINITY) - want;
        EXPECT_LE(std::fabs(y[i] - want), 2.5f * ulp) << x[i];
        moved += y[i] != want;
    }
    EXPECT_GT(moved, n / 2);
}

// Under CKERAS_EMU_GUARD=2 (run_tests.sh), an access past the end of a device allocation, to freed device
// memory, or to device memory from host code stops the process with a message.
TEST(EmuSelfTest, GuardedMemoryCatchesBadAccesses) {
    if (emu::guard_mode() < 2) GTEST_SKIP() << "needs CKERAS_EMU_GUARD=2";
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    DeviceBuffer<float> buf(8);  // 32 bytes: the next float lies on an inaccessible page
    write_first_kernel<<<1, 32>>>(buf.p, 8);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
    EXPECT_DEATH(write_first_kernel<<<1, 32>>>(buf.p, 9), "access at byte 32 of a 32-byte device allocation \\(past its "
                                                          "end\\), in write_first_kernel .* thread \\(8,0,0\\)");
    EXPECT_DEATH(
        {
            float* p;
            cudaMalloc(&p, 64);
            cudaFree(p);
            write_first_kernel<<<1, 1>>>(p, 1);
        },
        "freed device memory");
    EXPECT_DEATH(buf.p[0] = 2.f, "host code accessed device memory");
}

}  // namespace
