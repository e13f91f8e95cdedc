// Tests for the CPU `optimizer_step` and `grad_sq_norm` kernels against a plain double-precision
// reference of each Keras 3 update (keras/src/optimizers/*.py), over several steps, several groups of odd
// sizes in one call, and every option: momentum, nesterov, amsgrad, centered, weight decay with one group
// excluded, clip_value and grad_scale; then bit-level golden values from keras 3.15.1.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "ckeras/optim.h"
#include "cpu/cpu_common.h"

using namespace ckeras;

namespace {

const KernelTable& table() {
    static const KernelTable t = [] {
        KernelTable k;
        cpu::register_optimizer_cpu(k);
        return k;
    }();
    return t;
}

// Which slots a kind uses (mirrors the ParamGroup comment in kernels.h).
void needed_slots(const OptimizerStep& s, bool need[3]) {
    need[0] = need[1] = need[2] = false;
    for (int k : optimizer_slot_positions(s)) need[k] = true;
}

// A group over caller-owned buffers.
ParamGroup group(float* w, const float* g, int64_t n, float* s0 = nullptr, float* s1 = nullptr,
                 float* s2 = nullptr) {
    ParamGroup p;
    p.param = w;
    p.grad = g;
    p.slot[0] = s0;
    p.slot[1] = s1;
    p.slot[2] = s2;
    p.n = n;
    return p;
}

double nadam_u(double beta_1, int64_t t) { return beta_1 * (1.0 - 0.5 * std::pow(0.96, double(t))); }

// ---- the reference: one Keras 3 step on one variable, in double ------------------------------------
struct RefVar {
    std::vector<double> w, s[3];
};

// u_product: Keras's `_u_product` after its per-step update, i.e. prod_{k<=t} u_k (Nadam only).
void ref_step(const OptimizerStep& o, double u_product, RefVar& r, const std::vector<float>& grad,
              double scale, bool decay) {
    const double lr = o.learning_rate, b1 = o.beta_1, b2 = o.beta_2, eps = o.epsilon;
    const double t = double(o.step);
    for (size_t i = 0; i < r.w.size(); ++i) {
        double g = double(grad[i]) * scale;
        if (o.clip_value > 0) g = std::min(std::max(g, -o.clip_value), o.clip_value);
        double& w = r.w[i];
        double& s0 = r.s[0][i];
        double& s1 = r.s[1][i];
        double& s2 = r.s[2][i];
        if (o.weight_decay > 0 && decay) w = w - w * o.weight_decay * lr;
        switch (o.kind) {
            case OptimizerKind::SGD:
                if (o.momentum == 0) { w -= lr * g; break; }
                s0 = o.momentum * s0 - lr * g;
                w += o.nesterov ? o.momentum * s0 - lr * g : s0;
                break;
            case OptimizerKind::Adam: {
                const double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
                s0 += (g - s0) * (1 - b1);
                s1 += (g * g - s1) * (1 - b2);
                double v = s1;
                if (o.amsgrad) { s2 = std::max(s2, s1); v = s2; }
                w -= alpha * s0 / (std::sqrt(v) + eps);
                break;
            }
            case OptimizerKind::RMSprop: {
                s0 = o.rho * s0 + (1 - o.rho) * g * g;
                double denom = s0 + eps;
                if (o.centered) {
                    s2 = o.rho * s2 + (1 - o.rho) * g;
                    denom = s0 - s2 * s2 + eps;
                }
                const double inc = lr * g / std::sqrt(denom);
                if (o.momentum > 0) { s1 = o.momentum * s1 + inc; w -= s1; }
                else w -= inc;
                break;
            }
            case OptimizerKind::Adagrad:
                s0 += g * g;
                w -= lr * g / std::sqrt(s0 + eps);
                break;
            case OptimizerKind::Adamax:
                s0 += (g - s0) * (1 - b1);
                s1 = std::max(b2 * s1, std::fabs(g));
                w -= lr * s0 / ((1 - std::pow(b1, t)) * (s1 + eps));
                break;
            case OptimizerKind::Nadam: {
                const double u_t = nadam_u(b1, o.step), u_t1 = nadam_u(b1, o.step + 1);
                const double prod_t = u_product, prod_t1 = u_product * u_t1;
                s0 += (g - s0) * (1 - b1);
                s1 += (g * g - s1) * (1 - b2);
                const double m_hat = u_t1 * s0 / (1 - prod_t1) + (1 - u_t) * g / (1 - prod_t);
                const double v_hat = s1 / (1 - std::pow(b2, t));
                w -= m_hat * lr / (std::sqrt(v_hat) + eps);
                break;
            }
            case OptimizerKind::Lion: {
                const double d = b1 * s0 + (1 - b1) * g;
                w -= lr * double((d > 0) - (d < 0));
                s0 = b2 * s0 + (1 - b2) * g;
                break;
            }
        }
    }
}

// ---- the driver ---------------------------------------------------------------------------------
struct Options {
    const char* name;
    double weight_decay, clip_value;
    bool scales;  // per-group grad_scale != 1
};
const Options kOptions[] = {
    {"plain", 0.0, 0.0, false},
    {"weight_decay", 0.05, 0.0, false},
    {"clip_and_scale", 0.0, 0.5, true},
    {"all", 0.05, 0.3, true},
};
const int64_t kSizes[] = {1, 7, 33, 1025, 70001};  // the last exceeds the parallel grain
const float kScales[] = {1.0f, 0.5f, 1.25f, 2.0f, 0.75f};
constexpr int kSteps = 6;

// same_sign: each element's gradient keeps one sign across steps, so Lion's sign() never sits at 0.
void expect_matches_reference(OptimizerStep base, const std::string& label, bool same_sign = false) {
    for (const Options& opt : kOptions) {
        SCOPED_TRACE(label + " / " + opt.name);
        OptimizerStep step = base;
        step.weight_decay = opt.weight_decay;
        step.clip_value = opt.clip_value;
        bool need[3];
        needed_slots(step, need);
        std::mt19937 rng(1234);
        std::uniform_real_distribution<float> unif(-1.f, 1.f);
        const size_t ng = std::size(kSizes);
        std::vector<std::vector<float>> w(ng), grad(ng), slot[3];
        std::vector<std::vector<float>> w_init(ng), signs(ng);
        std::vector<RefVar> ref(ng);
        for (int k = 0; k < 3; ++k) slot[k].resize(ng);
        for (size_t gi = 0; gi < ng; ++gi) {
            const size_t n = size_t(kSizes[gi]);
            w[gi].resize(n);
            for (float& x : w[gi]) x = unif(rng);
            signs[gi].resize(n);
            for (float& x : signs[gi]) x = unif(rng) < 0 ? -1.f : 1.f;
            grad[gi].resize(n);
            // Adagrad starts its accumulator at initial_accumulator_value = 0.1; other slots at 0.
            const float init0 = base.kind == OptimizerKind::Adagrad ? 0.1f : 0.f;
            for (int k = 0; k < 3; ++k) slot[k][gi].assign(n, k == 0 ? init0 : 0.f);
            ref[gi].w.assign(w[gi].begin(), w[gi].end());
            w_init[gi] = w[gi];
            for (int k = 0; k < 3; ++k) ref[gi].s[k].assign(slot[k][gi].begin(), slot[k][gi].end());
        }
        double keras_u_product = 1.0;   // what Keras's Nadam holds in `_u_product`
        double caller_u_product = 1.0;  // what the caller keeps and passes (see optimizer_cpu.cpp)
        for (int t = 1; t <= kSteps; ++t) {
            std::vector<ParamGroup> groups(ng);
            for (size_t gi = 0; gi < ng; ++gi) {
                for (size_t i = 0; i < grad[gi].size(); ++i)
                    grad[gi][i] = same_sign ? signs[gi][i] * (0.1f + 0.9f * std::fabs(unif(rng))) : unif(rng);
                float* sl[3];
                for (int k = 0; k < 3; ++k) sl[k] = need[k] ? slot[k][gi].data() : nullptr;
                ParamGroup& p = groups[gi];
                p = group(w[gi].data(), grad[gi].data(), kSizes[gi], sl[0], sl[1], sl[2]);
                p.grad_scale = opt.scales ? kScales[gi] : 1.f;
                p.decay = gi != 2;  // group 2 is excluded from weight decay
            }
            step.step = t;
            step.nadam_u_product = caller_u_product;
            table().optimizer_step(step, groups.data(), int64_t(ng));
            caller_u_product *= nadam_u(step.beta_1, t);

            keras_u_product *= nadam_u(step.beta_1, t);  // Keras updates it before the variables
            for (size_t gi = 0; gi < ng; ++gi)
                ref_step(step, keras_u_product, ref[gi], grad[gi], groups[gi].grad_scale, groups[gi].decay);
        }
        double worst = 0;
        for (size_t gi = 0; gi < ng; ++gi) {
            for (size_t i = 0; i < w[gi].size(); ++i) {
                const double e = std::fabs(w[gi][i] - ref[gi].w[i]) / (1.0 + std::fabs(ref[gi].w[i]));
                worst = std::max(worst, e);
                for (int k = 0; k < 3; ++k) {
                    const double r = ref[gi].s[k][i];
                    worst = std::max(worst, std::fabs(slot[k][gi][i] - r) / (1.0 + std::fabs(r)));
                }
            }
        }
        EXPECT_LT(worst, 2e-6);  // observed ~2e-7: float32 rounding only
        // Guard against a kernel that does nothing: most parameters moved.
        int64_t moved = 0;
        for (size_t i = 0; i < w[4].size(); ++i) moved += w[4][i] != w_init[4][i];
        EXPECT_GT(moved, int64_t(w[4].size()) * 9 / 10);
    }
}

OptimizerStep make(OptimizerKind kind, double lr) {
    OptimizerStep s;
    s.kind = kind;
    s.learning_rate = lr;
    return s;
}

}  // namespace

