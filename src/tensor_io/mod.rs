//! Tensor files: NumPy's `.npy` and `.npz`, Hugging Face's safetensors, and JSON results.
//!
//! The formats themselves are the crates' work (`npyz`, `zip`, `safetensors`, `serde_json`);
//! this module maps graphjit's dtypes onto theirs through one table ([`FORMATS`]) and checks
//! every size a file declares against the file's length and the limits of [`crate::types`]
//! *before* allocating anything, so a file that lies is an error, never a panic or a huge
//! allocation.

mod json;
mod npy;
mod npz;
mod st;

use std::io::Read;
use std::path::Path;

use crate::error::{Error, FileError};
use crate::tensor::{Element, Tensor};
use crate::types::{DType, TensorType, MAX_ELEMENTS};

pub use json::{tensor_json, tensors_json};
pub use npz::{npz_from_bytes, npz_to_bytes, read_npz, write_npz};
pub use st::{read_safetensors, safetensors_from_bytes, safetensors_to_bytes, write_safetensors};

/// How one dtype is written in each file format: the NumPy type string without its byte-order
/// character (`f4`), and the safetensors dtype. `None` where the format has no such type.
pub struct FormatRow {
    pub dtype: DType,
    pub npy: Option<&'static str>,
    pub safetensors: Option<safetensors::Dtype>,
}

/// The one mapping between graphjit's dtypes and the file formats' (a new dtype is a new row).
pub const FORMATS: &[FormatRow] = &[
    FormatRow {
        dtype: DType::Bool,
        npy: Some("b1"),
        safetensors: Some(safetensors::Dtype::BOOL),
    },
    FormatRow {
        dtype: DType::I32,
        npy: Some("i4"),
        safetensors: Some(safetensors::Dtype::I32),
    },
    FormatRow {
        dtype: DType::I64,
        npy: Some("i8"),
        safetensors: Some(safetensors::Dtype::I64),
    },
    FormatRow {
        dtype: DType::F32,
        npy: Some("f4"),
        safetensors: Some(safetensors::Dtype::F32),
    },
    FormatRow {
        dtype: DType::F64,
        npy: Some("f8"),
        safetensors: Some(safetensors::Dtype::F64),
    },
];

fn row(dtype: DType) -> &'static FormatRow {
    FORMATS
        .iter()
        .find(|r| r.dtype == dtype)
        .expect("every dtype has a row in FORMATS")
}

/// An element type the file formats can hold: NumPy's (through `npyz`) and little-endian
/// bytes (safetensors).
pub trait FileElement: Element + npyz::Deserialize + npyz::AutoSerialize {
    /// Reads one element from its little-endian bytes (exactly `DTYPE.size_bytes()` of them);
    /// `None` for a byte pattern that is not a value of the type (a bool other than 0 or 1).
    fn from_le(bytes: &[u8]) -> Option<Self>;
    /// Appends the element's little-endian bytes.
    fn put_le(self, out: &mut Vec<u8>);
}

macro_rules! file_element_num {
    ($($t:ty),*) => {$(
        impl FileElement for $t {
            fn from_le(bytes: &[u8]) -> Option<Self> {
                Some(<$t>::from_le_bytes(bytes.try_into().ok()?))
            }
            fn put_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}

file_element_num!(i32, i64, f32, f64);

impl FileElement for bool {
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
}

/// Runs `$body` with the type alias `$T` naming the Rust element type of `$dtype`.
macro_rules! with_file_element {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::types::DType::Bool => {
                type $T = bool;
                $body
            }
            $crate::types::DType::I32 => {
                type $T = i32;
                $body
            }
            $crate::types::DType::I64 => {
                type $T = i64;
                $body
            }
            $crate::types::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::types::DType::F64 => {
                type $T = f64;
                $body
            }
        }
    };
}
pub(crate) use with_file_element;

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
