// TrainPlan against the ops + autograd path: for small chains (relu/tanh/sigmoid/softmax/linear Dense stages,
// Dropout, frozen stages, no bias) and every loss, one step's loss, model output and gradients must be bitwise
// those of the same model written with ops and differentiated with grad(); the SGD update must equal
// optimizer_apply's; run_epoch must equal step() on the gathered batches (partial last batch included);
// metrics, interruption and validation errors.
#include <gtest/gtest.h>

#include <vector>

#include "ckeras/autograd.h"
#include "ckeras/interrupt.h"
#include "ckeras/ops.h"
#include "ckeras/optim.h"
#include "ckeras/train_plan.h"
#include "test_util.h"

using namespace ckeras;
using namespace ckeras::test;

namespace {

constexpr DType F32 = DType::Float32;

Tensor f32(const Shape& shape, uint32_t seed, double lo = -1, double hi = 1) {
    return random_tensor(shape, seed, lo, hi, F32);
}

PlanStage dense(int64_t in, int64_t units, PlanActivation act, uint32_t seed, bool bias = true, bool train = true) {
    PlanStage s;
    s.kernel = f32({in, units}, seed, -0.5, 0.5);
    if (bias) s.bias = f32({units}, seed + 1, -0.1, 0.1);
    s.activation = act;
    s.train_kernel = s.train_bias = train;
    return s;
}

PlanStage dropout_stage(double rate, int64_t key) {
    PlanStage s;
    s.kind = PlanStage::Kind::Dropout;
    s.rate = rate;
    s.seed_state = Tensor::empty({2}, DType::Int64);
    s.seed_state.data<int64_t>()[0] = key;
    s.seed_state.data<int64_t>()[1] = 0;
    return s;
}

// A deep copy of the chain (weights and seed states), so two plans or a plan and the reference can diverge.
std::vector<PlanStage> clone(const std::vector<PlanStage>& stages) {
    std::vector<PlanStage> out = stages;
    for (PlanStage& s : out) {
        if (s.kernel.defined()) s.kernel = copy(s.kernel);
        if (s.bias.defined()) s.bias = copy(s.bias);
        if (s.seed_state.defined()) s.seed_state = copy(s.seed_state);
    }
    return out;
}

std::vector<Tensor> trainable(const std::vector<PlanStage>& stages) {
    std::vector<Tensor> out;
    for (const PlanStage& s : stages) {
        if (s.kind != PlanStage::Kind::Dense) continue;
        if (s.train_kernel) out.push_back(s.kernel);
        if (s.bias.defined() && s.train_bias) out.push_back(s.bias);
    }
    return out;
}

PlanOptimizer sgd(const std::vector<PlanStage>& stages, double lr = 0.1) {
    PlanOptimizer o;
    o.step.kind = OptimizerKind::SGD;
    o.iterations = Tensor::zeros({}, DType::Int64);
    o.learning_rate = Tensor::full({}, lr, F32);
    o.slots.assign(trainable(stages).size(), {});
    return o;
}

struct Reference {
    float loss;
    Tensor pred;
    std::vector<Tensor> grads;
};

// The same model written with ops (matmul, add, activations, dropout, the loss ops, sum / B) and differentiated
// with grad(), on copies of the weights. Dropout reads the seed state without advancing it.
Reference reference_step(const std::vector<PlanStage>& stages, PlanLossSpec loss, const Tensor& x, const Tensor& y) {
    GradModeGuard on(true);
    std::vector<Tensor> leaves;
    Tensor h = x, z;
    for (const PlanStage& s : stages) {
        if (s.kind == PlanStage::Kind::Dropout) {
            const int64_t* st = s.seed_state.data<int64_t>();
            h = dropout(h, s.rate, static_cast<uint64_t>(st[0]), static_cast<uint64_t>(st[1]));
            continue;
        }
        Tensor w = copy(s.kernel);
        w.set_requires_grad(s.train_kernel);
        if (s.train_kernel) leaves.push_back(w);
        z = matmul(h, w);
        if (s.bias.defined()) {
            Tensor b = copy(s.bias);
            b.set_requires_grad(s.train_bias);
            if (s.train_bias) leaves.push_back(b);
            z = add(z, b);
        }
        switch (s.activation) {
            case PlanActivation::Linear: h = z; break;
            case PlanActivation::Relu: h = unary(UnaryOp::Relu, z); break;
            case PlanActivation::Sigmoid: h = unary(UnaryOp::Sigmoid, z); break;
            case PlanActivation::Tanh: h = unary(UnaryOp::Tanh, z); break;
            case PlanActivation::Softmax: h = softmax(z, -1); break;
        }
    }
    const PlanActivation last = stages.back().activation;
    Tensor per;
    switch (loss.kind) {
        case PlanLoss::CategoricalCrossentropy:
        case PlanLoss::SparseCategoricalCrossentropy: {
            const bool logits = last == PlanActivation::Softmax;
            const Tensor& p = logits ? z : h;
            per = loss.kind == PlanLoss::CategoricalCrossentropy
                      ? categorical_crossentropy(y, p, logits || loss.from_logits)
                      : sparse_categorical_crossentropy(y, p, logits || loss.from_logits);
            break;
        }
        case PlanLoss::BinaryCrossentropy: {
            const bool logits = last == PlanActivation::Sigmoid;
            per = binary_crossentropy(y, logits ? z : h, logits || loss.from_logits);
            break;
        }
        case PlanLoss::MeanSquaredError: per = mean_squared_error(y, h); break;
    }
    Tensor s = sum(per);
    Tensor total = div(s, scalar_like(static_cast<double>(x.size(0)), s));
    return {static_cast<float>(total.item()), h.detach(), grad({total}, leaves)};
}

Tensor targets(PlanLoss kind, int64_t rows, int64_t classes, uint32_t seed) {
    if (kind == PlanLoss::SparseCategoricalCrossentropy) {
        Tensor t = Tensor::empty({rows}, DType::Int64);
        for (int64_t i = 0; i < rows; ++i) t.data<int64_t>()[i] = (i * 7 + seed) % classes;
        return t;
    }
    if (kind == PlanLoss::MeanSquaredError) return f32({rows, classes}, seed);
    Tensor t = Tensor::zeros({rows, classes}, F32);
    for (int64_t i = 0; i < rows; ++i)
        for (int64_t c = 0; c < classes; ++c) {
            const bool on = kind == PlanLoss::BinaryCrossentropy ? (i + c + seed) % 2 == 1
                                                                 : c == (i * 3 + seed) % classes;
            t.data<float>()[i * classes + c] = on ? 1.f : 0.f;
        }
    return t;
}

struct Config {
    const char* name;
    std::vector<PlanStage> stages;
    PlanLossSpec loss;
};

std::vector<Config> configs() {
    using A = PlanActivation;
    return {
        {"relu-softmax-cce", {dense(9, 6, A::Relu, 1), dense(6, 4, A::Softmax, 3)},
         {PlanLoss::CategoricalCrossentropy}},
        {"relu-softmax-sparse", {dense(9, 6, A::Relu, 5), dense(6, 4, A::Softmax, 7)},
         {PlanLoss::SparseCategoricalCrossentropy}},
        {"tanh-dropout-sigmoid-bce",
         {dense(9, 8, A::Tanh, 9), dropout_stage(0.3, 1234), dense(8, 3, A::Sigmoid, 11)},
         {PlanLoss::BinaryCrossentropy}},
        {"relu-linear-mse", {dense(9, 5, A::Relu, 13), dense(5, 2, A::Linear, 15)}, {PlanLoss::MeanSquaredError}},
        {"frozen-sigmoid-softmax-mse",
         {dense(9, 5, A::Sigmoid, 17, true, false), dense(5, 4, A::Tanh, 19), dense(4, 3, A::Softmax, 21)},
         {PlanLoss::MeanSquaredError}},
        {"dropout-first-nobias-logits",
         {dropout_stage(0.5, 99), dense(9, 7, A::Relu, 23, false), dense(7, 4, A::Linear, 25, false)},
         {PlanLoss::CategoricalCrossentropy, true}},
        {"sigmoid-last-mse", {dense(9, 4, A::Relu, 27), dense(4, 1, A::Sigmoid, 29)}, {PlanLoss::MeanSquaredError}},
    };
}

}  // namespace

