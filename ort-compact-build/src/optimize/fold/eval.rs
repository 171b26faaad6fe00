//! The folder's small evaluator: the operators it computes on constants, with the results ONNX
//! Runtime's CPU kernels give. Data movement is exact; integer arithmetic is folded only when
//! it does not overflow (or divide by zero); float arithmetic is one IEEE operation per element
//! in the tensor's own precision, as the kernels compute it. Anything else is left to run.

use super::super::node::{attr, attr_int, attr_ints};
use crate::model::onnx::{AttributeProto, NodeProto};
use crate::model::ModelLocation;
use crate::optimize::value::{axis, count, dtype, elem_size, strides, Value};

/// The output of `n` (ai.onnx, model opset `opset`) on the constant `inputs` (`None`: an
/// omitted optional input); `None` when the evaluator does not compute it.
pub(super) fn eval(
    n: &NodeProto,
    opset: i64,
    inputs: &[Option<&Value>],
    loc: &ModelLocation,
) -> Option<Value> {
    let input = |i: usize| inputs.get(i).copied().flatten();
    let ints = |i: usize| input(i).and_then(Value::as_ints);
    match n.op_type.as_str() {
        "Cast" => cast(input(0)?, i32::try_from(attr_int(n, "to")?).ok()?),
        "Concat" => {
            let all: Option<Vec<&Value>> = inputs.iter().copied().collect();
            concat(&all?, attr_int(n, "axis")?)
        }
        "Gather" => gather(input(0)?, input(1)?, attr_int(n, "axis").unwrap_or(0)),
        "Reshape" if opset >= 5 => {
            let allow_zero = attr_int(n, "allowzero").unwrap_or(0) != 0;
            reshape(input(0)?, &ints(1)?, allow_zero)
        }
        "Shape" => Some(shape(&input(0)?.dims, n)),
        "Size" => Some(size(&input(0)?.dims)),
        "Slice" if opset >= 10 => slice(input(0)?, &ints(1)?, &ints(2)?, ints(3), ints(4)),
        "Slice" => slice(
            input(0)?,
            &attr_ints(n, "starts")?,
            &attr_ints(n, "ends")?,
            attr_ints(n, "axes"),
            None,
        ),
        "Squeeze" => {
            let axes = if opset >= 13 {
                ints(1)
            } else {
                attr_ints(n, "axes")
            };
            squeeze(input(0)?, axes)
        }
        "Unsqueeze" => {
            let axes = if opset >= 13 {
                ints(1)?
            } else {
                attr_ints(n, "axes")?
            };
            unsqueeze(input(0)?, &axes)
        }
        "Transpose" => transpose(input(0)?, attr_ints(n, "perm")),
        "ConstantOfShape" => constant_of_shape(&ints(0)?, attr(n, "value"), loc),
        "Add" | "Sub" | "Mul" | "Div" => binary(&n.op_type, input(0)?, input(1)?),
        "Neg" => neg(input(0)?),
        _ => None,
    }
}

/// `Size` of a tensor of shape `dims`: its element count, an int64 scalar.
pub(super) fn size(dims: &[i64]) -> Value {
    Value::ints(vec![], &[dims.iter().product()])
}

/// `Shape` of a tensor of shape `dims` (with opset 15's `start` and `end`).
pub(super) fn shape(dims: &[i64], n: &NodeProto) -> Value {
    let rank = dims.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
    let start = clamp(attr_int(n, "start").unwrap_or(0));
    let end = clamp(attr_int(n, "end").unwrap_or(rank)).max(start);
    let picked = &dims[start..end];
    Value::ints(vec![picked.len() as i64], picked)
}

/// A number as read from a tensor element.
#[derive(Clone, Copy)]
enum Num {
    Float(f64),
    Int(i128),
}

