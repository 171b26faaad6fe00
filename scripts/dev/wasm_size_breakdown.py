#!/usr/bin/env python3
"""Where the bytes of a wasm file go: per section, and code size per component.

Usage: wasm_size_breakdown.py FILE.wasm [--top N]
FILE.wasm should carry a name section (link with `--profiling-funcs`); function bodies are then
grouped into components by their (demangled) names. A development tool: the product does not
run Python.
"""
import argparse
import collections
import re
import struct
import sys


def leb(buf, i):
    result = shift = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i


def sections(buf):
    assert buf[:4] == b"\0asm", "not a wasm file"
    i = 8
    while i < len(buf):
        sid = buf[i]
        size, j = leb(buf, i + 1)
        yield sid, buf[j : j + size], j + size - i
        i = j + size


SECTION_NAMES = {0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory",
                 6: "global", 7: "export", 8: "start", 9: "element", 10: "code", 11: "data",
                 12: "datacount", 13: "tag"}

# Matched against the function's qualified name (what precedes its parameter list, return type
# dropped); the first matching pattern names the component.
COMPONENTS = [
    ("mlas", r"^(Mlas|MLAS|mlas)|::Mlas|MlasGemm"),
    ("eigen", r"^Eigen::"),
    ("protobuf", r"^google::protobuf"),
    ("onnx (protos, helpers)", r"^onnx::"),
    ("abseil", r"^absl::"),
    ("re2", r"^re2::"),
    ("flatbuffers", r"^flatbuffers::|^onnxruntime::fbs::[A-Z][A-Za-z]*::Verify"),
    ("ort kernels (cpu provider)", r"^onnxruntime::(contrib::|ml::|functors::|rnn::)|^onnxruntime::[A-Za-z]*(<[^>]*>)?::Compute$|Kernel_|BuildKernelCreateInfo|^onnxruntime::(Softmax|MatMul|Transpose|Gemm|Relu|Add|Elementwise|BroadcastHelper|Broadcast|Untyped)"),
    ("ort graph / ORT-format loading", r"^onnxruntime::(Graph|Node|NodeArg|Model|fbs::|utils::Load|GraphViewer|experimental::)"),
    ("ort session / execution / memory", r"^onnxruntime::"),
    ("ort C API + wasm api", r"^(Ort[A-Z]|OrtApis::|\(anonymous namespace\)::)"),
    ("libc++ iostream/locale", r"^std::__2::(basic_[io]?f?stream|basic_streambuf|basic_filebuf|basic_ios|locale|ctype|num_put|num_get|__num_|codecvt|moneypunct|money_|__money|time_|__time|messages|collate|ios_base|basic_stringbuf|__stdinbuf|__stdoutbuf|ostreambuf_iterator|istreambuf_iterator|basic_ostream|basic_istream)"),
    ("libc++ other", r"^std::"),
    ("libc / emscripten / malloc", r"."),
]


def qualified(name):
    """`void ns::f<int>(args) const` -> `ns::f<int>` (return type and parameters dropped)."""
    depth = 0
    for i, ch in enumerate(name):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "(" and depth == 0 and i > 0:
            name = name[:i]
            break
    depth, cut = 0, 0
    for i, ch in enumerate(name):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == " " and depth == 0:
            cut = i + 1
    return name[cut:]


def function_names(buf):
    names = {}
    for sid, body, _ in sections(buf):
        if sid != 0:
            continue
        nlen, j = leb(body, 0)
        if body[j : j + nlen] != b"name":
            continue
        i = j + nlen
        while i < len(body):
            sub = body[i]
            size, k = leb(body, i + 1)
            if sub == 1:
                count, p = leb(body, k)
                for _ in range(count):
                    idx, p = leb(body, p)
                    ln, p = leb(body, p)
                    names[idx] = body[p : p + ln].decode("utf-8", "replace")
                    p += ln
            i = k + size
    return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wasm")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    buf = open(args.wasm, "rb").read()
    imported_funcs = 0
    body_sizes = []
    print(f"{args.wasm}: {len(buf)} bytes")
    for sid, body, total in sections(buf):
        print(f"  section {SECTION_NAMES.get(sid, sid):10} {total:9}")
        if sid == 2:
            count, i = leb(body, 0)
            for _ in range(count):
                for _ in range(2):
                    ln, i = leb(body, i)
                    i += ln
                kind = body[i]
                i += 1
                if kind == 0:
                    _, i = leb(body, i)
                    imported_funcs += 1
                elif kind == 1:
                    i += 1
                    flags = body[i]
                    i += 1
                    _, i = leb(body, i)
                    if flags & 1:
                        _, i = leb(body, i)
                elif kind == 2:
                    flags = body[i]
                    i += 1
                    _, i = leb(body, i)
                    if flags & 1:
                        _, i = leb(body, i)
                elif kind == 3:
                    i += 2
                elif kind == 4:
                    i += 1
                    _, i = leb(body, i)
        if sid == 10:
            count, i = leb(body, 0)
            for _ in range(count):
                size, j = leb(body, i)
                body_sizes.append(size + (j - i))
                i = j + size
    names = function_names(buf)
    if not names:
        print("no name section: relink with --profiling-funcs for a per-component breakdown")
        return
    by_comp = collections.Counter()
    by_func = []
    compiled = [(c, re.compile(p)) for c, p in COMPONENTS]
    for n, size in enumerate(body_sizes):
        name = names.get(n + imported_funcs, f"func{n}")
        comp = next((c for c, rx in compiled if rx.search(qualified(name))), "other")
        by_comp[comp] += size
        by_func.append((size, name))
    total = sum(body_sizes)
    print(f"\ncode by component ({total} bytes of function bodies):")
    for comp, size in by_comp.most_common():
        print(f"  {comp:34} {size:9} {100 * size / total:5.1f}%")
    print(f"\nlargest {args.top} functions:")
    for size, name in sorted(by_func, reverse=True)[: args.top]:
        print(f"  {size:8}  {name[:150]}")


if __name__ == "__main__":
    main()
