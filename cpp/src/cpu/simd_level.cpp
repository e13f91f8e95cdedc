// Which SIMD path the CPU kernels take: CPUID detection ("avx512", "avx2" or "generic"), the
// CKERAS_CPU_SIMD environment variable (a cap: "generic" or "avx2"), and the test override; and, from the
// CPU's core, whether the GEMM reads a mid-sized B in place (gemm_b_in_place_max_span).
#include <atomic>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "ckeras/device.h"
#include "ckeras/error.h"
#include "cpu/gemm_cpu.h"

namespace ckeras {
namespace cpu {
namespace {
enum Override : int { kAuto = 0, kGeneric = 1, kAvx2 = 2, kAvx512 = 3 };
std::atomic<int> g_override{kAuto};
std::atomic<int> g_b_in_place{-1};  // set_gemm_b_in_place_override's mode

// AMD Zen and Zen+ (family 17h, models below 30h; Hygon's Dhyana, family 18h, is the same core): each 256-bit
// operation runs as two 128-bit halves, so an AVX2 FMA tile takes twice the cycles it takes on Zen 2 and later
// or on Intel cores.
bool cpu_fp_datapath_128bit() {
#if defined(__x86_64__) || defined(__i386__)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return false;
    char vendor[13] = {};
    std::memcpy(vendor, &ebx, 4);
    std::memcpy(vendor + 4, &edx, 4);
    std::memcpy(vendor + 8, &ecx, 4);
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
    const unsigned base = (eax >> 8) & 0xf;
    const unsigned family = base == 0xf ? base + ((eax >> 20) & 0xff) : base;
    const unsigned model = ((eax >> 4) & 0xf) | (base == 0xf ? ((eax >> 16) & 0xf) << 4 : 0);
    if (std::strcmp(vendor, "AuthenticAMD") == 0) return family == 0x17 && model < 0x30;
    if (std::strcmp(vendor, "HygonGenuine") == 0) return family == 0x18;
#endif
    return false;
}
}  // namespace

void set_gemm_b_in_place_override(int mode) {
    CKERAS_CHECK(mode >= -1 && mode <= 1, "set_gemm_b_in_place_override: expected -1, 0 or 1, got ", mode);
    g_b_in_place.store(mode);
}

int64_t gemm_b_in_place_max_span() {
    static const bool half_rate = cpu_fp_datapath_128bit();
    switch (g_b_in_place.load(std::memory_order_relaxed)) {
        case 0: return 0;
        case 1: return kGemmBInPlaceMaxSpan;
        default: return half_rate ? kGemmBInPlaceMaxSpan : kGemmBInPlaceL1Span;
    }
}

bool cpu_has_avx2_fma() {
    static const bool has = [] {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
        return false;
#endif
    }();
    return has;
}

bool cpu_has_avx512() {
    static const bool has = [] {
#if defined(__x86_64__) || defined(__i386__)
        // libgcc's checks include the OS's XSAVE support of the opmask and ZMM state.
        return cpu_has_avx2_fma() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#else
        return false;
#endif
    }();
    return has;
}

void set_gemm_simd_override(const char* level) {
    if (level == nullptr || *level == '\0') {
        g_override.store(kAuto);
    } else if (std::strcmp(level, "generic") == 0) {
        g_override.store(kGeneric);
    } else if (std::strcmp(level, "avx2") == 0) {
        CKERAS_CHECK(cpu_has_avx2_fma(), "set_gemm_simd_override: this CPU has no AVX2+FMA");
        g_override.store(kAvx2);
    } else if (std::strcmp(level, "avx512") == 0) {
        CKERAS_CHECK(cpu_has_avx512(), "set_gemm_simd_override: this CPU has no AVX-512 (F, DQ, BW, VL)");
        g_override.store(kAvx512);
    } else {
        throw_error(ErrorKind::Value,
                    "set_gemm_simd_override: expected \"generic\", \"avx2\", \"avx512\" or \"\", got \"", level,
                    "\"");
    }
}

}  // namespace cpu

const char* cpu_simd_level() {
    switch (cpu::g_override.load(std::memory_order_relaxed)) {
        case cpu::kGeneric: return "generic";
        case cpu::kAvx2: return "avx2";
        case cpu::kAvx512: return "avx512";
        default: break;
    }
    const char* env = std::getenv("CKERAS_CPU_SIMD");  // read each call: Python tests may set it late
    if (env != nullptr && std::strcmp(env, "generic") == 0) return "generic";
    if (!cpu::cpu_has_avx2_fma()) return "generic";
    if (env != nullptr && std::strcmp(env, "avx2") == 0) return "avx2";
    return cpu::cpu_has_avx512() ? "avx512" : "avx2";
}

}  // namespace ckeras
