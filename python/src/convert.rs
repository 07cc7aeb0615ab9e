//! Conversions between NumPy arrays and graphjit tensors, and the checks that make a bad array
//! a Python exception naming the argument and what is wrong with it.

use graphjit::{DType, Data, Tensor, TensorMut, TensorRef, TensorType};
use numpy::ndarray::{Array, IxDyn};
use numpy::npyffi::flags::NPY_ARRAY_WRITEABLE;
use numpy::prelude::*;
use numpy::{PyArray, PyUntypedArray};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// graphjit's dtype name for a NumPy dtype, from its kind and item size (or its name, for
/// dtypes NumPy does not define, such as `ml_dtypes.bfloat16`).
pub fn dtype_name(descr: &Bound<'_, numpy::PyArrayDescr>) -> PyResult<String> {
    let name = match (descr.kind(), descr.itemsize()) {
        (b'b', 1) => "bool",
        (b'i', 1) => "i8",
        (b'i', 2) => "i16",
        (b'i', 4) => "i32",
        (b'i', 8) => "i64",
        (b'u', 1) => "u8",
        (b'u', 2) => "u16",
        (b'u', 4) => "u32",
        (b'u', 8) => "u64",
        (b'f', 2) => "f16",
        (b'f', 4) => "f32",
        (b'f', 8) => "f64",
        _ => {
            // Extension dtypes (ml_dtypes) are recognised by their NumPy name.
            let np_name: String = descr.getattr("name")?.extract()?;
            return Ok(match np_name.as_str() {
                "bfloat16" => "bf16".to_string(),
                other => other.to_string(),
            });
        }
    };
    Ok(name.to_string())
}

/// The graphjit dtype of a NumPy dtype, when graphjit has one. The built-in dtypes are matched
/// by kind and size, without building a name: this runs on every call.
pub fn known_dtype(descr: &Bound<'_, numpy::PyArrayDescr>) -> Option<DType> {
    let dtype = match (descr.kind(), descr.itemsize()) {
        (b'b', 1) => DType::Bool,
        (b'i', 1) => DType::I8,
        (b'i', 2) => DType::I16,
        (b'i', 4) => DType::I32,
        (b'i', 8) => DType::I64,
        (b'u', 1) => DType::U8,
        (b'u', 2) => DType::U16,
        (b'u', 4) => DType::U32,
        (b'u', 8) => DType::U64,
        (b'f', 2) => DType::F16,
        (b'f', 4) => DType::F32,
        (b'f', 8) => DType::F64,
        _ => return dtype_name(descr).ok().and_then(|n| DType::from_name(&n)),
    };
    Some(dtype)
}

/// Whether two shapes are equal, compared element by element: slice equality calls `memcmp`,
/// which for the empty shape of a scalar costs a microcode assist on this kind of CPU (see
/// `graphjit::types::same_shape`), and this runs on every call.
pub fn same_dims(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The graphjit dtype of a NumPy dtype, or a `TypeError` saying that graphjit has none.
pub fn dtype_of(descr: &Bound<'_, numpy::PyArrayDescr>, what: &str) -> PyResult<DType> {
    if let Some(d) = known_dtype(descr) {
        return Ok(d);
    }
    let name = dtype_name(descr)?;
    DType::from_name(&name).ok_or_else(|| {
        PyTypeError::new_err(format!(
            "{what} has NumPy dtype {}, which graphjit does not support (this build knows: {})",
            descr.str().map(|s| s.to_string()).unwrap_or(name),
            supported_dtypes()
        ))
    })
}

/// The dtype names this build of graphjit knows, for error messages.
pub fn supported_dtypes() -> String {
    [
        "bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f16", "bf16", "f32", "f64",
    ]
    .iter()
    .filter(|n| DType::from_name(n).is_some())
    .copied()
    .collect::<Vec<_>>()
    .join(", ")
}

/// The NumPy dtype for a graphjit dtype (`bf16` needs the `ml_dtypes` package).
pub fn numpy_dtype<'py>(py: Python<'py>, dtype: DType) -> PyResult<Bound<'py, PyAny>> {
    let np = py.import("numpy")?;
    let name = match dtype.name() {
        "bool" => "bool_",
        "i8" => "int8",
        "i16" => "int16",
        "i32" => "int32",
        "i64" => "int64",
        "u8" => "uint8",
        "u16" => "uint16",
        "u32" => "uint32",
        "u64" => "uint64",
        "f16" => "float16",
        "f32" => "float32",
        "f64" => "float64",
        "bf16" => {
            return match py.import("ml_dtypes") {
                Ok(m) => m.getattr("bfloat16"),
                Err(_) => Err(PyTypeError::new_err(
                    "bf16 has no NumPy dtype; install the ml_dtypes package to use bf16 arrays",
                )),
            }
        }
        other => {
            return Err(PyTypeError::new_err(format!(
                "graphjit dtype {other} has no NumPy equivalent"
            )))
        }
    };
    np.getattr(name)
}

