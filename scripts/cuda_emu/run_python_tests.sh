#!/bin/bash
# Runs the Python test suite (tests/python) against ckeras._core built on the emulated CUDA device: the
# module sees one GPU, so tensors land on it by default and every op, layer and model in the tests runs
# the CUDA kernels (tests marked cpu_placement are skipped by conftest.py, as on a GPU machine).
#     scripts/cuda_emu/run_python_tests.sh [pytest args]     default: tests/python/test_cuda_parity.py
# Same environment as run_tests.sh, plus CKERAS_EMU_TF32=0: float32 matmuls without TF32 (ckeras's GPU
# default is TF32, as on a real GPU; many CPU-minded tests expect float32 precision). The package is
# copied to $CKERAS_EMU_BUILD/python with the module.
set -euo pipefail
source "$(dirname "$0")/build.sh"
export CKERAS_EMU_GUARD=${CKERAS_EMU_GUARD:-2}
mkdir -p "$out/python"
tar -C "$root/python" --exclude=__pycache__ --exclude='_core*.so' -cf - ckeras | tar -C "$out/python" -xf -
emu_build module
cat > "$out/python/emu_no_tf32.py" <<'PY'
def pytest_configure(config):
    import ckeras
    ckeras.config.enable_tensor_float_32_execution(False)
PY
plugins=(-p no:cacheprovider)
[ "${CKERAS_EMU_TF32:-1}" = 0 ] && plugins+=(-p emu_no_tf32)
cd "$root"
[ $# -eq 0 ] && set -- tests/python/test_cuda_parity.py
PYTHONPATH="$out/python" python3 -m pytest "${plugins[@]}" "$@"
