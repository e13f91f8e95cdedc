// The Dense epilogue kernel `bias_activation`: adds a bias row to every row of a GEMM result and applies
// relu in the same pass, in place. Other activations run as the `unary` kernel afterwards, so that their
// results stay bitwise those of the unfused ops.
#include "cpu/cpu_common.h"

namespace ckeras::cpu {
namespace {

// x: (rows, cols) row-major; bias: (cols,) or null. x[r, c] = relu?(x[r, c] + bias[c]).
template <class T>
void bias_activation_typed(T* x, const T* bias, int64_t rows, int64_t cols, bool relu) {
    parallel_for(rows, kElementwiseGrain / (cols + 1) + 1, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            T* row = x + r * cols;
            if (bias != nullptr && relu) {
                for (int64_t c = 0; c < cols; ++c) {
                    const T v = row[c] + bias[c];
                    row[c] = v < 0 ? T(0) : v;
                }
            } else if (bias != nullptr) {
                for (int64_t c = 0; c < cols; ++c) row[c] = row[c] + bias[c];
            } else if (relu) {
                for (int64_t c = 0; c < cols; ++c) row[c] = row[c] < 0 ? T(0) : row[c];
            }
        }
    });
}

void bias_activation_cpu(DType dtype, void* x, const void* bias, int64_t rows, int64_t cols, bool relu) {
    CKERAS_DISPATCH_FLOAT(dtype, T,
                          bias_activation_typed<T>(static_cast<T*>(x), static_cast<const T*>(bias), rows, cols,
                                                   relu));
}

}  // namespace

void register_bias_activation_cpu(KernelTable& t) { t.bias_activation = bias_activation_cpu; }

}  // namespace ckeras::cpu
