//! NumPy `.npy` files through `npyz`: either byte order, C or Fortran order, header versions
//! 1, 2 and 3; the declared header length, shape and dtype are checked before any allocation.

use std::path::Path;

use super::{
    check_declared, file_error, npy_code, read_limited, FileElement, MAX_DATA_BYTES,
    MAX_NPY_HEADER, NO_NPY_BF16,
};
use crate::error::Error;
use crate::ops::kernels;
use crate::tensor::Tensor;
use crate::types::{DType, MAX_ELEMENTS, MAX_RANK};

const MAGIC: &[u8] = b"\x93NUMPY";

/// The deepest bracket nesting accepted in a header: a shape and a dtype need two levels, and
/// the header parser recurses on brackets, so 60,000 of them would overflow the stack.
const MAX_HEADER_NESTING: usize = 8;

impl Tensor {
    /// Reads a `.npy` file. Fortran-ordered arrays are transposed into graphjit's row-major
    /// layout; big-endian data is converted.
    pub fn read_npy(path: impl AsRef<Path>) -> Result<Tensor, Error> {
        let path = path.as_ref();
        let bytes = read_limited(path, MAX_DATA_BYTES + MAX_NPY_HEADER as u64 + 12)?;
        Tensor::from_npy_bytes(&bytes).map_err(|m| file_error(path, m))
    }

    /// Writes the tensor as a `.npy` file (C order, the machine's byte order, version 1 header
    /// unless the shape needs a longer one).
    pub fn write_npy(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        let bytes = self.to_npy_bytes().map_err(|m| file_error(path, m))?;
        std::fs::write(path, bytes).map_err(|e| file_error(path, e.to_string()))
    }

    /// Reads the bytes of a `.npy` file; an error says what is wrong with them.
    pub fn from_npy_bytes(bytes: &[u8]) -> Result<Tensor, String> {
        check_header_length(bytes)?;
        let mut rest = bytes;
        let header = npyz::NpyHeader::from_reader(&mut rest)
            .map_err(|e| format!("not a valid .npy file: {e}"))?;
        let dtype = dtype_of(&header.dtype())?;
        if header.shape().len() > MAX_RANK {
            return Err(format!(
                "the array has rank {}, more than the limit of {MAX_RANK}",
                header.shape().len()
            ));
        }
        let shape = header
            .shape()
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| format!("dimension {d} is too large")))
            .collect::<Result<Vec<usize>, String>>()?;
        let n = check_declared(dtype, &shape, rest.len() as u64)?;
        let extra = rest.len() - n * dtype.size_bytes();
        if extra != 0 {
            return Err(format!(
                "the file has {extra} bytes after the data its header declares"
            ));
        }
        let fortran = header.order() == npyz::Order::Fortran && shape.len() > 1;
        let npy = npyz::NpyFile::with_header(header, rest);
        // A Fortran-ordered array is the C-ordered array of the reversed shape, transposed.
        let stored_shape: Vec<usize> = if fortran {
            shape.iter().rev().copied().collect()
        } else {
            shape.clone()
        };
        let t = crate::dispatch_dtype!(dtype, |T| read_elements::<T>(npy, stored_shape))?;
        if fortran {
            let perm: Vec<usize> = (0..shape.len()).rev().collect();
            return kernels::transpose(&t, &perm).map_err(|e| e.to_string());
        }
        Ok(t)
    }

    /// The bytes of a `.npy` file holding the tensor.
    pub fn to_npy_bytes(&self) -> Result<Vec<u8>, String> {
        if npy_code(self.dtype()).is_none() {
            return Err(NO_NPY_BF16.into());
        }
        let shape: Vec<u64> = self.shape().iter().map(|&d| d as u64).collect();
        let mut out = Vec::with_capacity(128 + self.data().as_bytes().len());
        crate::match_data!(self.data(), |xs| FileElement::write_npy(
            xs, &shape, &mut out
        ))?;
        Ok(out)
    }
}

