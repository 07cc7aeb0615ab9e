//! Hugging Face safetensors files through the `safetensors` crate, which checks the header and
//! every tensor's offsets against the file's length before anything is read.

use std::path::Path;

use super::{
    check_declared, file_error, read_limited, safetensors_dtype, FileElement, MAX_ARCHIVE_BYTES,
};
use crate::error::Error;
use crate::tensor::Tensor;
use crate::types::DType;

/// Reads every tensor of a safetensors file, sorted by name (the format keeps no other order
/// its writers agree on).
pub fn read_safetensors(path: impl AsRef<Path>) -> Result<Vec<(String, Tensor)>, Error> {
    let path = path.as_ref();
    let bytes = read_limited(path, MAX_ARCHIVE_BYTES)?;
    safetensors_from_bytes(&bytes).map_err(|m| file_error(path, m))
}

/// Writes named tensors as a safetensors file.
pub fn write_safetensors(path: impl AsRef<Path>, tensors: &[(&str, &Tensor)]) -> Result<(), Error> {
    let path = path.as_ref();
    let bytes = safetensors_to_bytes(tensors).map_err(|m| file_error(path, m))?;
    std::fs::write(path, bytes).map_err(|e| file_error(path, e.to_string()))
}

/// Reads the bytes of a safetensors file.
pub fn safetensors_from_bytes(bytes: &[u8]) -> Result<Vec<(String, Tensor)>, String> {
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| format!("not a valid safetensors file: {e}"))?;
    let mut views: Vec<_> = st.iter().collect();
    views.sort_by(|a, b| a.0.cmp(b.0));
    views
        .into_iter()
        .map(|(name, view)| {
            let t = tensor_of(&view).map_err(|m| format!("tensor '{name}': {m}"))?;
            Ok((name.to_string(), t))
        })
        .collect()
}

fn tensor_of(view: &safetensors::tensor::TensorView<'_>) -> Result<Tensor, String> {
    let dtype = DType::ALL
        .into_iter()
        .find(|&d| safetensors_dtype(d) == view.dtype())
        .ok_or_else(|| format!("dtype {:?} is not supported", view.dtype()))?;
    let data = view.data();
    let n = check_declared(dtype, view.shape(), data.len() as u64)?;
    if data.len() != n * dtype.size_bytes() {
        return Err(format!(
            "holds {} bytes where its shape needs {}",
            data.len(),
            n * dtype.size_bytes()
        ));
    }
    crate::dispatch_dtype!(dtype, |T| decode::<T>(data, view.shape()))
}

fn decode<T: FileElement>(data: &[u8], shape: &[usize]) -> Result<Tensor, String> {
    let size = T::DTYPE.size_bytes();
    let v = data
        .chunks_exact(size)
        .enumerate()
        .map(|(i, b)| {
            T::from_le(b).ok_or_else(|| format!("element {i} is not a valid {}", T::DTYPE))
        })
        .collect::<Result<Vec<T>, String>>()?;
    Tensor::from_vec(v, shape).ok_or_else(|| "the data does not match the shape".to_string())
}

/// One tensor's dtype, shape and little-endian bytes, as the `safetensors` writer wants them.
struct Encoded {
    dtype: safetensors::Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl safetensors::View for &Encoded {
    fn dtype(&self) -> safetensors::Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

fn encode<T: FileElement>(xs: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(xs.len() * T::DTYPE.size_bytes());
    for &x in xs {
        x.put_le(&mut out);
    }
    out
}

/// The bytes of a safetensors file holding the named tensors.
pub fn safetensors_to_bytes(tensors: &[(&str, &Tensor)]) -> Result<Vec<u8>, String> {
    let mut encoded = Vec::with_capacity(tensors.len());
    for (i, (name, t)) in tensors.iter().enumerate() {
        if tensors[..i].iter().any(|(n, _)| n == name) {
            return Err(format!("tensor '{name}' is given twice"));
        }
        encoded.push((
            name.to_string(),
            Encoded {
                dtype: safetensors_dtype(t.dtype()),
                shape: t.shape().to_vec(),
                bytes: crate::match_data!(t.data(), |xs| encode(xs)),
            },
        ));
    }
    safetensors::serialize(encoded.iter().map(|(n, e)| (n.as_str(), e)), None)
        .map_err(|e| format!("cannot write safetensors: {e}"))
}
