//! Runs silero VAD (v5, 16 kHz) over a synthetic signal — an amplitude-modulated tone followed
//! by silence — chunk by chunk through the typed API generated at build time, carrying the
//! recurrent state and the 64-sample context the way the silero-vad package does. Then checks
//! error paths that reach the real runtime. Prints one JSON document.

use ort_compact_sys::{Error, Tensor, TensorRef};
use serde_json::{json, Value};

include!(concat!(env!("OUT_DIR"), "/ort-compact/silero_vad.rs"));

const SAMPLE_RATE: i64 = 16_000;
const CHUNK: usize = 512;
const CONTEXT: usize = 64;
const CHUNKS: usize = 16;
const TONE_CHUNKS: usize = 10;

fn signal() -> Vec<f32> {
    (0..CHUNKS * CHUNK)
        .map(|i| {
            if i >= TONE_CHUNKS * CHUNK {
                return 0.0;
            }
            let t = i as f32 / SAMPLE_RATE as f32;
            let envelope = 0.5 + 0.5 * (2.0 * std::f32::consts::PI * 4.0 * t).sin();
            let tone = (2.0 * std::f32::consts::PI * 220.0 * t).sin()
                + 0.5 * (2.0 * std::f32::consts::PI * 440.0 * t).sin()
                + 0.25 * (2.0 * std::f32::consts::PI * 660.0 * t).sin();
            0.4 * envelope * tone
        })
        .collect()
}

fn error_text<T>(r: Result<T, Error>) -> String {
    match r {
        Ok(_) => "UNEXPECTED SUCCESS".to_string(),
        Err(e) => e.to_string(),
    }
}

fn error_cases(model: &SileroVad) -> Result<Value, Error> {
    let s = model.session();
    let x = vec![0f32; CHUNK + CONTEXT];
    let x = TensorRef::new(&[1, (CHUNK + CONTEXT) as i64], &x)?;
    let state = vec![0f32; 256];
    let good_state = TensorRef::new(&[2, 1, 128], &state)?;
    let short = [0f32; 10];
    let short = TensorRef::new(&[1, 10], &short)?;
    let sr_f32 = [SAMPLE_RATE as f32];
    let sr_f32 = TensorRef::new(&[], &sr_f32)?;
    Ok(json!({
        // Too few samples for the model's STFT: only ONNX Runtime can tell (a Conv kernel
        // reports it as a status, which becomes the error).
        "short_input": error_text(model.run(short, good_state, SAMPLE_RATE)),
        "sr_dtype": error_text(s.run(&[("input", x.into()), ("state", good_state.into()), ("sr", sr_f32.into())])),
        "state_dim": error_text(model.run(x, TensorRef::new(&[2, 2, 64], &state)?, SAMPLE_RATE)),
        "missing_input": error_text(s.run(&[("input", x.into()), ("state", good_state.into())])),
    }))
}

fn run() -> Result<Value, Error> {
    let model = SileroVad::new()?;
    let audio = signal();
    let mut state = Tensor::new([2, 1, 128], vec![0f32; 2 * 128])?;
    let mut context = vec![0f32; CONTEXT];
    let mut probabilities = Vec::with_capacity(CHUNKS);
    for chunk in audio.chunks(CHUNK) {
        let mut x = context.clone();
        x.extend_from_slice(chunk);
        let out = model.run(
            TensorRef::new(&[1, x.len() as i64], &x)?,
            state.view(),
            SAMPLE_RATE,
        )?;
        probabilities.push(out.output.data().first().copied().unwrap_or(f32::NAN));
        state = out.state_n;
        context = x[x.len() - CONTEXT..].to_vec();
    }
    Ok(json!({
        "model": "silero_vad",
        "runtime_version": ort_compact_sys::runtime_version()?,
        "sample_rate": SAMPLE_RATE,
        "chunk": CHUNK,
        "context": CONTEXT,
        "signal": audio,
        "probabilities": probabilities,
        "final_state": { "shape": state.shape(), "data": state.data() },
        "errors": error_cases(&model)?,
    }))
}

fn main() {
    match run() {
        Ok(v) => println!("{v}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
