//! What is known of the small integer vectors a graph computes from shapes (`Shape`, then
//! `Gather`, `Slice`, `Concat`, `Unsqueeze`…): element by element, unknown elements `None`.
//! A `Reshape` target computed from a value of unknown batch size still fixes the other
//! dimensions this way, as ONNX Runtime's symbolic shape inference fixes them.

use super::super::node::{attr, attr_int, attr_ints, in_onnx};
use super::shapes::Shape;
use crate::model::onnx::NodeProto;
use crate::model::ModelLocation;
use crate::optimize::value::{dtype, Value};

/// Elements of a small integer tensor (rank 0 or 1), each known or not.
pub(in crate::optimize) type Partial = Vec<Option<i64>>;

/// Longest vector tracked (a shape's length is far below it).
const MAX_LEN: usize = 16;

/// The elements of `n`'s output 0 from its inputs' shapes (`shape(k)`), their partial values
/// (`value(k)`, constants included) and constant integer operands.
pub(super) fn partial<'s, 'v>(
    n: &NodeProto,
    opset: i64,
    loc: &ModelLocation,
    shape: &dyn Fn(usize) -> Option<&'s Shape>,
    value: &dyn Fn(usize) -> Option<&'v Partial>,
) -> Option<Partial> {
    if !in_onnx(n) {
        return None;
    }
    let known = |k: usize| -> Option<Vec<i64>> { value(k)?.iter().copied().collect() };
    let out = match n.op_type.as_str() {
        "Shape" => {
            let s = shape(0)?;
            let rank = s.len() as i64;
            let clamp = |v: i64| if v < 0 { v + rank } else { v }.clamp(0, rank) as usize;
            let start = clamp(attr_int(n, "start").unwrap_or(0));
            let end = clamp(attr_int(n, "end").unwrap_or(rank));
            s.get(start..end.max(start))?.to_vec()
        }
        "Constant" => {
            let t = attr(n, "value")?.t.as_ref()?;
            let v = Value::of(t, loc)?;
            (t.dims.len() <= 1).then_some(())?;
            v.as_ints()?.into_iter().map(Some).collect()
        }
        "Identity" | "Squeeze" | "Unsqueeze" => value(0)?.clone(),
        "Cast" => match attr_int(n, "to")? as i32 {
            dtype::INT64 | dtype::INT32 => value(0)?.clone(),
            _ => return None,
        },
        "Concat" => {
            let parts: Option<Vec<&Partial>> = (0..n.input.len()).map(value).collect();
            parts?.into_iter().flatten().copied().collect()
        }
        "Gather" if attr_int(n, "axis").unwrap_or(0) == 0 => {
            let data = value(0)?;
            let len = data.len() as i64;
            known(1)?
                .iter()
                .map(|&i| {
                    data.get(usize::try_from(if i < 0 { i + len } else { i }).ok()?)
                        .copied()
                })
                .collect::<Option<Partial>>()?
        }
        "Slice" => {
            let data = value(0)?;
            let list = |k: usize, name: &str| match opset >= 10 {
                true => n
                    .input
                    .get(k)
                    .filter(|i| !i.is_empty())
                    .and_then(|_| known(k)),
                false => attr_ints(n, name),
            };
            let (starts, ends) = (list(1, "starts")?, list(2, "ends")?);
            let axes = list(3, "axes").unwrap_or_else(|| vec![0]);
            let steps = list(4, "steps").unwrap_or_else(|| vec![1]);
            let ([start], [end], [0 | -1], [1]) = (&starts[..], &ends[..], &axes[..], &steps[..])
            else {
                return None;
            };
            let len = data.len() as i64;
            let clamp = |v: i64| (if v < 0 { v + len } else { v }).clamp(0, len) as usize;
            let (b, e) = (clamp(*start), clamp(*end));
            data.get(b..e.max(b))?.to_vec()
        }
        _ => return None,
    };
    (out.len() <= MAX_LEN).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::super::shapes::shapes;
    use crate::model::onnx::AttributeProto;
    use crate::model::ModelLocation;
    use crate::optimize::value::Value;
    use crate::tests::support::onnx_protos::{float_model, int64s as ints, node, shaped_vi};
    use std::path::Path;

    #[test]
    fn a_reshape_target_computed_from_a_dynamic_shape_keeps_its_known_dimensions() {
        // Flatten the spatial axes of x [N, 8, 2, 5] as a PaddlePaddle export writes it:
        // Reshape(x, Concat(Slice(Shape(x), 0, 2), [-1])), then Transpose to [N, 10, 8].
        let mut t = node("t", "Transpose", "", &["r"], &["y"]);
        t.attribute.push(AttributeProto {
            name: "perm".into(),
            r#type: 7,
            ints: vec![0, 2, 1],
            ..Default::default()
        });
        let mut m = float_model(vec![
            node("s", "Shape", "", &["x"], &["s"]),
            node("l", "Slice", "", &["s", "zero", "two", "zero"], &["l"]),
            node("c", "Concat", "", &["l", "minus"], &["target"]),
            node("r", "Reshape", "", &["x", "target"], &["r"]),
            t,
            node("b", "Gather", "", &["s", "zero_scalar"], &["batch"]),
        ]);
        m.graph.as_mut().unwrap().node[2]
            .attribute
            .push(AttributeProto {
                name: "axis".into(),
                r#type: 2,
                i: 0,
                ..Default::default()
            });
        let g = m.graph.as_mut().unwrap();
        g.input = vec![shaped_vi("x", 1, &[-1, 8, 2, 5])];
        g.initializer = vec![
            ints("zero", &[0]),
            ints("two", &[2]),
            ints("minus", &[-1]),
            Value::ints(vec![], &[0]).to_proto("zero_scalar"),
        ];
        let s = shapes(
            g,
            &ModelLocation::new(Path::new("m")),
            17,
            &Default::default(),
        );
        assert_eq!(s.get("r"), Some(&vec![None, Some(8), None]));
        assert_eq!(s.get("y"), Some(&vec![None, None, Some(8)]));
    }
}
