#!/usr/bin/env python3
"""How much float16 weights on the wire (`--wire-weights float16`, opt-in and lossy) change a
model's outputs, measured with Python onnxruntime 1.21.0 (the project's test oracle; the product
never needs Python).

    python3 scripts/dev/float16-accuracy.py OUT.md MODEL.onnx=BUNDLE_DIR [MODEL.onnx=BUNDLE_DIR ...]

For each model, the bundle's float16 transport (named in its manifest.json) is widened the way
loader.mjs widens it, and both the original `.onnx` and the widened `.ort` run on the same
inputs: for silero VAD, 4 s of synthetic voice chunk by chunk with the state carried (the speech
probabilities and the decisions at 0.5); for an image model, a synthetic page of dark strokes on
white (and two noise images); otherwise seeded random inputs. Reported: the largest and mean
absolute difference per output, the largest difference relative to the output's range, and, for
outputs with a class axis, how often the arg max agrees. The report goes to OUT.md.
"""
import json
import os
import struct
import sys

import numpy as np
import onnxruntime as ort


def widen(transport):
    """The .ort bytes the loader rebuilds from a float16 transport (see bundle/float16.rs)."""
    if transport[:8] != b"ORTCF16\x01":
        raise SystemExit("not a float16 transport (format 1)")
    length, n = struct.unpack_from("<II", transport, 8)
    regions = [struct.unpack_from("<II", transport, 16 + 8 * i) for i in range(n)]
    values = sum(c for _, c in regions)
    rest = 16 + 8 * n
    lo = rest + length - 4 * values
    hi = lo + values
    halves = (
        np.frombuffer(transport, np.uint8, values, lo).astype(np.uint16)
        | (np.frombuffer(transport, np.uint8, values, hi).astype(np.uint16) << 8)
    ).view(np.float16)
    out = bytearray(length)
    at = h = 0
    for offset, count in regions:
        out[at:offset] = transport[rest:rest + offset - at]
        rest += offset - at
        out[offset:offset + 4 * count] = halves[h:h + count].astype(np.float32).tobytes()
        h += count
        at = offset + 4 * count
    out[at:] = transport[rest:rest + length - at]
    return bytes(out)


