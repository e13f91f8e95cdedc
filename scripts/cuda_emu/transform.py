"""Translates cuda/*.cu, *.cuh and *.h into host C++ for the emulated device (scripts/cuda_emu):

  kernel<<<grid, block[, smem[, stream]]>>>(args);  ->  emu_launch(site, kernel, emu::Config(...), args);
  extern __shared__ T name[];                       ->  T* name = emu_dynamic_smem<T>();
  __shared__ T name[N];   (in a function)           ->  the same (static thread_local), then
                                                        emu::shared_touch(&name, sizeof(name)) (0xFF per block)
  a function whose body is inline PTX (asm)         ->  removed; shim/emu_ptx.h defines it instead

Everything else is left to the shim headers (cuda_runtime.h). Line numbers are kept and every file
starts with #line, so compiler messages and fault reports point into cuda/. Files are rewritten
only when their translation changes (make then rebuilds only what changed).

    python3 transform.py CUDA_DIR OUT_DIR
"""
import pathlib
import re
import sys


def matching(s, i, open_ch, close_ch):
    """Index just past the bracket that closes the one at s[i]."""
    depth = 0
    while i < len(s):
        if s[i] == open_ch:
            depth += 1
        elif s[i] == close_ch:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced " + open_ch)


def kernel_start(s, end):
    """Start of the kernel expression ending at s[end] (an identifier with optional template args)."""
    i = end
    if s[i - 1] == ">":
        depth = 0
        while True:
            i -= 1
            depth += {">": 1, "<": -1}.get(s[i], 0)
            if depth == 0:
                break
    while i > 0 and (s[i - 1].isalnum() or s[i - 1] in "_:"):
        i -= 1
    return i


BOUNDS = r"(?:__launch_bounds__\s*\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)\s*)?"  # parentheses 3 deep
GLOBAL = re.compile(r"(>\s*)?__global__\s+" + BOUNDS + r"void\s+" + BOUNDS + r"(\w+)\s*\(")


def template_kernels(texts):
    """Names of the __global__ function templates (a template head right before __global__)."""
    return {m.group(2) for t in texts for m in GLOBAL.finditer(t) if m.group(1)}


def rewrite_launches(s, rel, deduced):
    out, pos = [], 0
    while True:
        i = s.find("<<<", pos)
        if i < 0:
            return "".join(out) + s[pos:]
        start = kernel_start(s, i)
        j = s.index(">>>", i)
        config = s[i + 3:j]
        k = j + 3
        while s[k].isspace():
            k += 1
        assert s[k] == "(", f"{rel}: a launch without an argument list"
        e = matching(s, k, "(", ")")
        kernel, args = s[start:i], s[k + 1:e - 1]
        name = " ".join(kernel.split())
        site = f'::emu::Site{{"{name}", __FILE__, __LINE__}}'
        sep = ", " if args.strip() else ""
        if name in deduced:  # a template whose arguments the launch deduces: call it by name
            call = f"[](auto&... a) {{ {kernel}(a...); }}"
            out.append(s[pos:start] + f"::emu_launch_deduced({site}, {call}, ::emu::Config({config}){sep}{args})")
        else:
            out.append(s[pos:start] + f"::emu_launch({site}, {kernel}, ::emu::Config({config}){sep}{args})")
        pos = e


def remove_asm_functions(s):
    """Blanks every top-level function whose body contains inline asm; the first becomes the include."""
    lines = s.split("\n")
    out, i, included = [], 0, False
    head = re.compile(r"^(template\s*<.*>\s*)?(__device__|inline|static)\b")
    while i < len(lines):
        if head.match(lines[i]) and "(" in lines[i] + (lines[i + 1] if i + 1 < len(lines) else ""):
            j, depth, seen = i, 0, False
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                seen = seen or "{" in lines[j]
                if (seen and depth == 0) or (not seen and lines[j].rstrip().endswith(";")):
                    break
                j += 1
            body = "\n".join(lines[i:j + 1])
            if seen and re.search(r"\basm\b", body):
                n, start = j + 1 - i, len(out)
                if out and re.match(r"^template\s*<.*>\s*$", out[-1]):  # its template head goes too
                    start -= 1
                out[start:] = [""] * (len(out) - start + n)
                if not included:
                    out[start] = '#include "emu_ptx.h"'
                included = True
                i = j + 1
                continue
            out.extend(lines[i:j + 1])
            i = j + 1
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


DYN = re.compile(r"extern\s+__shared__\s+(?:__align__\(\d+\)\s+)?([\w:]+)\s+(\w+)\s*\[\s*\]\s*;")
SHARED = re.compile(r"^(\s+)(__shared__\s[^;]*?\b(\w+)\s*(?:\[[^\]]*\]\s*)*;)", re.M)


def translate(s, rel, deduced):
    s = remove_asm_functions(s)
    s = DYN.sub(r"\1* \2 = emu_dynamic_smem<\1>();", s)
    s = SHARED.sub(r"\1\2 ::emu::shared_touch(&\3, sizeof(\3));", s)
    s = rewrite_launches(s, rel, deduced)
    return f'#line 1 "{rel}"\n' + s


def main():
    src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    paths = [p for p in sorted(src.iterdir()) if p.suffix in (".cu", ".cuh", ".h")]
    deduced = template_kernels(p.read_text() for p in paths)
    wanted = set()
    for path in paths:
        name = path.stem + ".cpp" if path.suffix == ".cu" else path.name
        wanted.add(name)
        text = translate(path.read_text(), f"{src.name}/{path.name}", deduced)
        dst = out / name
        if not dst.exists() or dst.read_text() != text:
            dst.write_text(text)
    for stale in out.iterdir():  # a file removed from cuda/ leaves no translation behind
        if stale.name not in wanted:
            stale.unlink()


if __name__ == "__main__":
    main()
