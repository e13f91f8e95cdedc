// TrainPlan construction: validation of the stages, loss, metrics and optimizer state (ValueError naming what
// is wrong), the parameter groups for the optimizer kernel, and the batch-sized buffers.
#include <algorithm>
#include <cmath>
#include <string>

#include "ops/op_util.h"
#include "train/plan_impl.h"

namespace ckeras {
namespace {

const char* kWhat = "TrainPlan";

void check_f32(const Tensor& t, const std::string& what, const Shape& shape, Device device) {
    CKERAS_CHECK(t.defined(), kWhat, ": ", what, " is undefined");
    CKERAS_CHECK(t.dtype() == DType::Float32, kWhat, ": ", what, " has dtype ", dtype_name(t.dtype()),
                 "; the plan trains float32 models only");
    CKERAS_CHECK(t.shape() == shape, kWhat, ": ", what, " has shape ", t.shape(), ", expected ", shape);
    CKERAS_CHECK(t.is_contiguous(), kWhat, ": ", what, " must be contiguous (it is used in place)");
    CKERAS_CHECK(t.device() == device, kWhat, ": ", what, " is on ", t.device().str(), ", the weights on ",
                 device.str());
}

void check_int64(const Tensor& t, const std::string& what, const Shape& shape) {
    CKERAS_CHECK(t.defined() && t.dtype() == DType::Int64 && t.shape() == shape && t.is_contiguous(), kWhat, ": ",
                 what, " must be a contiguous int64 tensor of shape ", shape);
    CKERAS_CHECK(t.device().type == DeviceType::CPU, kWhat, ": ", what, " must be on the cpu");
}

bool has_params(const PlanStage& s) {
    return s.kind == PlanStage::Kind::Dense && (s.train_kernel || (s.bias.defined() && s.train_bias));
}

}  // namespace

void TrainPlan::Impl::validate() {
    CKERAS_CHECK(!stages.empty(), kWhat, ": the chain has no stages");
    CKERAS_CHECK(stages.back().kind == PlanStage::Kind::Dense, kWhat, ": the last stage must be Dense");
    const PlanStage* first_dense = nullptr;
    for (const PlanStage& s : stages)
        if (s.kind == PlanStage::Kind::Dense && !first_dense) first_dense = &s;
    CKERAS_CHECK(first_dense && first_dense->kernel.defined() && first_dense->kernel.dim() == 2, kWhat,
                 ": the first Dense stage needs a 2-D kernel");
    device = first_dense->kernel.device();
    CKERAS_CHECK(device.type == DeviceType::CPU, kWhat, ": the plan runs on the cpu only, the weights are on ",
                 device.str());
    table = &kernel_table(device.type);
    in_features = first_dense->kernel.size(0);
    int64_t width = in_features;
    widths.assign(1, width);
    first_trainable = -1;
    for (size_t i = 0; i < stages.size(); ++i) {
        PlanStage& s = stages[i];
        const std::string name = str_cat("stage ", i);
        if (s.kind == PlanStage::Kind::Dropout) {
            widths.push_back(width);
            CKERAS_CHECK(s.rate >= 0.0 && s.rate <= 1.0, kWhat, ": ", name, " has dropout rate ", s.rate,
                         ", expected a value in [0, 1]");
            check_int64(s.seed_state, name + " seed state", {2});
            continue;
        }
        CKERAS_CHECK(s.kernel.defined() && s.kernel.dim() == 2, kWhat, ": ", name, " needs a 2-D kernel");
        CKERAS_CHECK(s.kernel.size(0) == width, kWhat, ": ", name, " has a kernel of shape ", s.kernel.shape(),
                     " but its input has ", width, " features");
        const int64_t units = s.kernel.size(1);
        check_f32(s.kernel, name + " kernel", {width, units}, device);
        if (s.bias.defined()) check_f32(s.bias, name + " bias", {units}, device);
        CKERAS_CHECK(s.activation != PlanActivation::Softmax || i + 1 == stages.size(), kWhat, ": ", name,
                     " uses softmax, which the plan supports on the last stage only");
        if (first_trainable < 0 && has_params(s)) first_trainable = static_cast<int>(i);
        width = units;
        widths.push_back(width);
    }
    CKERAS_CHECK(first_trainable >= 0, kWhat, ": the model has no trainable weights");
    classes = width;
    const PlanActivation last = stages.back().activation;
    const bool categorical = loss.kind == PlanLoss::CategoricalCrossentropy ||
                             loss.kind == PlanLoss::SparseCategoricalCrossentropy;
    loss_on_logits = (categorical && last == PlanActivation::Softmax) ||
                     (loss.kind == PlanLoss::BinaryCrossentropy && last == PlanActivation::Sigmoid);
    for (size_t k = 0; k < metrics.size(); ++k) {
        const std::string name = str_cat("metric ", k);
        check_f32(metrics[k].total, name + " total", {}, device);
        check_f32(metrics[k].count, name + " count", {}, device);
    }
    check_int64(opt.iterations, "optimizer iterations", {});
    check_f32(opt.learning_rate, "optimizer learning rate", {}, device);
    check_clip_options(opt.step, opt.clip);
    CKERAS_CHECK(!(opt.step.weight_decay < 0) && !std::isnan(opt.step.weight_decay), kWhat,
                 ": weight_decay must be >= 0, got ", opt.step.weight_decay);
}

void TrainPlan::Impl::allocate_params() {
    buf.assign(stages.size(), PlanStageBuffers{});
    for (size_t i = 0; i < stages.size(); ++i) {
        const PlanStage& s = stages[i];
        if (s.kind != PlanStage::Kind::Dense) continue;
        if (s.train_kernel) {
            params.push_back(s.kernel);
            buf[i].dkernel = Tensor::empty(s.kernel.shape(), DType::Float32, device);
        }
        if (s.bias.defined() && s.train_bias) {
            params.push_back(s.bias);
            buf[i].dbias = Tensor::empty(s.bias.shape(), DType::Float32, device);
        }
    }
    const std::vector<int> positions = optimizer_slot_positions(opt.step);
    CKERAS_CHECK(opt.slots.size() == params.size(), kWhat, ": the optimizer has slots for ", opt.slots.size(),
                 " tensors but the plan trains ", params.size());
    CKERAS_CHECK(opt.decay.empty() || opt.decay.size() == params.size(), kWhat, ": got ", opt.decay.size(),
                 " weight-decay flags for ", params.size(), " trainable tensors");
    groups.assign(params.size(), ParamGroup{});
    stage_group.assign(1, 0);
    update_per_stage = !(opt.clip.global_clipnorm > 0);
    size_t p = 0;
    for (size_t i = 0; i < stages.size(); ++i) {
        for (int which = 0; which < 2; ++which) {
            const Tensor& grad = which == 0 ? buf[i].dkernel : buf[i].dbias;
            if (!grad.defined()) continue;
            ParamGroup& g = groups[p];
            const std::vector<Tensor>& slots = opt.slots[p];
            CKERAS_CHECK(slots.size() == positions.size(), kWhat, ": trainable tensor ", p, " has ", slots.size(),
                         " optimizer slots; this optimizer needs ", positions.size());
            for (size_t k = 0; k < slots.size(); ++k) {
                check_f32(slots[k], str_cat("slot ", k, " of trainable tensor ", p), params[p].shape(), device);
                g.slot[positions[k]] = slots[k].data<float>();
            }
            g.param = params[p].data<float>();
            g.grad = grad.data<float>();
            g.n = params[p].numel();
            g.decay = opt.decay.empty() || opt.decay[p];
            ++p;
        }
        stage_group.push_back(static_cast<int64_t>(p));
    }
    // A tensor trained twice (a layer used twice in the chain) would be updated twice per step.
    std::vector<const void*> starts;
    for (const Tensor& t : params) starts.push_back(t.data_ptr());
    std::sort(starts.begin(), starts.end());
    CKERAS_CHECK(std::adjacent_find(starts.begin(), starts.end()) == starts.end(), kWhat,
                 ": a weight appears twice in the chain (a layer used twice); train such models eagerly");
}

void TrainPlan::Impl::grow(int64_t rows) {
    if (rows <= cap) return;
    cap = rows;
    auto f32 = [&](const Shape& s) { return Tensor::empty(s, DType::Float32, device); };
    for (size_t i = 0; i < stages.size(); ++i) {
        const PlanStage& s = stages[i];
        PlanStageBuffers& b = buf[i];
        const bool last = i + 1 == stages.size();
        const int64_t units = widths[i + 1];
        b.out = f32({cap, units});
        b.dout = f32({cap, units});
        if (s.kind == PlanStage::Kind::Dropout) b.keep = Tensor::empty({cap, units}, DType::Bool, device);
        const bool split = s.activation == PlanActivation::Softmax || s.activation == PlanActivation::Sigmoid ||
                           s.activation == PlanActivation::Tanh;
        if (last && s.kind == PlanStage::Kind::Dense && split) b.probs = f32({cap, units});
    }
    xbuf = f32({cap, in_features});
    ybuf = loss.kind == PlanLoss::SparseCategoricalCrossentropy ? Tensor::empty({cap}, DType::Int64, device)
                                                                : f32({cap, classes});
    dpred = f32({cap, classes});
    sample_loss = f32({cap});
    dloss = f32({cap * classes});
    elem_loss = f32({cap * classes});
    arg_true = Tensor::empty({cap}, DType::Int64, device);
    arg_pred = Tensor::empty({cap}, DType::Int64, device);
    match = f32({cap * classes});
    match_row = f32({cap});
    scalar = f32({1});
}

TrainPlan::TrainPlan(std::vector<PlanStage> stages, PlanLossSpec loss, std::vector<PlanMetricSpec> metrics,
                     PlanOptimizer optimizer, int64_t batch_size)
    : impl_(std::make_unique<Impl>()) {
    CKERAS_CHECK(batch_size >= 1, kWhat, ": batch_size must be >= 1, got ", batch_size);
    impl_->stages = std::move(stages);
    impl_->loss = loss;
    impl_->metrics = std::move(metrics);
    impl_->opt = std::move(optimizer);
    impl_->validate();
    impl_->allocate_params();
    impl_->grow(batch_size);
}

TrainPlan::~TrainPlan() = default;

std::vector<Tensor> TrainPlan::params() const { return impl_->params; }

std::vector<Tensor> TrainPlan::grads() const {
    std::vector<Tensor> out;
    for (const PlanStageBuffers& b : impl_->buf) {
        if (b.dkernel.defined()) out.push_back(b.dkernel);
        if (b.dbias.defined()) out.push_back(b.dbias);
    }
    return out;
}

int64_t TrainPlan::capacity() const { return impl_->cap; }

}  // namespace ckeras
