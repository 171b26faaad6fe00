//! Tensors on the Rust side: owned [`Tensor`], borrowed [`TensorRef`], type-erased [`Input`]
//! (what [`crate::Session::run`] takes) and [`DynTensor`] (what it returns). All of them are
//! plain Rust data; ONNX Runtime values exist only during a run.

use crate::element::{Element, ElementType};
use crate::error::{Error, Result};

/// Number of elements of `shape`, checking for negative dimensions and overflow.
pub fn element_count(shape: &[i64]) -> Result<usize> {
    let mut n: usize = 1;
    for &d in shape {
        let d = usize::try_from(d).map_err(|_| Error::InvalidShape {
            shape: shape.to_vec(),
            reason: format!("dimension {d} is negative"),
        })?;
        n = n.checked_mul(d).ok_or_else(|| Error::InvalidShape {
            shape: shape.to_vec(),
            reason: "the element count overflows".into(),
        })?;
    }
    Ok(n)
}

fn check_len(shape: &[i64], len: usize) -> Result<()> {
    let expected = element_count(shape)?;
    if expected != len {
        return Err(Error::DataLength {
            shape: shape.to_vec(),
            expected,
            actual: len,
        });
    }
    Ok(())
}

/// An owned tensor: a shape and row-major data whose length matches it.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor<T: Element> {
    shape: Vec<i64>,
    data: Vec<T>,
}

impl<T: Element> Tensor<T> {
    /// A tensor of `shape` holding `data` (row-major). Fails when a dimension is negative or
    /// `data.len()` is not the product of the dimensions.
    pub fn new(shape: impl Into<Vec<i64>>, data: Vec<T>) -> Result<Self> {
        let shape = shape.into();
        check_len(&shape, data.len())?;
        Ok(Tensor { shape, data })
    }

    /// A rank-0 tensor holding one value.
    pub fn scalar(value: T) -> Self {
        Tensor {
            shape: Vec::new(),
            data: vec![value],
        }
    }

    /// The dimensions.
    pub fn shape(&self) -> &[i64] {
        &self.shape
    }

    /// The elements, row-major.
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// The elements, mutable (the length is fixed by the shape).
    pub fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// The elements, by value.
    pub fn into_data(self) -> Vec<T> {
        self.data
    }

    /// Shape and elements, by value.
    pub fn into_parts(self) -> (Vec<i64>, Vec<T>) {
        (self.shape, self.data)
    }

    /// A borrowed view (no copy), to pass as a run input.
    pub fn view(&self) -> TensorRef<'_, T> {
        TensorRef {
            shape: &self.shape,
            data: &self.data,
        }
    }
}

impl<'a, T: Element> From<&'a Tensor<T>> for TensorRef<'a, T> {
    fn from(t: &'a Tensor<T>) -> Self {
        t.view()
    }
}

/// A borrowed tensor: a shape and row-major data whose length matches it (nothing is copied
/// when it is passed to a run).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorRef<'a, T: Element> {
    shape: &'a [i64],
    data: &'a [T],
}

impl<'a, T: Element> TensorRef<'a, T> {
    /// A view of `data` with `shape`; fails like [`Tensor::new`].
    pub fn new(shape: &'a [i64], data: &'a [T]) -> Result<Self> {
        check_len(shape, data.len())?;
        Ok(TensorRef { shape, data })
    }

    /// The dimensions.
    pub fn shape(&self) -> &'a [i64] {
        self.shape
    }

    /// The elements, row-major.
    pub fn data(&self) -> &'a [T] {
        self.data
    }

    /// An owned copy.
    pub fn to_tensor(&self) -> Tensor<T> {
        Tensor {
            shape: self.shape.to_vec(),
            data: self.data.to_vec(),
        }
    }

    /// The type-erased form [`crate::Session::run`] takes.
    pub fn input(self) -> Input<'a> {
        // SAFETY: every `Element` type is plain data without padding (sealed trait), so its
        // memory may be viewed as bytes for as long as the borrow lasts.
        let bytes = unsafe {
            std::slice::from_raw_parts(
                self.data.as_ptr().cast::<u8>(),
                std::mem::size_of_val(self.data),
            )
        };
        Input {
            element_type: T::TYPE,
            shape: self.shape,
            bytes,
        }
    }
}

impl<'a, T: Element> From<TensorRef<'a, T>> for Input<'a> {
    fn from(t: TensorRef<'a, T>) -> Self {
        t.input()
    }
}

impl<'a, T: Element> From<&'a Tensor<T>> for Input<'a> {
    fn from(t: &'a Tensor<T>) -> Self {
        t.view().input()
    }
}

/// A type-erased borrowed tensor whose data length is known to match its shape.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub(crate) element_type: ElementType,
    pub(crate) shape: &'a [i64],
    pub(crate) bytes: &'a [u8],
}

impl<'a> Input<'a> {
    /// The element type.
    pub fn element_type(&self) -> ElementType {
        self.element_type
    }

    /// The dimensions.
    pub fn shape(&self) -> &'a [i64] {
        self.shape
    }
}

/// An owned tensor of any supported element type (a run's output).
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum DynTensor {
    F32(Tensor<f32>),
    F64(Tensor<f64>),
    I8(Tensor<i8>),
    I16(Tensor<i16>),
    I32(Tensor<i32>),
    I64(Tensor<i64>),
    U8(Tensor<u8>),
    U16(Tensor<u16>),
    U32(Tensor<u32>),
    U64(Tensor<u64>),
    Bool(Tensor<bool>),
}