fn read(v: &Value, i: usize) -> Option<Num> {
    use dtype::*;
    let b = v.element(i);
    let int = |x: i128| Some(Num::Int(x));
    match v.dtype {
        FLOAT => Some(Num::Float(f64::from(f32::from_le_bytes(
            b.try_into().ok()?,
        )))),
        DOUBLE => Some(Num::Float(f64::from_le_bytes(b.try_into().ok()?))),
        INT8 => int(i128::from(b[0] as i8)),
        UINT8 | BOOL => int(i128::from(b[0])),
        INT16 => int(i128::from(i16::from_le_bytes(b.try_into().ok()?))),
        UINT16 => int(i128::from(u16::from_le_bytes(b.try_into().ok()?))),
        INT32 => int(i128::from(i32::from_le_bytes(b.try_into().ok()?))),
        UINT32 => int(i128::from(u32::from_le_bytes(b.try_into().ok()?))),
        INT64 => int(i128::from(i64::from_le_bytes(b.try_into().ok()?))),
        UINT64 => int(i128::from(u64::from_le_bytes(b.try_into().ok()?))),
        _ => None,
    }
}

/// `x` as an element of `to`, as C++'s `static_cast` gives it; `None` where that is undefined
/// (a float out of the integer type's range).
fn write(x: Num, to: i32, out: &mut Vec<u8>) -> Option<()> {
    use dtype::*;
    let int = |x: Num, min: i128, max: i128| -> Option<i128> {
        match x {
            Num::Int(i) => Some(i),
            Num::Float(f)
                if f.is_finite() && f.trunc() >= min as f64 && f.trunc() <= max as f64 =>
            {
                Some(f.trunc() as i128)
            }
            Num::Float(_) => None,
        }
    };
    match to {
        FLOAT => out.extend_from_slice(
            &match x {
                Num::Float(f) => f as f32,
                Num::Int(i) => i as f32,
            }
            .to_le_bytes(),
        ),
        DOUBLE => out.extend_from_slice(
            &match x {
                Num::Float(f) => f,
                Num::Int(i) => i as f64,
            }
            .to_le_bytes(),
        ),
        BOOL => out.push(u8::from(match x {
            Num::Float(f) => f != 0.0,
            Num::Int(i) => i != 0,
        })),
        INT8 => out.push(int(x, i8::MIN.into(), i8::MAX.into())? as i8 as u8),
        UINT8 => out.push(int(x, 0, u8::MAX.into())? as u8),
        INT16 => {
            out.extend_from_slice(&(int(x, i16::MIN.into(), i16::MAX.into())? as i16).to_le_bytes())
        }
        UINT16 => out.extend_from_slice(&(int(x, 0, u16::MAX.into())? as u16).to_le_bytes()),
        INT32 => {
            out.extend_from_slice(&(int(x, i32::MIN.into(), i32::MAX.into())? as i32).to_le_bytes())
        }
        UINT32 => out.extend_from_slice(&(int(x, 0, u32::MAX.into())? as u32).to_le_bytes()),
        INT64 => {
            out.extend_from_slice(&(int(x, i64::MIN.into(), i64::MAX.into())? as i64).to_le_bytes())
        }
        UINT64 => out.extend_from_slice(&(int(x, 0, u64::MAX.into())? as u64).to_le_bytes()),
        _ => return None,
    }
    Some(())
}

fn cast(v: &Value, to: i32) -> Option<Value> {
    let mut data = Vec::with_capacity(v.count() * elem_size(to)?);
    for i in 0..v.count() {
        write(read(v, i)?, to, &mut data)?;
    }
    Value::new(to, v.dims.clone(), data)
}

fn concat(vs: &[&Value], axis_attr: i64) -> Option<Value> {
    let first = vs.first()?;
    let rank = first.dims.len();
    let a = axis(axis_attr, rank)?;
    let same = |v: &&Value| {
        v.dtype == first.dtype
            && v.dims.len() == rank
            && (0..rank).all(|d| d == a || v.dims[d] == first.dims[d])
    };
    if !vs.iter().all(same) {
        return None;
    }
    let outer = count(&first.dims[..a])?;
    let inner = count(&first.dims[a + 1..])? * first.elem();
    let mut data = Vec::new();
    for o in 0..outer {
        for v in vs {
            let chunk = v.dims[a] as usize * inner;
            data.extend_from_slice(&v.data[o * chunk..(o + 1) * chunk]);
        }
    }
    let mut dims = first.dims.clone();
    dims[a] = vs.iter().map(|v| v.dims[a]).sum();
    Value::new(first.dtype, dims, data)
}

