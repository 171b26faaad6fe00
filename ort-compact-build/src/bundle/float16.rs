//! Opt-in and lossy ([`WireWeights::Float16`]): a model's float32 weights travel as float16,
//! half their bytes, and the bundle's loader widens them back to float32 before the session is
//! created. The session then computes in float32 with weights rounded to the nearest float16
//! (round half to even), so its predictions differ slightly from the original model's: never
//! the default.
//!
//! Which tensors: float32 initializers of every graph (subgraphs included) with at least
//! [`MIN_FLOATS`] values, all finite, none beyond float16's range and not all below its
//! smallest normal number. Biases, scales and other small tensors stay exact.
//!
//! The transport file (little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | [`MAGIC`] (`ORTCF16` and format version 1) |
//! | 4 | length of the widened `.ort` |
//! | 4 | number of regions `n` |
//! | 8·n | per region, by increasing offset: its offset in the `.ort`, its number of floats |
//! | … | the `.ort`'s bytes outside the regions, in order |
//! | f | the low bytes of the float16 values (all regions, in order) |
//! | f | their high bytes (sign, exponent and two mantissa bits: they compress well) |

use crate::error::{Error, Result};
use crate::model::ort::Graph;
use crate::model::OrtModel;
use half::f16;

/// Start of a transport file: `ORTCF16` and the format version.
pub const MAGIC: &[u8; 8] = b"ORTCF16\x01";
/// Tensors with fewer values stay exact.
pub const MIN_FLOATS: usize = 256;

/// How a bundle's models travel to the browser.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WireWeights {
    /// The `.ort`'s exact bytes (as byte planes where those compress better). The default.
    #[default]
    Exact,
    /// Lossy, opt-in: float32 weights travel rounded to float16 (about half their bytes) and
    /// the loader widens them back; the model then computes with the rounded weights, so its
    /// predictions change slightly.
    Float16,
}

impl WireWeights {
    /// Parses `exact` or `float16`.
    pub fn parse(s: &str) -> Option<WireWeights> {
        match s {
            "exact" => Some(WireWeights::Exact),
            "float16" => Some(WireWeights::Float16),
            _ => None,
        }
    }
}

/// A run of float32 values in the `.ort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Region {
    offset: usize,
    floats: usize,
}

/// A model's float16 transport.
#[derive(Debug, Clone)]
pub struct Narrowed {
    /// The transport file's bytes.
    pub transport: Vec<u8>,
    /// The `.ort` the loader rebuilds from it: the original with the weights rounded.
    pub widened: Vec<u8>,
    /// How many tensors travel as float16.
    pub tensors: usize,
    /// How many values they hold.
    pub floats: usize,
}

/// The float16 transport of the `.ort` `bytes` (`name` for error messages); `None` when no
/// tensor qualifies.
pub fn narrow(bytes: &[u8], name: &str) -> Result<Option<Narrowed>> {
    let model = OrtModel::from_bytes(bytes.to_vec(), name)?;
    let Some(graph) = model.graph() else {
        return Ok(None);
    };
    let mut regions = Vec::new();
    collect(graph, model.bytes(), &mut regions);
    regions.sort_by_key(|r| r.offset);
    regions.dedup();
    // Two tensors over overlapping bytes (not written by this crate's converter): keep the first.
    let mut end = 0;
    regions.retain(|r| {
        let keep = r.offset >= end;
        if keep {
            end = r.offset + 4 * r.floats;
        }
        keep
    });
    if regions.is_empty() {
        return Ok(None);
    }
    let too_big = |_| {
        Error::Config(format!(
            "{name}: the model is too big for a float16 transport (over 4 GiB)"
        ))
    };
    u32::try_from(bytes.len()).map_err(too_big)?;
    Ok(Some(Narrowed {
        transport: encode(bytes, &regions),
        widened: widen_in_place(bytes, &regions),
        tensors: regions.len(),
        floats: regions.iter().map(|r| r.floats).sum(),
    }))
}

/// The qualifying float32 initializers of `graph` and its subgraphs, as regions of `bytes`
/// (the buffer `graph` reads).
fn collect(graph: Graph<'_>, bytes: &[u8], out: &mut Vec<Region>) {
    for t in graph.initializers() {
        let data = t.raw_data();
        if t.data_type() == 1 && qualifies(data) {
            out.push(Region {
                offset: data.as_ptr() as usize - bytes.as_ptr() as usize,
                floats: data.len() / 4,
            });
        }
    }
    for node in graph.nodes() {
        for a in node.attributes() {
            for g in a.g().into_iter().chain(a.graphs()) {
                collect(g, bytes, out);
            }
        }
    }
}

fn floats(data: &[u8]) -> impl Iterator<Item = f32> + '_ {
    data.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

fn qualifies(data: &[u8]) -> bool {
    if data.len() % 4 != 0 || data.len() / 4 < MIN_FLOATS {
        return false;
    }
    let (max, finite) = floats(data).fold((0f32, true), |(max, finite), x| {
        (max.max(x.abs()), finite && x.is_finite())
    });
    finite && max <= f16::MAX.to_f32() && max >= f16::MIN_POSITIVE.to_f32()
}

