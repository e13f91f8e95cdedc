// Stubs for what the emulated GEMM takes from the device layer and the core (scripts/cuda_emu/run.sh).
#include <cstdlib>
#include <memory>
#include "cuda_common.cuh"
#include "ckeras/dtype.h"
namespace emu {
int smem_optin = 232448, cc_major = 9;
thread_local uint3 t_thread, t_block;
dim3 g_grid, g_block;
std::barrier<>* block_barrier;
std::vector<std::unique_ptr<std::barrier<>>> warp_barriers;
std::vector<unsigned char> dyn_smem;
std::atomic<long> launches{0};
int sms = 132;
}
namespace ckeras {
bool g_tf32 = true;
bool tensor_float32_enabled() { return g_tf32; }
const char* dtype_name(DType d) { return d == DType::Float32 ? "float32" : "float64"; }
namespace cuda {
cudaStream_t stream() { return nullptr; }
void check_launch(const char*) {}
void synchronize() {}
std::shared_ptr<void> scratch(int64_t n) {
    void* p = std::malloc(size_t(n) + 16);
    std::memset(p, 0xFF, size_t(n));  // NaN: the reduction must read only what was written
    return std::shared_ptr<void>(p, std::free);
}
int sm_count() { return emu::sms; }
}  // namespace cuda
}  // namespace ckeras