TEST(TrainPlan, StepMatchesOpsAndAutogradBitwise) {
    for (const Config& c : configs()) {
        for (int64_t rows : {1, 7, 32}) {
            const int64_t classes = c.stages.back().kernel.size(1);
            Tensor x = f32({rows, 9}, 41 + static_cast<uint32_t>(rows), -2, 2);
            Tensor y = targets(c.loss.kind, rows, classes, 3);
            std::vector<PlanStage> stages = clone(c.stages);
            Reference ref = reference_step(stages, c.loss, x, y);
            std::vector<Tensor> before;
            for (const Tensor& t : trainable(stages)) before.push_back(copy(t));
            TrainPlan plan(stages, c.loss, {}, sgd(stages), 32);
            const float loss = plan.step(x, y);
            const std::string what = std::string(c.name) + " rows=" + std::to_string(rows);
            EXPECT_EQ(loss, ref.loss) << what;
            EXPECT_EQ(plan.last_output().to_vector(), ref.pred.to_vector()) << what;
            std::vector<Tensor> grads = plan.grads();
            ASSERT_EQ(grads.size(), ref.grads.size()) << what;
            for (size_t k = 0; k < grads.size(); ++k) {
                EXPECT_EQ(grads[k].to_vector(), ref.grads[k].to_vector()) << what << " grad " << k;
                // The update is optimizer_apply's SGD step on the same gradient.
                OptimizerStep sgd_step;
                sgd_step.learning_rate = double(0.1f);  // read from the float32 variable
                Tensor w = before[k];
                optimizer_apply(sgd_step, ClipOptions{}, {w}, {ref.grads[k]}, {{}}, {});
                EXPECT_EQ(plan.params()[k].to_vector(), w.to_vector()) << what << " param " << k;
            }
        }
    }
}

