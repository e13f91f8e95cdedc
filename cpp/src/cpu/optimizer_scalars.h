// The per-call float32 scalars of an optimizer step and the slot check of one ParamGroup, shared by the
// CPU kernels (optimizer_cpu.cpp) and the CUDA ones (cuda/optimizer.cu) so that both devices start each
// step from the same bits. Host-only; namespace `ckeras` because the CUDA files include it too.
#pragma once
#include <cmath>
#include <cstdint>

#include "ckeras/error.h"
#include "ckeras/kernels.h"

namespace ckeras {

// The per-call scalars every element of every group uses (float32, as Keras casts them).
struct OptimizerScalars {
    float lr, b1, b2, one_minus_b1, one_minus_b2, eps, momentum, rho, one_minus_rho;
    float wd, clip;          // wd > 0: decoupled decay; clip > 0: clamp to [-clip, clip]
    float adam_alpha;        // Adam: lr * sqrt(1 - b2^t) / (1 - b1^t)
    float one_minus_b1_pow;  // Adamax: 1 - b1^t
    float nadam_u_t;         // Nadam: u_t = b1 (1 - 0.5 * 0.96^t)
    float nadam_u_next;      // Nadam: u_{t+1}
    float nadam_prod;        // Nadam: prod_{k<=t} u_k (Keras's _u_product during step t)
    float nadam_prod_next;   // Nadam: prod_{k<=t+1} u_k
    float one_minus_b2_pow;  // Nadam: 1 - b2^t
    float f32_one_minus_b1, f32_one_minus_b2;  // Nadam, Lion: 1 - f32(b1), 1 - f32(b2), in float32
};

inline OptimizerScalars make_optimizer_scalars(const OptimizerStep& s) {
    CKERAS_CHECK(s.step >= 1, "optimizer_step: step (iterations + 1) must be >= 1, got ", s.step);
    const float t = static_cast<float>(s.step);
    OptimizerScalars c{};
    c.lr = float(s.learning_rate);
    c.b1 = float(s.beta_1);
    c.b2 = float(s.beta_2);
    c.one_minus_b1 = float(1.0 - s.beta_1);  // Keras: (1 - self.beta_1) in Python, then cast
    c.one_minus_b2 = float(1.0 - s.beta_2);
    c.eps = float(s.epsilon);
    c.momentum = float(s.momentum);
    c.rho = float(s.rho);
    c.one_minus_rho = float(1.0 - s.rho);
    c.wd = s.weight_decay > 0 ? float(s.weight_decay) : 0.f;
    c.clip = s.clip_value > 0 ? float(s.clip_value) : 0.f;
    const float b1_pow = std::pow(c.b1, t), b2_pow = std::pow(c.b2, t);
    c.adam_alpha = c.lr * std::sqrt(1.f - b2_pow) / (1.f - b1_pow);
    c.one_minus_b1_pow = 1.f - b1_pow;
    c.one_minus_b2_pow = 1.f - b2_pow;
    const float decay = 0.96f;
    const float factor_t = 1.f - 0.5f * std::pow(decay, t);
    c.nadam_u_t = c.b1 * factor_t;
    c.nadam_u_next = c.b1 * (1.f - 0.5f * std::pow(decay, t + 1.f));
    c.nadam_prod = float(s.nadam_u_product) * c.b1 * factor_t;
    c.nadam_prod_next = c.nadam_prod * c.nadam_u_next;
    // Nadam and Lion subtract the already-cast betas (1 - 0.9f = 0.1f + 2.4e-8); Adam, Adamax and
    // RMSprop subtract in Python and then cast (0.1f).
    c.f32_one_minus_b1 = 1.f - c.b1;
    c.f32_one_minus_b2 = 1.f - c.b2;
    return c;
}

// The slots a group must carry for this step (see ParamGroup in kernels.h).
inline void check_optimizer_group(const OptimizerStep& s, const ParamGroup& p, int64_t index) {
    if (p.n == 0) return;
    CKERAS_CHECK(p.n > 0 && p.param && p.grad, "optimizer_step: group ", index,
                 " needs param and grad pointers and a size >= 0, got n=", p.n);
    bool need[3] = {false, false, false};
    switch (s.kind) {
        case OptimizerKind::SGD: need[0] = s.momentum != 0; break;
        case OptimizerKind::Adam: need[0] = need[1] = true; need[2] = s.amsgrad; break;
        case OptimizerKind::RMSprop: need[0] = true; need[1] = s.momentum > 0; need[2] = s.centered; break;
        case OptimizerKind::Adagrad: case OptimizerKind::Lion: need[0] = true; break;
        case OptimizerKind::Adamax: case OptimizerKind::Nadam: need[0] = need[1] = true; break;
        default: throw_error(ErrorKind::Value, "optimizer_step: unknown optimizer kind ", int(s.kind));
    }
    for (int k = 0; k < 3; ++k)
        CKERAS_CHECK(!need[k] || p.slot[k], "optimizer_step: group ", index, " is missing slot ", k,
                     " for optimizer kind ", int(s.kind));
}

}  // namespace ckeras
