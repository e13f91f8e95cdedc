#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the build and tests need, builds ckeras once as
# the installed wheel with the C++ tests beside it (CUDA too when nvcc is present), then ctest and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# GoogleTest and Google Benchmark; SIMDe (header-only) lets the C++ tests run the AVX-512 GEMM kernel's
# source on CPUs without AVX-512.
if [ ! -f /usr/include/gtest/gtest.h ] || [ ! -f /usr/include/benchmark/benchmark.h ] ||
   [ ! -f /usr/include/simde/x86/avx512.h ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq libgtest-dev libbenchmark-dev libsimde-dev >/dev/null
fi
python3 -m pip install --quiet --disable-pip-version-check "numpy>=1.23" h5py pytest hypothesis safetensors \
  "scikit-build-core>=0.10" "pybind11>=2.12" ninja cmake
# Keras 3 on the PyTorch CPU backend, for the .keras interop tests, which the test run must not skip.
# Pin torch exactly: this version resolves to the local CPU wheel; a bare `torch` would download the
# CUDA build.
python3 -m pip install --quiet --disable-pip-version-check keras "torch==2.13.0"
export CKERAS_REQUIRE_KERAS_INTEROP=1

# One build: the wheel's extension and the GoogleTest binary come out of the same CMake tree.
if command -v nvcc >/dev/null 2>&1 && [ "${CKERAS_CUDA:-AUTO}" != OFF ]; then export CKERAS_EXPECT_CUDA_BUILD=1; fi
python3 -m pip install --quiet --disable-pip-version-check --no-build-isolation . \
  -Cbuild-dir=build/ci -Ccmake.define.CKERAS_BUILD_TESTS=ON -Ccmake.define.CKERAS_BUILD_BENCH=ON

ctest --test-dir build/ci --output-on-failure -j2 --timeout 600
# The CUDA kernels' own GoogleTest suites on an emulated GPU (every CUDA thread a fiber on the CPU, host
# memory behind guard pages): on machines without a GPU this is what runs the kernels at all.
if [ "$(uname -m)" = x86_64 ] && [ "$(uname -s)" = Linux ]; then
  CKERAS_EMU_THREADS=2 CKERAS_EMU_BUILD=build/cuda-emu scripts/cuda_emu/run_tests.sh
fi
# Run pytest from outside the source tree so that the installed package is the one imported.
cd tests && python3 -m pytest -q -p no:cacheprovider python
# Again with tensors placed on a GPU by default: on machines without one, the test stand-in
# (CKERAS_TEST_FAKE_GPU: host memory, CPU kernels) proves every layer, model and trainer path copes with
# tensors off the CPU. The real CUDA kernels are tested against their CPU twins by ctest, on a GPU.
CKERAS_TEST_FAKE_GPU=1 python3 -m pytest -q -p no:cacheprovider python
