//! Tensor files: NumPy-written fixtures read back to the values their generator
//! (`tools/make_npy_fixtures.py`) defines, round trips of every dtype and rank through `.npy`,
//! `.npz` and safetensors, and files that are corrupt, truncated or lie about their contents.

use graphjit::tensor_io::{
    npz_from_bytes, npz_to_bytes, read_npz, read_tensors, safetensors_from_bytes,
    safetensors_to_bytes, write_tensors,
};
use graphjit::{DType, Data, Tensor};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/npy");

/// The shapes of rank 0 to 4 the fixtures use (the generator's `SHAPES`).
const SHAPES: [&[usize]; 5] = [&[], &[5], &[2, 3], &[2, 3, 4], &[2, 1, 3, 2]];

/// The fixtures' values: element i (row-major) is i*7 - 11, over 4 for floats; bools are
/// i % 3 == 0. Integers narrower than 64 bits wrap, as NumPy's `astype` wraps them: they are
/// the low bytes of the i64 value.
fn expected(dtype: DType, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let ints = (0..n as i64).map(|i| i * 7 - 11);
    let floats = ints.clone().map(|x| x as f64 / 4.0);
    let data = match dtype {
        DType::Bool => Data::Bool((0..n).map(|i| i % 3 == 0).collect()),
        DType::F16 => Data::F16(floats.map(half::f16::from_f64).collect()),
        DType::BF16 => Data::BF16(floats.map(half::bf16::from_f64).collect()),
        DType::F32 => Data::F32(floats.map(|x| x as f32).collect()),
        DType::F64 => Data::F64(floats.collect()),
        _ => {
            assert!(dtype.is_int(), "{dtype}");
            let size = dtype.size_bytes();
            let bytes: Vec<u8> = ints
                .flat_map(|x| x.to_le_bytes()[..size].to_vec())
                .collect();
            Data::from_bytes(dtype, &bytes).unwrap()
        }
    };
    Tensor::new(data, shape).unwrap()
}

/// Whether NumPy has the dtype (all but bf16).
fn in_numpy(dtype: DType) -> bool {
    dtype != DType::BF16
}

fn fixture(name: &str) -> Tensor {
    Tensor::read_npy(format!("{DIR}/{name}"))
        .unwrap_or_else(|e| panic!("reading the fixture {name}: {e}"))
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{name}")).unwrap()
}

/// Values that exercise every bit of a type: random bit patterns (so NaNs with payloads,
/// subnormals and both signs of every type), with all bits set (-1, MAX or a NaN) and the sign
/// bit alone (MIN or -0.0) first.
fn edge_tensor(dtype: DType, shape: &[usize], salt: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let mut x = salt.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    if dtype == DType::Bool {
        let data = Data::Bool((0..n).map(|_| next() & 1 == 1).collect());
        return Tensor::new(data, shape).unwrap();
    }
    let size = dtype.size_bytes();
    let mut bytes: Vec<u8> = (0..n * size).map(|_| next() as u8).collect();
    if n >= 2 {
        bytes[..size].fill(0xff);
        bytes[size..2 * size].fill(0);
        bytes[2 * size - 1] = 0x80;
    }
    Tensor::new(Data::from_bytes(dtype, &bytes).unwrap(), shape).unwrap()
}

/// Bitwise equality, NaN payloads included (files must keep them).
fn same_bits(a: &Tensor, b: &Tensor) -> bool {
    a.ty() == b.ty() && a.data().as_bytes() == b.data().as_bytes()
}

#[test]
fn numpy_fixtures_of_every_dtype_and_rank_read_as_numpy_wrote_them() {
    for dtype in DType::ALL.into_iter().filter(|&d| in_numpy(d)) {
        for (rank, shape) in SHAPES.iter().enumerate() {
            let name = format!("{dtype}_r{rank}.npy");
            let t = fixture(&name);
            assert_eq!(t, expected(dtype, shape), "{name}");
        }
    }
}

