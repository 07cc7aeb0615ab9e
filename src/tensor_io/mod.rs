//! Tensor files: NumPy's `.npy` and `.npz`, Hugging Face's safetensors, and JSON results.
//!
//! The formats themselves are the crates' work (`npyz`, `zip`, `safetensors`, `serde_json`);
//! this module maps graphjit's dtypes onto theirs ([`npy_code`], [`safetensors_dtype`]) and checks
//! every size a file declares against the file's length and the limits of [`crate::types`]
//! *before* allocating anything, so a file that lies is an error, never a panic or a huge
//! allocation.

mod json;
mod npy;
mod npz;
mod st;

use std::io::Read;

use npyz::WriterBuilder;
use std::path::Path;

use crate::error::{Error, FileError};
use crate::tensor::{Element, Tensor};
use crate::types::{DType, Kind, TensorType, MAX_ELEMENTS};

pub use json::{tensor_json, tensors_json};
pub use npz::{npz_from_bytes, npz_to_bytes, read_npz, write_npz};
pub use st::{read_safetensors, safetensors_from_bytes, safetensors_to_bytes, write_safetensors};

/// The NumPy type string of a dtype without its byte-order character (`f4`, `u1`, `b1`), built
/// from the dtype table's kind and width; `None` for `bf16`, which NumPy does not have (the
/// `ml_dtypes` package stores it as raw two-byte `V2` records that say nothing of their type).
pub fn npy_code(dtype: DType) -> Option<String> {
    let kind = match dtype.kind() {
        _ if dtype == DType::BF16 => return None,
        Kind::Bool => 'b',
        Kind::Signed => 'i',
        Kind::Unsigned => 'u',
        Kind::Float => 'f',
    };
    Some(format!("{kind}{}", dtype.size_bytes()))
}

/// The safetensors dtype of a dtype. The match is exhaustive, so a new dtype cannot be
/// forgotten here; safetensors has a counterpart for every graphjit dtype.
pub fn safetensors_dtype(dtype: DType) -> safetensors::Dtype {
    use safetensors::Dtype as S;
    match dtype {
        DType::Bool => S::BOOL,
        DType::I8 => S::I8,
        DType::I16 => S::I16,
        DType::I32 => S::I32,
        DType::I64 => S::I64,
        DType::U8 => S::U8,
        DType::U16 => S::U16,
        DType::U32 => S::U32,
        DType::U64 => S::U64,
        DType::F16 => S::F16,
        DType::BF16 => S::BF16,
        DType::F32 => S::F32,
        DType::F64 => S::F64,
    }
}

/// An element type the file formats can hold: little-endian bytes (safetensors) and NumPy's
/// `.npy` data through `npyz` (which converts either byte order). Implemented for every row of
/// the dtype table by [`crate::for_each_dtype!`].
pub trait FileElement: Element {
    /// Reads one element from its little-endian bytes (exactly `DTYPE.size_bytes()` of them);
    /// `None` for a byte pattern that is not a value of the type (a bool other than 0 or 1).
    fn from_le(bytes: &[u8]) -> Option<Self>;
    /// Appends the element's little-endian bytes.
    fn put_le(self, out: &mut Vec<u8>);
    /// Reads the data of a `.npy` file whose header has this element type.
    fn read_npy(npy: npyz::NpyFile<&[u8]>) -> Result<Vec<Self>, String>;
    /// Writes a `.npy` file (header and data) of these elements in C order.
    fn write_npy(xs: &[Self], shape: &[u64], out: &mut Vec<u8>) -> Result<(), String>;
}

fn npyz_read<T: npyz::Deserialize>(npy: npyz::NpyFile<&[u8]>) -> Result<Vec<T>, String> {
    npy.into_vec()
        .map_err(|e| format!("cannot read the data: {e}"))
}

fn npyz_write<T: npyz::AutoSerialize + Copy>(
    xs: &[T],
    shape: &[u64],
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let write = || -> std::io::Result<()> {
        let mut w = npyz::WriteOptions::<T>::new()
            .default_dtype()
            .shape(shape)
            .writer(out)
            .begin_nd()?;
        w.extend(xs.iter().copied())?;
        w.finish()
    };
    write().map_err(|e| format!("cannot write .npy data: {e}"))
}

