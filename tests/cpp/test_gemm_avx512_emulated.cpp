// Builds the AVX-512 GEMM micro-kernel's source (cpp/src/cpu/gemm_avx512.cpp) against SIMDe's portable
// AVX-512 intrinsics, renamed sgemm_micro_avx512_emulated, for test_gemm.cpp to run through the packed
// driver on CPUs without AVX-512. Empty without SIMDe.
#ifdef CKERAS_HAVE_SIMDE
#define CKERAS_AVX512_EMULATE 1
#define sgemm_micro_avx512 sgemm_micro_avx512_emulated
#include "cpu/gemm_avx512.cpp"
#undef sgemm_micro_avx512
#endif