#[test]
fn big_endian_fortran_order_and_header_versions_2_and_3_read_correctly() {
    assert_eq!(fixture("i32_be_r2.npy"), expected(DType::I32, SHAPES[2]));
    assert_eq!(fixture("f64_be_r3.npy"), expected(DType::F64, SHAPES[3]));
    // Fortran-ordered files are transposed into row-major order.
    assert_eq!(
        fixture("f32_fortran_r3.npy"),
        expected(DType::F32, SHAPES[3])
    );
    assert_eq!(
        fixture("i64_fortran_r4.npy"),
        expected(DType::I64, SHAPES[4])
    );
    let v2 = fixture_bytes("f32_v2_r2.npy");
    let v3 = fixture_bytes("f64_v3_r1.npy");
    assert_eq!(
        (v2[6], v3[6]),
        (2, 3),
        "the fixtures have the header versions they claim"
    );
    assert_eq!(fixture("f32_v2_r2.npy"), expected(DType::F32, SHAPES[2]));
    // The narrow types: big-endian f16 and u32, a Fortran-ordered u16, one-byte types with
    // NumPy's '|' (no byte order) marker.
    assert_eq!(fixture("f16_be_r2.npy"), expected(DType::F16, SHAPES[2]));
    assert_eq!(fixture("u32_be_r3.npy"), expected(DType::U32, SHAPES[3]));
    assert_eq!(
        fixture("u16_fortran_r3.npy"),
        expected(DType::U16, SHAPES[3])
    );
    for name in ["i8_r1.npy", "u8_r1.npy", "bool_r1.npy"] {
        let bytes = fixture_bytes(name);
        let header = String::from_utf8_lossy(&bytes[10..]);
        assert!(header.contains("'descr': '|"), "{name}: {header}");
    }
    assert_eq!(fixture("f64_v3_r1.npy"), expected(DType::F64, SHAPES[1]));
}

#[test]
fn ieee_special_values_keep_their_bits() {
    let t = fixture("f32_special.npy");
    let bits: Vec<u32> = t
        .as_slice::<f32>()
        .unwrap()
        .iter()
        .map(|x| x.to_bits())
        .collect();
    // np.nan, -inf, inf, -0.0, the smallest subnormal, the largest finite.
    assert_eq!(
        bits,
        [
            0x7fc0_0000,
            0xff80_0000,
            0x7f80_0000,
            0x8000_0000,
            1,
            0x7f7f_ffff
        ]
    );
}

#[test]
fn f16_special_values_keep_their_bits() {
    let t = fixture("f16_special.npy");
    let bits: Vec<u16> = t
        .as_slice::<half::f16>()
        .unwrap()
        .iter()
        .map(|x| x.to_bits())
        .collect();
    // np.nan, -inf, inf, -0.0, the smallest subnormal (2^-24), the largest finite (65504),
    // as IEEE binary16 bit patterns.
    assert_eq!(bits, [0x7e00, 0xfc00, 0x7c00, 0x8000, 0x0001, 0x7bff]);
}

