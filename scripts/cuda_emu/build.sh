# Sourced by run_tests.sh and run.sh: translates cuda/ into $out/gen and builds make target $1 with
# g++ (niced, $JOBS jobs, default 2). Sets $out, $fmad and $root.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${CKERAS_EMU_BUILD:-$root/build-cuda-emu}
mkdir -p "$out" && out=$(cd "$out" && pwd)  # absolute: the scripts change directory
# nvcc contracts a * b + c into an fma by default; so does the emulation where the CPU has FMA.
if [ -z "${CKERAS_EMU_FMAD:-}" ]; then
    if grep -qw fma /proc/cpuinfo 2>/dev/null; then fmad=1; else fmad=0; fi
else
    fmad=$CKERAS_EMU_FMAD
fi
emu_build() {
    python3 "$here/transform.py" "$root/cuda" "$out/gen"
    python3 "$here/transform.py" "$here/selftest" "$out/gen-selftest"
    nice -n 10 make -s -f "$here/Makefile" ROOT="$root" OUT="$out" FMAD="$fmad" -j"${JOBS:-2}" "$1"
}