/// Views `obj` as a NumPy array, or says why it is not one.
pub fn as_array<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Bound<'py, PyUntypedArray>> {
    obj.cast::<PyUntypedArray>().cloned().map_err(|_| {
        let ty = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default();
        PyTypeError::new_err(format!("{what} must be a NumPy array, got {ty}"))
    })
}

/// Converts a Python value to a NumPy array: arrays as they are, scalars and lists through
/// `numpy.asarray` (so `f(0, 10)` works when the parameters are scalars of a dtype that a
/// Python number converts to).
pub fn to_array<'py>(
    obj: &Bound<'py, PyAny>,
    expected: Option<&TensorType>,
) -> PyResult<Bound<'py, PyUntypedArray>> {
    if let Ok(a) = obj.cast::<PyUntypedArray>() {
        return Ok(a.clone());
    }
    let py = obj.py();
    let np = py.import("numpy")?;
    let arr = match expected {
        Some(ty) => np.call_method1("asarray", (obj, numpy_dtype(py, ty.dtype)?))?,
        None => np.call_method1("asarray", (obj,))?,
    };
    as_array(&arr, "argument")
}

/// Copies a NumPy array into a tensor; the array's dtype must be one graphjit knows and its
/// memory C-contiguous (non-contiguous arrays are copied by NumPy first, which is explicit in
/// `numpy.ascontiguousarray`).
pub fn tensor_from_array(arr: &Bound<'_, PyUntypedArray>, what: &str) -> PyResult<Tensor> {
    let descr = arr.dtype();
    let dtype = dtype_of(&descr, what)?;
    check_native(&descr, what)?;
    if !arr.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{what} is not C-contiguous (strides {:?}); pass numpy.ascontiguousarray(x)",
            arr.strides()
        )));
    }
    let shape = arr.shape().to_vec();
    let ty = TensorType::new(dtype, shape.clone());
    let n = ty.checked_num_elements().ok_or_else(|| {
        PyValueError::new_err(format!(
            "{what} of shape {shape:?} is too large for graphjit"
        ))
    })?;
    let mut data = Data::zeros(dtype, n);
    let nbytes = n * dtype.size_bytes();
    // SAFETY: the array is C-contiguous with `n` elements of `size_bytes` each (its dtype was
    // matched by kind and item size), so its data pointer covers `nbytes` readable bytes; the
    // destination buffer has exactly `n` elements of the same size.
    unsafe {
        let src = (*arr.as_array_ptr()).fields.data as *const u8;
        if nbytes > 0 {
            if dtype == DType::Bool {
                // A bool buffer must hold 0 or 1; NumPy's bools do, but a view of other bytes
                // as bool may not, so normalise while copying.
                let dst = data.as_mut_ptr();
                for i in 0..n {
                    *dst.add(i) = u8::from(*src.add(i) != 0);
                }
            } else {
                std::ptr::copy_nonoverlapping(src, data.as_mut_ptr(), nbytes);
            }
        }
    }
    Tensor::new(data, shape)
        .ok_or_else(|| PyValueError::new_err(format!("{what}: element count does not match shape")))
}

/// Checks that an array's bytes are in the machine's order.
fn check_native(descr: &Bound<'_, numpy::PyArrayDescr>, what: &str) -> PyResult<()> {
    if descr.is_native_byteorder() == Some(false) {
        return Err(PyValueError::new_err(format!(
            "{what} is not in native byte order; convert it with x.astype(x.dtype.newbyteorder('='))"
        )));
    }
    Ok(())
}

