// Device parity: in a CUDA build, every kernel slot the CPU table fills is filled in the CUDA table
// too, and the other way round, so no op works on one device and raises on the other.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ckeras/device.h"
#include "ckeras/kernels.h"

namespace ckeras {
namespace {

#define CKERAS_COUNT_SLOT(name) +1
constexpr int kSlots = 0 CKERAS_KERNEL_SLOTS(CKERAS_COUNT_SLOT);
#undef CKERAS_COUNT_SLOT

TEST(KernelParity, TheSlotListCoversTheWholeTable) {
    // Every member of KernelTable is one function pointer; a slot missing from CKERAS_KERNEL_SLOTS
    // would go unchecked.
    EXPECT_EQ(sizeof(KernelTable), kSlots * sizeof(void (*)()));
}

TEST(KernelParity, EveryCpuKernelHasACudaTwin) {
    if (!is_cuda_build()) GTEST_SKIP() << "CPU-only build: there is no CUDA table";
    ASSERT_FALSE(accelerator().is_fake()) << "run without CKERAS_TEST_FAKE_GPU";
    const KernelTable& cpu = kernel_table(DeviceType::CPU);
    const KernelTable& gpu = kernel_table(DeviceType::CUDA);
    std::vector<std::string> cpu_only, cuda_only;
#define CKERAS_CHECK_SLOT(name)                                  \
    if (cpu.name && !gpu.name) cpu_only.push_back(#name);        \
    if (!cpu.name && gpu.name) cuda_only.push_back(#name);
    CKERAS_KERNEL_SLOTS(CKERAS_CHECK_SLOT)
#undef CKERAS_CHECK_SLOT
    auto join = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
        return s;
    };
    EXPECT_TRUE(cpu_only.empty()) << "CPU kernels without a CUDA twin: " << join(cpu_only);
    EXPECT_TRUE(cuda_only.empty()) << "CUDA kernels without a CPU twin: " << join(cuda_only);
}

TEST(KernelParity, TheCpuTableIsComplete) {
    const KernelTable& cpu = kernel_table(DeviceType::CPU);
#define CKERAS_CHECK_SLOT(name) EXPECT_NE(reinterpret_cast<const void*>(cpu.name), nullptr) << #name;
    CKERAS_KERNEL_SLOTS(CKERAS_CHECK_SLOT)
#undef CKERAS_CHECK_SLOT
}

}  // namespace
}  // namespace ckeras