TEST(Optimizer, SGDMatchesReference) {
    OptimizerStep s = make(OptimizerKind::SGD, 0.1);
    expect_matches_reference(s, "sgd");
    s.momentum = 0.9;
    expect_matches_reference(s, "sgd momentum");
    s.nesterov = true;
    expect_matches_reference(s, "sgd nesterov");
}

TEST(Optimizer, AdamMatchesReference) {
    OptimizerStep s = make(OptimizerKind::Adam, 0.01);
    expect_matches_reference(s, "adam");
    s.amsgrad = true;
    expect_matches_reference(s, "adam amsgrad");
    // A large epsilon separates Keras's form, eps added to sqrt(v) with alpha = lr sqrt(1 - b2^t)/(1 - b1^t),
    // from PyTorch's eps added to sqrt(v_hat): they differ by a factor sqrt(1 - b2^t) on eps.
    s.beta_1 = 0.8;
    s.beta_2 = 0.95;
    s.epsilon = 1e-3;
    expect_matches_reference(s, "adam amsgrad betas eps");
}

TEST(Optimizer, RMSpropMatchesReference) {
    OptimizerStep s = make(OptimizerKind::RMSprop, 0.01);
    expect_matches_reference(s, "rmsprop");
    s.momentum = 0.5;
    expect_matches_reference(s, "rmsprop momentum");
    s.centered = true;
    expect_matches_reference(s, "rmsprop centered momentum");
    s.momentum = 0.0;
    expect_matches_reference(s, "rmsprop centered");
}