def session(model):
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def voice(seconds=4.0, rate=16000):
    rng = np.random.default_rng(1)
    t = np.arange(int(rate * seconds)) / rate
    on = (np.sin(2 * np.pi * 0.7 * t) > 0.2).astype(np.float32)
    pitch = 1 + 0.05 * np.sin(2 * np.pi * 3 * t)
    v = sum(np.sin(2 * np.pi * f * t * pitch) / (k + 1) for k, f in enumerate([140, 280, 420, 560, 700, 1200, 2400]))
    return (0.1 * on * v + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def vad(sess, audio):
    state = np.zeros((2, 1, 128), np.float32)
    context = np.zeros(64, np.float32)
    probabilities = []
    for start in range(0, len(audio) - 511, 512):
        chunk = audio[start:start + 512]
        x = np.concatenate([context, chunk])[None, :]
        out, state = sess.run(["output", "stateN"], {"input": x, "state": state, "sr": np.array(16000, np.int64)})
        probabilities.append(float(out.reshape(-1)[0]))
        context = chunk[-64:]
    return {"speech probability": np.array(probabilities)}


def page(shape):
    """Dark strokes on white, normalised to [-1, 1] like PaddleOCR-style preprocessing."""
    n, c, h, w = shape
    rng = np.random.default_rng(2)
    img = np.ones((h, w), np.float32)
    for row in range(8, h - 16, 28):
        x = 8
        while x < w - 40:
            word = int(rng.integers(12, 60))
            for k in range(x, min(x + word, w - 8), 5):
                img[row:row + 14, k:k + 2] = 0.1
            x += word + 12
    return np.broadcast_to((img - 0.5) / 0.5, (n, c, h, w)).astype(np.float32)


def concrete(dims, default):
    return [d if isinstance(d, int) and d > 0 else default.pop(0) if default else 1 for d in dims]


def feeds_for(sess, sizes, seed):
    rng = np.random.default_rng(seed)
    feeds = {}
    for i in sess.get_inputs():
        shape = concrete(i.shape, list(sizes.get(i.name, [])))
        if "float" in i.type:
            if len(shape) == 4 and shape[1] in (1, 3) and seed == 0:
                feeds[i.name] = page(shape)
            else:
                feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
        elif "int64" in i.type:
            feeds[i.name] = rng.integers(0, 2, shape).astype(np.int64)
        else:
            raise SystemExit(f"input {i.name}: type {i.type} not handled")
    return feeds


def compare(a, b):
    rows = []
    for name in a:
        x, y = np.asarray(a[name], np.float64), np.asarray(b[name], np.float64)
        diff = np.abs(x - y)
        span = float(x.max() - x.min()) or 1.0
        agree = ""
        if x.ndim == 4 and x.shape[1] == 1 and x.min() >= 0 and x.max() <= 1:
            # A probability map (a text detector's): pixels on the other side of 0.3 (DBNet's
            # binarisation threshold).
            flipped = int(((x >= 0.3) != (y >= 0.3)).sum())
            agree = f"{flipped} of {x.size:,} pixels cross 0.3"
        elif x.ndim >= 2 and x.shape[-1] > 1:
            agree = f"arg max {(x.argmax(-1) == y.argmax(-1)).mean() * 100:.2f} % the same"
        if name == "speech probability":
            flipped = int(((x >= 0.5) != (y >= 0.5)).sum())
            agree = f"{len(x) - flipped}/{len(x)} decisions at 0.5"
        rows.append((name, list(x.shape), float(diff.max()), float(diff.mean()), float(diff.max()) / span, agree))
    return rows


SIZES = {
    "ch_PP-OCRv4_det_infer": {"x": [1, 640, 640]},
    "ch_PP-OCRv4_rec_infer": {"x": [1, 48, 320]},
}


def main():
    out_path, pairs = sys.argv[1], sys.argv[2:]
    lines = [
        "# float16 weights on the wire: output changes (Python onnxruntime 1.21.0)",
        "",
        "Original `.onnx` against the `.ort` that `loader.mjs` rebuilds from the bundle's float16 "
        "transport. max / mean = absolute differences; rel = largest difference / the output's "
        "range.",
        "",
        "| model | values as float16 | brotli bytes: `.ort` → float16 transport | output | shape | max | mean | rel | agreement |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for pair in pairs:
        onnx_path, bundle = pair.split("=", 1)
        manifest = json.load(open(os.path.join(bundle, "manifest.json")))
        model = manifest["models"][0]
        half = model.get("float16")
        if not half:
            lines.append(f"| {model['name']} | none qualify | | | | | | | |")
            continue
        files = {f["name"]: f for f in manifest["files"]}
        wire = f"{files[model['file']]['br']['size']:,} → {files[half['file']]['br']['size']:,}"
        widened = widen(open(os.path.join(bundle, half["file"]), "rb").read())
        a, b = session(onnx_path), session(widened)
        stem = os.path.splitext(os.path.basename(onnx_path))[0]
        if stem == "silero_vad":
            results = [(vad(a, voice()), vad(b, voice()))]
        else:
            results = []
            for seed in range(3):
                feeds = feeds_for(a, SIZES.get(stem, {}), seed)
                names = [o.name for o in a.get_outputs()]
                results.append((dict(zip(names, a.run(names, feeds))), dict(zip(names, b.run(names, feeds)))))
        for k, (x, y) in enumerate(results):
            for name, shape, mx, mean, rel, agree in compare(x, y):
                label = f"{name} (input {k})" if len(results) > 1 else name
                lines.append(
                    f"| {model['name']} | {half['values']:,} of {half['tensors']} tensors | {wire} | {label} | "
                    f"{shape} | {mx:.2e} | {mean:.2e} | {rel:.2e} | {agree} |"
                )
    text = "\n".join(lines) + "\n"
    open(out_path, "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
