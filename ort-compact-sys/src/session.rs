//! [`Session`]: a model loaded from ORT-format bytes, run by input and output names.

use crate::api::{api, call};
use crate::element::ElementType;
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::handles::{MemoryInfo, ShapeInfo, TypeInfo, Value};
use crate::info::{check_ort_format, match_inputs, match_outputs, Dim, ValueInfo};
use crate::options::SessionOptions;
use crate::outputs::Outputs;
use crate::sys;
use crate::tensor::{element_count, DynTensor, Input};
use std::ffi::{c_char, CStr, CString};
use std::ptr::{null, null_mut, NonNull};

/// An inference session (an `OrtSession`, released on drop).
///
/// Thread safety: `Send + Sync`. ONNX Runtime documents concurrent `Run` calls on one session
/// as safe, and [`Session::run`] takes `&self`; nothing else mutates the session.
pub struct Session {
    api: &'static sys::OrtApi,
    ptr: NonNull<sys::OrtSession>,
    inputs: Vec<ValueInfo>,
    outputs: Vec<ValueInfo>,
    input_names: Vec<CString>,
    output_names: Vec<CString>,
    memory: MemoryInfo,
    // Dropped after the session (fields drop after `Drop::drop`).
    _env: Environment,
}

// SAFETY: see the type's docs: the session is used through `&self` only by `Run` (thread-safe
// in ONNX Runtime) and the read-only metadata gathered at creation.
unsafe impl Send for Session {}
// SAFETY: as above.
unsafe impl Sync for Session {}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Load an ORT-format model with the shared environment and default options.
    pub fn new(model: &[u8]) -> Result<Self> {
        check_ort_format(model)?;
        Self::with_options(&Environment::shared()?, model, &SessionOptions::new()?)
    }

    /// Load an ORT-format model (the bytes are copied; they need not outlive the session).
    pub fn with_options(env: &Environment, model: &[u8], options: &SessionOptions) -> Result<Self> {
        check_ort_format(model)?;
        let api = api()?;
        let mut raw: *mut sys::OrtSession = null_mut();
        // Pointers: env and options are live handles; model bytes are read during the call.
        call!(
            api,
            CreateSessionFromArray(
                env.as_ptr(),
                model.as_ptr().cast(),
                model.len(),
                options.as_ptr(),
                &mut raw,
            )
        )?;
        let ptr = NonNull::new(raw).ok_or_else(|| crate::api::missing("OrtSession (null)"))?;
        let mut mem: *mut sys::OrtMemoryInfo = null_mut();
        let mem_result = call!(
            api,
            CreateCpuMemoryInfo(sys::OrtArenaAllocator, sys::OrtMemTypeDefault, &mut mem)
        );
        // SAFETY: `mem` is null or the fresh memory info; the guard owns it from here.
        let memory = unsafe { MemoryInfo::new(api, mem) };
        let mut session = Session {
            api,
            ptr,
            inputs: Vec::new(),
            outputs: Vec::new(),
            input_names: Vec::new(),
            output_names: Vec::new(),
            memory,
            _env: env.clone(),
        };
        mem_result?;
        session.inputs = session.describe(Side::Input)?;
        session.outputs = session.describe(Side::Output)?;
        session.input_names = c_names(&session.inputs)?;
        session.output_names = c_names(&session.outputs)?;
        Ok(session)
    }

    /// The model's inputs, in graph order.
    pub fn inputs(&self) -> &[ValueInfo] {
        &self.inputs
    }

    /// The model's outputs, in graph order.
    pub fn outputs(&self) -> &[ValueInfo] {
        &self.outputs
    }

    /// Check that the model's inputs and outputs are exactly these names and element types, in
    /// graph order (generated code calls this when it wraps a session).
    pub fn check_signature(
        &self,
        inputs: &[(&str, ElementType)],
        outputs: &[(&str, ElementType)],
    ) -> Result<()> {
        check_side("inputs", &self.inputs, inputs)?;
        check_side("outputs", &self.outputs, outputs)
    }

    /// Run with every model input given by name; returns all outputs.
    ///
    /// Before ONNX Runtime sees anything, each name, element type, rank and fixed dimension is
    /// checked against the model, and every input must be given exactly once.
    pub fn run(&self, inputs: &[(&str, Input<'_>)]) -> Result<Outputs> {
        self.run_inner(inputs, None)
    }

    /// Like [`Session::run`], computing only the named outputs (returned in that order).
    pub fn run_outputs(&self, inputs: &[(&str, Input<'_>)], outputs: &[&str]) -> Result<Outputs> {
        self.run_inner(inputs, Some(outputs))
    }

    fn run_inner(&self, inputs: &[(&str, Input<'_>)], wanted: Option<&[&str]>) -> Result<Outputs> {
        let order = match_inputs(&self.inputs, inputs)?;
        let out_index = match_outputs(&self.outputs, wanted)?;
        let mut values: Vec<Value> = Vec::with_capacity(inputs.len());
        for (_, input) in inputs {
            values.push(self.input_value(input)?);
        }
        let in_names: Vec<*const c_char> = order
            .iter()
            .filter_map(|&i| self.input_names.get(i).map(|n| n.as_ptr()))
            .collect();
        let in_values: Vec<*const sys::OrtValue> =
            values.iter().map(|v| v.ptr().cast_const()).collect();
        let out_names: Vec<*const c_char> = out_index
            .iter()
            .filter_map(|&i| self.output_names.get(i).map(|n| n.as_ptr()))
            .collect();
        let mut out_raw: Vec<*mut sys::OrtValue> = vec![null_mut(); out_names.len()];
        // Pointers: name and value arrays are live for the call and of the given lengths; ONNX
        // Runtime writes one new value per output slot.
        let status = call!(
            self.api,
            Run(
                self.ptr.as_ptr(),
                null(),
                in_names.as_ptr(),
                in_values.as_ptr(),
                in_values.len(),
                out_names.as_ptr(),
                out_names.len(),
                out_raw.as_mut_ptr(),
            )
        );
        // SAFETY: each slot is null or a fresh value owned by us from here on.
        let out_values: Vec<Value> = out_raw
            .into_iter()
            .map(|p| unsafe { Value::new(self.api, p) })
            .collect();
        status?;
        drop(values);
        let mut entries = Vec::with_capacity(out_values.len());
        for (&i, value) in out_index.iter().zip(&out_values) {
            let name = self
                .outputs
                .get(i)
                .map(|o| o.name.clone())
                .unwrap_or_default();
            let tensor = self.read_output(&name, value)?;
            entries.push((name, tensor));
        }
        Ok(Outputs::new(entries))
    }

    /// Wrap a borrowed input as an `OrtValue` (no copy; ONNX Runtime only reads it).
    fn input_value(&self, input: &Input<'_>) -> Result<Value> {
        let mut raw: *mut sys::OrtValue = null_mut();
        // Pointers: the bytes and shape outlive the returned value (it is dropped before the
        // borrow of `inputs` ends); ONNX Runtime checks the length against the shape.
        let status = call!(
            self.api,
            CreateTensorWithDataAsOrtValue(
                self.memory.ptr(),
                input.bytes.as_ptr().cast_mut().cast(),
                input.bytes.len(),
                input.shape.as_ptr(),
                input.shape.len(),
                input.element_type.onnx() as sys::ONNXTensorElementDataType,
                &mut raw,
            )
        );
        // SAFETY: null or a fresh value, owned by the guard.
        let value = unsafe { Value::new(self.api, raw) };
        status.map(|()| value)
    }

    /// Copy an output value into Rust memory.
    fn read_output(&self, name: &str, value: &Value) -> Result<DynTensor> {
        let api = self.api;
        if value.ptr().is_null() {
            return Err(Error::NotATensor(name.to_string()));
        }
        let mut is_tensor = 0;
        call!(api, IsTensor(value.ptr(), &mut is_tensor))?;
        if is_tensor == 0 {
            return Err(Error::NotATensor(name.to_string()));
        }
        let mut info_raw: *mut sys::OrtTensorTypeAndShapeInfo = null_mut();
        let status = call!(api, GetTensorTypeAndShape(value.ptr(), &mut info_raw));
        // SAFETY: null or a fresh info, owned by the guard.
        let info = unsafe { ShapeInfo::new(api, info_raw) };
        status?;
        let (element_type, shape) = shape_of(api, info.ptr())?;
        let size = element_type
            .size()
            .ok_or_else(|| Error::UnsupportedElementType {
                name: name.to_string(),
                element_type,
            })?;
        let count = element_count(&shape)?;
        let len = count.checked_mul(size).ok_or_else(|| Error::InvalidShape {
            shape: shape.clone(),
            reason: "the byte size overflows".into(),
        })?;
        let bytes: &[u8] = if len == 0 {
            &[]
        } else {
            let mut data: *mut std::ffi::c_void = null_mut();
            call!(api, GetTensorMutableData(value.ptr(), &mut data))?;
            if data.is_null() {
                return Err(crate::api::missing("tensor data (null)"));
            }
            // SAFETY: ONNX Runtime's tensor buffer holds `count` elements of `size` bytes and
            // lives as long as `value`, which outlives this borrow.
            unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) }
        };
        DynTensor::from_bytes(element_type, shape, bytes, name)
    }

    /// Names and types of all inputs or outputs.
    fn describe(&self, side: Side) -> Result<Vec<ValueInfo>> {
        let api = self.api;
        let session = self.ptr.as_ptr().cast_const();
        let mut count = 0usize;
        match side {
            Side::Input => call!(api, SessionGetInputCount(session, &mut count))?,
            Side::Output => call!(api, SessionGetOutputCount(session, &mut count))?,
        }
        let mut allocator: *mut sys::OrtAllocator = null_mut();
        call!(api, GetAllocatorWithDefaultOptions(&mut allocator))?;
        let mut out = Vec::with_capacity(count);
        for index in 0..count {
            let mut name_raw: *mut c_char = null_mut();
            match side {
                Side::Input => call!(
                    api,
                    SessionGetInputName(session, index, allocator, &mut name_raw)
                )?,
                Side::Output => call!(
                    api,
                    SessionGetOutputName(session, index, allocator, &mut name_raw)
                )?,
            }
            let name = if name_raw.is_null() {
                String::new()
            } else {
                // SAFETY: a NUL-terminated string allocated by `allocator` for us.
                let s = unsafe { CStr::from_ptr(name_raw) }
                    .to_string_lossy()
                    .into_owned();
                call!(api, AllocatorFree(allocator, name_raw.cast()))?;
                s
            };
            let mut type_raw: *mut sys::OrtTypeInfo = null_mut();
            let status = match side {
                Side::Input => call!(api, SessionGetInputTypeInfo(session, index, &mut type_raw)),
                Side::Output => {
                    call!(api, SessionGetOutputTypeInfo(session, index, &mut type_raw))
                }
            };
            // SAFETY: null or a fresh type info, owned by the guard.
            let type_info = unsafe { TypeInfo::new(api, type_raw) };
            status?;
            out.push(describe_type(api, name, &type_info)?);
        }
        Ok(out)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(release) = self.api.ReleaseSession {
            // SAFETY: created by CreateSessionFromArray, released exactly once; no run can be
            // in progress (it would borrow `self`).
            unsafe { release(self.ptr.as_ptr()) };
        }
    }
}

#[derive(Clone, Copy)]
enum Side {
    Input,
    Output,
}

fn check_side(side: &str, model: &[ValueInfo], expected: &[(&str, ElementType)]) -> Result<()> {
    let same = model.len() == expected.len()
        && model
            .iter()
            .zip(expected)
            .all(|(m, (n, t))| m.name == *n && m.is_tensor && m.element_type == *t);
    if same {
        return Ok(());
    }
    let show = |items: Vec<String>| format!("{side} [{}]", items.join(", "));
    Err(Error::Signature {
        expected: show(expected.iter().map(|(n, t)| format!("{n}: {t}")).collect()),
        actual: show(
            model
                .iter()
                .map(|m| match m.is_tensor {
                    true => format!("{}: {}", m.name, m.element_type),
                    false => format!("{}: not a tensor", m.name),
                })
                .collect(),
        ),
    })
}

fn c_names(infos: &[ValueInfo]) -> Result<Vec<CString>> {
    infos
        .iter()
        .map(|i| CString::new(i.name.as_str()).map_err(|_| Error::NulInName(i.name.clone())))
        .collect()
}

fn describe_type(
    api: &'static sys::OrtApi,
    name: String,
    type_info: &TypeInfo,
) -> Result<ValueInfo> {
    let mut onnx_type: sys::ONNXType = 0;
    call!(
        api,
        GetOnnxTypeFromTypeInfo(type_info.ptr(), &mut onnx_type)
    )?;
    if onnx_type != sys::ONNX_TYPE_TENSOR {
        return Ok(ValueInfo {
            name,
            is_tensor: false,
            element_type: ElementType::Other(0),
            dims: Vec::new(),
        });
    }
    let mut tensor_info: *const sys::OrtTensorTypeAndShapeInfo = null();
    // The tensor info is borrowed from `type_info` (not released separately).
    call!(
        api,
        CastTypeInfoToTensorInfo(type_info.ptr(), &mut tensor_info)
    )?;
    if tensor_info.is_null() {
        return Err(crate::api::missing("tensor type info (null)"));
    }
    let (element_type, values) = shape_of(api, tensor_info)?;
    let mut symbols: Vec<*const c_char> = vec![null(); values.len()];
    call!(
        api,
        GetSymbolicDimensions(tensor_info, symbols.as_mut_ptr(), symbols.len())
    )?;
    let dims = values
        .iter()
        .zip(&symbols)
        .map(|(&v, &s)| {
            if v >= 0 {
                return Dim::Fixed(v);
            }
            let symbol = if s.is_null() {
                None
            } else {
                // SAFETY: NUL-terminated, owned by the type info (alive here).
                Some(unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned())
            };
            Dim::Dynamic(symbol.filter(|s| !s.is_empty()))
        })
        .collect();
    Ok(ValueInfo {
        name,
        is_tensor: true,
        element_type,
        dims,
    })
}

/// Element type and dimensions of a tensor info.
fn shape_of(
    api: &'static sys::OrtApi,
    info: *const sys::OrtTensorTypeAndShapeInfo,
) -> Result<(ElementType, Vec<i64>)> {
    let mut elem: sys::ONNXTensorElementDataType = 0;
    call!(api, GetTensorElementType(info, &mut elem))?;
    let mut rank = 0usize;
    call!(api, GetDimensionsCount(info, &mut rank))?;
    let mut dims = vec![0i64; rank];
    call!(api, GetDimensions(info, dims.as_mut_ptr(), dims.len()))?;
    let element_type = ElementType::from_onnx(i32::try_from(elem).unwrap_or(-1));
    Ok((element_type, dims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_mismatch_names_both_sides() {
        let model = vec![ValueInfo::tensor("x", ElementType::F32, vec![])];
        assert!(check_side("inputs", &model, &[("x", ElementType::F32)]).is_ok());
        let e = check_side("inputs", &model, &[("x", ElementType::I64)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the model does not match the generated code: expected inputs [x: i64], the model \
             has inputs [x: f32] (regenerate the code for this model)"
        );
        assert!(check_side("inputs", &model, &[]).is_err());
    }
}