TEST(Optimizer, AdagradMatchesReference) {
    expect_matches_reference(make(OptimizerKind::Adagrad, 0.05), "adagrad");
}

TEST(Optimizer, AdamaxMatchesReference) {
    expect_matches_reference(make(OptimizerKind::Adamax, 0.01), "adamax");
}

TEST(Optimizer, NadamMatchesReference) {
    // The caller protocol: pass nadam_u_product = prod_{k<t} u_k, then multiply in u_t (see the driver).
    expect_matches_reference(make(OptimizerKind::Nadam, 0.01), "nadam");
}

TEST(Optimizer, LionMatchesReference) {
    OptimizerStep s = make(OptimizerKind::Lion, 0.001);
    s.beta_2 = 0.99;
    expect_matches_reference(s, "lion", /*same_sign=*/true);
}

// Golden values from keras 3.15.1 (numpy backend): w0 = [0.5, -1.25, 2], three apply_gradients calls
// with the gradients below, one variable. The kernel follows Keras's float32 order of operations, so
// they agree to the bit here; 1 ulp is allowed for another libm's powf. Nadam's caller keeps
// u_product in float32 as the header of optimizer_cpu.cpp describes.
TEST(Optimizer, MatchesKerasGolden) {
    struct Golden { const char* name; OptimizerStep step; float want[3]; };
    auto mk = [](OptimizerKind k, double lr, double momentum = 0, bool flag = false) {
        OptimizerStep s = make(k, lr);
        s.momentum = momentum;
        s.nesterov = s.amsgrad = s.centered = flag;
        return s;
    };
    OptimizerStep adam = mk(OptimizerKind::Adam, 0.01, 0, true);  // Adam(amsgrad, weight_decay, clipvalue)
    adam.weight_decay = 0.1;
    adam.clip_value = 0.45;
    OptimizerStep lion = mk(OptimizerKind::Lion, 0.001);
    lion.beta_2 = 0.99;
    const Golden cases[] = {
        {"SGD(0.1, momentum=0.9, nesterov)", mk(OptimizerKind::SGD, 0.1, 0.9, true),
         {0.52651f, -1.34046996f, 2.02577996f}},
        {"Adam(0.01, amsgrad, wd 0.1, clipvalue 0.45)", adam, {0.4944956f, -1.24497986f, 1.97810674f}},
        {"RMSprop(0.01, momentum=0.5, centered)", mk(OptimizerKind::RMSprop, 0.01, 0.5, true),
         {0.47212556f, -1.24464476f, 1.96311545f}},
        {"Adagrad(0.05)", mk(OptimizerKind::Adagrad, 0.05), {0.501736701f, -1.27311921f, 2.00304723f}},
        {"Adamax(0.01)", mk(OptimizerKind::Adamax, 0.01), {0.494346768f, -1.24641943f, 1.98665345f}},
        {"Nadam(0.01)", mk(OptimizerKind::Nadam, 0.01), {0.494118303f, -1.25150502f, 1.9965452f}},
        {"Lion(0.001)", lion, {0.499000013f, -1.25100005f, 1.99899995f}},
    };
    const float grads[3][3] = {{0.1f, -0.2f, 0.3f}, {-0.4f, 0.5f, 0.05f}, {0.25f, 0.125f, -0.75f}};
    for (const Golden& gc : cases) {
        SCOPED_TRACE(gc.name);
        OptimizerStep s = gc.step;
        float w[3] = {0.5f, -1.25f, 2.0f}, slots[3][3] = {};
        if (s.kind == OptimizerKind::Adagrad) std::fill_n(slots[0], 3, 0.1f);  // initial_accumulator_value
        float u_product = 1.f;  // Keras's float32 _u_product before the step
        for (int t = 1; t <= 3; ++t) {
            ParamGroup p = group(w, grads[t - 1], 3, slots[0], slots[1], slots[2]);
            s.step = t;
            s.nadam_u_product = u_product;
            table().optimizer_step(s, &p, 1);
            u_product = u_product * float(s.beta_1) * (1.f - 0.5f * std::pow(0.96f, float(t)));
        }
        const float lion_m[3] = {-0.000479899812f, 0.00423979573f, -0.00406469591f};  // Keras's momentum
        for (int i = 0; i < 3; ++i) {
            const float ulp = std::nextafter(std::fabs(gc.want[i]), 1e9f) - std::fabs(gc.want[i]);
            EXPECT_NEAR(w[i], gc.want[i], ulp) << "element " << i;
            if (s.kind == OptimizerKind::Lion) {
                EXPECT_NEAR(slots[0][i], lion_m[i], 1e-11f) << "m " << i;
            }
        }
    }
}

