#!/usr/bin/env python3
"""Generate the operator schema table used by `ort_format` (the native ONNX -> ORT converter).

The table lists, for every operator schema version ONNX Runtime 1.21.0 knows in the domains
`ai.onnx` (written as the empty domain), `ai.onnx.ml` and `com.microsoft`:
its formal inputs and outputs (name, type string, single/optional/variadic) and its type
constraints (type parameter -> allowed type strings), plus the highest opset per domain.

Sources: `onnx.defs.get_all_schemas_with_history()` (onnx 1.17.x) for the ONNX domains and
`onnxruntime.capi.onnxruntime_pybind11_state.get_all_operator_schema()` (onnxruntime 1.21.0) for
`com.microsoft` and for the extra ONNX-domain schemas that ONNX Runtime registers itself.

Output format (UTF-8 text, one record per line, sorted, so regeneration is byte-identical):
    V <onnx version> <onnxruntime version>
    D <domain> <max opset>
    O <domain>|<op type>|<since version>|<inputs>|<outputs>|<type constraints>|<defaults>
    S <id> <allowed>/<allowed>/...
    F <domain>|<op type>|<since version>|<hex of the serialized FunctionProto>
    C <domain>|<op type>|<since version>
where <inputs>/<outputs> are `;`-separated `name:type_str:option` (option: s single,
o optional, v variadic homogeneous, h variadic heterogeneous), and <type constraints> are
`;`-separated `param=<id>`, <defaults> are `;`-separated hex-encoded serialized
AttributeProtos: the default values of optional attributes (ORT adds them to nodes that do not
set them when it resolves a graph), <id> naming an `S` line (a set of allowed type strings, numbered
in order of first use). The empty domain is written as `-`.
`F` and `C` lines list the operator versions that ONNX Runtime 1.21.0 has no CPU kernel for but
that ONNX defines as a function, which ORT expands (inlines) when it loads a model: `F` carries
the function body (fixed), `C` marks a context-dependent body (built from the node's attributes
and input types). Kernel availability comes from `get_all_opkernel_def()`.

Usage: gen_schema_table.py [OUTPUT]   (default: stdout)
"""

import sys

import onnx
import onnx.defs
import onnxruntime
from onnxruntime.capi import onnxruntime_pybind11_state as ort_c

DOMAINS = ("", "ai.onnx.ml", "com.microsoft")


def option_code(param, homogeneous):
    value = int(param.option.value) if hasattr(param.option, "value") else int(param.option)
    if value == 0:
        return "s"
    if value == 1:
        return "o"
    return "v" if homogeneous else "h"


def check_field(text):
    for bad in ("|", ";", ":", "=", "/", "\n"):
        if bad in text:
            raise SystemExit(f"unexpected {bad!r} in schema text {text!r}")
    return text


def params(formal, is_onnx):
    out = []
    for p in formal:
        homogeneous = p.is_homogeneous if is_onnx else p.isHomogeneous
        type_str = p.type_str if is_onnx else p.typeStr
        out.append(
            f"{check_field(p.name)}:{check_field(type_str)}:{option_code(p, homogeneous)}"
        )
    return ";".join(out)


def constraints(schema):
    out = []
    for tc in schema.type_constraints:
        allowed = "/".join(check_field(t) for t in tc.allowed_type_strs)
        out.append((check_field(tc.type_param_str), allowed))
    return out


def defaults(schema, is_onnx):
    out = []
    for name in sorted(schema.attributes):
        attr = schema.attributes[name]
        if attr.required:
            continue
        if is_onnx:
            value = attr.default_value
            if not value.name:
                continue
            data = value.SerializeToString(deterministic=True)
        else:
            data = attr._default_value
            if not data:
                continue
            proto = onnx.AttributeProto()
            proto.ParseFromString(data)
            if not proto.name:
                continue
            data = proto.SerializeToString(deterministic=True)
        out.append(data.hex())
    return ";".join(out)


def record(schema, is_onnx):
    domain = schema.domain if schema.domain else "-"
    head = "O {}|{}|{}|{}|{}|".format(
        domain,
        schema.name,
        schema.since_version,
        params(schema.inputs, is_onnx),
        params(schema.outputs, is_onnx),
    )
    return head, constraints(schema), defaults(schema, is_onnx)


def main():
    records = {}
    max_opset = {d: 0 for d in DOMAINS}
    for schema in onnx.defs.get_all_schemas_with_history():
        if schema.domain not in DOMAINS:
            continue
        key = (schema.domain, schema.name, schema.since_version)
        records[key] = record(schema, True)
    for schema in ort_c.get_all_operator_schema():
        if schema.domain not in DOMAINS:
            continue
        key = (schema.domain, schema.name, schema.since_version)
        if key not in records:
            records[key] = record(schema, False)
    for (domain, _, since) in records:
        max_opset[domain] = max(max_opset[domain], since)
    # The released opset versions of the onnx package bound what ONNX Runtime accepts.
    released = onnx.defs.onnx_opset_version()
    max_opset[""] = max(max_opset[""], released)

    lines = [f"V {onnx.__version__} {onnxruntime.__version__}"]
    for domain in DOMAINS:
        lines.append(f"D {domain if domain else '-'} {max_opset[domain]}")
    kernels = {}
    for k in ort_c.get_all_opkernel_def():
        if k.provider == "CPUExecutionProvider":
            domain = "" if k.domain == "ai.onnx" else k.domain
            kernels.setdefault((domain, k.op_name), []).append(tuple(k.version_range))
    fn_lines = []
    for schema in onnx.defs.get_all_schemas_with_history():
        if schema.domain not in DOMAINS:
            continue
        ranges = kernels.get((schema.domain, schema.name), [])
        if any(lo <= schema.since_version <= hi for lo, hi in ranges):
            continue
        key = "{}|{}|{}".format(schema.domain or "-", schema.name, schema.since_version)
        if schema.has_function:
            body = schema.function_body.SerializeToString(deterministic=True)
            fn_lines.append((key, "F {}|{}".format(key, body.hex())))
        elif schema.has_context_dependent_function:
            fn_lines.append((key, "C " + key))
    sets = {}
    op_lines = []
    for key in sorted(records):
        head, cons, defs = records[key]
        refs = []
        for param, allowed in cons:
            if allowed not in sets:
                sets[allowed] = len(sets)
            refs.append(f"{param}={sets[allowed]}")
        op_lines.append(head + ";".join(refs) + "|" + defs)
    for allowed, ident in sets.items():
        lines.append(f"S {ident} {allowed}")
    lines.extend(op_lines)
    lines.extend(line for _, line in sorted(fn_lines))
    text = "\n".join(lines) + "\n"
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
