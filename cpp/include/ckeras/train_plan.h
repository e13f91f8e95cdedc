// TrainPlan: a captured training step for a chain of Dense and Dropout stages with one loss, accuracy metrics
// and a multi-tensor optimizer, replayed in C++ batch after batch (cpp/src/train/). It runs the kernels the
// eager path (ops + autograd + optimizer_apply) runs, in the same order and on the same shapes, so weights and
// logs are bitwise those of eager training. It works on the model's own tensors (weights, optimizer slots,
// iteration counter, learning rate, metric counters, dropout seed state), never on copies, and allocates
// its buffers once per batch capacity. Float32 only; the kernels come from the weights' device table.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "ckeras/kernels.h"
#include "ckeras/optim.h"
#include "ckeras/tensor.h"

namespace ckeras {

enum class PlanActivation : uint8_t { Linear, Relu, Sigmoid, Tanh, Softmax /*last stage only*/ };
enum class PlanLoss : uint8_t { CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy,
                                MeanSquaredError };
enum class PlanMetric : uint8_t { CategoricalAccuracy, SparseCategoricalAccuracy, BinaryAccuracy };

// One stage. Dense: out = activation(inp @ kernel + bias), kernel (in, units), bias (units,) or undefined.
// Dropout (training mode): the `dropout` kernel with the key and counter read from `seed_state`, an int64
// (2,) tensor [key, counter] (a SeedGenerator's state), whose counter advances by each draw's size.
struct PlanStage {
    enum class Kind : uint8_t { Dense, Dropout };
    Kind kind = Kind::Dense;
    Tensor kernel, bias;
    PlanActivation activation = PlanActivation::Linear;
    bool train_kernel = true, train_bias = true;  // whether the optimizer updates them
    double rate = 0.0;
    Tensor seed_state;
};

// The loss, reduced "sum_over_batch_size". A softmax (categorical losses) or sigmoid (binary) last stage is
// scored from its logits, as Keras's TensorFlow backend does; otherwise `from_logits` is the user's flag.
struct PlanLossSpec {
    PlanLoss kind = PlanLoss::CategoricalCrossentropy;
    bool from_logits = false;
};

// A Keras Mean-based accuracy metric whose float32 scalar state variables `total` and `count` the plan
// accumulates into, as update_state would.
struct PlanMetricSpec {
    PlanMetric kind = PlanMetric::CategoricalAccuracy;
    double threshold = 0.5;  // BinaryAccuracy
    Tensor total, count;
};

// The optimizer state: `step` holds the hyper-parameters (its learning_rate and step are read from
// `learning_rate` (float32 scalar) and `iterations` (int64 scalar) at every step, and iterations is
// incremented); slots[i] holds the slot tensors of the i-th trainable tensor in stage order (kernel before
// bias), as optimizer_apply takes them; decay[i] false excludes it from weight decay (empty: all decay).
struct PlanOptimizer {
    OptimizerStep step;
    ClipOptions clip;
    Tensor iterations, learning_rate;
    std::vector<std::vector<Tensor>> slots;
    std::vector<bool> decay;
};

// What run_epoch leaves: the loss tracker (a running mean weighted by batch size, as Keras's) and the
// first step after which its value was not finite (-1: none), with that value.
struct PlanEpochResult {
    double loss_total = 0.0, loss_count = 0.0;
    int64_t steps = 0;
    int64_t first_bad_step = -1;
    double first_bad_loss = 0.0;
};

class TrainPlan {
public:
    // Validates everything (ValueError naming the stage) and allocates buffers for `batch_size` rows.
    TrainPlan(std::vector<PlanStage> stages, PlanLossSpec loss, std::vector<PlanMetricSpec> metrics,
              PlanOptimizer optimizer, int64_t batch_size);
    ~TrainPlan();
    TrainPlan(const TrainPlan&) = delete;
    TrainPlan& operator=(const TrainPlan&) = delete;

    // One step on a batch: x (B, in) float32; y (B, C) float32, or (B,) int64 labels for the sparse loss
    // (any contiguous layout is read in place). Forward, loss, metrics, backward, one optimizer update.
    // Returns the batch's loss (the mean over the batch). A larger B than the capacity grows the buffers.
    float step(const Tensor& x, const Tensor& y);

    // Every batch of an epoch: batch i is rows permutation[i*bs : (i+1)*bs] of x and y (the last one partial),
    // gathered into the plan's buffers. The loss tracker starts from (loss_total, loss_count). Polls for
    // interruption (Ctrl-C) between batches; an interrupted epoch leaves every finished step applied.
    // `progress` (optional) is called with the number of finished steps after the first step and then at most
    // every `progress_interval` seconds, never after the last (the caller reports the end itself); it may
    // read epoch_progress(). An exception from it ends the epoch as an interruption does.
    PlanEpochResult run_epoch(const Tensor& x, const Tensor& y, int64_t batch_size, const Tensor& permutation,
                              double loss_total = 0.0, double loss_count = 0.0,
                              const std::function<void(int64_t)>& progress = nullptr, double progress_interval = 0.05);
    // The running result of the last run_epoch as of its last finished step (what an interrupted epoch did).
    PlanEpochResult epoch_progress() const;

    // The trainable tensors in optimizer order, and their gradients from the last step (for tests).
    std::vector<Tensor> params() const;
    std::vector<Tensor> grads() const;
    // The model's output (activation of the last stage) for the rows of the last step (for tests).
    Tensor last_output() const;
    int64_t capacity() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// Inference through `stages` (Dropout stages are the identity): x (rows, in) float32 on the cpu -> the last
// Dense stage's output, computed with the eager Dense call's kernels in its order (the same bits). When the
// last stage ends in softmax or sigmoid and `logits` is given, it receives the pre-activation.
Tensor plan_forward(const std::vector<PlanStage>& stages, const Tensor& x, Tensor* logits = nullptr);

}  // namespace ckeras
