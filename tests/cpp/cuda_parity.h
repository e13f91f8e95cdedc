// Helpers for the CUDA-versus-CPU kernel tests (test_cuda_*.cpp): the skip when no real CUDA device is
// present, device buffers filled from and read back into host vectors, test inputs, and comparisons
// (bitwise, and within ulps plus an absolute bound). Uses only the public device and kernel API, so the
// tests compile in CPU-only builds too and skip there.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "ckeras/device.h"
#include "ckeras/error.h"
#include "ckeras/kernels.h"

namespace ckeras::cuda_test {

inline const Device kGpu{DeviceType::CUDA, 0};
inline const Device kHost{};

// A CUDA build with a real device (the test stand-in GPU runs the CPU kernels: nothing to compare).
inline bool have_cuda() { return is_cuda_build() && cuda_device_count() > 0 && !accelerator().is_fake(); }
#define CKERAS_REQUIRE_CUDA() \
    if (!::ckeras::cuda_test::have_cuda()) GTEST_SKIP() << "no CUDA device"

inline const KernelTable& cpu() { return kernel_table(DeviceType::CPU); }
inline const KernelTable& gpu() { return kernel_table(DeviceType::CUDA); }

// Host element types: bool data lives in uint8_t vectors (std::vector<bool> has no data()).
template <class T> DType dtype_of() {
    if constexpr (std::is_same_v<T, float>) return DType::Float32;
    else if constexpr (std::is_same_v<T, double>) return DType::Float64;
    else if constexpr (std::is_same_v<T, int32_t>) return DType::Int32;
    else if constexpr (std::is_same_v<T, int64_t>) return DType::Int64;
    else return DType::Bool;
}

// Runs body with T the host element type of `dt`.
#define CKERAS_TEST_DTYPE(dt, T, ...)                                       \
    switch (dt) {                                                           \
        case ::ckeras::DType::Float32: { using T = float; __VA_ARGS__; break; }   \
        case ::ckeras::DType::Float64: { using T = double; __VA_ARGS__; break; }  \
        case ::ckeras::DType::Int32: { using T = int32_t; __VA_ARGS__; break; }   \
        case ::ckeras::DType::Int64: { using T = int64_t; __VA_ARGS__; break; }   \
        case ::ckeras::DType::Bool: { using T = uint8_t; __VA_ARGS__; break; }    \
    }
inline const DType kAllDtypes[] = {DType::Float32, DType::Float64, DType::Int32, DType::Int64, DType::Bool};

// Odd sizes, and one that needs many blocks.
inline const int64_t kSizes[] = {1, 7, 33, 127, 1025, (1 << 20) + 3};

// Device memory, optionally holding a copy of a host vector; freed on destruction.
class DeviceBuffer {
public:
    explicit DeviceBuffer(int64_t nbytes) : nbytes_(nbytes) { ptr_ = device_malloc(kGpu, nbytes > 0 ? nbytes : 1); }
    template <class T>
    explicit DeviceBuffer(const std::vector<T>& v) : DeviceBuffer(static_cast<int64_t>(v.size() * sizeof(T))) {
        if (nbytes_ > 0) device_copy(ptr_, kGpu, v.data(), kHost, nbytes_);
    }
    ~DeviceBuffer() { device_free(kGpu, ptr_); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    void* get() const { return ptr_; }
    template <class T> T* as() const { return static_cast<T*>(ptr_); }
    // The first n elements, read back (waits for the device).
    template <class T> std::vector<T> read(size_t n) const {
        std::vector<T> v(n);
        if (n > 0) device_copy(v.data(), kHost, ptr_, kGpu, static_cast<int64_t>(n * sizeof(T)));
        return v;
    }

private:
    void* ptr_ = nullptr;
    int64_t nbytes_ = 0;
};

// n values of T: uniform in [lo, hi) (rounded to T; 0/1 for bool).
template <class T>
std::vector<T> random_values(int64_t n, double lo, double hi, uint32_t seed) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<double> dist(lo, hi);
    std::vector<T> v(static_cast<size_t>(n));
    for (T& x : v) {
        double d = dist(gen);
        if constexpr (std::is_same_v<T, uint8_t>) x = d > 0.5 * (lo + hi);
        else if constexpr (std::is_integral_v<T>) x = static_cast<T>(std::floor(d));
        else x = static_cast<T>(d);
    }
    return v;
}

// The value of a kernel call on either device's table: nothing, or the ckeras::Error kind it raised.
template <class Fn>
int error_kind_of(Fn&& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return static_cast<int>(e.kind());
    }
    return -1;
}

// Distance in units in the last place of T at the larger magnitude (denormal spacing below).
template <class T>
double ulp_at(T a, T b) {
    const T m = std::max(std::fabs(a), std::fabs(b));
    int e = 0;
    std::frexp(m, &e);
    const double ulp = std::ldexp(1.0, e - std::numeric_limits<T>::digits);
    return std::max(ulp, static_cast<double>(std::numeric_limits<T>::denorm_min()));
}

// Collects mismatches and reports the count with the first few.
class Mismatches {
public:
    explicit Mismatches(std::string what) : what_(std::move(what)) {}
    ~Mismatches() {
        if (count_ > 0) ADD_FAILURE() << what_ << ": " << count_ << " mismatches, first:" << first_.str();
    }
    template <class... Parts>
    void add(size_t i, const Parts&... parts) {
        if (count_++ < 5) {
            first_ << "\n  [" << i << "] ";
            (first_ << ... << parts);
        }
    }

private:
    std::string what_;
    std::ostringstream first_;
    int64_t count_ = 0;
};

// Same bits (floats: NaN matches any NaN; +0 and -0 differ unless `zero_sign` is false).
template <class T>
void expect_bitwise(const std::vector<T>& got, const std::vector<T>& want, const std::string& what,
                    bool zero_sign = true) {
    ASSERT_EQ(got.size(), want.size()) << what;
    Mismatches bad(what);
    for (size_t i = 0; i < got.size(); ++i) {
        bool same;
        if constexpr (std::is_floating_point_v<T>) {
            same = (std::isnan(got[i]) && std::isnan(want[i])) ||
                   (got[i] == want[i] && (!zero_sign || std::signbit(got[i]) == std::signbit(want[i])));
        } else {
            same = got[i] == want[i];
        }
        if (!same) bad.add(i, "cuda ", +got[i], " cpu ", +want[i]);
    }
}

// |got - want| <= ulps * ulp(max(|got|, |want|)) + atol(i); NaN and infinities must match exactly.
template <class T, class Atol>
void expect_close_ulps(const std::vector<T>& got, const std::vector<T>& want, double ulps, Atol atol,
                       const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    Mismatches bad(what);
    for (size_t i = 0; i < got.size(); ++i) {
        const T g = got[i], w = want[i];
        if (std::isnan(g) || std::isnan(w) || std::isinf(g) || std::isinf(w)) {
            if (!((std::isnan(g) && std::isnan(w)) || g == w)) bad.add(i, "cuda ", g, " cpu ", w);
            continue;
        }
        const double diff = std::fabs(static_cast<double>(g) - static_cast<double>(w));
        const double tol = ulps * ulp_at(g, w) + atol(i);
        if (diff > tol) bad.add(i, "cuda ", g, " cpu ", w, " diff ", diff, " tol ", tol);
    }
}

template <class T>
void expect_close_ulps(const std::vector<T>& got, const std::vector<T>& want, double ulps, const std::string& what) {
    expect_close_ulps(got, want, ulps, [](size_t) { return 0.0; }, what);
}

}  // namespace ckeras::cuda_test
