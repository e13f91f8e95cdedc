// Helpers for tests that run a kernel slot on the CUDA table and on its CPU twin with the same inputs:
// host vectors to and from CUDA buffers (Tensor + device_copy, so the file compiles in CPU-only builds),
// and comparisons by bits or by a tolerance. Tests skip (CKERAS_SKIP_WITHOUT_CUDA) when no real CUDA
// device is present, including under the host-memory stand-in (CKERAS_TEST_FAKE_GPU=1).
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ckeras/device.h"
#include "ckeras/kernels.h"
#include "ckeras/tensor.h"

namespace ckeras::test {

inline bool real_cuda_available() { return cuda_device_count() > 0 && !accelerator().is_fake(); }

#define CKERAS_SKIP_WITHOUT_CUDA()                                                      \
    do {                                                                                \
        if (!::ckeras::test::real_cuda_available()) GTEST_SKIP() << "no CUDA device";   \
    } while (0)

inline const KernelTable& cpu_table() { return kernel_table(DeviceType::CPU); }
inline const KernelTable& cuda_table() { return kernel_table(DeviceType::CUDA); }

template <class T> DType dtype_of();
template <> inline DType dtype_of<float>() { return DType::Float32; }
template <> inline DType dtype_of<double>() { return DType::Float64; }
template <> inline DType dtype_of<int64_t>() { return DType::Int64; }
template <> inline DType dtype_of<uint8_t>() { return DType::Bool; }  // bool buffers as bytes

// A CUDA buffer holding `host` (n elements; n may be 0).
template <class T>
Tensor to_cuda(const std::vector<T>& host) {
    const Device gpu{DeviceType::CUDA, 0};
    Tensor t = Tensor::empty({static_cast<int64_t>(host.size())}, dtype_of<T>(), gpu);
    if (!host.empty()) device_copy(t.data_ptr(), gpu, host.data(), Device{}, int64_t(host.size() * sizeof(T)));
    return t;
}
// An uninitialised CUDA buffer of n elements of T.
template <class T>
Tensor cuda_empty(int64_t n) {
    return Tensor::empty({n}, dtype_of<T>(), Device{DeviceType::CUDA, 0});
}
// The contents of a CUDA buffer created by to_cuda / cuda_empty (waits for queued work).
template <class T>
std::vector<T> from_cuda(const Tensor& t) {
    std::vector<T> host(static_cast<size_t>(t.numel()));
    if (!host.empty())
        device_copy(host.data(), Device{}, t.data_ptr(), t.device(), int64_t(host.size() * sizeof(T)));
    return host;
}

// Element-by-element bit equality; reports the first few differences.
template <class T>
void expect_bits_equal(const std::vector<T>& gpu, const std::vector<T>& cpu, const std::string& what) {
    ASSERT_EQ(gpu.size(), cpu.size()) << what;
    int reported = 0;
    int64_t bad = 0;
    for (size_t i = 0; i < gpu.size(); ++i) {
        if (std::memcmp(&gpu[i], &cpu[i], sizeof(T)) == 0) continue;
        ++bad;
        if (reported++ < 5)
            ADD_FAILURE() << what << ": element " << i << " differs: cuda " << +gpu[i] << ", cpu " << +cpu[i];
    }
    EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << gpu.size() << " elements differ";
}

inline double max_abs(const std::vector<double>& v) {
    double m = 0;
    for (double x : v) m = std::isfinite(x) && std::fabs(x) > m ? std::fabs(x) : m;
    return m;
}

// |gpu - cpu| <= rtol |cpu| + atol elementwise; a NaN must meet a NaN and an infinity the same infinity.
// Reports the first few differences.
template <class T>
void expect_close_to(const std::vector<T>& gpu, const std::vector<T>& cpu, double rtol, double atol,
                     const std::string& what) {
    ASSERT_EQ(gpu.size(), cpu.size()) << what;
    int reported = 0;
    int64_t bad = 0;
    for (size_t i = 0; i < gpu.size(); ++i) {
        const double a = gpu[i], b = cpu[i];
        bool ok;
        if (std::isnan(b)) ok = std::isnan(a);
        else if (std::isinf(b)) ok = a == b;
        else ok = std::fabs(a - b) <= rtol * std::fabs(b) + atol;
        if (ok) continue;
        ++bad;
        if (reported++ < 5)
            ADD_FAILURE() << what << ": element " << i << ": cuda " << a << ", cpu " << b << ", diff "
                          << std::fabs(a - b) << " > " << rtol * std::fabs(b) + atol;
    }
    EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << gpu.size() << " elements out of tolerance";
}

template <class T>
std::vector<double> as_double(const std::vector<T>& v) {
    return std::vector<double>(v.begin(), v.end());
}

// The unit in the last place of 1 for T (2^-23 for float32, 2^-52 for float64): k ulp of x <= k * ulp1 * |x|.
template <class T>
constexpr double ulp1() { return sizeof(T) == 4 ? 1.1920928955078125e-07 : 2.220446049250313e-16; }

}  // namespace ckeras::test
