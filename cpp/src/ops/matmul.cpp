// matmul with NumPy semantics (1-D promotion, broadcast batch dims) over the gemm kernel. Transposed
// views are passed to gemm as transpose flags, so x.T @ y copies nothing.
#include <algorithm>

#include "ckeras/interrupt.h"
#include "ops/op_util.h"

namespace ckeras {

namespace {

// How a (rows, cols) matrix view is handed to gemm: as stored or transposed, with its row stride.
struct GemmOperand {
    bool trans;
    int64_t ld;
};

// Returns nullopt when the view needs a copy: neither dim has unit stride, or the other dim's stride is
// not a valid leading dimension (negative, zero from broadcasting, or smaller than the row length).
std::optional<GemmOperand> as_gemm_operand(int64_t rows, int64_t cols, int64_t s_row, int64_t s_col) {
    if ((s_col == 1 || cols == 1) && (rows == 1 || s_row >= std::max<int64_t>(cols, 1)))
        return GemmOperand{false, rows == 1 ? std::max<int64_t>(cols, 1) : s_row};
    if ((s_row == 1 || rows == 1) && (cols == 1 || s_col >= std::max<int64_t>(rows, 1)))
        return GemmOperand{true, cols == 1 ? std::max<int64_t>(rows, 1) : s_col};
    return std::nullopt;
}

// out (batch..., M, N) = a (batch..., M, K) @ b (batch..., K, N); a and b already broadcast.
void batched_gemm(const Tensor& out, const Tensor& a, const Tensor& b) {
    int64_t nd = out.dim(), M = out.shape()[nd - 2], N = out.shape()[nd - 1], K = a.shape()[nd - 1];
    auto gemm = CKERAS_KERNEL(out, gemm, "matmul");
    int64_t batch = 1;
    for (int64_t d = 0; d < nd - 2; ++d) batch *= out.shape()[d];
    auto oa = as_gemm_operand(M, K, a.strides()[nd - 2], a.strides()[nd - 1]);
    auto ob = as_gemm_operand(K, N, b.strides()[nd - 2], b.strides()[nd - 1]);
    CKERAS_ASSERT(oa && ob);
    size_t isz = out.itemsize();
    // Large products run in row chunks so that Ctrl-C is noticed within about a second. On the CPU only:
    // a GPU launch returns at once, so chunks would only add launches and shrink each one's grid.
    double flops = 2.0 * static_cast<double>(M) * N * K;
    int64_t rows = flops > kInterruptPollFlops && out.device().type == DeviceType::CPU
                       ? std::max<int64_t>(256, static_cast<int64_t>(M * kInterruptPollFlops / flops))
                       : M;
    Shape idx(std::max<int64_t>(nd - 2, 0), 0);
    for (int64_t i = 0; i < batch; ++i) {
        int64_t offa = 0, offb = 0, offo = i * M * N;
        for (int64_t d = 0; d < nd - 2; ++d) { offa += idx[d] * a.strides()[d]; offb += idx[d] * b.strides()[d]; }
        const char* pa = static_cast<const char*>(a.data_ptr()) + offa * isz;
        const char* pb = static_cast<const char*>(b.data_ptr()) + offb * isz;
        char* po = static_cast<char*>(out.data_ptr()) + offo * isz;
        for (int64_t r0 = 0; r0 < M; r0 += rows) {
            int64_t mr = std::min(rows, M - r0);
            // Row r of op(A) starts at r*lda when stored as is, at column r (offset r) when transposed.
            const char* par = pa + (oa->trans ? r0 : r0 * oa->ld) * static_cast<int64_t>(isz);
            gemm(out.dtype(), oa->trans, ob->trans, mr, N, K, 1.0, par, oa->ld, pb, ob->ld, 0.0,
                 po + r0 * N * static_cast<int64_t>(isz), N);
            if (mr < M) poll_interrupt();
        }
        for (int64_t d = nd - 3; d >= 0; --d) {
            if (++idx[d] < out.shape()[d]) break;
            idx[d] = 0;
        }
    }
}

Tensor gemm_ready(const Tensor& x) {
    int64_t nd = x.dim();
    return as_gemm_operand(x.shape()[nd - 2], x.shape()[nd - 1], x.strides()[nd - 2], x.strides()[nd - 1])
               ? x
               : contiguous(x);
}

// Both inputs at least 2-D and of a float dtype.
Tensor matmul_nd(const Tensor& a, const Tensor& b) {
    int64_t na = a.dim(), nb = b.dim();
    int64_t M = a.shape()[na - 2], K = a.shape()[na - 1], K2 = b.shape()[nb - 2], N = b.shape()[nb - 1];
    CKERAS_CHECK(K == K2, "matmul: inner dimensions differ: ", a.shape(), " @ ", b.shape(), " (", K, " != ", K2, ")");
    Shape batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                                   Shape(b.shape().begin(), b.shape().end() - 2));
    Shape sa = batch, sb = batch, so = batch;
    sa.insert(sa.end(), {M, K});
    sb.insert(sb.end(), {K, N});
    so.insert(so.end(), {M, N});
    Tensor out = Tensor::empty(so, a.dtype(), a.device());
    if (out.numel()) {
        if (K == 0) {
            CKERAS_KERNEL(out, fill, "matmul")(out.dtype(), out.data_ptr(), out.numel(), 0.0);
        } else {
            batched_gemm(out, broadcast_to(gemm_ready(detach_if_recording(a)), sa),
                         broadcast_to(gemm_ready(detach_if_recording(b)), sb));
        }
    }
    if (!needs_grad({&a, &b})) return out;
    Shape as = a.shape(), bs = b.shape();
    Tensor ad = a.detach(), bd = b.detach();
    // Only the gradients some input needs: a network's first layer must not pay for dX of its data.
    const bool want_a = needs_grad({&a}), want_b = needs_grad({&b});
    record_fn(out, "MatmulBackward", {&a, &b}, [ad, bd, as, bs, want_a, want_b](const Tensor& g) {
        // dA = dC @ B^T, dB = A^T @ dC, summed over broadcast batch dims.
        Tensor ga = want_a ? sum_to(matmul_nd(g, swapaxes(bd, -1, -2)), as) : Tensor();
        Tensor gb = want_b ? sum_to(matmul_nd(swapaxes(ad, -1, -2), g), bs) : Tensor();
        return std::vector<Tensor>{ga, gb};
    });
    return out;
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
    check_defined("matmul", a_in);
    check_defined("matmul", b_in);
    check_same_device("matmul", a_in, b_in);
    CKERAS_CHECK(a_in.dim() >= 1 && b_in.dim() >= 1, "matmul: inputs must be at least 1-D, got shapes ",
                 a_in.shape(), " and ", b_in.shape());
    // Checked here, before 1-D promotion, so that the messages name the shapes the caller passed.
    int64_t K = a_in.shape().back(), K2 = b_in.dim() == 1 ? b_in.shape()[0] : b_in.shape()[b_in.dim() - 2];
    CKERAS_CHECK(K == K2, "matmul: inner dimensions differ: ", a_in.shape(), " @ ", b_in.shape(), " (", K, " != ",
                 K2, ")");
    Shape ba(a_in.shape().begin(), a_in.shape().end() - std::min<int64_t>(a_in.dim(), 2));
    Shape bb(b_in.shape().begin(), b_in.shape().end() - std::min<int64_t>(b_in.dim(), 2));
    for (size_t i = 1; i <= std::min(ba.size(), bb.size()); ++i) {
        int64_t x = ba[ba.size() - i], y = bb[bb.size() - i];
        CKERAS_CHECK(x == y || x == 1 || y == 1, "matmul: batch dimensions of ", a_in.shape(), " and ",
                     b_in.shape(), " cannot be broadcast together");
    }
    DType dt = promote_types(a_in.dtype(), b_in.dtype());
    if (!is_floating(dt)) dt = DType::Float32;
    Tensor a = cast(a_in, dt), b = cast(b_in, dt);
    bool va = a.dim() == 1, vb = b.dim() == 1;
    if (va) a = expand_dims(a, 0);
    if (vb) b = expand_dims(b, 1);
    Tensor out = matmul_nd(a, b);
    if (va) out = squeeze(out, Axes{-2});
    if (vb) out = squeeze(out, Axes{-1});
    return out;
}

}  // namespace ckeras