fn encode(bytes: &[u8], regions: &[Region]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 2 + 16 + 8 * regions.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(&(regions.len() as u32).to_le_bytes());
    for r in regions {
        out.extend_from_slice(&(r.offset as u32).to_le_bytes());
        out.extend_from_slice(&(r.floats as u32).to_le_bytes());
    }
    let mut at = 0;
    let mut halves = Vec::new();
    for r in regions {
        out.extend_from_slice(&bytes[at..r.offset]);
        at = r.offset + 4 * r.floats;
        halves.extend(floats(&bytes[r.offset..at]).map(|x| f16::from_f32(x).to_bits()));
    }
    out.extend_from_slice(&bytes[at..]);
    out.extend(halves.iter().map(|h| h.to_le_bytes()[0]));
    out.extend(halves.iter().map(|h| h.to_le_bytes()[1]));
    out
}

/// `bytes` with every value of `regions` rounded to float16 and back.
fn widen_in_place(bytes: &[u8], regions: &[Region]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for r in regions {
        for chunk in out[r.offset..r.offset + 4 * r.floats].chunks_exact_mut(4) {
            let x = f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            chunk.copy_from_slice(&f16::from_f32(x).to_f32().to_le_bytes());
        }
    }
    out
}

/// The `.ort` a transport file stands for (what `widen` in the loader computes).
#[cfg(test)]
pub fn widen(transport: &[u8]) -> Vec<u8> {
    let u32_at = |i: usize| u32::from_le_bytes(transport[i..i + 4].try_into().unwrap()) as usize;
    assert_eq!(&transport[..8], MAGIC);
    let (len, n) = (u32_at(8), u32_at(12));
    let regions: Vec<Region> = (0..n)
        .map(|i| Region {
            offset: u32_at(16 + 8 * i),
            floats: u32_at(20 + 8 * i),
        })
        .collect();
    let total: usize = regions.iter().map(|r| r.floats).sum();
    let mut rest = 16 + 8 * n;
    let lo = rest + len - 4 * total;
    let hi = lo + total;
    let mut out = vec![0u8; len];
    let (mut at, mut h) = (0, 0);
    for r in &regions {
        out[at..r.offset].copy_from_slice(&transport[rest..rest + r.offset - at]);
        rest += r.offset - at;
        for k in 0..r.floats {
            let half = f16::from_bits(u16::from_le_bytes([transport[lo + h], transport[hi + h]]));
            out[r.offset + 4 * k..r.offset + 4 * k + 4]
                .copy_from_slice(&half.to_f32().to_le_bytes());
            h += 1;
        }
        at = r.offset + 4 * r.floats;
    }
    out[at..].copy_from_slice(&transport[rest..rest + len - at]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ort_compact_test_support::workspace;
    use std::path::Path;

    fn converted(model: &str) -> Vec<u8> {
        crate::ort_format::convert(&workspace().join(model)).unwrap()
    }

    #[test]
    fn the_transport_widens_to_the_rounded_model_and_keeps_everything_else() {
        let ort = converted("models/mlp-classifier.onnx");
        let n = narrow(&ort, "mlp")
            .unwrap()
            .expect("the MLP has float32 weights");
        assert_eq!(widen(&n.transport), n.widened);
        assert_eq!(n.widened.len(), ort.len());
        assert!(n.floats >= MIN_FLOATS && n.tensors >= 1);
        assert!(
            n.transport.len() < ort.len() - n.floats,
            "about two bytes per value saved"
        );
        let changed = ort.iter().zip(&n.widened).filter(|(a, b)| a != b).count();
        assert!(changed > 0 && changed <= 4 * n.floats, "{changed}");
        // The rounded model is still a valid .ort with the same tensors.
        let model = OrtModel::from_bytes(n.widened.clone(), "widened").unwrap();
        let original = OrtModel::from_bytes(ort.clone(), "original").unwrap();
        let graph = |m: &OrtModel| m.graph().unwrap().initializers().count();
        assert_eq!(graph(&model), graph(&original));
    }

    #[test]
    fn only_float32_tensors_in_float16_range_with_enough_values_qualify() {
        let le = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let ok: Vec<f32> = (0..MIN_FLOATS).map(|i| i as f32 * 0.01 - 1.0).collect();
        assert!(qualifies(&le(&ok)));
        assert!(!qualifies(&le(&ok[1..])), "too few values");
        let mut big = ok.clone();
        big[3] = 70_000.0;
        assert!(!qualifies(&le(&big)), "beyond float16's range");
        let mut nan = ok.clone();
        nan[5] = f32::NAN;
        assert!(!qualifies(&le(&nan)), "not finite");
        let tiny: Vec<f32> = ok.iter().map(|x| x * 1e-6).collect();
        assert!(
            !qualifies(&le(&tiny)),
            "all below float16's smallest normal"
        );
    }

    #[test]
    fn a_model_without_qualifying_tensors_has_no_transport() {
        use crate::tests::support::onnx_protos::{float_model, node};
        let model = float_model(vec![node("r", "Relu", "", &["x"], &["y"])]);
        let ort = crate::ort_format::convert_model(
            &model,
            Path::new("relu.onnx"),
            0,
            crate::GraphOptimization::None,
        )
        .unwrap();
        assert!(narrow(&ort, "relu").unwrap().is_none());
    }

    #[test]
    fn not_an_ort_model_is_a_typed_error() {
        let err = narrow(b"not a model at all", "x").unwrap_err();
        assert!(matches!(err, Error::InvalidOrtFormat { .. }), "{err}");
    }
}
