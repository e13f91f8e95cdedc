// CUDA's math-library error, played adversarially (CKERAS_EMU_ULP=1; off by default): in device code,
// exp, log, pow, tanh, erf... return glibc's result moved by a pseudo-random whole number of ulp (a hash
// of the argument) up to the maximum error CUDA documents for that function (CUDA Math API, "Mathematical
// Functions" accuracy tables), so a test whose tolerance does not cover CUDA's libm fails here as it
// would on a GPU. Declared in namespace ckeras, where they hide the global functions for the unqualified
// calls of the kernels; host code (in_kernel() false) and ::-qualified calls get glibc's result. Left
// alone, as CUDA computes them exactly: special arguments (infinite or NaN), results that are 0 or +-1
// (exp(0), erf and tanh saturated, underflow), subnormal results; and bounded functions stay in range.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace emu {
extern bool g_ulp;  // emu_runtime.cpp
template <class T>
T perturb(T r, T x, int max_ulp, T bound = T(INFINITY)) {
    if (!g_ulp || !std::isfinite(x) || !std::isfinite(r) || r == T(0) || std::fabs(r) == T(1) ||
        std::fabs(r) < std::numeric_limits<T>::min() || !in_kernel())
        return r;
    uint64_t h = 0;
    std::memcpy(&h, &x, sizeof x);
    h = (h ^ (h >> 31)) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    int steps = int(h % uint64_t(2 * max_ulp + 1)) - max_ulp;
    for (; steps > 0; --steps) r = std::nextafter(r, T(INFINITY));
    for (; steps < 0; ++steps) r = std::nextafter(r, T(-INFINITY));
    return r > bound ? bound : r < -bound ? -bound : r;
}
}  // namespace emu

namespace ckeras {
// name, double bound, float bound (ulp), largest |result|
#define EMU_LIBM(name, kd, kf, lim)                                                                 \
    inline double name(double x) { return ::emu::perturb(::name(x), x, kd, double(lim)); }         \
    inline float name(float x) { return ::emu::perturb(::name##f(x), x, kf, float(lim)); }
EMU_LIBM(exp, 1, 2, INFINITY)
EMU_LIBM(exp2, 1, 2, INFINITY)
EMU_LIBM(expm1, 1, 1, INFINITY)
EMU_LIBM(log, 1, 1, INFINITY)
EMU_LIBM(log2, 1, 1, INFINITY)
EMU_LIBM(log10, 1, 2, INFINITY)
EMU_LIBM(log1p, 1, 1, INFINITY)
EMU_LIBM(sin, 2, 2, 1)
EMU_LIBM(cos, 2, 2, 1)
EMU_LIBM(tan, 2, 4, INFINITY)
EMU_LIBM(tanh, 1, 2, 1)
EMU_LIBM(erf, 2, 2, 1)
EMU_LIBM(erfc, 5, 4, 2)
EMU_LIBM(cbrt, 1, 1, INFINITY)
EMU_LIBM(atan, 2, 2, INFINITY)
EMU_LIBM(sinh, 2, 3, INFINITY)
EMU_LIBM(cosh, 1, 2, INFINITY)
#undef EMU_LIBM
inline double pow(double a, double b) { return ::emu::perturb(::pow(a, b), a * 0.5 + b, 2); }
inline float pow(float a, float b) { return ::emu::perturb(::powf(a, b), a * 0.5f + b, 4); }
}  // namespace ckeras