#[test]
fn bf16_has_no_npy_form_but_reads_and_writes_safetensors() {
    let t = expected(DType::BF16, SHAPES[2]);
    let e = t.to_npy_bytes().unwrap_err();
    assert!(
        e.contains("NumPy has no bf16") && e.contains(".safetensors"),
        "{e}"
    );
    let e = npz_to_bytes(&[("w", &t)]).unwrap_err();
    assert!(e.contains("array 'w'") && e.contains("no bf16"), "{e}");
    // ml_dtypes saves bfloat16 arrays as two-byte void records: refused with the reason.
    let e = npy_err(&npy_with_header(
        "{'descr': '|V2', 'fortran_order': False, 'shape': (2,), }",
        &[0; 4],
    ));
    assert!(
        e.contains("'|V2' is not supported") && e.contains("bf16"),
        "{e}"
    );
    // A safetensors file written by hand from the format's description: BF16 is the top half
    // of an f32, little-endian; 1.0 is 0x3f80 and -2.5 is 0xc020.
    let header = r#"{"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}"#;
    let mut st = (header.len() as u64).to_le_bytes().to_vec();
    st.extend(header.as_bytes());
    st.extend([0x80, 0x3f, 0x20, 0xc0]);
    let back = safetensors_from_bytes(&st).unwrap();
    assert_eq!(
        back[0].1,
        Tensor::from_vec(vec![half::bf16::ONE, half::bf16::from_f32(-2.5)], [2]).unwrap()
    );
    // And the writer produces those same bytes after its header.
    let written = safetensors_to_bytes(&[("w", &back[0].1)]).unwrap();
    assert!(written.ends_with(&[0x80, 0x3f, 0x20, 0xc0]));
    assert!(String::from_utf8_lossy(&written).contains(r#""dtype":"BF16""#));
}

#[test]
fn npz_archives_stored_and_compressed_give_every_array_by_name() {
    for file in ["named.npz", "named_compressed.npz"] {
        let arrays = read_npz(format!("{DIR}/{file}")).unwrap();
        let names: Vec<&str> = arrays.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"], "{file}");
        assert_eq!(arrays[0].1, expected(DType::F32, SHAPES[2]));
        assert_eq!(arrays[1].1, expected(DType::I64, SHAPES[1]));
        assert_eq!(arrays[2].1, expected(DType::Bool, SHAPES[0]));
    }
}

#[test]
fn every_dtype_and_rank_round_trips_through_npy_npz_and_safetensors() {
    for (k, dtype) in DType::ALL.into_iter().enumerate() {
        for (rank, shape) in SHAPES.iter().enumerate() {
            let t = edge_tensor(dtype, shape, (k * 10 + rank) as u64);
            let named = [("x", &t), ("zero", &edge_tensor(dtype, &[0, 3], 1))];
            if in_numpy(dtype) {
                let back = Tensor::from_npy_bytes(&t.to_npy_bytes().unwrap()).unwrap();
                assert!(same_bits(&t, &back), ".npy {dtype} rank {rank}");
                let npz = npz_from_bytes(&npz_to_bytes(&named).unwrap()).unwrap();
                assert_eq!(npz.len(), 2);
                assert_eq!(npz[0].0, "x");
                assert!(same_bits(&t, &npz[0].1), ".npz {dtype} rank {rank}");
                assert_eq!(npz[1].1.shape(), [0, 3]);
            }
            let st = safetensors_from_bytes(&safetensors_to_bytes(&named).unwrap()).unwrap();
            let x = &st.iter().find(|(n, _)| n == "x").unwrap().1;
            assert!(same_bits(&t, x), "safetensors {dtype} rank {rank}");
            assert_eq!(
                st.iter().find(|(n, _)| n == "zero").unwrap().1.shape(),
                [0, 3]
            );
        }
    }
}

#[test]
fn files_on_disk_round_trip_and_are_chosen_by_extension() {
    let dir = std::env::temp_dir().join(format!("graphjit-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = edge_tensor(DType::F64, &[3, 2], 5);
    let b = edge_tensor(DType::Bool, &[4], 6);
    a.write_npy(dir.join("a.npy")).unwrap();
    assert!(same_bits(&Tensor::read_npy(dir.join("a.npy")).unwrap(), &a));
    let named = read_tensors(dir.join("a.npy")).unwrap();
    assert_eq!(named[0].0, "a", "a .npy array is named after its file");
    for ext in ["npz", "safetensors"] {
        let path = dir.join(format!("t.{ext}"));
        write_tensors(&path, &[("b", &b), ("a", &a)]).unwrap();
        let back = read_tensors(&path).unwrap();
        let get = |n: &str| &back.iter().find(|(m, _)| m == n).unwrap().1;
        assert!(same_bits(get("a"), &a) && same_bits(get("b"), &b), "{ext}");
    }
    let e = write_tensors(dir.join("t.txt"), &[("a", &a)]).unwrap_err();
    assert!(
        e.to_string().contains("expected a .npz or .safetensors"),
        "{e}"
    );
    let e = read_tensors(dir.join("missing.npz")).unwrap_err();
    assert!(e.to_string().contains("missing.npz"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn npy_err(bytes: &[u8]) -> String {
    Tensor::from_npy_bytes(bytes).expect_err("the file must be refused")
}

/// A version 1 `.npy` file with the given header dict and data bytes.
fn npy_with_header(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut text = dict.to_string();
    while !(10 + text.len() + 1).is_multiple_of(64) {
        text.push(' ');
    }
    text.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((text.len() as u16).to_le_bytes());
    out.extend(text.as_bytes());
    out.extend(data);
    out
}

#[test]
fn unsupported_dtypes_are_named_in_the_error() {
    let e = npy_err(&fixture_bytes("complex.npy"));
    assert!(e.contains("'<c8' is not supported"), "{e}");
    let e = npy_err(&fixture_bytes("record.npy"));
    assert!(e.contains("structured dtype"), "{e}");
    // NumPy's long double: its name looks like graphjit's f16, its size field is 16 bytes.
    let e = npy_err(&npy_with_header(
        "{'descr': '<f16', 'fortran_order': False, 'shape': (1,), }",
        &[0; 16],
    ));
    assert!(e.contains("'<f16' is not supported"), "{e}");
}

#[test]
fn truncated_files_of_every_length_are_errors() {
    for name in [
        "f64_r3.npy",
        "f32_fortran_r3.npy",
        "named.npz",
        "named_compressed.npz",
    ] {
        let bytes = fixture_bytes(name);
        for len in 0..bytes.len() {
            let cut = &bytes[..len];
            let failed = if name.ends_with(".npz") {
                npz_from_bytes(cut).is_err()
            } else {
                Tensor::from_npy_bytes(cut).is_err()
            };
            assert!(failed, "{name} cut to {len} bytes was accepted");
        }
    }
    let st = safetensors_to_bytes(&[("x", &expected(DType::I64, &[3, 2]))]).unwrap();
    for len in 0..st.len() {
        assert!(
            safetensors_from_bytes(&st[..len]).is_err(),
            "safetensors cut to {len}"
        );
    }
}

#[test]
fn files_that_lie_about_their_size_shape_or_dtype_are_errors() {
    let f32x4 = [0u8; 16];
    // A huge shape in a tiny file, over the element limit and under it.
    let e = npy_err(&npy_with_header(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }",
        &f32x4,
    ));
    assert!(e.contains("more elements than the limit"), "{e}");
    let e = npy_err(&npy_with_header(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000,), }",
        &f32x4,
    ));
    assert!(e.contains("holds only 16 bytes"), "{e}");
    let e = npy_err(&npy_with_header(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551615, 2), }",
        &f32x4,
    ));
    assert!(e.contains("limit"), "{e}");
    // Too few and too many bytes for the declared shape.
    let e = npy_err(&npy_with_header(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }",
        &f32x4,
    ));
    assert!(e.contains("declares f32[5] (20 bytes of data)"), "{e}");
    let e = npy_err(&npy_with_header(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
        &f32x4,
    ));
    assert!(e.contains("4 bytes after the data"), "{e}");
    // A bool that is neither 0 nor 1.
    let e = npy_err(&npy_with_header(
        "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }",
        &[1, 2],
    ));
    assert!(e.contains("invalid value for bool"), "{e}");
    // A header length past the end of the file, or over the limit (version 2's u32 length).
    let mut v = npy_with_header(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
        &f32x4,
    );
    v[8] = 0xff;
    v[9] = 0xff;
    assert!(npy_err(&v).contains("the header declares 65535 bytes"));
    let mut v2 = b"\x93NUMPY\x02\x00\xff\xff\xff\xff{}".to_vec();
    v2.extend([b' '; 20]);
    assert!(npy_err(&v2).contains("more than the limit"));
    // Deep nesting in the header is refused before the header parser recurses into it.
    let deep = format!("{{'shape': {}", "[".repeat(60000));
    assert!(npy_err(&npy_with_header(&deep, &[])).contains("nested too deeply"));
    assert!(npy_err(b"not numpy at all").contains("does not start with"));
    let rank17 = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}",
        "1, ".repeat(17)
    );
    assert!(npy_err(&npy_with_header(&rank17, &[0; 4])).contains("rank 17"));
}

