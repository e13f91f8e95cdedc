// plan_forward: inference through a chain of Dense stages (Dropout stages are the identity at inference) in
// one call, for `model(x)` on Dense chains (python/ckeras/models/_inference_fast.py). The kernels, their
// arguments and their order are those of the eager Dense call (matmul -> gemm, bias add and relu -> one
// bias_activation pass, sigmoid/tanh -> unary, softmax -> softmax), so the output has the eager bits.
#include <string>

#include "ckeras/ops.h"
#include "ops/op_util.h"
#include "train/plan_impl.h"

namespace ckeras {
namespace {

constexpr DType F32 = DType::Float32;

// (The message is built only on failure: formatting it costs more than a small forward.)
void check_weight(const Tensor& t, int stage, const char* what, const Shape& shape) {
    if (t.defined() && t.dtype() == F32 && t.shape() == shape && t.is_contiguous() &&
        t.device().type == DeviceType::CPU)
        return;
    throw_error(ErrorKind::Value, "plan_forward: stage ", stage, " ", what,
                " must be a contiguous float32 cpu tensor of shape ", shape, ", got ",
                t.defined() ? str_cat(dtype_name(t.dtype()), " ", t.shape()) : std::string("none"));
}

}  // namespace

Tensor plan_forward(const std::vector<PlanStage>& stages, const Tensor& x, Tensor* logits) {
    CKERAS_CHECK(x.defined() && x.dtype() == F32 && x.dim() == 2 && x.device().type == DeviceType::CPU,
                 "plan_forward: the input must be a 2-D float32 cpu tensor, got ",
                 x.defined() ? str_cat(dtype_name(x.dtype()), " ", x.shape()) : std::string("none"));
    const KernelTable& table = kernel_table(DeviceType::CPU);
    const int64_t rows = x.size(0);
    Tensor h = contiguous(x);
    int64_t width = x.size(1);
    int last_dense = -1;
    for (size_t i = 0; i < stages.size(); ++i)
        if (stages[i].kind == PlanStage::Kind::Dense) last_dense = static_cast<int>(i);
    CKERAS_CHECK(last_dense >= 0, "plan_forward: the chain has no Dense stage");
    if (logits) *logits = Tensor();
    for (int i = 0; i <= last_dense; ++i) {
        const PlanStage& s = stages[i];
        if (s.kind == PlanStage::Kind::Dropout) continue;
        CKERAS_CHECK(s.kernel.defined() && s.kernel.dim() == 2, "plan_forward: stage ", i, " has no 2-D kernel");
        const int64_t units = s.kernel.size(1);
        check_weight(s.kernel, i, "kernel", {width, units});
        if (s.bias.defined()) check_weight(s.bias, i, "bias", {units});
        CKERAS_CHECK(s.activation != PlanActivation::Softmax || i == last_dense,
                     "plan_forward: softmax on stage ", i, ", which is not the last");
        // The output gets its own buffer for softmax, and for sigmoid/tanh on the last stage when the caller
        // attaches the logits to it; otherwise the activation runs in place.
        const bool separate = s.activation == PlanActivation::Softmax ||
                              (i == last_dense && logits && (s.activation == PlanActivation::Sigmoid ||
                                                             s.activation == PlanActivation::Tanh));
        Tensor z = Tensor::empty({rows, units}, F32);
        Tensor out = separate ? Tensor::empty({rows, units}, F32) : z;
        dense_forward(table, s, rows, width, h.data<float>(), z.data<float>(), out.data<float>());
        if (i == last_dense && logits && separate) *logits = z;
        h = out;
        width = units;
    }
    return h;
}

}  // namespace ckeras
