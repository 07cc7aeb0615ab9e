//! NumPy `.npz` archives (`np.savez`, `np.savez_compressed`): a zip of `.npy` files, one per
//! named array, read with the `zip` crate and written uncompressed as `np.savez` does.

use std::io::{Cursor, Read, Write};
use std::path::Path;

use super::{file_error, read_limited, MAX_ARCHIVE_BYTES, MAX_DATA_BYTES, MAX_NPY_HEADER};
use crate::error::Error;
use crate::tensor::Tensor;

/// The most a deflate stream can expand (about 1032:1, its format's limit), with room for
/// headers: a member declaring more than this for its compressed size lies about its size.
const MAX_DEFLATE_RATIO: u64 = 1100;

/// Reads every array of a `.npz` file, named as NumPy names them (the member name without
/// `.npy`), in the archive's order.
pub fn read_npz(path: impl AsRef<Path>) -> Result<Vec<(String, Tensor)>, Error> {
    let path = path.as_ref();
    let bytes = read_limited(path, MAX_ARCHIVE_BYTES)?;
    npz_from_bytes(&bytes).map_err(|m| file_error(path, m))
}

/// Writes named arrays as an `.npz` file that `np.load` reads.
pub fn write_npz(path: impl AsRef<Path>, tensors: &[(&str, &Tensor)]) -> Result<(), Error> {
    let path = path.as_ref();
    let bytes = npz_to_bytes(tensors).map_err(|m| file_error(path, m))?;
    std::fs::write(path, bytes).map_err(|e| file_error(path, e.to_string()))
}

/// Reads the bytes of a `.npz` file.
pub fn npz_from_bytes(bytes: &[u8]) -> Result<Vec<(String, Tensor)>, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("not a valid .npz (zip) file: {e}"))?;
    let mut out: Vec<(String, Tensor)> = Vec::with_capacity(zip.len().min(1024));
    for i in 0..zip.len() {
        let mut member = zip
            .by_index(i)
            .map_err(|e| format!("member {i} of the archive: {e}"))?;
        let member_name = member
            .name()
            .map_err(|e| format!("member {i} of the archive: {e}"))?
            .to_string();
        if member.is_dir() {
            continue;
        }
        let Some(name) = member_name.strip_suffix(".npy") else {
            return Err(format!(
                "member '{member_name}' is not a .npy array (an .npz holds only .npy files)"
            ));
        };
        // The member's declared size bounds what is read into memory; that size must be one a
        // .npy can have and one its compressed size can expand to.
        let size = member.size();
        if member.compressed_size() > bytes.len() as u64 {
            return Err(format!(
                "member '{member_name}' declares {} compressed bytes, more than the file holds",
                member.compressed_size()
            ));
        }
        let limit = (MAX_DATA_BYTES + MAX_NPY_HEADER as u64 + 12)
            .min(member.compressed_size().saturating_mul(MAX_DEFLATE_RATIO));
        if size > limit {
            return Err(format!(
                "member '{member_name}' declares {size} bytes, more than it can hold"
            ));
        }
        let mut data = Vec::with_capacity(size as usize);
        (&mut member)
            .take(size)
            .read_to_end(&mut data)
            .map_err(|e| format!("array '{name}': {e}"))?;
        let t = Tensor::from_npy_bytes(&data).map_err(|m| format!("array '{name}': {m}"))?;
        if out.iter().any(|(n, _)| n == name) {
            return Err(format!("array '{name}' appears twice"));
        }
        out.push((name.to_string(), t));
    }
    Ok(out)
}

/// The bytes of an `.npz` file holding the named arrays, uncompressed, as `np.savez` writes.
pub fn npz_to_bytes(tensors: &[(&str, &Tensor)]) -> Result<Vec<u8>, String> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for (i, (name, t)) in tensors.iter().enumerate() {
        if tensors[..i].iter().any(|(n, _)| n == name) {
            return Err(format!("array '{name}' is given twice"));
        }
        let npy = t
            .to_npy_bytes()
            .map_err(|m| format!("array '{name}': {m}"))?;
        zip.start_file(format!("{name}.npy"), options)
            .map_err(|e| format!("array '{name}': {e}"))?;
        zip.write_all(&npy)
            .map_err(|e| format!("array '{name}': {e}"))?;
    }
    let cursor = zip.finish().map_err(|e| e.to_string())?;
    Ok(cursor.into_inner())
}
