//! Fuzz target: the tensor file readers (`.npy`, `.npz`, safetensors) on arbitrary bytes.
//! Nothing may panic or allocate past the tensor limits, and what is accepted writes and reads
//! back to the same tensors.
#![no_main]

use graphjit::tensor_io::{
    npz_from_bytes, npz_to_bytes, safetensors_from_bytes, safetensors_to_bytes,
};
use graphjit::Tensor;
use libfuzzer_sys::fuzz_target;

fn named(ts: &[(String, Tensor)]) -> Vec<(&str, &Tensor)> {
    ts.iter().map(|(n, t)| (n.as_str(), t)).collect()
}

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = Tensor::from_npy_bytes(data) {
        // bf16 has no NumPy dtype, so it is the one tensor that may not write back.
        if let Ok(bytes) = t.to_npy_bytes() {
            let back = Tensor::from_npy_bytes(&bytes).expect("a written .npy reads back");
            assert_eq!(back.ty(), t.ty());
            assert_eq!(back.data().as_bytes(), t.data().as_bytes());
        }
    }
    if let Ok(ts) = npz_from_bytes(data) {
        if let Ok(bytes) = npz_to_bytes(&named(&ts)) {
            let back = npz_from_bytes(&bytes).expect("a written .npz reads back");
            assert_eq!(back.len(), ts.len());
        }
    }
    if let Ok(ts) = safetensors_from_bytes(data) {
        let bytes = safetensors_to_bytes(&named(&ts)).expect("what was read can be written");
        let back = safetensors_from_bytes(&bytes).expect("a written safetensors file reads back");
        assert_eq!(back.len(), ts.len());
        // The format keeps names, not order: compare in name order.
        let (mut ts, mut back) = (ts, back);
        ts.sort_by(|a, b| a.0.cmp(&b.0));
        back.sort_by(|a, b| a.0.cmp(&b.0));
        for ((n1, t1), (n2, t2)) in ts.iter().zip(&back) {
            assert_eq!(n1, n2);
            assert_eq!(t1.ty(), t2.ty());
            assert_eq!(t1.data().as_bytes(), t2.data().as_bytes());
        }
    }
});
