// CUDA twins of the gather slots of cpu/copy_cpu.cpp: gather along the middle dim of (outer, axis_size,
// inner) with int64 indices (negative ones count from the end), and its backward, a scatter-add.
//
// gather validates the indices on the device (the first bad position, by atomicMin) while it copies,
// then reads that one flag back: the only host synchronisation. gather_backward adds with atomicAdd
// (float32, float64: the dtypes the CPU supports), so where indices repeat, the order of the adds, and
// so the last bits of the sums, vary from run to run; with distinct indices the result is exact.
#include <limits>

#include "kernel_util.cuh"

namespace ckeras::cuda {
namespace {

// first_bad = min j with indices[j] outside [-axis_size, axis_size) (left at its initial ~0 if none).
__global__ void gather_check_kernel(unsigned long long* first_bad, const int64_t* indices, int64_t n_idx,
                                    int64_t axis_size) {
    for (int64_t j = grid_start(); j < n_idx; j += grid_step()) {
        const int64_t k = indices[j];
        if (k < -axis_size || k >= axis_size) atomicMin(first_bad, static_cast<unsigned long long>(j));
    }
}

// out (outer, n_idx, inner) from in (outer, axis_size, inner); E is an unsigned type of the element's
// size (gather only moves bytes). Elements whose index is out of range are skipped.
template <class E>
__global__ void gather_forward_kernel(E* out, const E* in, int64_t axis_size, int64_t inner, const int64_t* indices,
                                      int64_t n_idx, int64_t n) {
    for (int64_t r = grid_start(); r < n; r += grid_step()) {
        const int64_t c = r % inner, t = r / inner;
        const int64_t j = t % n_idx, i = t / n_idx;
        int64_t k = indices[j];
        if (k < 0) k += axis_size;
        if (k < 0 || k >= axis_size) continue;
        out[r] = in[(i * axis_size + k) * inner + c];
    }
}

template <class E>
void gather_launch(void* out, const void* in, int64_t axis_size, int64_t inner, const int64_t* indices, int64_t n_idx,
                   int64_t n) {
    gather_forward_kernel<E><<<grid_for(n), kBlock, 0, stream()>>>(static_cast<E*>(out), static_cast<const E*>(in),
                                                                   axis_size, inner, indices, n_idx, n);
}

int64_t gather_cuda(DType dtype, void* out, const void* in, int64_t outer, int64_t axis_size, int64_t inner,
                    const int64_t* indices, int64_t n_idx) {
    if (n_idx <= 0) return -1;
    std::shared_ptr<void> flag_buf = scratch(sizeof(unsigned long long));
    auto* flag = static_cast<unsigned long long*>(flag_buf.get());
    CKERAS_CUDA_CHECK(cudaMemsetAsync(flag, 0xff, sizeof(unsigned long long), stream()));
    gather_check_kernel<<<grid_for(n_idx), kBlock, 0, stream()>>>(flag, indices, n_idx, axis_size);
    CKERAS_CUDA_LAUNCHED("take");
    const int64_t n = outer * n_idx * inner;
    if (n > 0) {
        switch (dtype_size(dtype)) {
            case 1: gather_launch<uint8_t>(out, in, axis_size, inner, indices, n_idx, n); break;
            case 4: gather_launch<uint32_t>(out, in, axis_size, inner, indices, n_idx, n); break;
            case 8: gather_launch<uint64_t>(out, in, axis_size, inner, indices, n_idx, n); break;
            default: throw_error(ErrorKind::Type, "take: unsupported dtype ", dtype_name(dtype));
        }
        CKERAS_CUDA_LAUNCHED("take");
    }
    unsigned long long bad = 0;
    copy_to_host(&bad, flag, sizeof(bad));
    return bad == std::numeric_limits<unsigned long long>::max() ? -1 : static_cast<int64_t>(bad);
}

// dinp (outer, axis_size, inner) += scatter of dout (outer, n_idx, inner).
template <class T>
__global__ void gather_backward_kernel(T* dinp, const T* dout, int64_t axis_size, int64_t inner, const int64_t* indices,
                                       int64_t n_idx, int64_t n) {
    for (int64_t r = grid_start(); r < n; r += grid_step()) {
        const int64_t c = r % inner, t = r / inner;
        const int64_t j = t % n_idx, i = t / n_idx;
        int64_t k = indices[j];
        if (k < 0) k += axis_size;
        atomicAdd(dinp + (i * axis_size + k) * inner + c, dout[r]);
    }
}

void gather_backward_cuda(DType dtype, void* dinp, const void* dout, int64_t outer, int64_t axis_size, int64_t inner,
                          const int64_t* indices, int64_t n_idx) {
    CKERAS_DISPATCH_FLOAT(dtype, T, {
        const int64_t n = outer * n_idx * inner;
        if (n <= 0) return;
        gather_backward_kernel<T><<<grid_for(n), kBlock, 0, stream()>>>(static_cast<T*>(dinp), static_cast<const T*>(dout),
                                                                        axis_size, inner, indices, n_idx, n);
        CKERAS_CUDA_LAUNCHED("take_backward");
    });
}

}  // namespace

void register_gather_cuda(KernelTable& t) {
    t.gather = gather_cuda;
    t.gather_backward = gather_backward_cuda;
}

}  // namespace ckeras::cuda