/// Moves a tensor into a new NumPy array (the buffer itself, without copying, for the dtypes
/// NumPy and graphjit share a Rust type for).
pub fn array_from_tensor<'py>(py: Python<'py>, t: Tensor) -> PyResult<Bound<'py, PyAny>> {
    let dims = t.shape().to_vec();
    let shape = IxDyn(&dims);
    let dtype = t.dtype();
    // `from_shape_vec` fails only when the element count differs, which a tensor rules out.
    let bad = |_| PyValueError::new_err("result: element count does not match its shape");
    Ok(match t.into_data() {
        Data::Bool(v) => owned(py, Array::from_shape_vec(shape, v.into_vec()).map_err(bad)?),
        Data::I32(v) => owned(py, Array::from_shape_vec(shape, v.into_vec()).map_err(bad)?),
        Data::I64(v) => owned(py, Array::from_shape_vec(shape, v.into_vec()).map_err(bad)?),
        Data::F32(v) => owned(py, Array::from_shape_vec(shape, v.into_vec()).map_err(bad)?),
        Data::F64(v) => owned(py, Array::from_shape_vec(shape, v.into_vec()).map_err(bad)?),
        #[allow(unreachable_patterns)]
        other => {
            // Dtypes without a shared Rust type are copied byte for byte.
            let np = py.import("numpy")?;
            let arr =
                np.call_method1("empty", (PyTuple::new(py, &dims)?, numpy_dtype(py, dtype)?))?;
            let a = as_array(&arr, "result")?;
            let bytes = other.as_bytes();
            // SAFETY: `empty` made a fresh C-contiguous array of the tensor's shape and dtype,
            // which is as many bytes as the tensor's buffer holds.
            unsafe {
                let dst = (*a.as_array_ptr()).fields.data as *mut u8;
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len());
            }
            arr
        }
    })
}

/// A NumPy array that owns `a`'s buffer.
fn owned<'py, T: numpy::Element>(py: Python<'py>, a: Array<T, IxDyn>) -> Bound<'py, PyAny> {
    PyArray::from_owned_array(py, a).into_any()
}

/// Checks that `arr` can receive result `index` in place: a writable, C-contiguous array in
/// native byte order of exactly the result's dtype and shape.
pub fn check_output(
    arr: &Bound<'_, PyUntypedArray>,
    index: usize,
    ty: &TensorType,
) -> PyResult<()> {
    let descr = arr.dtype();
    let writeable = || {
        // SAFETY: reading the flags of a live array object.
        let flags = unsafe { (*arr.as_array_ptr()).fields.flags };
        flags & NPY_ARRAY_WRITEABLE != 0
    };
    // The common case, checked without building any message.
    if known_dtype(&descr) == Some(ty.dtype)
        && descr.is_native_byteorder() != Some(false)
        && same_dims(arr.shape(), &ty.shape)
        && arr.is_c_contiguous()
        && writeable()
    {
        return Ok(());
    }
    let what = format!("output {index}");
    let dtype = dtype_of(&descr, &what)?;
    check_native(&descr, &what)?;
    if dtype != ty.dtype {
        return Err(PyTypeError::new_err(format!(
            "{what} must have dtype {} (NumPy {}), got {}",
            ty.dtype,
            numpy_dtype(arr.py(), ty.dtype)
                .and_then(|d| d.str().map(|s| s.to_string()))
                .unwrap_or_default(),
            dtype
        )));
    }
    if !same_dims(arr.shape(), &ty.shape) {
        return Err(PyValueError::new_err(format!(
            "{what} must have shape {:?}, got {:?}",
            ty.shape,
            arr.shape()
        )));
    }
    if !arr.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{what} is not C-contiguous (strides {:?}), so results cannot be written into it in place",
            arr.strides()
        )));
    }
    if !writeable() {
        return Err(PyValueError::new_err(format!(
            "{what} is read-only (its WRITEABLE flag is off)"
        )));
    }
    Ok(())
}

/// Copies a result tensor into an output array already checked by [`check_output`].
pub fn copy_into(arr: &Bound<'_, PyUntypedArray>, t: &Tensor) {
    let bytes = t.data().as_bytes();
    if bytes.is_empty() {
        return;
    }
    // SAFETY: `check_output` found the array writable, C-contiguous and of the tensor's dtype
    // and shape, so it holds exactly `bytes.len()` bytes; the GIL is held, so no Python code
    // reallocates it meanwhile.
    unsafe {
        let dst = (*arr.as_array_ptr()).fields.data as *mut u8;
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len());
    }
}