TEST(TrainPlan, DropoutAdvancesTheSeedCounterLikeTheLayer) {
    std::vector<PlanStage> stages = {dense(9, 8, PlanActivation::Relu, 1), dropout_stage(0.4, 5),
                                     dense(8, 2, PlanActivation::Softmax, 2)};
    Tensor seed = stages[1].seed_state;
    TrainPlan plan(stages, {PlanLoss::CategoricalCrossentropy}, {}, sgd(stages), 8);
    plan.step(f32({8, 9}, 1), targets(PlanLoss::CategoricalCrossentropy, 8, 2, 0));
    EXPECT_EQ(seed.data<int64_t>()[1], 8 * 8);
    plan.step(f32({3, 9}, 2), targets(PlanLoss::CategoricalCrossentropy, 3, 2, 0));
    EXPECT_EQ(seed.data<int64_t>()[1], 8 * 8 + 3 * 8);
    EXPECT_EQ(seed.data<int64_t>()[0], 5);
}

TEST(TrainPlan, RunEpochEqualsStepsOnGatheredBatches) {
    for (const Config& c : configs()) {
        const int64_t n = 10, bs = 4, classes = c.stages.back().kernel.size(1);
        Tensor x = f32({n, 9}, 51, -2, 2);
        Tensor y = targets(c.loss.kind, n, classes, 1);
        Tensor perm = Tensor::empty({n}, DType::Int64);
        for (int64_t i = 0; i < n; ++i) perm.data<int64_t>()[i] = (i * 3 + 1) % n;
        std::vector<PlanStage> a = clone(c.stages), b = clone(c.stages);
        TrainPlan epoch_plan(a, c.loss, {}, sgd(a), bs), step_plan(b, c.loss, {}, sgd(b), bs);
        PlanEpochResult r = epoch_plan.run_epoch(x, y, bs, perm, 1.5, 2.0);
        double total = 1.5, count = 2.0;
        for (int64_t start = 0; start < n; start += bs) {
            const int64_t rows = std::min(bs, n - start);
            Tensor idx = slice(perm, {{start, start + rows, 1}});
            const float l = step_plan.step(take(x, idx, 0), take(y, idx, 0));
            total += double(l) * double(rows);
            count += double(rows);
        }
        EXPECT_EQ(r.steps, 3) << c.name;
        EXPECT_EQ(r.loss_total, total) << c.name;
        EXPECT_EQ(r.loss_count, count) << c.name;
        EXPECT_EQ(r.first_bad_step, -1) << c.name;
        for (size_t k = 0; k < epoch_plan.params().size(); ++k)
            EXPECT_EQ(epoch_plan.params()[k].to_vector(), step_plan.params()[k].to_vector()) << c.name << " " << k;
        // Without a permutation the batches are the rows in order, read in place.
        std::vector<PlanStage> d = clone(c.stages), e = clone(c.stages);
        TrainPlan seq(d, c.loss, {}, sgd(d), bs), seq_steps(e, c.loss, {}, sgd(e), bs);
        seq.run_epoch(x, y, bs, Tensor());
        for (int64_t start = 0; start < n; start += bs) {
            Tensor idx = arange(double(start), double(std::min(n, start + bs)), 1, DType::Int64);
            seq_steps.step(take(x, idx, 0), take(y, idx, 0));
        }
        for (size_t k = 0; k < seq.params().size(); ++k)
            EXPECT_EQ(seq.params()[k].to_vector(), seq_steps.params()[k].to_vector()) << c.name << " " << k;
    }
}

