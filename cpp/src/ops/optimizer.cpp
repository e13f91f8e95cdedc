// optimizer_apply: validates a whole optimizer step, computes Keras's gradient-clipping scales and makes one
// multi-tensor `optimizer_step` kernel call for every parameter. Schedules, EMA and the iteration counter
// live in Python (ckeras.optimizers); the update formulas live in the kernels (cpu/optimizer_cpu.cpp).
#include <algorithm>
#include <cmath>
#include <string>

#include "ckeras/optim.h"
#include "ops/op_util.h"

namespace ckeras {

// Positions in ParamGroup::slot that a step uses, in order (see the ParamGroup comment in kernels.h).
// slots[i] passed to optimizer_apply holds exactly these, e.g. RMSprop(momentum=0, centered=True) -> {0, 2}.
std::vector<int> optimizer_slot_positions(const OptimizerStep& s) {
    switch (s.kind) {
        case OptimizerKind::SGD: return s.momentum != 0 ? std::vector<int>{0} : std::vector<int>{};
        case OptimizerKind::Adam: return s.amsgrad ? std::vector<int>{0, 1, 2} : std::vector<int>{0, 1};
        case OptimizerKind::RMSprop: {
            std::vector<int> p{0};
            if (s.momentum > 0) p.push_back(1);
            if (s.centered) p.push_back(2);
            return p;
        }
        case OptimizerKind::Adagrad: case OptimizerKind::Lion: return {0};
        case OptimizerKind::Adamax: case OptimizerKind::Nadam: return {0, 1};
    }
    throw_error(ErrorKind::Value, "optimizer: unknown optimizer kind ", static_cast<int>(s.kind));
}

int optimizer_slot_count(const OptimizerStep& step) { return static_cast<int>(optimizer_slot_positions(step).size()); }

static void check_clip_value(const char* name, double v) {
    CKERAS_CHECK(v >= 0, "optimizer_apply: ", name, " must be >= 0 (0 turns it off), got ", v);
}

// A tensor updated in place: float32, contiguous, shaped like `param` and on its device.
// `what` names it in messages ("parameter 2", "slot 1 of parameter 2").
static void check_state_tensor(const Tensor& t, const Tensor& param, const std::string& what) {
    CKERAS_CHECK(t.defined(), "optimizer_apply: ", what, " is undefined");
    CKERAS_CHECK(t.dtype() == DType::Float32, "optimizer_apply: ", what, " has dtype ", dtype_name(t.dtype()),
                 "; optimizers update float32 variables only");
    CKERAS_CHECK(t.shape() == param.shape(), "optimizer_apply: ", what, " has shape ", t.shape(),
                 " but the parameter has shape ", param.shape());
    check_same_device("optimizer_apply", param, t);
    CKERAS_CHECK(t.is_contiguous(), "optimizer_apply: ", what, " must be contiguous (it is updated in place)");
}

// Keras's clipnorm, per tensor: g * c / max(||g||, c); a NaN norm makes the scale NaN.
static float clipnorm_scale(double sq_norm, double clipnorm) {
    const float c = static_cast<float>(clipnorm);
    const float norm = static_cast<float>(std::sqrt(sq_norm));
    const float denom = std::isnan(norm) ? norm : std::max(norm, c);
    return c / denom;
}

// Keras's clip_by_global_norm, in float32 as Keras evaluates it:
// c * min(1 / norm, 1 / c) + (norm - norm); the last term turns an inf or NaN norm into a NaN scale.
static float global_clipnorm_scale(double sq_norm, double clipnorm) {
    const float c = static_cast<float>(clipnorm);
    const float norm = static_cast<float>(std::sqrt(sq_norm));
    const float inv_norm = 1.f / norm;
    const float inv_c = static_cast<float>(1.0 / clipnorm);
    const float m = std::isnan(inv_norm) ? inv_norm : std::min(inv_norm, inv_c);
    return c * m + (norm - norm);
}

void check_clip_options(const OptimizerStep& step, const ClipOptions& clip) {
    check_clip_value("clipnorm", clip.clipnorm);
    check_clip_value("global_clipnorm", clip.global_clipnorm);
    check_clip_value("clipvalue", clip.clipvalue);
    check_clip_value("step.clip_value", step.clip_value);
    const double clip_value = clip.clipvalue > 0 ? clip.clipvalue : step.clip_value;
    CKERAS_CHECK((clip.clipnorm > 0) + (clip.global_clipnorm > 0) + (clip_value > 0) <= 1,
                 "optimizer_apply: only one of clipnorm, global_clipnorm and clipvalue can be set, got clipnorm=",
                 clip.clipnorm, ", global_clipnorm=", clip.global_clipnorm, ", clipvalue=", clip_value);
}

void optimizer_step_groups(OptimizerStep step, const ClipOptions& clip, ParamGroup* groups, int64_t count,
                           Device device) {
    if (count == 0) return;
    // clip.clipvalue, when set, replaces step.clip_value; the kernel applies it elementwise.
    if (clip.clipvalue > 0) step.clip_value = clip.clipvalue;
    const KernelTable& table = kernel_table(device.type);
    for (int64_t i = 0; i < count; ++i) groups[i].grad_scale = 1.f;
    if (clip.clipnorm > 0) {
        auto sq_norm = require_kernel(table.grad_sq_norm, "optimizer_apply", device);
        for (int64_t i = 0; i < count; ++i)
            groups[i].grad_scale = clipnorm_scale(sq_norm(&groups[i], 1), clip.clipnorm);
    } else if (clip.global_clipnorm > 0) {
        const double sq = require_kernel(table.grad_sq_norm, "optimizer_apply", device)(groups, count);
        const float scale = global_clipnorm_scale(sq, clip.global_clipnorm);
        for (int64_t i = 0; i < count; ++i) groups[i].grad_scale = scale;
    }
    require_kernel(table.optimizer_step, "optimizer_apply", device)(step, groups, count);
}

void optimizer_apply(OptimizerStep step, const ClipOptions& clip, const std::vector<Tensor>& params,
                     const std::vector<Tensor>& grads_in, const std::vector<std::vector<Tensor>>& slots,
                     const std::vector<bool>& decay) {
    const size_t count = params.size();
    CKERAS_CHECK(grads_in.size() == count, "optimizer_apply: got ", count, " parameters but ", grads_in.size(),
                 " gradients");
    CKERAS_CHECK(slots.size() == count, "optimizer_apply: got ", count, " parameters but ", slots.size(),
                 " slot lists");
    CKERAS_CHECK(decay.empty() || decay.size() == count, "optimizer_apply: got ", count, " parameters but ",
                 decay.size(), " weight-decay flags");
    CKERAS_CHECK(step.step >= 1, "optimizer_apply: step (iterations + 1) must be >= 1, got ", step.step);
    CKERAS_CHECK(!(step.weight_decay < 0) && !std::isnan(step.weight_decay),
                 "optimizer_apply: weight_decay must be >= 0, got ", step.weight_decay);
    check_clip_options(step, clip);
    const std::vector<int> positions = optimizer_slot_positions(step);
    if (count == 0) return;

    // Validate everything before touching any memory.
    std::vector<Tensor> grads(count);
    for (size_t i = 0; i < count; ++i) {
        const Tensor& p = params[i];
        check_state_tensor(p, p, str_cat("parameter ", i));
        check_same_device("optimizer_apply", params[0], p);
        const Tensor& g = grads_in[i];
        CKERAS_CHECK(g.defined(), "optimizer_apply: the gradient for parameter ", i, " is undefined");
        CKERAS_CHECK(g.dtype() == DType::Float32, "optimizer_apply: the gradient for parameter ", i,
                     " has dtype ", dtype_name(g.dtype()), "; cast it to float32");
        CKERAS_CHECK(g.shape() == p.shape(), "optimizer_apply: the gradient for parameter ", i, " has shape ",
                     g.shape(), " but the parameter has shape ", p.shape());
        check_same_device("optimizer_apply", p, g);
        CKERAS_CHECK(slots[i].size() == positions.size(), "optimizer_apply: parameter ", i, " has ",
                     slots[i].size(), " slot tensors; this optimizer needs ", positions.size());
        for (size_t k = 0; k < slots[i].size(); ++k)
            check_state_tensor(slots[i][k], p, str_cat("slot ", k, " of parameter ", i));
        grads[i] = contiguous(g.detach());
    }
    // Each parameter is written once: two entries sharing memory would race in the parallel kernel.
    std::vector<std::pair<const char*, size_t>> starts;
    for (size_t i = 0; i < count; ++i)
        if (params[i].numel()) starts.push_back({static_cast<const char*>(params[i].data_ptr()), i});
    std::sort(starts.begin(), starts.end());
    for (size_t k = 1; k < starts.size(); ++k)
        CKERAS_CHECK(starts[k].first != starts[k - 1].first, "optimizer_apply: parameters ", starts[k - 1].second,
                     " and ", starts[k].second, " are the same tensor");

    std::vector<ParamGroup> groups(count);
    for (size_t i = 0; i < count; ++i) {
        ParamGroup& g = groups[i];
        g.param = params[i].data<float>();
        g.grad = grads[i].data<float>();
        for (size_t k = 0; k < positions.size(); ++k) g.slot[positions[k]] = slots[i][k].data<float>();
        g.n = params[i].numel();
        g.decay = decay.empty() || decay[i];
    }
    optimizer_step_groups(step, clip, groups.data(), static_cast<int64_t>(count), params[0].device());
    for (size_t i = 0; i < count; ++i) {
        params[i].impl()->storage->version++;
        for (const Tensor& s : slots[i]) s.impl()->storage->version++;
    }
}

}  // namespace ckeras
