// Helpers shared by the C++ tests: building tensors from values, comparing with a tolerance, random
// inputs, and a central-difference gradient checker for ops (float64).
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ckeras/autograd.h"
#include "ckeras/kernels.h"
#include "ckeras/ops.h"

namespace ckeras::test {

// A contiguous tensor of `shape` holding `values` (row-major), converted to `dtype`.
inline Tensor make(const std::vector<double>& values, const Shape& shape, DType dtype = DType::Float64) {
    Tensor t = Tensor::empty(shape, dtype);
    EXPECT_EQ(static_cast<int64_t>(values.size()), t.numel());
    if (t.numel() == 0) return t;
    Shape st = contiguous_strides(shape);
    kernel_table(DeviceType::CPU)
        .copy_strided(dtype, t.data_ptr(), st.data(), DType::Float64, values.data(), st.data(), shape.data(),
                      static_cast<int>(shape.size()));
    return t;
}

inline std::vector<double> uniform(int64_t n, double lo, double hi, uint32_t seed) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<double> dist(lo, hi);
    std::vector<double> v(static_cast<size_t>(n));
    for (double& x : v) x = dist(gen);
    return v;
}

inline int64_t numel_of(const Shape& shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

inline Tensor random_tensor(const Shape& shape, uint32_t seed, double lo = -2, double hi = 2,
                            DType dtype = DType::Float64) {
    return make(uniform(numel_of(shape), lo, hi, seed), shape, dtype);
}

// |a - b| <= atol + rtol * |b| elementwise; NaNs must match NaNs.
inline void expect_close(const std::vector<double>& a, const std::vector<double>& b, double rtol, double atol,
                         const std::string& what = "") {
    ASSERT_EQ(a.size(), b.size()) << what;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::isnan(b[i])) {
            EXPECT_TRUE(std::isnan(a[i])) << what << " at " << i;
        } else if (std::isinf(b[i])) {
            EXPECT_EQ(a[i], b[i]) << what << " at " << i;
        } else {
            EXPECT_NEAR(a[i], b[i], atol + rtol * std::fabs(b[i])) << what << " at " << i;
        }
    }
}

using OpFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Checks grad() of sum(f(inputs) * w) (w random) with respect to every input against central
// differences of f itself, in float64. Inputs must be float64; `wrt` selects the inputs to check.
inline void check_gradients(const OpFn& f, const std::vector<Tensor>& inputs, const std::string& what,
                            double rtol = 1e-6, double atol = 1e-7, double h = 1e-6) {
    std::vector<Tensor> leaves;
    for (const Tensor& x : inputs) {
        Tensor c = copy(x.detach());
        c.set_requires_grad(true);
        leaves.push_back(c);
    }
    GradModeGuard on(true);
    Tensor out = f(leaves);
    Tensor w = random_tensor(out.shape(), 99, -1, 1);
    std::vector<double> wv = w.to_vector();
    std::vector<Tensor> g = grad({sum(mul(out, w))}, leaves);
    GradModeGuard off(false);
    for (size_t i = 0; i < inputs.size(); ++i) {
        std::vector<double> x0 = inputs[i].to_vector(), numeric(x0.size());
        for (size_t j = 0; j < x0.size(); ++j) {
            double obj[2];
            for (int s = 0; s < 2; ++s) {
                std::vector<double> xv = x0;
                xv[j] += s == 0 ? h : -h;
                std::vector<Tensor> args;
                for (size_t k = 0; k < inputs.size(); ++k) args.push_back(k == i ? make(xv, inputs[i].shape()) : inputs[k]);
                std::vector<double> y = f(args).to_vector();
                obj[s] = 0;
                for (size_t k = 0; k < y.size(); ++k) obj[s] += y[k] * wv[k];
            }
            numeric[j] = (obj[0] - obj[1]) / (2 * h);
        }
        bool all_zero = true;
        for (double v : numeric) all_zero = all_zero && v == 0;
        if (!g[i].defined()) {
            EXPECT_TRUE(all_zero) << what << ": no gradient for input " << i;
            continue;
        }
        EXPECT_EQ(g[i].shape(), inputs[i].shape()) << what << ": gradient shape of input " << i;
        EXPECT_EQ(g[i].dtype(), inputs[i].dtype()) << what << ": gradient dtype of input " << i;
        expect_close(g[i].to_vector(), numeric, rtol, atol, what + ", input " + std::to_string(i));
    }
}

// Runs `fn` and expects a ckeras::Error of `kind` whose message contains every fragment.
template <class Fn>
void expect_error(Fn&& fn, ErrorKind kind, const std::vector<std::string>& fragments) {
    try {
        fn();
        ADD_FAILURE() << "expected an error containing '" << (fragments.empty() ? "" : fragments[0]) << "'";
    } catch (const Error& e) {
        EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(kind)) << e.what();
        for (const std::string& f : fragments)
            EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << "'" << f << "' not in: " << e.what();
    }
}

}  // namespace ckeras::test
