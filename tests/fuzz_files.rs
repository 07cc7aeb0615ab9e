//! Fuzz target: the tensor file readers (`.npy`, `.npz`, safetensors) on mutated valid files
//! and arbitrary bytes. Nothing may panic, and whatever is accepted is a tensor within the
//! limits that writes and reads back to the same bits.
//!
//! Quick: `cargo test --test fuzz_files` (`GRAPHJIT_FUZZ_CASES`, default 3000).
//! Long: `GRAPHJIT_FUZZ_SECONDS=600 cargo test --release --test fuzz_files -- --ignored --nocapture`.

mod fuzz_support;

use fuzz_support::{drive, long, quick, random_bytes, seed, Rng};
use graphjit::tensor_io::{
    npy_code, npz_from_bytes, npz_to_bytes, safetensors_from_bytes, safetensors_to_bytes,
};
use graphjit::Tensor;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/npy");

/// Valid files of each format to mutate: the NumPy fixtures and graphjit's own safetensors.
fn seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().contains("poly_"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let t = Tensor::read_npy(format!("{DIR}/f64_r3.npy")).unwrap();
    let b = Tensor::read_npy(format!("{DIR}/bool_r2.npy")).unwrap();
    let h = Tensor::read_npy(format!("{DIR}/f16_r2.npy")).unwrap();
    let u = Tensor::read_npy(format!("{DIR}/u64_r1.npy")).unwrap();
    let w = Tensor::from_vec(vec![half::bf16::from_f32(-2.5); 6], [3, 2]).unwrap();
    out.push(
        safetensors_to_bytes(&[("t", &t), ("b", &b), ("h", &h), ("u", &u), ("w", &w)]).unwrap(),
    );
    out
}

/// Byte-level mutations: flips, overwrites with digits and brackets (header text), cuts,
/// insertions and little-endian size fields set to large values.
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    if bytes.is_empty() {
        bytes.push(0);
    }
    let at = rng.below(bytes.len());
    match rng.below(6) {
        0 => bytes[at] ^= 1 << rng.below(8),
        1 => bytes[at] = rng.pick(b"0123456789()[]{},:'<>|bifuc ".as_slice()),
        2 => bytes.truncate(at),
        3 => {
            let extra = random_bytes(rng, 8);
            bytes.splice(at..at, extra);
        }
        4 => {
            let v = rng.pick(&[0xffu8, 0x7f, 0x80, 0x00]);
            for b in bytes.iter_mut().skip(at).take(4) {
                *b = v;
            }
        }
        _ => bytes[at] = rng.next_u64() as u8,
    }
}

/// An accepted tensor is within the limits and round-trips through safetensors and, for the
/// dtypes NumPy has (all but bf16), through `.npy`.
fn check_tensor(t: &Tensor) -> Result<(), String> {
    t.ty().check_size()?;
    let same =
        |back: &Tensor| back.data().as_bytes() == t.data().as_bytes() && back.shape() == t.shape();
    if npy_code(t.dtype()).is_some() {
        let back = Tensor::from_npy_bytes(&t.to_npy_bytes()?)?;
        if !same(&back) {
            return Err(format!("{} did not round-trip through .npy", t.ty()));
        }
    } else if t.to_npy_bytes().is_ok() {
        return Err(format!("{} was written as .npy", t.ty()));
    }
    let st = safetensors_from_bytes(&safetensors_to_bytes(&[("t", t)])?)?;
    if !same(&st[0].1) {
        return Err(format!("{} did not round-trip through safetensors", t.ty()));
    }
    Ok(())
}

fn case(seeds: &[Vec<u8>], s: u64) -> Result<(), String> {
    let mut rng = Rng::new(s);
    let mut bytes = if rng.chance(10) {
        random_bytes(&mut rng, 300)
    } else {
        seeds[rng.below(seeds.len())].clone()
    };
    for _ in 0..1 + rng.below(4) {
        mutate(&mut rng, &mut bytes);
    }
    if let Ok(t) = Tensor::from_npy_bytes(&bytes) {
        check_tensor(&t)?;
    }
    if let Ok(arrays) = npz_from_bytes(&bytes) {
        for (_, t) in &arrays {
            check_tensor(t)?;
        }
        let named: Vec<(&str, &Tensor)> = arrays.iter().map(|(n, t)| (n.as_str(), t)).collect();
        npz_to_bytes(&named)?; // bf16 never comes out of an .npz, so this cannot refuse one
    }
    if let Ok(arrays) = safetensors_from_bytes(&bytes) {
        for (_, t) in &arrays {
            check_tensor(t)?;
        }
    }
    Ok(())
}

#[test]
fn file_readers_survive_mutated_and_random_files() {
    let seeds = seeds();
    assert!(seeds.len() >= 30, "the fixtures are missing");
    drive("fuzz_files", quick(3000), seed(5), |s| case(&seeds, s));
}

#[test]
#[ignore = "long fuzzing run: GRAPHJIT_FUZZ_SECONDS=600 cargo test --release --test fuzz_files -- --ignored"]
fn files_fuzz_long() {
    let seeds = seeds();
    drive(
        "fuzz_files",
        long(),
        seed(fuzz_support::clock_seed()),
        |s| case(&seeds, s),
    );
}
