#!/usr/bin/env bash
# Regenerates python/ckeras/_core.pyi (type stubs of the C++ module) from a built in-tree module.
# Needs the dev tool pybind11-stubgen (pip install pybind11-stubgen); not a runtime dependency.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
PYTHONPATH="$PWD/python" pybind11-stubgen ckeras._core -o "$out" --ignore-all-errors
cp "$out/ckeras/_core.pyi" python/ckeras/_core.pyi
rm -rf "$out"
echo "wrote python/ckeras/_core.pyi"