// Keras docstring: RMSprop(learning_rate=0.1) on loss = var^2 / 2 from var = 10 gives 9.683772.
TEST(Optimizer, KerasDocstringValue) {
    float w = 10.f, g = 10.f, v = 0.f;
    ParamGroup p = group(&w, &g, 1, &v);
    table().optimizer_step(make(OptimizerKind::RMSprop, 0.1), &p, 1);
    EXPECT_NEAR(w, 9.683772f, 1e-6);
}

// Decay is w -= w * wd * lr before the update and never enters the slots.
TEST(Optimizer, DecoupledWeightDecayOrder) {
    float w = 2.f, g = 0.f, m = 0.f, v = 0.f;
    ParamGroup p = group(&w, &g, 1, &m, &v);
    OptimizerStep s = make(OptimizerKind::Adam, 0.01);
    s.weight_decay = 0.004;
    table().optimizer_step(s, &p, 1);
    EXPECT_FLOAT_EQ(w, 2.f - 2.f * 0.004f * 0.01f);
    EXPECT_EQ(m, 0.f);
    EXPECT_EQ(v, 0.f);
    p.decay = false;
    const float before = w;
    table().optimizer_step(s, &p, 1);
    EXPECT_EQ(w, before);
}

TEST(Optimizer, EmptyGroupsAndMissingSlots) {
    OptimizerStep s = make(OptimizerKind::Adam, 0.01);
    table().optimizer_step(s, nullptr, 0);
    ParamGroup empty;  // n == 0, null pointers: nothing to do
    table().optimizer_step(s, &empty, 1);
    float w = 1.f, g = 1.f, m = 0.f;
    ParamGroup p = group(&w, &g, 1, &m);  // Adam needs slot 1 too
    EXPECT_THROW(table().optimizer_step(s, &p, 1), Error);
    EXPECT_EQ(w, 1.f);
    s.step = 0;
    p.slot[1] = &m;
    EXPECT_THROW(table().optimizer_step(s, &p, 1), Error);
}