fn gather(data: &Value, indices: &Value, axis_attr: i64) -> Option<Value> {
    let a = axis(axis_attr, data.dims.len())?;
    let dim = data.dims[a];
    let picks: Vec<usize> = indices
        .as_ints()?
        .into_iter()
        .map(|i| {
            let i = if i < 0 { i + dim } else { i };
            (0..dim).contains(&i).then_some(i as usize)
        })
        .collect::<Option<_>>()?;
    let outer = count(&data.dims[..a])?;
    let inner = count(&data.dims[a + 1..])? * data.elem();
    let mut out = Vec::with_capacity(outer * picks.len() * inner);
    for o in 0..outer {
        for &p in &picks {
            let at = (o * dim as usize + p) * inner;
            out.extend_from_slice(&data.data[at..at + inner]);
        }
    }
    let mut dims = data.dims[..a].to_vec();
    dims.extend_from_slice(&indices.dims);
    dims.extend_from_slice(&data.dims[a + 1..]);
    Value::new(data.dtype, dims, out)
}

fn reshape(v: &Value, shape: &[i64], allow_zero: bool) -> Option<Value> {
    let mut dims: Vec<i64> = Vec::with_capacity(shape.len());
    let mut infer = None;
    for (i, &d) in shape.iter().enumerate() {
        match d {
            0 if !allow_zero => dims.push(*v.dims.get(i)?),
            -1 if infer.is_none() => {
                infer = Some(i);
                dims.push(1);
            }
            d if d >= 0 => dims.push(d),
            _ => return None,
        }
    }
    if let Some(i) = infer {
        let known = count(&dims)?;
        if known == 0 || v.count() % known != 0 {
            return None;
        }
        dims[i] = (v.count() / known) as i64;
    }
    (count(&dims)? == v.count()).then_some(())?;
    Value::new(v.dtype, dims, v.data.clone())
}

fn slice(
    v: &Value,
    starts: &[i64],
    ends: &[i64],
    axes: Option<Vec<i64>>,
    steps: Option<Vec<i64>>,
) -> Option<Value> {
    let rank = v.dims.len();
    let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return None;
    }
    // Per axis: first index, step, length.
    let mut plan: Vec<(i64, i64, i64)> = v.dims.iter().map(|&d| (0, 1, d)).collect();
    for k in 0..starts.len() {
        let a = axis(axes[k], rank)?;
        let (dim, step) = (v.dims[a] as i128, steps[k] as i128);
        if step == 0 {
            return None;
        }
        if dim == 0 {
            plan[a] = (0, 1, 0);
            continue;
        }
        let norm = |x: i64| {
            let x = x as i128;
            if x < 0 {
                x + dim
            } else {
                x
            }
        };
        let (start, end) = if step > 0 {
            (norm(starts[k]).clamp(0, dim), norm(ends[k]).clamp(0, dim))
        } else {
            (
                norm(starts[k]).clamp(0, dim - 1),
                norm(ends[k]).clamp(-1, dim - 1),
            )
        };
        let len = if step > 0 {
            (end - start + step - 1).div_euclid(step).max(0)
        } else {
            (start - end - step - 1).div_euclid(-step).max(0)
        };
        plan[a] = (start as i64, step as i64, len as i64);
    }
    let dims: Vec<i64> = plan.iter().map(|p| p.2).collect();
    let (in_strides, total) = (strides(&v.dims), count(&dims)?);
    let out_strides = strides(&dims);
    let mut data = Vec::with_capacity(total * v.elem());
    for o in 0..total {
        let mut at = 0usize;
        for d in 0..rank {
            let i = (o / out_strides[d]) as i64 % dims[d].max(1);
            at += (plan[d].0 + i * plan[d].1) as usize * in_strides[d];
        }
        data.extend_from_slice(v.element(at));
    }
    Value::new(v.dtype, dims, data)
}

