#!/bin/bash
# Runs the CUDA kernels' own GoogleTest suites (tests/cpp/test_cuda_*.cpp) on an emulated CUDA device,
# for machines without a GPU: the engine is built as in a CUDA build, cuda/*.cu is translated to host
# C++ (transform.py) and every CUDA thread runs as a fiber (emu_core.cpp) over host memory
# (emu_runtime.cpp). It checks indexing, edges, warp and block synchronisation, shared-memory use and
# the host-side launch logic; not speed, memory ordering between blocks (they run one at a time) or
# CUDA's own libm (glibc's is used). See README.md.
#     scripts/cuda_emu/run_tests.sh [gtest flags]     e.g. --gtest_filter='CudaLoss.*'
# Environment: CKERAS_EMU_BUILD (build folder, default build-cuda-emu/), CKERAS_EMU_FMAD (0 or 1),
# CKERAS_EMU_GUARD (0-2, default 2 here), JOBS (parallel compiles, default 2), CKERAS_EMU_THREADS (host threads running blocks, default 1) and
# the device knobs of emu_runtime.cpp (CKERAS_EMU_SM_COUNT...).
set -euo pipefail
source "$(dirname "$0")/build.sh"
export CKERAS_EMU_GUARD=${CKERAS_EMU_GUARD:-2}  # guarded device memory (emu_guard.cpp)
emu_build tests
start=$(date +%s)
status=0
"$out/cuda_emu_tests$fmad" "$@" || status=$?
echo "cuda-emu: $(( $(date +%s) - start )) s (fmad=$fmad, SMs=${CKERAS_EMU_SM_COUNT:-16}," \
     "schedule=${CKERAS_EMU_SCHEDULE:-forward}, threads=${CKERAS_EMU_THREADS:-1}, guard=$CKERAS_EMU_GUARD)"
exit $status
