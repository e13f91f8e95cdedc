// TrainPlan's step: the forward through the chain, the backward and the optimizer update, each as the kernel
// calls the eager path makes (matmul -> gemm, add -> bias_activation, activations -> unary/softmax, their
// gradients -> gemm with transpose flags, column sums through `reduce`, relu/sigmoid/tanh through
// `unary_backward`), and the two entry points step() and run_epoch().
#include <chrono>
#include <cmath>

#include "ckeras/interrupt.h"
#include "ops/op_util.h"
#include "train/plan_impl.h"

namespace ckeras {
namespace {

constexpr DType F32 = DType::Float32;

UnaryOp unary_of(PlanActivation a) {
    return a == PlanActivation::Sigmoid ? UnaryOp::Sigmoid : a == PlanActivation::Tanh ? UnaryOp::Tanh
                                                                                       : UnaryOp::Relu;
}

// [key, counter] of a SeedGenerator: reserves n counter values, returns (key, first counter), as
// SeedGenerator._next does (64-bit wrap-around).
std::pair<uint64_t, uint64_t> next_seed(const Tensor& state, int64_t n) {
    int64_t* s = state.data<int64_t>();
    const uint64_t key = static_cast<uint64_t>(s[0]), offset = static_cast<uint64_t>(s[1]);
    s[1] = static_cast<int64_t>(offset + static_cast<uint64_t>(n));
    state.impl()->storage->version++;
    return {key, offset};
}

}  // namespace

const float* TrainPlan::Impl::prediction() const {
    const PlanStageBuffers& b = buf.back();
    return (b.probs.defined() ? b.probs : b.out).data<float>();
}

const float* TrainPlan::Impl::logits() const { return buf.back().out.data<float>(); }

void dense_forward(const KernelTable& table, const PlanStage& s, int64_t rows, int64_t width, const float* h,
                   float* z, float* act) {
    const int64_t units = s.kernel.size(1);
    table.gemm(F32, false, false, rows, units, width, 1.0, h, width, s.kernel.data<float>(), units, 0.0, z, units);
    table.bias_activation(F32, z, s.bias.defined() ? s.bias.data<float>() : nullptr, rows, units,
                          s.activation == PlanActivation::Relu);
    if (s.activation == PlanActivation::Softmax)
        table.softmax(F32, act, z, rows, units, 1, false);
    else if (s.activation == PlanActivation::Sigmoid || s.activation == PlanActivation::Tanh)
        table.unary(unary_of(s.activation), F32, act, z, rows * units, 0.0, 0.0);
}

// x (rows, in_features) -> every stage's `out`: Dense through dense_forward, its sigmoid/tanh
// in place or, on the last stage, into probs, and its softmax into probs.
void TrainPlan::Impl::forward(int64_t rows, const float* x) {
    const float* h = x;
    for (size_t i = 0; i < stages.size(); ++i) {
        const PlanStage& s = stages[i];
        PlanStageBuffers& b = buf[i];
        const int64_t width = widths[i];
        float* out = b.out.data<float>();
        if (s.kind == PlanStage::Kind::Dropout) {
            const auto [key, offset] = next_seed(s.seed_state, rows * width);
            table->dropout(F32, out, b.keep.data<bool>(), h, rows * width, s.rate, key, offset);
        } else {
            dense_forward(*table, s, rows, width, h, out, b.probs.defined() ? b.probs.data<float>() : out);
        }
        h = out;
    }
}

// From buf.back().dout (already d loss / d logits, or d loss / d prediction in dpred) down to the first
// trainable stage: per Dense stage the activation's backward into dout, dkernel = inp^T @ dz,
// dbias = column sums of dz, and d inp = dz @ kernel^T when a stage below needs it.
void TrainPlan::Impl::backward(int64_t rows, const float* x, const OptimizerStep* step) {
    const int last = static_cast<int>(stages.size()) - 1;
    for (int i = last; i >= first_trainable; --i) {
        const PlanStage& s = stages[i];
        PlanStageBuffers& b = buf[i];
        const int64_t width = widths[i], units = widths[i + 1];
        const float* inp = i == 0 ? x : buf[i - 1].out.data<float>();
        float* dz = b.dout.data<float>();
        float* dinp = i > first_trainable ? buf[i - 1].dout.data<float>() : nullptr;
        if (s.kind == PlanStage::Kind::Dropout) {
            if (dinp) table->dropout_backward(F32, dinp, dz, b.keep.data<bool>(), rows * width, s.rate);
            continue;
        }
        if (i == last && !loss_on_logits) {
            // dpred -> dz through the last activation (relu's mask reads its output: out > 0 iff z > 0).
            const float* dp = dpred.data<float>();
            const float* y = prediction();
            switch (s.activation) {
                case PlanActivation::Linear: break;  // the loss wrote into dout directly
                case PlanActivation::Softmax: table->softmax_backward(F32, dz, dp, y, rows, units, 1, false); break;
                default: table->unary_backward(unary_of(s.activation), F32, dz, dp, y, y, rows * units, 0.0, 0.0);
            }
        } else if (i != last && s.activation != PlanActivation::Linear) {
            const float* y = b.out.data<float>();
            table->unary_backward(unary_of(s.activation), F32, dz, dz, y, y, rows * units, 0.0, 0.0);
        }
        if (b.dkernel.defined())
            table->gemm(F32, true, false, width, units, rows, 1.0, inp, width, dz, units, 0.0,
                        b.dkernel.data<float>(), units);
        if (b.dbias.defined()) table->reduce(ReduceOp::Sum, F32, b.dbias.data<float>(), dz, 1, rows, units);
        if (dinp)
            table->gemm(F32, false, true, rows, width, units, 1.0, dz, units, s.kernel.data<float>(), units, 0.0,
                        dinp, width);
        if (step) update_groups(*step, stage_group[i], stage_group[i + 1]);
    }
}

// The optimizer's arguments: learning rate and t = iterations + 1 read from the optimizer's variables (what
// Optimizer.apply does around optimizer_apply); finish_update then counts the step.
OptimizerStep TrainPlan::Impl::update_step() const {
    OptimizerStep step = opt.step;
    step.learning_rate = static_cast<double>(*opt.learning_rate.data<float>());
    step.step = *opt.iterations.data<int64_t>() + 1;
    return step;
}

void TrainPlan::Impl::update_groups(const OptimizerStep& step, int64_t first, int64_t last) {
    if (last > first) optimizer_step_groups(step, opt.clip, groups.data() + first, last - first, device);
}

void TrainPlan::Impl::finish_update() {
    for (size_t p = 0; p < params.size(); ++p) {
        params[p].impl()->storage->version++;
        for (const Tensor& slot : opt.slots[p]) slot.impl()->storage->version++;
    }
    *opt.iterations.data<int64_t>() += 1;
    opt.iterations.impl()->storage->version++;
}

float TrainPlan::Impl::run_step(int64_t rows, const float* x, const void* y) {
    forward(rows, x);
    const float loss_value = loss_forward(rows, y);
    loss_backward(rows, y);
    const OptimizerStep step = update_step();
    backward(rows, x, update_per_stage ? &step : nullptr);
    update_metrics(rows, y);
    if (!update_per_stage) update_groups(step, 0, static_cast<int64_t>(groups.size()));
    finish_update();
    last_rows = rows;
    return loss_value;
}

float TrainPlan::step(const Tensor& x_in, const Tensor& y_in) {
    Impl& p = *impl_;
    CKERAS_CHECK(x_in.defined() && x_in.dim() == 2 && x_in.size(1) == p.in_features && x_in.dtype() == F32,
                 "TrainPlan.step: x must be float32 of shape (batch, ", p.in_features, "), got ",
                 x_in.defined() ? dtype_name(x_in.dtype()) : "undefined", " ", x_in.defined() ? x_in.shape() : Shape{});
    const int64_t rows = x_in.size(0);
    CKERAS_CHECK(rows >= 1, "TrainPlan.step: the batch is empty");
    const bool sparse = p.loss.kind == PlanLoss::SparseCategoricalCrossentropy;
    const Shape y_shape = sparse ? Shape{rows} : Shape{rows, p.classes};
    CKERAS_CHECK(y_in.defined() && y_in.shape() == y_shape && y_in.dtype() == (sparse ? DType::Int64 : F32),
                 "TrainPlan.step: y must be ", sparse ? "int64" : "float32", " of shape ", y_shape, ", got ",
                 y_in.defined() ? dtype_name(y_in.dtype()) : "undefined", " ", y_in.defined() ? y_in.shape() : Shape{});
    CKERAS_CHECK(x_in.device() == p.device && y_in.device() == p.device, "TrainPlan.step: x and y must be on ",
                 p.device.str());
    const Tensor x = contiguous(x_in), y = contiguous(y_in);
    p.grow(rows);
    return p.run_step(rows, x.data<float>(), y.data_ptr());
}

PlanEpochResult TrainPlan::run_epoch(const Tensor& x, const Tensor& y, int64_t batch_size, const Tensor& perm,
                                     double loss_total, double loss_count,
                                     const std::function<void(int64_t)>& progress, double progress_interval) {
    Impl& p = *impl_;
    const bool sparse = p.loss.kind == PlanLoss::SparseCategoricalCrossentropy;
    CKERAS_CHECK(x.defined() && x.dim() == 2 && x.size(1) == p.in_features && x.dtype() == F32 && x.is_contiguous(),
                 "TrainPlan.run_epoch: x must be a contiguous float32 tensor of shape (n, ", p.in_features, ")");
    const int64_t n = x.size(0);
    const Shape y_shape = sparse ? Shape{n} : Shape{n, p.classes};
    CKERAS_CHECK(y.defined() && y.shape() == y_shape && y.dtype() == (sparse ? DType::Int64 : F32) &&
                 y.is_contiguous(), "TrainPlan.run_epoch: y must be a contiguous ", sparse ? "int64" : "float32",
                 " tensor of shape ", y_shape);
    CKERAS_CHECK(batch_size >= 1, "TrainPlan.run_epoch: batch_size must be >= 1, got ", batch_size);
    CKERAS_CHECK(!perm.defined() || (perm.dtype() == DType::Int64 && perm.dim() == 1 && perm.size(0) == n &&
                                     perm.is_contiguous()),
                 "TrainPlan.run_epoch: permutation must be a contiguous int64 tensor of shape (", n, ",)");
    CKERAS_CHECK(x.device() == p.device && y.device() == p.device, "TrainPlan.run_epoch: x and y must be on ",
                 p.device.str());
    PlanEpochResult& r = p.progress;
    r = PlanEpochResult{loss_total, loss_count, 0, -1, 0.0};
    p.grow(std::min(batch_size, n));
    const int64_t y_inner = sparse ? 1 : p.classes;
    const DType y_dtype = sparse ? DType::Int64 : F32;
    const size_t y_item = dtype_size(y_dtype);
    using Clock = std::chrono::steady_clock;
    Clock::time_point last_report = Clock::now();
    for (int64_t start = 0; start < n; start += batch_size) {
        const int64_t rows = std::min(batch_size, n - start);
        const float* xb = x.data<float>() + start * p.in_features;
        const void* yb = static_cast<const char*>(y.data_ptr()) + start * y_inner * static_cast<int64_t>(y_item);
        if (perm.defined()) {  // batch gather; an index outside [-n, n) raises before the step
            const int64_t* idx = perm.data<int64_t>() + start;
            int64_t bad = p.table->gather(F32, p.xbuf.data_ptr(), x.data_ptr(), 1, n, p.in_features, idx, rows);
            if (bad < 0) bad = p.table->gather(y_dtype, p.ybuf.data_ptr(), y.data_ptr(), 1, n, y_inner, idx, rows);
            CKERAS_CHECK_KIND(Index, bad < 0, "TrainPlan.run_epoch: permutation value ", idx[bad],
                              " is out of bounds for ", n, " samples");
            xb = p.xbuf.data<float>();
            yb = p.ybuf.data_ptr();
        }
        const float loss_value = p.run_step(rows, xb, yb);
        r.loss_total += static_cast<double>(loss_value) * static_cast<double>(rows);
        r.loss_count += static_cast<double>(rows);
        const double mean = r.loss_total / r.loss_count;
        if (r.first_bad_step < 0 && !std::isfinite(mean)) {
            r.first_bad_step = r.steps;
            r.first_bad_loss = mean;
        }
        ++r.steps;
        if (start + batch_size < n) {
            poll_interrupt();
            if (progress && (r.steps == 1 || std::chrono::duration<double>(Clock::now() - last_report).count() >=
                                                  progress_interval)) {
                progress(r.steps);
                last_report = Clock::now();
            }
        }
    }
    return r;
}

PlanEpochResult TrainPlan::epoch_progress() const { return impl_->progress; }

Tensor TrainPlan::last_output() const {
    const Impl& p = *impl_;
    Tensor out = Tensor::empty({p.last_rows, p.classes}, F32, p.device);
    std::copy(p.prediction(), p.prediction() + p.last_rows * p.classes, out.data<float>());
    return out;
}

}  // namespace ckeras