fn squeeze(v: &Value, axes: Option<Vec<i64>>) -> Option<Value> {
    let rank = v.dims.len();
    let gone: Vec<usize> = match axes {
        Some(axes) => axes.iter().map(|&a| axis(a, rank)).collect::<Option<_>>()?,
        None => (0..rank).filter(|&d| v.dims[d] == 1).collect(),
    };
    if gone.iter().any(|&d| v.dims[d] != 1) {
        return None;
    }
    let dims = (0..rank)
        .filter(|d| !gone.contains(d))
        .map(|d| v.dims[d])
        .collect();
    Value::new(v.dtype, dims, v.data.clone())
}

fn unsqueeze(v: &Value, axes: &[i64]) -> Option<Value> {
    let rank = v.dims.len() + axes.len();
    let mut added: Vec<usize> = axes.iter().map(|&a| axis(a, rank)).collect::<Option<_>>()?;
    added.sort_unstable();
    added.dedup();
    if added.len() != axes.len() {
        return None;
    }
    let mut rest = v.dims.iter();
    let dims = (0..rank)
        .map(|d| match added.contains(&d) {
            true => Some(1),
            false => rest.next().copied(),
        })
        .collect::<Option<_>>()?;
    Value::new(v.dtype, dims, v.data.clone())
}

fn transpose(v: &Value, perm: Option<Vec<i64>>) -> Option<Value> {
    let rank = v.dims.len();
    let perm: Vec<usize> = match perm {
        Some(p) => p.iter().map(|&a| axis(a, rank)).collect::<Option<_>>()?,
        None => (0..rank).rev().collect(),
    };
    let mut sorted = perm.clone();
    sorted.sort_unstable();
    if sorted != (0..rank).collect::<Vec<_>>() {
        return None;
    }
    let dims: Vec<i64> = perm.iter().map(|&p| v.dims[p]).collect();
    let (in_strides, out_strides) = (strides(&v.dims), strides(&dims));
    let mut data = Vec::with_capacity(v.data.len());
    for o in 0..v.count() {
        let at: usize = (0..rank)
            .map(|d| (o / out_strides[d]) % dims[d].max(1) as usize * in_strides[perm[d]])
            .sum();
        data.extend_from_slice(v.element(at));
    }
    Value::new(v.dtype, dims, data)
}

fn constant_of_shape(
    shape: &[i64],
    value: Option<&AttributeProto>,
    loc: &ModelLocation,
) -> Option<Value> {
    let fill = match value.and_then(|a| a.t.as_ref()) {
        Some(t) => Value::of(t, loc).filter(|v| v.count() == 1)?,
        None => Value::new(dtype::FLOAT, vec![1], 0f32.to_le_bytes().to_vec())?,
    };
    let n = count(shape)?;
    Value::new(fill.dtype, shape.to_vec(), fill.data.repeat(n))
}

/// The shape of a broadcast and, per output element, the elements of both inputs it combines.
type Broadcast = (Vec<i64>, Vec<(usize, usize)>);