#[test]
fn lying_safetensors_and_npz_files_are_errors() {
    // A safetensors header declaring more data than the file holds.
    let header = br#"{"x":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]}}"#;
    let mut st = (header.len() as u64).to_le_bytes().to_vec();
    st.extend(header);
    st.extend([0u8; 8]);
    assert!(safetensors_from_bytes(&st).is_err());
    // A consistent header whose tensor is over graphjit's rank limit.
    let shape = vec!["1"; 17].join(",");
    let header = format!(r#"{{"x":{{"dtype":"F32","shape":[{shape}],"data_offsets":[0,4]}}}}"#);
    let mut st = (header.len() as u64).to_le_bytes().to_vec();
    st.extend(header.as_bytes());
    st.extend([0; 4]);
    let e = safetensors_from_bytes(&st).unwrap_err();
    assert!(e.contains("tensor 'x'") && e.contains("rank 17"), "{e}");
    // A dtype graphjit has no counterpart for.
    let header = r#"{"y":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#;
    let mut st = (header.len() as u64).to_le_bytes().to_vec();
    st.extend(header.as_bytes());
    st.extend([0; 8]);
    let e = safetensors_from_bytes(&st).unwrap_err();
    assert!(
        e.contains("tensor 'y'") && e.contains("C64 is not supported"),
        "{e}"
    );
    // An npz member declaring a size its compressed bytes cannot hold.
    let mut npz = fixture_bytes("named.npz");
    let at = npz.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
    // The central directory's uncompressed size field is at offset 24 of the entry.
    npz[at + 24..at + 28].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let e = npz_from_bytes(&npz).unwrap_err();
    assert!(e.contains("declares") || e.contains("zip"), "{e}");
    // A member that is not an array.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("readme.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, b"hello").unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    let e = npz_from_bytes(&bytes).unwrap_err();
    assert!(e.contains("'readme.txt' is not a .npy array"), "{e}");
}

#[test]
fn writing_refuses_duplicate_names() {
    let t = Tensor::scalar(1i32);
    assert!(npz_to_bytes(&[("a", &t), ("a", &t)])
        .unwrap_err()
        .contains("given twice"));
    assert!(safetensors_to_bytes(&[("a", &t), ("a", &t)])
        .unwrap_err()
        .contains("given twice"));
}
