// TrainPlan's loss and metrics, as the eager path computes them: the per-sample loss kernel, its sum through
// `reduce` divided by the batch size ("sum_over_batch_size"), the loss kernel's backward seeded with
// float(1 / B) per sample (what the autograd of sum / B gives), and Keras's accuracy metrics accumulated
// into their Mean state variables (total += sum(matches), count += B, both float32).
#include "ops/op_util.h"
#include "train/plan_impl.h"

namespace ckeras {
namespace {

constexpr DType F32 = DType::Float32;
constexpr double kEpsilon = 1e-7;  // keras.backend.epsilon()

void fill(float* p, int64_t n, float v) { std::fill(p, p + n, v); }

// t = t + v on a float32 scalar variable (Variable.assign_add).
void add_to(const Tensor& t, float v) {
    float* p = t.data<float>();
    *p = *p + v;
    t.impl()->storage->version++;
}

}  // namespace

// The batch loss: sum of the per-sample losses (reduce kernel) / B, in float32.
float TrainPlan::Impl::loss_forward(int64_t rows, const void* y) {
    const int64_t C = classes;
    const float* z = loss_on_logits ? logits() : prediction();
    const bool from_logits = loss_on_logits || loss.from_logits;
    float* sl = sample_loss.data<float>();
    switch (loss.kind) {
        case PlanLoss::CategoricalCrossentropy:
            table->cross_entropy(F32, sl, z, y, rows, C, from_logits, kEpsilon);
            break;
        case PlanLoss::SparseCategoricalCrossentropy: {
            const int64_t* labels = static_cast<const int64_t*>(y);
            const int64_t bad = table->sparse_cross_entropy(F32, sl, z, labels, rows, C, from_logits, kEpsilon);
            if (bad >= 0)
                throw_error(ErrorKind::Value, "Received a label value of ", labels[bad],
                            " which is outside the valid range of [0, ", C, ")");
            break;
        }
        case PlanLoss::BinaryCrossentropy: {
            // Elementwise, then the mean over the last axis: a sum (reduce) divided by C.
            float* el = elem_loss.data<float>();
            table->binary_cross_entropy(F32, el, z, y, rows * C, from_logits, kEpsilon);
            table->reduce(ReduceOp::Sum, F32, sl, el, rows, C, 1);
            const float c = static_cast<float>(C);
            for (int64_t i = 0; i < rows; ++i) sl[i] = sl[i] / c;
            break;
        }
        case PlanLoss::MeanSquaredError:
            table->regression_loss(F32, sl, z, y, rows, C, false);
            break;
    }
    float* total = scalar.data<float>();
    table->reduce(ReduceOp::Sum, F32, total, sl, 1, rows, 1);
    return *total / static_cast<float>(rows);
}

// d loss / d logits into the last stage's dout (logits path, or a linear last stage), else d loss / d prediction
// into dpred for the last activation's backward.
void TrainPlan::Impl::loss_backward(int64_t rows, const void* y) {
    const int64_t C = classes;
    const float* z = loss_on_logits ? logits() : prediction();
    const bool from_logits = loss_on_logits || loss.from_logits;
    const bool direct = loss_on_logits || stages.back().activation == PlanActivation::Linear;
    float* target = direct ? buf.back().dout.data<float>() : dpred.data<float>();
    float* dl = dloss.data<float>();
    const float per_sample = 1.0f / static_cast<float>(rows);
    switch (loss.kind) {
        case PlanLoss::CategoricalCrossentropy:
            fill(dl, rows, per_sample);
            table->cross_entropy_backward(F32, target, dl, z, y, rows, C, from_logits, kEpsilon);
            break;
        case PlanLoss::SparseCategoricalCrossentropy:
            fill(dl, rows, per_sample);
            table->sparse_cross_entropy_backward(F32, target, dl, z, static_cast<const int64_t*>(y), rows, C,
                                                 from_logits, kEpsilon);
            break;
        case PlanLoss::BinaryCrossentropy:
            fill(dl, rows * C, per_sample / static_cast<float>(C));  // then through the mean over C
            table->binary_cross_entropy_backward(F32, target, dl, z, y, rows * C, from_logits, kEpsilon);
            break;
        case PlanLoss::MeanSquaredError:
            fill(dl, rows, per_sample);
            table->regression_loss_backward(F32, target, dl, z, y, rows, C, false);
            break;
    }
}

// Per metric: 1.0 where a sample is right (argmax match, or for BinaryAccuracy the mean over C of
// (pred > threshold) == y), summed with `reduce`, then total += sum and count += B.
void TrainPlan::Impl::update_metrics(int64_t rows, const void* y) {
    const int64_t C = classes;
    const float* pred = prediction();
    float* mr = match_row.data<float>();
    int64_t* ap = arg_pred.data<int64_t>();
    bool have_argmax = false;
    for (const PlanMetricSpec& m : metrics) {
        if (m.kind != PlanMetric::BinaryAccuracy && !have_argmax) {
            table->reduce(ReduceOp::ArgMax, F32, ap, pred, rows, C, 1);
            have_argmax = true;
        }
        switch (m.kind) {
            case PlanMetric::CategoricalAccuracy: {
                int64_t* at = arg_true.data<int64_t>();
                table->reduce(ReduceOp::ArgMax, F32, at, y, rows, C, 1);
                for (int64_t i = 0; i < rows; ++i) mr[i] = at[i] == ap[i] ? 1.f : 0.f;
                break;
            }
            case PlanMetric::SparseCategoricalAccuracy: {
                const int64_t* labels = static_cast<const int64_t*>(y);
                for (int64_t i = 0; i < rows; ++i) mr[i] = labels[i] == ap[i] ? 1.f : 0.f;
                break;
            }
            case PlanMetric::BinaryAccuracy: {
                const float* yt = static_cast<const float*>(y);
                const float threshold = static_cast<float>(m.threshold);
                float* mt = match.data<float>();
                for (int64_t i = 0; i < rows * C; ++i) mt[i] = yt[i] == (pred[i] > threshold ? 1.f : 0.f) ? 1.f : 0.f;
                table->reduce(ReduceOp::Sum, F32, mr, mt, rows, C, 1);
                const float c = static_cast<float>(C);
                for (int64_t i = 0; i < rows; ++i) mr[i] = mr[i] / c;
                break;
            }
        }
        float* s = scalar.data<float>();
        table->reduce(ReduceOp::Sum, F32, s, mr, 1, rows, 1);
        add_to(m.total, *s);
        add_to(m.count, static_cast<float>(rows));
    }
}

}  // namespace ckeras