/// Broadcast `a` and `b` (numpy rules).
fn broadcast(a: &[i64], b: &[i64]) -> Option<Broadcast> {
    let rank = a.len().max(b.len());
    let pad = |d: &[i64]| -> Vec<i64> {
        let mut p = vec![1; rank - d.len()];
        p.extend_from_slice(d);
        p
    };
    let (pa, pb) = (pad(a), pad(b));
    let dims: Vec<i64> = (0..rank)
        .map(|i| match (pa[i], pb[i]) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let (sa, sb, so) = (strides(&pa), strides(&pb), strides(&dims));
    let pairs = (0..count(&dims)?)
        .map(|o| {
            (0..rank).fold((0, 0), |(ia, ib), d| {
                let i = (o / so[d]) % dims[d].max(1) as usize;
                (
                    ia + if pa[d] == 1 { 0 } else { i * sa[d] },
                    ib + if pb[d] == 1 { 0 } else { i * sb[d] },
                )
            })
        })
        .collect();
    Some((dims, pairs))
}

fn binary(op: &str, a: &Value, b: &Value) -> Option<Value> {
    use dtype::*;
    if a.dtype != b.dtype {
        return None;
    }
    let (dims, pairs) = broadcast(&a.dims, &b.dims)?;
    let mut data = Vec::with_capacity(pairs.len() * a.elem());
    for (i, j) in pairs {
        match (a.dtype, read(a, i)?, read(b, j)?) {
            (FLOAT, Num::Float(x), Num::Float(y)) => {
                data.extend_from_slice(&arith(op, x as f32, y as f32).to_le_bytes())
            }
            (DOUBLE, Num::Float(x), Num::Float(y)) => {
                data.extend_from_slice(&arith(op, x, y).to_le_bytes())
            }
            (INT32 | INT64, Num::Int(x), Num::Int(y)) => {
                let r = match op {
                    "Add" => x.checked_add(y),
                    "Sub" => x.checked_sub(y),
                    "Mul" => x.checked_mul(y),
                    _ => x.checked_div(y),
                }?;
                // Within the type's range, or the kernel would overflow.
                write(Num::Int(r), a.dtype, &mut data).filter(|_| fits(r, a.dtype))?;
            }
            _ => return None,
        }
    }
    Value::new(a.dtype, dims, data)
}

/// `Neg` of a float or integer tensor (an integer that has no negation in its type does not
/// fold).
fn neg(a: &Value) -> Option<Value> {
    let mut data = Vec::with_capacity(a.data.len());
    for i in 0..a.count() {
        match (a.dtype, read(a, i)?) {
            (dtype::FLOAT, Num::Float(x)) => data.extend_from_slice(&(-(x as f32)).to_le_bytes()),
            (dtype::DOUBLE, Num::Float(x)) => data.extend_from_slice(&(-x).to_le_bytes()),
            (dtype::INT32 | dtype::INT64, Num::Int(x)) => {
                write(Num::Int(-x), a.dtype, &mut data).filter(|_| fits(-x, a.dtype))?;
            }
            _ => return None,
        }
    }
    Value::new(a.dtype, a.dims.clone(), data)
}

/// `x op y` in the precision of `T` (one IEEE operation).
fn arith<
    T: std::ops::Add<Output = T>
        + std::ops::Sub<Output = T>
        + std::ops::Mul<Output = T>
        + std::ops::Div<Output = T>,
>(
    op: &str,
    x: T,
    y: T,
) -> T {
    match op {
        "Add" => x + y,
        "Sub" => x - y,
        "Mul" => x * y,
        _ => x / y,
    }
}

fn fits(x: i128, dtype: i32) -> bool {
    match dtype {
        dtype::INT32 => i32::try_from(x).is_ok(),
        _ => i64::try_from(x).is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::support::onnx_protos::node;
    use std::path::Path;

    fn ints(dims: &[i64], v: &[i64]) -> Value {
        Value::ints(dims.to_vec(), v)
    }

    fn floats(dims: &[i64], v: &[f32]) -> Value {
        let data = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        Value::new(dtype::FLOAT, dims.to_vec(), data).unwrap()
    }

    fn with_ints(mut n: NodeProto, name: &str, v: &[i64]) -> NodeProto {
        n.attribute.push(AttributeProto {
            name: name.into(),
            ints: v.to_vec(),
            r#type: 7,
            ..Default::default()
        });
        n
    }

    fn with_int(mut n: NodeProto, name: &str, v: i64) -> NodeProto {
        n.attribute.push(AttributeProto {
            name: name.into(),
            i: v,
            r#type: 2,
            ..Default::default()
        });
        n
    }

    fn run(n: &NodeProto, inputs: &[Option<&Value>]) -> Option<Value> {
        eval(n, 17, inputs, &ModelLocation::new(Path::new("m.onnx")))
    }

    #[test]
    fn data_movement() {
        let x = ints(&[2, 3], &[0, 1, 2, 3, 4, 5]);
        let t = run(&node("t", "Transpose", "", &["x"], &["y"]), &[Some(&x)]).unwrap();
        assert_eq!(t, ints(&[3, 2], &[0, 3, 1, 4, 2, 5]));
        let cube = ints(&[1, 2, 3], &[0, 1, 2, 3, 4, 5]);
        let perm = with_ints(
            node("t", "Transpose", "", &["x"], &["y"]),
            "perm",
            &[2, 0, 1],
        );
        let t = run(&perm, &[Some(&cube)]).unwrap();
        assert_eq!(t, ints(&[3, 1, 2], &[0, 3, 1, 4, 2, 5]));
        let bad = with_ints(
            node("t", "Transpose", "", &["x"], &["y"]),
            "perm",
            &[0, 0, 1],
        );
        assert!(run(&bad, &[Some(&cube)]).is_none(), "not a permutation");

        let slice = node("s", "Slice", "", &["x", "b", "e", "a", "s"], &["y"]);
        let (b, e, a, s) = (
            ints(&[1], &[-1]),
            ints(&[1], &[i64::MIN]),
            ints(&[1], &[1]),
            ints(&[1], &[-2]),
        );
        let got = run(&slice, &[Some(&x), Some(&b), Some(&e), Some(&a), Some(&s)]).unwrap();
        assert_eq!(
            got,
            ints(&[2, 2], &[2, 0, 5, 3]),
            "backwards, every other column"
        );
        let (b, e) = (ints(&[1], &[1]), ints(&[1], &[i64::MAX]));
        let got = run(&slice, &[Some(&x), Some(&b), Some(&e), None, None]).unwrap();
        assert_eq!(got, ints(&[1, 3], &[3, 4, 5]), "rows from 1 on");

        let idx = ints(&[2], &[-1, 0]);
        let g = with_int(node("g", "Gather", "", &["x", "i"], &["y"]), "axis", 1);
        assert_eq!(
            run(&g, &[Some(&x), Some(&idx)]).unwrap(),
            ints(&[2, 2], &[2, 0, 5, 3])
        );
        assert!(
            run(&g, &[Some(&x), Some(&ints(&[1], &[3]))]).is_none(),
            "index out of range"
        );

        let c = with_int(node("c", "Concat", "", &["x", "x"], &["y"]), "axis", -1);
        let got = run(&c, &[Some(&x), Some(&x)]).unwrap();
        assert_eq!(got, ints(&[2, 6], &[0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5]));
        let other = ints(&[3], &[0, 1, 2]);
        assert!(run(&c, &[Some(&x), Some(&other)]).is_none(), "ranks differ");

        let r = node("r", "Reshape", "", &["x", "s"], &["y"]);
        let got = run(&r, &[Some(&x), Some(&ints(&[2], &[0, -1]))]).unwrap();
        assert_eq!(got.dims, [2, 3]);
        assert!(
            run(&r, &[Some(&x), Some(&ints(&[1], &[4]))]).is_none(),
            "6 elements, not 4"
        );

        let u = node("u", "Unsqueeze", "", &["x", "a"], &["y"]);
        let got = run(&u, &[Some(&x), Some(&ints(&[2], &[0, -1]))]).unwrap();
        assert_eq!(got.dims, [1, 2, 3, 1]);
        let sq = node("q", "Squeeze", "", &["x"], &["y"]);
        assert_eq!(run(&sq, &[Some(&got)]).unwrap().dims, [2, 3]);
        let sq1 = node("q", "Squeeze", "", &["x", "a"], &["y"]);
        assert!(
            run(&sq1, &[Some(&x), Some(&ints(&[1], &[0]))]).is_none(),
            "dim 2 is not 1"
        );
    }

    #[test]
    fn shape_with_start_and_end() {
        let n = with_int(
            with_int(node("s", "Shape", "", &["x"], &["y"]), "start", 1),
            "end",
            -1,
        );
        assert_eq!(shape(&[2, 3, 4, 5], &n), ints(&[2], &[3, 4]));
        assert_eq!(
            shape(&[2, 3], &node("s", "Shape", "", &["x"], &["y"])),
            ints(&[2], &[2, 3])
        );
    }

    #[test]
    fn casts_as_static_cast_does_and_refuses_what_is_undefined() {
        let c = |to: i64| with_int(node("c", "Cast", "", &["x"], &["y"]), "to", to);
        let x = floats(&[4], &[-1.7, 0.0, 2.9, 1e10]);
        let wide = run(&c(7), &[Some(&x)]).unwrap();
        assert_eq!(wide, ints(&[4], &[-1, 0, 2, 10_000_000_000]), "toward zero");
        let fits = floats(&[3], &[-1.7, 0.0, 2.9]);
        assert_eq!(run(&c(7), &[Some(&fits)]).unwrap(), ints(&[3], &[-1, 0, 2]));
        assert!(run(&c(6), &[Some(&x)]).is_none(), "1e10 is beyond int32");
        let b = run(&c(9), &[Some(&fits)]).unwrap();
        assert_eq!(b.data, [1, 0, 1]);
        let back = run(&c(1), &[Some(&ints(&[2], &[16_777_217, -3]))]).unwrap();
        assert_eq!(
            back,
            floats(&[2], &[16_777_216.0, -3.0]),
            "rounded to nearest"
        );
        assert!(
            run(&c(10), &[Some(&fits)]).is_none(),
            "float16 is left alone"
        );
    }

    #[test]
    fn arithmetic_broadcasts_and_refuses_overflow_and_division_by_zero() {
        let add = node("a", "Add", "", &["a", "b"], &["y"]);
        let a = ints(&[2, 1], &[10, 20]);
        let b = ints(&[3], &[1, 2, 3]);
        assert_eq!(
            run(&add, &[Some(&a), Some(&b)]).unwrap(),
            ints(&[2, 3], &[11, 12, 13, 21, 22, 23])
        );
        let max = ints(&[1], &[i64::MAX]);
        assert!(run(&add, &[Some(&max), Some(&ints(&[1], &[1]))]).is_none());
        let div = node("d", "Div", "", &["a", "b"], &["y"]);
        assert_eq!(
            run(&div, &[Some(&ints(&[1], &[-7])), Some(&ints(&[1], &[2]))]).unwrap(),
            ints(&[1], &[-3])
        );
        assert!(run(&div, &[Some(&a), Some(&ints(&[1], &[0]))]).is_none());
        let f = run(
            &node("m", "Mul", "", &["a", "b"], &["y"]),
            &[
                Some(&floats(&[2], &[0.1, 3.0])),
                Some(&floats(&[1], &[0.3])),
            ],
        )
        .unwrap();
        assert_eq!(
            f,
            floats(&[2], &[0.1f32 * 0.3f32, 3.0f32 * 0.3f32]),
            "in float32"
        );
        assert!(
            run(&add, &[Some(&a), Some(&floats(&[1], &[1.0]))]).is_none(),
            "types differ"
        );
    }

    #[test]
    fn neg_of_integers_and_floats() {
        let n = node("n", "Neg", "", &["x"], &["y"]);
        let got = run(&n, &[Some(&ints(&[2], &[-1, 3]))]).unwrap();
        assert_eq!(got, ints(&[2], &[1, -3]));
        let got = run(&n, &[Some(&floats(&[2], &[0.0, 1.5]))]).unwrap();
        assert_eq!(got.floats().unwrap()[1], -1.5);
        assert!(
            got.floats().unwrap()[0].is_sign_negative(),
            "-0.0, as the kernel writes"
        );
    }

    #[test]
    fn constant_of_shape_and_unknown_operators() {
        let n = node("c", "ConstantOfShape", "", &["s"], &["y"]);
        let got = run(&n, &[Some(&ints(&[2], &[2, 2]))]).unwrap();
        assert_eq!(got, floats(&[2, 2], &[0.0; 4]));
        assert!(run(
            &node("r", "Relu", "", &["x"], &["y"]),
            &[Some(&floats(&[1], &[1.0]))]
        )
        .is_none());
    }
}
