#!/bin/bash
# Host emulation of the CUDA GEMM kernels (cuda/gemm*.cu), for machines without a GPU: every CUDA
# thread is a std::thread, __syncthreads a barrier, cp.async a plain copy, and mma.sync a warp-wide
# exchange that applies the PTX fragment layouts. It checks index math, edges, transposes, split-K and
# fragment layouts against a double-precision reference (inputs rounded as TF32 / BF16 round them);
# it says nothing about speed, memory ordering between blocks, or the cp.async pipeline's waits.
#     scripts/cuda_emu/run.sh [mode]    mode: 0 FP32, 1 TF32, 2 BF16, 3 FP64; all when omitted
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
out=${TMPDIR:-/tmp}/ckeras-cuda-emu
python3 "$here/transform.py" "$root/cuda" "$out/gen"
inc="-I$here/shim -I$out/gen -I$root/cpp/include -I$root/cpp/src"
for f in gemm gemm_simt gemm_tf32; do nice g++ -std=c++20 -O1 -pthread -w $inc -c "$out/gen/$f.cpp" -o "$out/$f.o"; done
nice g++ -std=c++20 -O1 -pthread -w $inc "$here/stubs.cpp" "$here/harness.cpp" "$out"/gemm*.o -o "$out/harness"
"$out/harness" "$@"