TEST(TrainPlan, AccuracyMetricsCountLikeKeras) {
    const int64_t rows = 7;
    std::vector<PlanStage> stages = {dense(9, 6, PlanActivation::Relu, 1), dense(6, 4, PlanActivation::Softmax, 3)};
    Tensor x = f32({rows, 9}, 8, -2, 2);
    Tensor y = targets(PlanLoss::CategoricalCrossentropy, rows, 4, 2);
    Tensor pred = reference_step(clone(stages), {PlanLoss::CategoricalCrossentropy}, x, y).pred;
    PlanMetricSpec m{PlanMetric::CategoricalAccuracy, 0.5, Tensor::full({}, 3.0, F32), Tensor::full({}, 10.0, F32)};
    TrainPlan plan(stages, {PlanLoss::CategoricalCrossentropy}, {m}, sgd(stages), rows);
    plan.step(x, y);
    Tensor right = sum(cast(binary(BinaryOp::Eq, argmax(pred, -1), argmax(y, -1)), F32));
    EXPECT_EQ(m.total.item(), 3.0 + right.item());
    EXPECT_EQ(m.count.item(), 10.0 + rows);

    // BinaryAccuracy over 3 outputs: the per-sample mean of (pred > threshold) == y.
    std::vector<PlanStage> bin = {dense(9, 3, PlanActivation::Sigmoid, 4)};
    Tensor yb = targets(PlanLoss::BinaryCrossentropy, rows, 3, 0);
    Tensor pb = reference_step(clone(bin), {PlanLoss::BinaryCrossentropy}, x, yb).pred;
    PlanMetricSpec mb{PlanMetric::BinaryAccuracy, 0.6, Tensor::zeros({}, F32), Tensor::zeros({}, F32)};
    TrainPlan bplan(bin, {PlanLoss::BinaryCrossentropy}, {mb}, sgd(bin), rows);
    bplan.step(x, yb);
    Tensor hits = cast(binary(BinaryOp::Eq, cast(binary(BinaryOp::Gt, pb, scalar_like(0.6, pb)), F32), yb), F32);
    EXPECT_EQ(mb.total.item(), sum(mean(hits, Axes{-1})).item());
    EXPECT_EQ(mb.count.item(), double(rows));
}