/// The [`FileElement`] impls, one per row of the dtype table. `bf16` has no `.npy` form (see
/// [`npy_code`]): its `.npy` functions are errors, which callers meet only if they skip the
/// [`npy_code`] check.
macro_rules! file_elements {
    (; $(($v:ident, $rt:ty, $name:literal, $kind:ident, $bits:literal),)*) => {
        $(impl FileElement for $rt {
            file_elements!(@le $kind $rt);
            file_elements!(@npy $v $rt);
        })*
    };
    (@le bool $rt:ty) => {
        fn from_le(bytes: &[u8]) -> Option<Self> {
            match bytes {
                [0] => Some(false),
                [1] => Some(true),
                _ => None,
            }
        }
        fn put_le(self, out: &mut Vec<u8>) {
            out.push(self as u8);
        }
    };
    (@le $kind:ident $rt:ty) => {
        fn from_le(bytes: &[u8]) -> Option<Self> {
            Some(<$rt>::from_le_bytes(bytes.try_into().ok()?))
        }
        fn put_le(self, out: &mut Vec<u8>) {
            out.extend_from_slice(&self.to_le_bytes());
        }
    };
    (@npy BF16 $rt:ty) => {
        fn read_npy(_: npyz::NpyFile<&[u8]>) -> Result<Vec<Self>, String> {
            Err(NO_NPY_BF16.into())
        }
        fn write_npy(_: &[Self], _: &[u64], _: &mut Vec<u8>) -> Result<(), String> {
            Err(NO_NPY_BF16.into())
        }
    };
    (@npy $v:ident $rt:ty) => {
        fn read_npy(npy: npyz::NpyFile<&[u8]>) -> Result<Vec<Self>, String> {
            npyz_read(npy)
        }
        fn write_npy(xs: &[Self], shape: &[u64], out: &mut Vec<u8>) -> Result<(), String> {
            npyz_write(xs, shape, out)
        }
    };
}

crate::for_each_dtype!(file_elements!());

/// Why a `bf16` tensor cannot go to or come from a `.npy` or `.npz` file.
pub(crate) const NO_NPY_BF16: &str =
    "NumPy has no bf16 dtype (ml_dtypes' bfloat16 is stored as untyped 'V2' records); \
     use a .safetensors file for bf16 tensors";

/// Checks a declared dtype and shape against graphjit's limits and the bytes the file holds
/// for it; returns the element count. Called before anything is allocated for the data.
pub(crate) fn check_declared(
    dtype: DType,
    shape: &[usize],
    available: u64,
) -> Result<usize, String> {
    let ty = TensorType::new(dtype, shape.to_vec());
    ty.check_size()?;
    let n = ty.num_elements();
    let bytes = n as u64 * dtype.size_bytes() as u64;
    if bytes > available {
        return Err(format!(
            "declares {ty} ({bytes} bytes of data) but holds only {available} bytes"
        ));
    }
    Ok(n)
}

/// The largest data a tensor may have, in bytes; a `.npy` file larger than this plus its header
/// is refused before it is read.
pub(crate) const MAX_DATA_BYTES: u64 = MAX_ELEMENTS as u64 * 8;

/// The longest `.npy` header accepted. NumPy itself refuses headers over 10,000 bytes unless
/// told otherwise; this leaves room for long shapes and keeps a lying length from allocating.
pub(crate) const MAX_NPY_HEADER: usize = 1 << 16;

pub(crate) fn file_error(file: &Path, message: impl Into<String>) -> Error {
    Error::File(FileError {
        file: file.display().to_string(),
        message: message.into(),
    })
}

/// Reads a whole regular file, refusing one larger than `limit` bytes without reading more
/// than that (a device such as `/dev/zero` reports no length and never ends).
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, Error> {
    let err = |e: std::io::Error| file_error(path, e.to_string());
    let file = std::fs::File::open(path).map_err(err)?;
    let meta = file.metadata().map_err(err)?;
    if !meta.is_file() {
        return Err(file_error(path, "is not a regular file"));
    }
    let too_big = |len: u64| {
        file_error(
            path,
            format!(
                "is {len} bytes or more, more than any tensor file graphjit reads ({limit} bytes)"
            ),
        )
    };
    if meta.len() > limit {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(err)?;
    if bytes.len() as u64 > limit {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The largest `.npz` or safetensors file read: room for a few tensors of the largest size.
pub(crate) const MAX_ARCHIVE_BYTES: u64 = 4 * MAX_DATA_BYTES;

/// Reads every tensor of a `.npy` (named after the file's stem), `.npz` or `.safetensors` file,
/// in the file's order.
pub fn read_tensors(path: impl AsRef<Path>) -> Result<Vec<(String, Tensor)>, Error> {
    let path = path.as_ref();
    match path.extension().and_then(|e| e.to_str()) {
        Some("npy") => {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            Ok(vec![(name, Tensor::read_npy(path)?)])
        }
        Some("npz") => read_npz(path),
        Some("safetensors") => read_safetensors(path),
        _ => Err(file_error(
            path,
            "is not a tensor file (expected a .npy, .npz or .safetensors extension)",
        )),
    }
}

/// Writes named tensors to a `.npz` or `.safetensors` file, chosen by the extension.
pub fn write_tensors(path: impl AsRef<Path>, tensors: &[(&str, &Tensor)]) -> Result<(), Error> {
    let path = path.as_ref();
    match path.extension().and_then(|e| e.to_str()) {
        Some("npz") => write_npz(path, tensors),
        Some("safetensors") => write_safetensors(path, tensors),
        _ => Err(file_error(
            path,
            "cannot hold named tensors (expected a .npz or .safetensors extension)",
        )),
    }
}
