"""Rewrites the CUDA GEMM sources for the host emulation: PTX wrappers -> shim/emu_ptx.h, dynamic shared
memory -> a buffer, `kernel<<<grid, block, smem, stream>>>(args)` -> emu_launch(kernel, grid, ...).

    python3 transform.py CUDA_DIR OUT_DIR
"""
import pathlib
import re
import sys

src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
for name in ["gemm.cu", "gemm_simt.cu", "gemm_tf32.cu", "gemm_common.cuh", "gemm_cuda.h", "cuda_common.cuh",
             "cuda_check.cuh"]:
    s = (src / name).read_text()
    if name == "gemm_tf32.cu":
        a, b = s.index("// ---- PTX wrappers"), s.index("// ---- shared-memory layout")
        s = s[:a] + '#include "emu_ptx.h"\n\n' + s[b:]
        s = s.replace("extern __shared__ float4 smem4[];", "float4* smem4 = emu_dynamic_smem<float4>();")
    s = re.sub(r"(\w+(?:<[^<>;]*>)?)<<<(.+?)>>>\((.*?)\);", r"emu_launch(\1, \2, \3);", s)
    (out / (name[:-3] + ".cpp" if name.endswith(".cu") else name)).write_text(s)
