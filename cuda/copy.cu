// CUDA twins of cpu/copy_cpu.cpp's copy slots: strided copy with dtype conversion (contiguous(), cast,
// slice backward, concatenate), fill and arange. Conversion as on the CPU: static_cast, bool is x != 0.
// Gather lives in gather.cu.
#include "kernel_util.cuh"

namespace ckeras::cuda {
namespace {

// out[off_out(i)] = convert(in[off_in(i)]) for every element i of the collapsed shape.
template <class Out, class In>
__global__ void copy_strided_kernel(Out* out, const In* in, Strided<2> L, int64_t n) {
    for (int64_t i = grid_start(); i < n; i += grid_step()) {
        int64_t off[2];
        L.offsets(i, off);
        out[off[0]] = convert<Out>(in[off[1]]);
    }
}

// Both sides contiguous: no index arithmetic.
template <class Out, class In>
__global__ void copy_contiguous_kernel(Out* out, const In* in, int64_t n) {
    for (int64_t i = grid_start(); i < n; i += grid_step()) out[i] = convert<Out>(in[i]);
}

template <class Out, class In>
void copy_typed(Out* out, const In* in, const Strided<2>& L, int64_t n) {
    if (L.ndim == 1 && L.strides[0][0] == 1 && L.strides[1][0] == 1) {
        if constexpr (std::is_same_v<Out, In>) {
            CKERAS_CUDA_CHECK(cudaMemcpyAsync(out, in, static_cast<size_t>(n) * sizeof(Out),
                                              cudaMemcpyDeviceToDevice, stream()));
            return;
        } else {
            copy_contiguous_kernel<<<grid_for(n), kBlock, 0, stream()>>>(out, in, n);
        }
    } else {
        copy_strided_kernel<<<grid_for(n), kBlock, 0, stream()>>>(out, in, L, n);
    }
    CKERAS_CUDA_LAUNCHED("copy_strided");
}

void copy_strided_cuda(DType out_dtype, void* out, const int64_t* out_strides, DType in_dtype, const void* in,
                       const int64_t* in_strides, const int64_t* shape, int ndim) {
    Strided<2> L;
    const int64_t n = collapse<2>(shape, ndim, {out_strides, in_strides}, L, "copy_strided");
    if (n == 0) return;
    CKERAS_DISPATCH_ALL(out_dtype, O, CKERAS_DISPATCH_ALL(in_dtype, I,
        copy_typed<O, I>(static_cast<O*>(out), static_cast<const I*>(in), L, n)));
}

template <class T>
__global__ void fill_kernel(T* out, int64_t n, T value) {
    for (int64_t i = grid_start(); i < n; i += grid_step()) out[i] = value;
}

void fill_cuda(DType dtype, void* out, int64_t n, double value) {
    if (n <= 0) return;
    CKERAS_DISPATCH_ALL(dtype, T, {
        // Converted on the host, exactly as the CPU converts it.
        fill_kernel<T><<<grid_for(n), kBlock, 0, stream()>>>(static_cast<T*>(out), n, convert<T>(value));
    });
    CKERAS_CUDA_LAUNCHED("fill");
}

// out[i] = convert(start + i * step), the product and sum rounded separately (no FMA), as the CPU does.
template <class T>
__global__ void arange_kernel(T* out, int64_t n, double start, double step) {
    for (int64_t i = grid_start(); i < n; i += grid_step())
        out[i] = convert<T>(__dadd_rn(start, __dmul_rn(static_cast<double>(i), step)));
}

void arange_cuda(DType dtype, void* out, int64_t n, double start, double step) {
    if (n <= 0) return;
    CKERAS_DISPATCH_ALL(dtype, T, {
        arange_kernel<T><<<grid_for(n), kBlock, 0, stream()>>>(static_cast<T*>(out), n, start, step);
    });
    CKERAS_CUDA_LAUNCHED("arange");
}

}  // namespace

void register_copy_cuda(KernelTable& t) {
    t.copy_strided = copy_strided_cuda;
    t.fill = fill_cuda;
    t.arange = arange_cuda;
}

}  // namespace ckeras::cuda
