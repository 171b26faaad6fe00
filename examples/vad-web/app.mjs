// The demo: synthesise an utterance, run silero VAD over it chunk by chunk (as silero's own
// streaming wrapper does: 512-sample chunks at 16 kHz, each preceded by the previous chunk's
// last 64 samples, the recurrent state carried along), draw waveform and probabilities.
import * as ort from '/ort/ort.wasm.min.mjs';
import { createSession } from './bundle/loader.mjs';

const RATE = 16000;
const CHUNK = 512;
const CONTEXT = 64;
const THRESHOLD = 0.5;

/** Deterministic pseudo-random numbers (a linear congruential generator). */
function noise(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** 3.5 s: noise, then three voiced stretches separated by noise. */
export function synthesise() {
  const audio = new Float32Array(Math.round(3.5 * RATE));
  const rnd = noise(7);
  const voiced = [[0.45, 1.25], [1.55, 2.2], [2.5, 3.2]];
  let phase = 0;
  for (let i = 0; i < audio.length; i++) {
    const t = i / RATE;
    let v = 0.01 * rnd();
    const seg = voiced.find(([a, b]) => t >= a && t < b);
    if (seg) {
      const [a, b] = seg;
      const u = (t - a) / (b - a);
      const f0 = 140 + 40 * Math.sin(Math.PI * u) - 25 * u;
      phase += (2 * Math.PI * f0) / RATE;
      const envelope = Math.sin(Math.PI * u) ** 0.6 * (0.6 + 0.4 * Math.sin(2 * Math.PI * 4.5 * t) ** 2);
      let sample = 0;
      for (let h = 1; h * f0 < 3800; h++) {
        const f = h * f0;
        const formants = 1 / (1 + ((f - 650) / 160) ** 2) + 0.6 / (1 + ((f - 1150) / 220) ** 2) + 0.25 / (1 + ((f - 2600) / 300) ** 2);
        sample += (formants / h ** 0.5) * Math.sin(h * phase);
      }
      v += 0.18 * envelope * sample + 0.004 * rnd();
    }
    audio[i] = Math.fround(v);
  }
  return audio;
}

async function detect(session, audio) {
  let state = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
  const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(RATE)]), []);
  const probabilities = [];
  let context = new Float32Array(CONTEXT);
  for (let start = 0; start + CHUNK <= audio.length; start += CHUNK) {
    const chunk = audio.subarray(start, start + CHUNK);
    const input = new Float32Array(CONTEXT + CHUNK);
    input.set(context);
    input.set(chunk, CONTEXT);
    const out = await session.run({ input: new ort.Tensor('float32', input, [1, CONTEXT + CHUNK]), state, sr });
    probabilities.push(out.output.data[0]);
    state = out.stateN;
    context = chunk.slice(CHUNK - CONTEXT);
  }
  return probabilities;
}

function segments(probabilities) {
  const found = [];
  let open = null;
  probabilities.forEach((p, i) => {
    if (p >= THRESHOLD && !open) open = { from: i, peak: p };
    if (open) open.peak = Math.max(open.peak, p);
    if (open && (p < THRESHOLD || i === probabilities.length - 1)) {
      found.push({ from: (open.from * CHUNK) / RATE, to: ((i + (p >= THRESHOLD ? 1 : 0)) * CHUNK) / RATE, peak: open.peak });
      open = null;
    }
  });
  return found;
}

function draw(audio, probabilities, found) {
  const canvas = document.getElementById('plot');
  const g = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  const x = (seconds) => (seconds / (audio.length / RATE)) * w;
  g.clearRect(0, 0, w, h);
  g.fillStyle = 'rgba(43, 138, 62, 0.14)';
  for (const s of found) g.fillRect(x(s.from), 0, x(s.to) - x(s.from), h);
  g.strokeStyle = '#9aa6bd';
  g.beginPath();
  const step = audio.length / w;
  for (let px = 0; px < w; px++) {
    let lo = 0, hi = 0;
    for (let i = Math.floor(px * step); i < Math.floor((px + 1) * step); i++) { lo = Math.min(lo, audio[i]); hi = Math.max(hi, audio[i]); }
    g.moveTo(px, h / 2 - hi * h * 0.9);
    g.lineTo(px, h / 2 - lo * h * 0.9);
  }
  g.stroke();
  g.strokeStyle = '#d9480f';
  g.lineWidth = 4;
  g.beginPath();
  probabilities.forEach((p, i) => {
    const px = x(((i + 0.5) * CHUNK) / RATE);
    const py = h - 10 - p * (h - 20);
    if (i === 0) g.moveTo(px, py); else g.lineTo(px, py);
  });
  g.stroke();
}

const status = document.getElementById('status');
try {
  const t0 = performance.now();
  const session = await createSession(ort);
  const ready = performance.now();
  const audio = synthesise();
  const probabilities = await detect(session, audio);
  const done = performance.now();
  const found = segments(probabilities);
  draw(audio, probabilities, found);
  document.querySelector('#segments tbody').innerHTML = found
    .map((s) => `<tr><td>${s.from.toFixed(3)} s</td><td>${s.to.toFixed(3)} s</td><td>${s.peak.toFixed(4)}</td></tr>`)
    .join('');
  document.getElementById('timing').textContent =
    `Session ready ${Math.round(ready)} ms after navigation start (${Math.round(ready - t0)} ms in the loader); ` +
    `${probabilities.length} chunks analysed in ${Math.round(done - ready)} ms.`;
  status.textContent = `done: ${found.length} speech segment(s)`;
  window.demo = { done: true, audio: Array.from(audio), probabilities, segments: found };
} catch (e) {
  status.textContent = `failed: ${e.message}`;
  window.demo = { done: true, error: String(e && e.stack || e) };
}
