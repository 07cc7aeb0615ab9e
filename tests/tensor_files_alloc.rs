//! A file that lies about its size allocates nothing for the lie: the largest single allocation
//! made while reading such a file is measured by a counting allocator and must stay small.
//! (A separate test binary, so that no other test's allocations are counted.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use graphjit::tensor_io::{npz_from_bytes, safetensors_from_bytes};
use graphjit::Tensor;

/// The system allocator, recording the largest request made on a thread that is watching.
struct Counting;

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: the thread-locals may be gone while a thread shuts down.
    let _ = WATCHING.try_with(|w| {
        if w.get() {
            let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
        }
    });
}

// SAFETY: every call is forwarded to the system allocator unchanged; the bookkeeping touches
// only const-initialized thread-locals, which do not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The largest allocation `f` makes on this thread.
fn largest_allocation(f: impl FnOnce()) -> usize {
    LARGEST.with(|l| l.set(0));
    WATCHING.with(|w| w.set(true));
    f();
    WATCHING.with(|w| w.set(false));
    LARGEST.with(|l| l.get())
}

fn npy(dict: &str, data: &[u8]) -> Vec<u8> {
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

const LIMIT: usize = 1 << 20;

#[test]
fn huge_declared_shapes_in_tiny_files_allocate_nothing_large() {
    // 2^27 f64 elements: within graphjit's element limit, so only the file length refuses it.
    let lying = npy(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (134217728,), }",
        &[0; 64],
    );
    let big = largest_allocation(|| assert!(Tensor::from_npy_bytes(&lying).is_err()));
    assert!(big < LIMIT, "reading the lying .npy allocated {big} bytes");

    // The same lie inside an .npz member.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("x.npy", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, &lying).unwrap();
    let npz = zip.finish().unwrap().into_inner();
    let big = largest_allocation(|| assert!(npz_from_bytes(&npz).is_err()));
    assert!(big < LIMIT, "reading the lying .npz allocated {big} bytes");

    // A safetensors header whose offsets promise 2^30 bytes.
    let header = br#"{"x":{"dtype":"F64","shape":[134217728],"data_offsets":[0,1073741824]}}"#;
    let mut st = (header.len() as u64).to_le_bytes().to_vec();
    st.extend(header);
    st.extend([0u8; 64]);
    let big = largest_allocation(|| assert!(safetensors_from_bytes(&st).is_err()));
    assert!(
        big < LIMIT,
        "reading the lying safetensors allocated {big} bytes"
    );

    // The measurement itself works: reading a true 2 MiB file allocates at least that.
    let real = Tensor::from_vec(vec![1.0f64; 1 << 18], [1 << 18]).unwrap();
    let bytes = real.to_npy_bytes().unwrap();
    let big = largest_allocation(|| assert_eq!(Tensor::from_npy_bytes(&bytes).unwrap(), real));
    assert!(big >= 1 << 21, "a real read allocated only {big} bytes");
}