TEST(Optimizer, GradSqNormMatchesReference) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> unif(-1.f, 1.f);
    std::vector<std::vector<float>> grads;
    std::vector<ParamGroup> groups;
    for (int64_t n : {1, 7, 33, 1025, 70001, 0}) grads.emplace_back(size_t(n));
    double want = 0;
    for (size_t gi = 0; gi < grads.size(); ++gi) {
        double sum = 0;
        for (float& x : grads[gi]) { x = unif(rng); sum += double(x) * x; }
        ParamGroup p = group(nullptr, grads[gi].data(), int64_t(grads[gi].size()));
        p.grad_scale = gi < 5 ? kScales[gi] : 3.f;
        groups.push_back(p);
        want += sum * double(p.grad_scale) * double(p.grad_scale);
    }
    const double got = table().grad_sq_norm(groups.data(), int64_t(groups.size()));
    EXPECT_NEAR(got, want, 1e-12 * want);
    EXPECT_EQ(table().grad_sq_norm(nullptr, 0), 0.0);
#ifdef _OPENMP
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    const double one = table().grad_sq_norm(groups.data(), int64_t(groups.size()));
    omp_set_num_threads(3);
    const double three = table().grad_sq_norm(groups.data(), int64_t(groups.size()));
    omp_set_num_threads(saved);
    EXPECT_EQ(one, three);  // bitwise: fixed blocks summed in order
    EXPECT_EQ(one, got);
#endif
}

TEST(Optimizer, IndependentOfThreadCount) {
    // Several groups, so that the threads' equal element ranges cut across group boundaries.
    const std::vector<int64_t> sizes = {100003, 7, 1, 40000, 128};
    std::vector<std::vector<float>> w0, g;
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> unif(-1.f, 1.f);
    for (int64_t n : sizes) {
        w0.emplace_back(n), g.emplace_back(n);
        for (int64_t i = 0; i < n; ++i) { w0.back()[i] = unif(rng); g.back()[i] = unif(rng); }
    }
#ifdef _OPENMP
    const int saved = omp_get_max_threads();
#endif
    auto run = [&](int threads) {
#ifdef _OPENMP
        omp_set_num_threads(threads);
#else
        (void)threads;
#endif
        std::vector<std::vector<float>> w = w0, m, v;
        std::vector<ParamGroup> groups;
        for (size_t k = 0; k < sizes.size(); ++k) {
            m.emplace_back(sizes[k], 0.f), v.emplace_back(sizes[k], 0.f);
        }
        for (size_t k = 0; k < sizes.size(); ++k)
            groups.push_back(group(w[k].data(), g[k].data(), sizes[k], m[k].data(), v[k].data()));
        OptimizerStep s = make(OptimizerKind::Adam, 0.01);
        s.weight_decay = 0.004;
        for (int t = 1; t <= 3; ++t) {
            s.step = t;
            table().optimizer_step(s, groups.data(), int64_t(groups.size()));
        }
        return w;
    };
    const auto a = run(1), b = run(2), c = run(3);
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
    EXPECT_EQ(a, b);
    EXPECT_EQ(a, c);
    EXPECT_NE(a, w0);  // the step did update
}