/// Copies `arr` into `t`, a buffer kept from an earlier call, when the array has exactly `t`'s
/// dtype and shape and a layout that needs no conversion; returns false (copying nothing)
/// otherwise. Reusing buffers avoids asking the allocator for fresh pages on every call, which
/// for large arrays cost more than the copy itself.
pub fn refill(arr: &Bound<'_, PyUntypedArray>, t: &mut Tensor) -> PyResult<bool> {
    let descr = arr.dtype();
    if known_dtype(&descr) != Some(t.dtype())
        || t.dtype() == DType::Bool
        || !same_dims(arr.shape(), t.shape())
        || !arr.is_c_contiguous()
        || descr.is_native_byteorder() == Some(false)
    {
        return Ok(false);
    }
    let nbytes = t.data().len() * t.dtype().size_bytes();
    if nbytes > 0 {
        // SAFETY: the array is C-contiguous with the tensor's dtype and shape, so both buffers
        // hold exactly `nbytes` bytes, and they are distinct allocations.
        unsafe {
            let src = (*arr.as_array_ptr()).fields.data as *const u8;
            std::ptr::copy_nonoverlapping(src, t.data_mut().as_mut_ptr(), nbytes);
        }
    }
    Ok(true)
}

/// The address and byte length of an array's memory.
fn array_memory(arr: &Bound<'_, PyUntypedArray>) -> (usize, usize) {
    let itemsize = arr.dtype().itemsize();
    // SAFETY: reading the data pointer of a live array object.
    let ptr = unsafe { (*arr.as_array_ptr()).fields.data } as usize;
    (ptr, arr.len() * itemsize)
}

/// Whether an array is one compiled code can use in place as a value of type `ty`: exactly the
/// dtype and shape, C-contiguous, in native byte order. Alignment and bool bytes are checked by
/// `TensorRef`/`TensorMut` themselves.
fn usable_in_place(arr: &Bound<'_, PyUntypedArray>, ty: &TensorType) -> bool {
    let descr = arr.dtype();
    known_dtype(&descr) == Some(ty.dtype)
        && descr.is_native_byteorder() != Some(false)
        && arr.is_c_contiguous()
        && same_dims(arr.shape(), &ty.shape)
}

/// A borrowed view of `arr` as an input of type `ty`, which compiled code reads in place; `None`
/// when the array cannot be used as it is (the caller then copies it, which also produces the
/// error message for arrays that are wrong rather than merely laid out differently).
///
/// While the GIL is released for the run, another Python thread may write to the array, as
/// with any NumPy operation that releases the GIL; compiled code then reads old or new values,
/// never outside the array. The array cannot be freed or resized meanwhile: the caller holds a
/// reference to it, and NumPy refuses to resize an array that is referenced.
pub fn borrowed_input<'a>(
    arr: &'a Bound<'_, PyUntypedArray>,
    ty: &TensorType,
) -> Option<TensorRef<'a>> {
    if !usable_in_place(arr, ty) {
        return None;
    }
    let (ptr, len) = array_memory(arr);
    if len == 0 {
        return None;
    }
    // SAFETY: a C-contiguous array of this dtype and shape owns `len` readable bytes at `ptr`,
    // alive as long as the borrowed `arr` (see above for concurrent writers).
    let bytes = unsafe { std::slice::from_raw_parts(ptr as *const u8, len) };
    TensorRef::from_bytes(ty.dtype, &ty.shape, bytes).ok()
}

/// A borrowed writable view of `arr`, already accepted by [`check_output`], as result `ty`;
/// `None` when it cannot be written in place. The caller must make sure no other view of the
/// same memory (an input, another output) is in use during the run: see [`overlapping`].
pub fn borrowed_output<'a>(
    arr: &'a Bound<'_, PyUntypedArray>,
    ty: &TensorType,
) -> Option<TensorMut<'a>> {
    if !usable_in_place(arr, ty) {
        return None;
    }
    let (ptr, len) = array_memory(arr);
    if len == 0 {
        return None;
    }
    // SAFETY: as in `borrowed_input`; `check_output` found the array writable, and the caller
    // has ruled out other views of this memory for the run.
    let bytes = unsafe { std::slice::from_raw_parts_mut(ptr as *mut u8, len) };
    TensorMut::from_bytes(ty.dtype, &ty.shape, bytes).ok()
}

/// Whether any output array shares memory with an input array or with another output (the
/// same array passed twice, or views of one buffer), in which case results cannot be written
/// in place while the inputs are read in place.
pub fn overlapping(
    inputs: &[Bound<'_, PyUntypedArray>],
    outputs: &[Bound<'_, PyUntypedArray>],
) -> bool {
    let range = |a: &Bound<'_, PyUntypedArray>| {
        let (p, n) = array_memory(a);
        (p, p + n)
    };
    let meets = |(a0, a1): (usize, usize), (b0, b1): (usize, usize)| a0 < b1 && b0 < a1;
    outputs.iter().enumerate().any(|(i, o)| {
        let r = range(o);
        inputs.iter().any(|x| meets(r, range(x))) || outputs[..i].iter().any(|p| meets(r, range(p)))
    })
}
