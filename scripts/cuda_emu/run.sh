#!/bin/bash
# The GEMM sweep on the emulated CUDA device (harness.cpp): cuda/gemm*.cu against a double-precision
# reference (inputs rounded as TF32 / BF16 round them) over shapes, transposes, strides and math modes,
# for 1, 4 and 40 SMs (which steer the tile and split-K choice) and a ~100 KB shared-memory GPU.
#     scripts/cuda_emu/run.sh [mode]    mode: 0 FP32, 1 TF32, 2 BF16, 3 FP64; all when omitted
set -euo pipefail
source "$(dirname "$0")/build.sh"
emu_build harness
h="$out/gemm_harness$fmad"
status=0
for sms in 1 4 40; do CKERAS_EMU_SM_COUNT=$sms "$h" sweep "$@" || status=1; done
CKERAS_EMU_SM_COUNT=8 "$h" split-k "$@" || status=1
CKERAS_EMU_SM_COUNT=4 "$h" edges || status=1
CKERAS_EMU_SM_COUNT=1 CKERAS_EMU_SMEM_OPTIN=101376 "$h" small-smem || status=1
exit $status