fn read_elements<T: FileElement>(
    npy: npyz::NpyFile<&[u8]>,
    shape: Vec<usize>,
) -> Result<Tensor, String> {
    let v = T::read_npy(npy)?;
    Tensor::from_vec(v, shape).ok_or_else(|| "the data does not match the shape".to_string())
}

/// Checks the header length the file declares against the file's length and a limit, and the
/// header's bracket nesting, before the header is read.
fn check_header_length(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not a .npy file (it does not start with \\x93NUMPY)".into());
    }
    let (start, len) = match bytes[6] {
        1 => (10, u16::from_le_bytes([bytes[8], bytes[9]]) as usize),
        2 | 3 if bytes.len() >= 12 => (
            12,
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
        ),
        2 | 3 => return Err("the file ends inside its header".into()),
        v => return Err(format!("unsupported .npy format version {v}")),
    };
    if len > MAX_NPY_HEADER {
        return Err(format!(
            "the header declares {len} bytes, more than the limit of {MAX_NPY_HEADER}"
        ));
    }
    let Some(text) = bytes.get(start..start + len) else {
        return Err(format!(
            "the header declares {len} bytes but the file has only {} after the preamble",
            bytes.len() - start
        ));
    };
    let mut depth = 0usize;
    for &c in text {
        match c {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_HEADER_NESTING {
                    return Err("the header is nested too deeply to be a .npy header".into());
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    check_header_shape(&String::from_utf8_lossy(text))
}

/// Refuses a header whose `'shape'` declares more elements than any tensor may have. npyz
/// multiplies the dimensions without an overflow check (a panic in debug builds, a wrapped
/// count in release ones), so the bound must hold before it reads the header. Only the
/// tuple's numbers are read here; npyz still parses and checks the whole header.
fn check_header_shape(text: &str) -> Result<(), String> {
    let Some(at) = text.find("'shape'").or_else(|| text.find("\"shape\"")) else {
        return Ok(());
    };
    let rest = &text[at..];
    let (Some(open), Some(close)) = (rest.find('('), rest.find(')')) else {
        return Ok(());
    };
    if close < open {
        return Ok(());
    }
    // The product of the non-zero dimensions is bounded, as for every graphjit type, so a
    // zero after huge dimensions cannot overflow the count on the way to it either.
    let mut product: u64 = 1;
    for d in rest[open + 1..close].split(',').map(str::trim) {
        if d.is_empty() {
            continue;
        }
        let Ok(d) = d.parse::<u64>() else {
            return Err(format!(
                "the header's shape has a dimension '{d}' that is not a size"
            ));
        };
        product = product.saturating_mul(d.max(1));
        if product > MAX_ELEMENTS as u64 {
            return Err(format!(
                "the header's shape ({}) has more elements than the limit of {MAX_ELEMENTS}",
                &rest[open + 1..close]
            ));
        }
    }
    Ok(())
}

/// graphjit's dtype for a NumPy dtype, through [`npy_code`].
fn dtype_of(d: &npyz::DType) -> Result<DType, String> {
    let npyz::DType::Plain(ts) = d else {
        return Err(format!(
            "structured dtype {} is not supported (graphjit reads plain numeric and bool arrays)",
            d.descr()
        ));
    };
    let key = format!("{}{}", ts.type_char().to_str(), ts.size_field());
    if let Some(&dtype) = DType::ALL
        .iter()
        .find(|&&d| npy_code(d).as_deref() == Some(key.as_str()))
    {
        return Ok(dtype);
    }
    let known: Vec<String> = DType::ALL.iter().filter_map(|&d| npy_code(d)).collect();
    let hint = if key == "V2" {
        format!(" ({NO_NPY_BF16})")
    } else {
        String::new()
    };
    Err(format!(
        "NumPy dtype '{ts}' is not supported (graphjit reads {}){hint}",
        known.join(", ")
    ))
}
