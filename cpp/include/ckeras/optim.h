// Optimizer steps over many parameters in one call (ops/optimizer.cpp). Python's optimizer classes
// hold the slot variables and schedules; this applies clipping, decoupled weight decay and the update.
#pragma once
#include <vector>

#include "ckeras/kernels.h"
#include "ckeras/tensor.h"

namespace ckeras {

struct ClipOptions {
    double clipnorm = 0.0;         // > 0: rescale each gradient to at most this L2 norm
    double global_clipnorm = 0.0;  // > 0: rescale all gradients together
    double clipvalue = 0.0;        // > 0: clamp elements to [-v, v]
};

// params[i], grads[i]: float32, same shape, same device; params contiguous. slots[i] holds the
// optimizer's slot tensors for params[i] (see ParamGroup). decay[i] false excludes params[i] from
// weight decay. Updates params and slots in place and bumps their storage versions.
void optimizer_apply(OptimizerStep step, const ClipOptions& clip, const std::vector<Tensor>& params,
                     const std::vector<Tensor>& grads, const std::vector<std::vector<Tensor>>& slots,
                     const std::vector<bool>& decay);

// Throws ValueError for negative clip values or more than one clipping option (step.clip_value included).
void check_clip_options(const OptimizerStep& step, const ClipOptions& clip);

// The step over groups the caller has validated (float32, contiguous, on `device`, no two sharing a
// parameter): Keras's clipping scales (each group's grad_scale is overwritten), then one kernel call.
// Bumps no storage versions. optimizer_apply and TrainPlan both end here.
void optimizer_step_groups(OptimizerStep step, const ClipOptions& clip, ParamGroup* groups, int64_t count,
                           Device device);

// Number of slot tensors an optimizer needs per parameter, and the ParamGroup::slot positions they fill, in
// order (e.g. RMSprop(momentum=0, centered=True) -> {0, 2}).
int optimizer_slot_count(const OptimizerStep& step);
std::vector<int> optimizer_slot_positions(const OptimizerStep& step);

}  // namespace ckeras
