// TrainPlan's internals shared by the files of cpp/src/train/: the buffers of each stage and the pieces of one
// step (forward, loss and metrics, backward, update). Every buffer holds `cap` rows; a batch of B <= cap rows
// uses the first B rows of each, so the strides are those of a contiguous (B, width) tensor.
#pragma once
#include "ckeras/train_plan.h"

namespace ckeras {

// Buffers of one stage. Dense: out (cap, units) holds activation(x @ W + b), or the logits when the stage ends
// in softmax (then probs holds the softmax); dout (cap, units) receives the gradient of the stage's output and
// is turned in place into the gradient of its pre-activation. Dropout: out and dout (cap, width), keep mask.
struct PlanStageBuffers {
    Tensor out, probs, dout, keep;
    Tensor dkernel, dbias;  // gradients of the trainable tensors (not batch-sized: allocated once)
};

// One Dense stage forward with the eager Dense call's kernels in its order (TrainPlan's step and plan_forward):
// z = h @ kernel with the bias (and relu) added in one pass, then softmax or sigmoid/tanh from z into `act`
// (sigmoid/tanh may write in place: act == z). h is (rows, width), z and act (rows, units), contiguous.
void dense_forward(const KernelTable& table, const PlanStage& s, int64_t rows, int64_t width, const float* h,
                   float* z, float* act);

struct TrainPlan::Impl {
    std::vector<PlanStage> stages;
    PlanLossSpec loss;
    std::vector<PlanMetricSpec> metrics;
    PlanOptimizer opt;
    Device device;
    const KernelTable* table = nullptr;

    int64_t in_features = 0;      // width of the input
    std::vector<int64_t> widths;  // widths[i]: input width of stage i; widths.back(): the classes
    int64_t classes = 0;          // units of the last stage
    int first_trainable = 0;      // the backward stops at this stage (nothing below needs a gradient)
    bool loss_on_logits = false;  // softmax + categorical, or sigmoid + binary: scored from the logits

    int64_t cap = 0;  // rows every batch-sized buffer holds
    std::vector<PlanStageBuffers> buf;
    Tensor xbuf, ybuf;           // a gathered batch (run_epoch)
    Tensor dpred;                // (cap, classes): d loss / d prediction, before the last activation's backward
    Tensor sample_loss, dloss;   // (cap,) and (cap * classes)
    Tensor elem_loss;            // binary cross-entropy per element (cap * classes)
    Tensor arg_true, arg_pred;   // int64 (cap,)
    Tensor match, match_row;     // (cap * classes) and (cap,)
    Tensor scalar;               // (1,) reduction result

    std::vector<Tensor> params;  // trainable tensors, optimizer order
    std::vector<ParamGroup> groups;
    std::vector<int64_t> stage_group;  // stage i's groups are [stage_group[i], stage_group[i + 1])
    // Each stage's tensors are updated in the backward, as soon as the stage is done with its weights (its dX
    // product read them): its gradients and weights are then still in cache. The optimizer is elementwise, so
    // the bits are those of one call over all groups; not with global_clipnorm (it needs every gradient first).
    bool update_per_stage = false;
    int64_t last_rows = 0;
    PlanEpochResult progress;  // run_epoch's running result

    // plan_build.cpp
    void validate();
    void allocate_params();
    void grow(int64_t rows);
    // plan_step.cpp: one step on `rows` rows of x (rows, in_features) and y (rows, classes) / labels (rows,).
    float run_step(int64_t rows, const float* x, const void* y);
    void forward(int64_t rows, const float* x);
    void backward(int64_t rows, const float* x, const OptimizerStep* step);  // step: update_per_stage
    OptimizerStep update_step() const;  // the kernel's arguments for this step (learning rate, t)
    void update_groups(const OptimizerStep& step, int64_t first, int64_t last);
    void finish_update();  // versions of params and slots, iterations += 1
    // plan_loss.cpp
    float loss_forward(int64_t rows, const void* y);
    void loss_backward(int64_t rows, const void* y);
    void update_metrics(int64_t rows, const void* y);

    const float* prediction() const;  // the model's output rows
    const float* logits() const;      // the last stage's pre-softmax/sigmoid output (loss_on_logits)
};

}  // namespace ckeras