TEST(TrainPlan, AdamUsesTheOptimizerState) {
    std::vector<PlanStage> stages = {dense(9, 6, PlanActivation::Relu, 1), dense(6, 4, PlanActivation::Softmax, 3)};
    std::vector<PlanStage> ref = clone(stages);
    PlanOptimizer o = sgd(stages, 0.01);
    o.step.kind = OptimizerKind::Adam;
    o.iterations.data<int64_t>()[0] = 4;  // a resumed optimizer: t = 5
    auto adam_slots = [](const std::vector<PlanStage>& s) {
        std::vector<std::vector<Tensor>> out;
        for (const Tensor& p : trainable(s))
            out.push_back({Tensor::zeros(p.shape(), F32), Tensor::zeros(p.shape(), F32)});
        return out;
    };
    o.slots = adam_slots(stages);
    Tensor x = f32({5, 9}, 3), y = targets(PlanLoss::CategoricalCrossentropy, 5, 4, 1);
    Reference r = reference_step(ref, {PlanLoss::CategoricalCrossentropy}, x, y);
    TrainPlan plan(stages, {PlanLoss::CategoricalCrossentropy}, {}, o, 5);
    plan.step(x, y);
    OptimizerStep s = o.step;
    s.learning_rate = double(0.01f);
    s.step = 5;
    std::vector<std::vector<Tensor>> slots = adam_slots(ref);
    optimizer_apply(s, {}, trainable(ref), r.grads, slots, {});
    for (size_t k = 0; k < slots.size(); ++k) {
        EXPECT_EQ(plan.params()[k].to_vector(), trainable(ref)[k].to_vector()) << k;
        EXPECT_EQ(o.slots[k][0].to_vector(), slots[k][0].to_vector()) << k;
        EXPECT_EQ(o.slots[k][1].to_vector(), slots[k][1].to_vector()) << k;
    }
    EXPECT_EQ(o.iterations.item(), 5.0);
}

TEST(TrainPlan, RunEpochStopsWhenInterrupted) {
    std::vector<PlanStage> stages = {dense(9, 6, PlanActivation::Relu, 1), dense(6, 4, PlanActivation::Softmax, 3)};
    PlanOptimizer o = sgd(stages);
    Tensor iterations = o.iterations;
    TrainPlan plan(stages, {PlanLoss::CategoricalCrossentropy}, {}, o, 4);
    set_interrupt_hook([] { return true; });
    expect_error([&] { plan.run_epoch(f32({10, 9}, 1), targets(PlanLoss::CategoricalCrossentropy, 10, 4, 0), 4,
                                      Tensor()); }, ErrorKind::Interrupt, {"interrupted"});
    set_interrupt_hook(nullptr);
    EXPECT_EQ(iterations.item(), 1.0);  // the first batch finished, nothing else ran
}

TEST(TrainPlan, ReportsInvalidInput) {
    using A = PlanActivation;
    auto build = [](std::vector<PlanStage> s, PlanLossSpec l = {PlanLoss::CategoricalCrossentropy}) {
        TrainPlan p(s, l, {}, sgd(s), 4);
    };
    expect_error([&] { build({dense(9, 6, A::Relu, 1), dense(5, 4, A::Softmax, 3)}); }, ErrorKind::Value,
                 {"stage 1", "input has 6 features"});
    expect_error([&] { build({dense(9, 6, A::Softmax, 1), dense(6, 4, A::Linear, 3)}); }, ErrorKind::Value,
                 {"stage 0", "last stage only"});
    expect_error([&] { build({dense(9, 6, A::Relu, 1), dropout_stage(1.5, 1)}); }, ErrorKind::Value,
                 {"last stage must be Dense"});
    std::vector<PlanStage> s = {dense(9, 4, A::Softmax, 1)};
    TrainPlan p(s, {PlanLoss::SparseCategoricalCrossentropy}, {}, sgd(s), 4);
    Tensor labels = targets(PlanLoss::SparseCategoricalCrossentropy, 3, 4, 0);
    labels.data<int64_t>()[1] = 4;
    expect_error([&] { p.step(f32({3, 9}, 1), labels); }, ErrorKind::Value, {"label value of 4", "[0, 4)"});
    expect_error([&] { p.step(f32({3, 8}, 1), labels); }, ErrorKind::Value, {"x must be float32"});
    EXPECT_EQ(p.capacity(), 4);
    p.step(f32({6, 9}, 1), targets(PlanLoss::SparseCategoricalCrossentropy, 6, 4, 0));  // grows
    EXPECT_EQ(p.capacity(), 6);
}