macro_rules! each {
    ($self:expr, $t:ident => $e:expr) => {
        match $self {
            DynTensor::F32($t) => $e,
            DynTensor::F64($t) => $e,
            DynTensor::I8($t) => $e,
            DynTensor::I16($t) => $e,
            DynTensor::I32($t) => $e,
            DynTensor::I64($t) => $e,
            DynTensor::U8($t) => $e,
            DynTensor::U16($t) => $e,
            DynTensor::U32($t) => $e,
            DynTensor::U64($t) => $e,
            DynTensor::Bool($t) => $e,
        }
    };
}

impl DynTensor {
    /// The element type.
    pub fn element_type(&self) -> ElementType {
        each!(self, t => element_type_of(t))
    }

    /// The dimensions.
    pub fn shape(&self) -> &[i64] {
        each!(self, t => t.shape())
    }

    /// Borrow as a tensor of `T` (`None` for another element type).
    pub fn as_tensor<T: Element>(&self) -> Option<&Tensor<T>> {
        T::ref_dyn(self)
    }

    /// Convert into a tensor of `T`, or get `self` back for another element type.
    pub fn into_tensor<T: Element>(self) -> Result<Tensor<T>, DynTensor> {
        T::from_dyn(self)
    }

    /// Decode `count` elements of `element_type` from native-order bytes.
    pub(crate) fn from_bytes(
        element_type: ElementType,
        shape: Vec<i64>,
        bytes: &[u8],
        name: &str,
    ) -> Result<DynTensor> {
        fn decode<T: Element>(shape: Vec<i64>, bytes: &[u8]) -> Result<DynTensor> {
            let size = std::mem::size_of::<T>();
            let data: Vec<T> = bytes.chunks_exact(size).map(T::read).collect();
            Tensor::new(shape, data).map(T::into_dyn)
        }
        match element_type {
            ElementType::F32 => decode::<f32>(shape, bytes),
            ElementType::F64 => decode::<f64>(shape, bytes),
            ElementType::I8 => decode::<i8>(shape, bytes),
            ElementType::I16 => decode::<i16>(shape, bytes),
            ElementType::I32 => decode::<i32>(shape, bytes),
            ElementType::I64 => decode::<i64>(shape, bytes),
            ElementType::U8 => decode::<u8>(shape, bytes),
            ElementType::U16 => decode::<u16>(shape, bytes),
            ElementType::U32 => decode::<u32>(shape, bytes),
            ElementType::U64 => decode::<u64>(shape, bytes),
            ElementType::Bool => decode::<bool>(shape, bytes),
            ElementType::Other(_) => Err(Error::UnsupportedElementType {
                name: name.to_string(),
                element_type,
            }),
        }
    }
}

fn element_type_of<T: Element>(_: &Tensor<T>) -> ElementType {
    T::TYPE
}

impl<T: Element> From<Tensor<T>> for DynTensor {
    fn from(t: Tensor<T>) -> Self {
        T::into_dyn(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_length_are_checked() {
        assert!(Tensor::new([2, 3], vec![0f32; 6]).is_ok());
        let e = Tensor::new([2, 3], vec![0f32; 5]).unwrap_err();
        assert_eq!(
            e,
            Error::DataLength {
                shape: vec![2, 3],
                expected: 6,
                actual: 5
            }
        );
        assert!(e
            .to_string()
            .contains("5 element(s) but shape [2, 3] needs 6"));
        let e = Tensor::new([2, -1], vec![0i64; 2]).unwrap_err();
        assert!(matches!(e, Error::InvalidShape { .. }), "{e}");
        let e = TensorRef::new(&[i64::MAX, i64::MAX], &[1u8]).unwrap_err();
        assert!(e.to_string().contains("overflows"), "{e}");
        assert_eq!(element_count(&[]).unwrap(), 1);
        assert!(Tensor::new([0, 5], Vec::<bool>::new()).is_ok());
        assert_eq!(Tensor::scalar(3i32).shape(), &[] as &[i64]);
    }

    #[test]
    fn erased_views_carry_type_and_bytes() {
        let t = Tensor::new([2], vec![1.0f32, 2.0]).unwrap();
        let i: Input<'_> = (&t).into();
        assert_eq!(i.element_type(), ElementType::F32);
        assert_eq!(i.shape(), &[2]);
        assert_eq!(i.bytes.len(), 8);
        let b = Tensor::new([3], vec![true, false, true]).unwrap();
        assert_eq!(b.view().input().bytes, &[1, 0, 1]);
    }

    #[test]
    fn dyn_tensors_decode_and_convert() {
        let bytes: Vec<u8> = [1i64, -2, 3].iter().flat_map(|v| v.to_ne_bytes()).collect();
        let d = DynTensor::from_bytes(ElementType::I64, vec![3], &bytes, "y").unwrap();
        assert_eq!(d.element_type(), ElementType::I64);
        assert_eq!(d.as_tensor::<i64>().unwrap().data(), &[1, -2, 3]);
        assert!(d.as_tensor::<f32>().is_none());
        let d = d.into_tensor::<f32>().unwrap_err();
        assert_eq!(d.into_tensor::<i64>().unwrap().into_data(), vec![1, -2, 3]);
        let e = DynTensor::from_bytes(ElementType::Other(8), vec![1], &[], "s").unwrap_err();
        assert!(e.to_string().contains("string"), "{e}");
        let e = DynTensor::from_bytes(ElementType::F32, vec![2], &[0; 4], "y").unwrap_err();
        assert!(matches!(e, Error::DataLength { .. }));
    }
}
